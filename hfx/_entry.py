"""The `hfx` program's first code: a Ctrl-C, SIGTERM or SIGHUP while the command line is still being imported is
one line and the usual exit code (130, 143, 129), never a traceback of an import.

The console script and `python -m hfx` call `main` here; `hfx.cli.main` (tests, scripts) does the rest, with its
own handlers.  Only the standard library is imported before the handlers are in place.

After such a signal the exit itself is bounded: Python's exit waits for every non-daemon thread and process (a
pool's manager thread, a worker started as the signal came), and should one of them hang, the exit code still
comes within `EXIT_GRACE_S` (the workers die with hfx: `hfx.pool`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from hfx.errors import Terminated

EXIT_GRACE_S = 10.0  # after a signal, how long Python's own exit may take before hfx leaves without it


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


def main() -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is not signal.SIG_IGN:  # (under nohup SIGHUP stays ignored)
            signal.signal(sig, _terminate)
    try:
        from hfx import cli
    except KeyboardInterrupt as exc:
        return _interrupted(exc, say=True)
    try:
        code = cli.main()
    except KeyboardInterrupt as exc:  # a second signal after `cli.main` has said the first one
        return _interrupted(exc, say=False)
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGHUP):
        _ignore()  # (Python's exit would put back the default action: a second signal would kill hfx, exit -15)
        _bound_the_exit(code)
    return code


def _ignore() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _bound_the_exit(code: int) -> None:
    """Leave with `code` at the latest EXIT_GRACE_S from now (module docstring): a daemon thread, which runs on
    while Python's exit joins the other threads and processes, ends the process if that exit has not."""

    def leave() -> None:
        time.sleep(EXIT_GRACE_S)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(code)

    threading.Thread(target=leave, daemon=True, name="hfx-exit-watchdog").start()


def _interrupted(exc: KeyboardInterrupt, say: bool) -> int:
    _ignore()
    signum = getattr(exc, "signum", signal.SIGINT)
    _bound_the_exit(128 + int(signum))
    if say:
        word = {signal.SIGINT: "interrupted", signal.SIGHUP: "hung up (SIGHUP)"}.get(signum, "terminated")
        try:
            print(f"hfx: {word}", file=sys.stderr, flush=True)
        except (OSError, ValueError, AttributeError):
            pass
    return 128 + int(signum)
