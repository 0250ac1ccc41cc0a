"""Errors that the command line turns into one line on stderr and an exit code (hfx.cli)."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: a malformed option, an unknown id, an impossible value (exit 2)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as an interrupt so that the same clean-up runs (exit 143)."""
