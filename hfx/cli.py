"""The hfx command line: a thin layer over the library.

Exit codes (docs/design.md): 0 success; 1 a check failed; 2 bad input (one line on stderr, nothing written);
3 an internal or I/O error (one line on stderr; a bug or a full disk is never reported as a failed check);
130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP): one line, worker processes stopped,
the output folder left with `complete: false` in its manifest.  Each subcommand is a module exposing
`add_arguments(parser)` and `main(args) -> int`; those modules import only the standard library at the top, so
that `--help` and bad input are answered before the heavy imports (SymPy, PyTorch) of the work itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, NoReturn

from hfx import __version__, check, derive, listing, run, verify
from hfx.console import make_streams_safe, visible
from hfx.environment import check_environment
from hfx.errors import Terminated, UsageError, debug_enabled
from hfx.options import GivenStore

USAGE_ERROR = 2  # bad input
INTERNAL_ERROR = 3  # an unexpected error, or the disk failed
INTERRUPTED = 130  # 128 + SIGINT
TERMINATED = 143  # 128 + SIGTERM

# name → (module, one-line help); the module defines add_arguments and main
COMMANDS: dict[str, tuple[ModuleType, str]] = {
    "verify": (verify, "the claim audit: check every derivation and write the results"),
    "list": (listing, "list theorems, experiments or claims"),
    "run": (run, "run a named convergence experiment and write its records, summary and figures"),
    "derive": (derive, "derivation documents: PDF, Typst and LaTeX sources, a LaTeX fragment"),
    "check": (check, "check the @theorem derivations of your own module FILE.py (and write their records)"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2.  An option given twice: the last value
    counts (a base command line plus overrides; `tests/test_resume.py`), each one checked by its type, and kept
    (`hfx.options.given`) so that the command checks an overridden value as it checks the last one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, GivenStore)  # (the default action, `store`)
        self.register("action", "store", GivenStore)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")

    def _print_message(self, message: str, file: Any = None) -> None:
        """As argparse, but a failed write of --help or --version (`> /dev/full`) is an error, not silence."""
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hfx", description="A symbolic and numeric verifier for H(x) = F(x) + x.")
    parser.add_argument("--version", action="version", version=f"hfx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(_main=module.main)
    return parser


TERMINATING = (signal.SIGTERM, signal.SIGHUP)  # raised as `Terminated` (SIGHUP: the terminal went away)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Terminated` in the main thread, so that pools and output folders clean up as for
    Ctrl-C (a SIGHUP that is ignored, under nohup, stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise Terminated(signum)

    previous = {}
    for sig in TERMINATING:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


LINE_LIMIT = 500  # characters of the one line beyond which a long word in it is shortened
WORD_LIMIT = 80  # a word (no white space) longer than this, in a line over LINE_LIMIT, shows its ends only


def _shorten(line: str) -> str:
    """`line`, with each word of more than WORD_LIMIT characters shown by its first 40 and last 20 characters and
    its length, if the line is longer than LINE_LIMIT: a 5,000-digit --seeds or a 3,000-character option came
    back whole in its error line.  Shorter lines (a long path among them) are left whole."""
    if len(line) <= LINE_LIMIT:
        return line

    def short(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"{word[:40]}…{word[-20:]} ({len(word):,} characters)"

    return re.sub(rf"\S{{{WORD_LIMIT + 1},}}", short, line)


def _line(message: str, exc: BaseException | None = None) -> str:
    """One line: the first line of `message`, and the exception's first note (e.g. which folder is incomplete);
    an overlong word in it shortened (`_shorten`)."""
    first = message.splitlines()[0] if message.strip() else "hfx: error"
    notes = getattr(exc, "__notes__", None) or []
    return _shorten(visible(f"{first}; {notes[0]}" if notes else first))  # (a name typed with ESC stays inert)


def _ignore_sigint() -> None:
    """On the way out after an interrupt: a second Ctrl-C (or SIGTERM, SIGHUP) must not break the clean-up or the
    one line (see `main`; SIGTERM and SIGHUP get their handlers back when `_sigterm_as_interrupt` ends)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, *TERMINATING):
            signal.signal(sig, signal.SIG_IGN)


