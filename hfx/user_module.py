"""A user's own theorem module, for `hfx check FILE.py`: imported alone, its `@theorem` builders built and checked.

What runs of the user's code: the module FILE.py itself (its top level, then each builder), never in hfx's own
process: imported once in a process of its own (`census`: the ids, and what FILE prints) and again in the process
that verifies each derivation (`verify_one`), each killed once it has answered (`hfx.isolated`), under a private
module name, so that an ``if __name__ == "__main__":`` block does not run. Nothing else of theirs: FILE's folder
is not put on `sys.path` (a module beside it is not importable from FILE unless it is installed), no other file is
read, and no bytecode cache is written beside FILE. The builders that FILE registers with `@theorem`
(`theory.core.registry.theorem`) are collected apart from hfx's registry (`registry.collecting`), so they
never join hfx's own derivations; builders FILE merely imports (hfx's own, say) are not FILE's and are not
checked.

Every problem with the user's code is a `UsageError` of one line naming FILE (and the builder): a file that
does not import (syntax error, missing module, an exception at its top level), no builders, and everything
`theory.core.builders` refuses (a builder that raises, a result that is not a `Derivation`, a step that is not
a `Step`, a hollow step, no steps, an id that cannot name a file, an id twice). With ``HFX_DEBUG=1`` the
traceback is printed on stderr as well.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from hfx.errors import UsageError, debug_enabled
from theory.core.builders import BuildError, build_all, ordered
from theory.core.registry import collecting
from theory.derivation import Derivation, TheoremRecord, verify

if TYPE_CHECKING:
    from hfx.doc_model import DocView

MODULE_PREFIX = "hfx_check_"  # the private name FILE is imported under: hfx_check_<stem>[_<n>]


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _debug(exc: BaseException) -> None:
    if debug_enabled():
        traceback.print_exception(exc, file=sys.stderr)


def _private_name(path: Path) -> str:
    stem = re.sub(r"\W", "_", path.stem) or "module"
    name, n = f"{MODULE_PREFIX}{stem}", 1
    while name in sys.modules:
        n += 1
        name = f"{MODULE_PREFIX}{stem}_{n}"
    return name


@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def _line_in(path: Path, exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    frames = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return f" (line {frames[-1]})" if frames else ""


def load_derivations(path: Path, shown: str | None = None) -> list[Derivation]:
    """Import FILE `path` alone, build its `@theorem` builders; UsageError (one line) for anything wrong.

    `shown` is how FILE is named in messages (default: `path` as given).
    """
    label = shown or str(path)
    path = path.resolve()
    name = _private_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{label}: not a Python module (expected a .py file)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look their module up while it executes
    try:
        with collecting(name) as table, _no_bytecode():
            try:
                spec.loader.exec_module(module)
            except BaseException as exc:  # anything FILE raises (GeneratorExit, KeyboardInterrupt, its own)
                _debug(exc)  # (FILE runs in a process that ignores SIGINT: a KeyboardInterrupt there is FILE's own)
                message = _one_line(exc.msg if isinstance(exc, SyntaxError) else str(exc))
                what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
                raise UsageError(f"{label} does not import: {what}{_line_in(path, exc)}") from None
        if not table:
            raise UsageError(f"{label}: no @theorem builders (mark each function that returns a Derivation with "
                             "@theorem, from theory.core.registry)")
        try:
            return list(build_all(ordered(list(table.values())), label))
        except KeyboardInterrupt as exc:  # (a builder's own: FILE runs in a process that ignores SIGINT)
            _debug(exc)
            raise UsageError(f"{label}: a builder raised KeyboardInterrupt") from None
        except BuildError as exc:
            _debug(exc.__cause__ or exc)
            raise UsageError(str(exc)) from None
    finally:
        sys.modules.pop(name, None)


def _check_unchanged(path: str, shown: str, sha256: str) -> None:
    from hfx.output import sha256_file

    if sha256_file(Path(path)) != sha256:
        raise UsageError(f"{shown} changed while it was being checked; run hfx check again")


def _point(fd: int, to: int) -> None:
    """Descriptor `to` (1 or 2) of this process made a duplicate of `fd`; Python's stream on it flushed first."""
    stream = sys.stdout if to == 1 else sys.stderr
    with contextlib.suppress(OSError, ValueError, AttributeError):
        stream.flush()
    os.dup2(fd, to)
    if fd not in (1, 2):
        os.close(fd)


def census(path: str, shown: str, sha256: str, stdout: int, stderr: int) -> list[tuple[str, bool]]:
    """In a process of its own (`hfx.isolated`): import FILE, build its derivations; each one's id and whether it
    states something formally (`proves`).  What FILE prints goes to `stdout` and `stderr` (descriptors)."""
    _point(stdout, 1)
    _point(stderr, 2)
    try:
        _check_unchanged(path, shown, sha256)
        return [(d.id, bool(d.proves)) for d in load_derivations(Path(path), shown)]
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()


def verify_one(path: str, shown: str, index: int, sha256: str, with_view: bool
               ) -> tuple[TheoremRecord, DocView | str | None]:
    """In a process of its own (`hfx.isolated`), a fresh fork of hfx's verification server (`hfx.verify_server`),
    like every derivation `hfx verify` checks, so that a status depends neither on the hash seed nor on what was
    verified before: import FILE again, build its derivations, verify the `index`-th; its record and, with
    `with_view`, its document view (`hfx.doc_model.view`), or why it cannot be typeset.  FILE must still be the
    file the command was given (`sha256`), or this is a `UsageError`.  What FILE prints (again) is dropped: the
    census showed it once."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    _point(devnull, 1)
    _check_unchanged(path, shown, sha256)
    derivations = load_derivations(Path(path), shown)
    if index >= len(derivations):
        raise UsageError(f"{shown} gave other derivations when imported again; is its top level deterministic?")
    derivation = derivations[index]
    try:
        record = verify(derivation).record()
    except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:  # the user's code (a function σ of theirs) raised it
        raise UsageError(f"{shown}: checking {derivation.id!r} raised {type(exc).__name__} (from its code)") from None
    if not with_view:
        return record, None
    from hfx.doc_model import view

    try:
        return record, view(derivation, record)
    except ValueError as exc:
        return record, " ".join(str(exc).split())
