"""The `hfx` program's first code: a Ctrl-C, SIGTERM or SIGHUP while the command line is still being imported is
one line and the usual exit code (130, 143, 129), never a traceback of an import.

The console script and `python -m hfx` call `main` here; `hfx.cli.main` (tests, scripts) does the rest, with its
own handlers.  Only the standard library is imported before the handlers are in place.
"""

from __future__ import annotations

import signal
import sys

from hfx.errors import Terminated


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
    return code


def _ignore() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _interrupted(exc: KeyboardInterrupt, say: bool) -> int:
    _ignore()
    signum = getattr(exc, "signum", signal.SIGINT)
    if say:
        word = {signal.SIGINT: "interrupted", signal.SIGHUP: "hung up (SIGHUP)"}.get(signum, "terminated")
        try:
            print(f"hfx: {word}", file=sys.stderr, flush=True)
        except (OSError, ValueError, AttributeError):
            pass
    return 128 + int(signum)
