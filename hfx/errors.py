"""Errors that the command line turns into one line on stderr and an exit code (hfx.cli)."""

from __future__ import annotations

import os
import signal

DEBUG_OFF = ("", "0", "false", "no", "off")  # values of HFX_DEBUG that leave it off (case and spaces ignored)


def debug_enabled() -> bool:
    """Whether `HFX_DEBUG` asks for tracebacks: any value but empty, 0, false, no, off (HFX_DEBUG=0 is off)."""
    return os.environ.get("HFX_DEBUG", "").strip().lower() not in DEBUG_OFF


class UsageError(Exception):
    """Bad input from the user: a malformed option, an unknown id, an impossible value (exit 2)."""


def unknown_theorem(derivation_id: str) -> UsageError:
    """The one error for an id that no registered derivation has (`hfx derive`: before and after plugins load)."""
    return UsageError(f"unknown theorem id {derivation_id!r} (see `hfx list theorems`)")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP: the terminal went away), raised in the main thread as an interrupt so that the same
    clean-up runs; the exit code is 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = int(signum)
