"""The hfx command line: a thin layer over the library.

Exit codes (DESIGN.md): 0 success; 1 a check failed; 2 bad input (one line on
stderr, nothing written); 3 an internal or I/O error (one line on stderr; a bug
or a full disk is never reported as a failed check).  Each subcommand lives in its own module exposing
`add_arguments(parser)` and `main(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from hfx import __version__
from hfx.errors import UsageError

INTERNAL_ERROR = 3  # exit code of an unexpected error

# name → (module, one-line help); the module defines add_arguments and main
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("hfx.verify", "the claim audit: check every derivation and write the results"),
    "list": ("hfx.listing", "list theorems, experiments or claims"),
    "run": ("hfx.run", "run a named convergence experiment and write its records, summary and figures"),
    "derive": ("hfx.derive", "derivation documents: PDF, Typst and LaTeX sources, a LaTeX fragment"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hfx", description="A symbolic and numeric verifier for H(x) = F(x) + x.")
    parser.add_argument("--version", action="version", version=f"hfx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args._module.main(args))
    except UsageError as exc:
        message = str(exc)
        if not message.startswith("hfx"):
            message = f"hfx: error: {message}"
        print(message.splitlines()[0] if message else "hfx: error", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hfx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `hfx list experiments | head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # the disk or the output folder failed us: not a failed check
        print(f"hfx: error: {exc}", file=sys.stderr)
        return INTERNAL_ERROR
    except Exception as exc:
        if os.environ.get("HFX_DEBUG"):
            raise
        print(f"hfx: internal error: {type(exc).__name__}: {exc} (set HFX_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