def _silence_stdout() -> None:
    """After a broken pipe (`hfx list experiments | head`): send what is left to /dev/null, quietly."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: the program's arguments); the exit code.

    Run as the program (`argv` None), a Ctrl-C leaves SIGINT ignored until the process has exited, so that
    a second Ctrl-C cannot break the clean-up; called with `argv` (tests, scripts), the caller's handler
    is restored on return.
    """
    make_streams_safe()
    in_main_thread = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if in_main_thread else None
    try:
        code = _main(argv)
    except SystemExit as exc:  # --help, --version: what they printed must reach stdout too
        if _flush_stdout() != 0:
            return INTERNAL_ERROR
        raise exc from None
    finally:
        if in_main_thread and argv is not None:
            signal.signal(signal.SIGINT, sigint)
    flushed = _flush_stdout(quiet=code != 0)
    return code or flushed


def _say(line: str) -> None:
    """One line on stderr; a stderr that cannot be written (full, closed) loses it, and nothing else happens."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(line, file=sys.stderr, flush=True)


def _flush_stdout(quiet: bool = False) -> int:
    """Flush stdout while errors can still be reported: 0, or `INTERNAL_ERROR` after a failed write (`> /dev/full`:
    Python would say it at exit, with a traceback-like 'Exception ignored' and exit 120).  A reader that went away
    (`| head`) is not an error; `quiet`: the command has failed already (its line said why), say nothing more."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError) as exc:
        _silence_stdout()
        if not quiet:
            _say(f"hfx: error: cannot write to standard output: {getattr(exc, 'strerror', None) or exc}")
        return INTERNAL_ERROR
    return 0


def _main(argv: Sequence[str] | None) -> int:
    with _sigterm_as_interrupt():
        try:
            argv = list(sys.argv[1:] if argv is None else argv)
            if argv[:1] == ["--"]:  # `hfx -- list`: nothing is an option before the command anyway
                argv = argv[1:]
            args = build_parser().parse_args(argv)
            check_environment()  # after --help (which needs nothing), before any work
            command: Callable[[argparse.Namespace], int] = args._main
            return int(command(args))
        except UsageError as exc:
            message = str(exc)
            if not message.startswith("hfx"):
                message = f"hfx: error: {message}"
            _say(_line(message))
            return USAGE_ERROR
        except Terminated as exc:
            _ignore_sigint()
            signum = getattr(exc, "signum", signal.SIGTERM)
            word = "hung up (SIGHUP)" if signum == signal.SIGHUP else "terminated"
            _say(_line(f"hfx: {word}", exc))
            return 128 + int(signum)
        except KeyboardInterrupt as exc:
            _ignore_sigint()
            _say(_line("hfx: interrupted", exc))
            return INTERRUPTED
        except BrokenPipeError:
            _silence_stdout()
            return 0
        except OSError as exc:  # the disk or the output folder failed us: not a failed check
            _say(_line(f"hfx: error: {exc}", exc))
            return INTERNAL_ERROR
        except Exception as exc:
            if debug_enabled():
                raise
            _say(_line(f"hfx: internal error: {type(exc).__name__}: {exc} (set HFX_DEBUG=1 for the traceback)", exc))
            return INTERNAL_ERROR
        except BaseException as exc:  # neither an exit nor Ctrl-C (GeneratorExit, a plugin's own BaseException)
            if isinstance(exc, SystemExit) or debug_enabled():
                raise
            _say(_line(f"hfx: internal error: {type(exc).__name__}: {exc} (set HFX_DEBUG=1 for the traceback)", exc))
            return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
