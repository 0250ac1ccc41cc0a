"""The `hfx` program's first code: a Ctrl-C, SIGTERM or SIGHUP while the command line is still being imported is
one line and the usual exit code (130, 143, 129), never a traceback of an import.

The console script and `python -m hfx` call `main` here; `hfx.cli.main` (tests, scripts) does the rest, with its
own handlers.  This module's first statements, before any other import, make a signal during the imports above
`main` leave at once with that line and code (nothing has been written yet, so there is nothing to clean up):
Python's own handler would print a traceback of `import signal` or of the console script.  (A signal in the
interpreter's own start-up, before this file runs, is Python's: it ends the process, exit −2, no output.)

After such a signal the exit itself is bounded: Python's exit waits for every non-daemon thread and process (a
pool's manager thread, a worker started as the signal came), and should one of them hang, the exit code still
comes within `EXIT_GRACE_S` (the workers die with hfx: `hfx.pool`).
"""

from __future__ import annotations

import _signal  # the C module: available at once (`signal` builds its enums first, which takes milliseconds)
import os

_WORDS = {2: b"interrupted", 15: b"terminated", 1: b"hung up (SIGHUP)"}  # SIGINT, SIGTERM, SIGHUP on every POSIX


def _leave_now(signum: int, frame: object) -> None:
    os.write(2, b"hfx: " + _WORDS.get(signum, b"terminated") + b"\n")
    os._exit(128 + signum)


for _sig in _WORDS:
    if _signal.getsignal(_sig) is not _signal.SIG_IGN:  # an ignored signal (nohup, a background job) stays ignored
        _signal.signal(_sig, _leave_now)

import signal  # noqa: E402  (after the handlers above)
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from hfx.errors import Terminated  # noqa: E402

EXIT_GRACE_S = 10.0  # after a signal, how long Python's own exit may take before hfx leaves without it


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


def main() -> int:
    # from here on a signal is an exception (KeyboardInterrupt, Terminated), caught below and by `cli.main`
    if signal.getsignal(signal.SIGINT) is _leave_now:
        signal.signal(signal.SIGINT, signal.default_int_handler)
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
