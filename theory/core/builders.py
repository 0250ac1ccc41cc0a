"""Building derivations from `@theorem` builders, with every failure a one-line `BuildError`.

hfx's own builders, a plugin's and a user's (`hfx check FILE.py`) go through `build_all`, which calls each
builder once and refuses, naming the builder:

- a builder that raises (a hollow step, refused when the step is built; a step that is not a `Step`;
  SymPy's own errors, …), with the line of the builder's file where it raised;
- a result that is not a `Derivation`, or whose fields do not have their types (text where text belongs,
  claims as a tuple of strings);
- a derivation with no steps (it would show nothing);
- an id that cannot name a file (`[A-Za-z0-9][A-Za-z0-9._-]*`, at most 100 characters, not one of the
  document names hfx itself writes), or an id taken twice (ignoring case: ids name files, and some
  file systems ignore case).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Collection, Iterable, Sequence

from theory.core.derivation import Derivation
from theory.core.steps import Step

Builder = Callable[[], Derivation]

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
RESERVED_IDS = frozenset({"derivations", "references"})  # stems of the documents hfx writes beside them
_TEXT_FIELDS = ("title", "statement", "conclusion", "instance")
_TEXT_TUPLES = ("claims", "references", "remarks")


class BuildError(ValueError):
    """A builder that cannot give a valid `Derivation`; the message is one line naming where and which."""


def builder_name(builder: Callable[..., object]) -> str:
    return str(getattr(builder, "__qualname__", None) or getattr(builder, "__name__", None) or repr(builder))


def definition_order(builder: Callable[..., object]) -> int:
    """The line where the builder is defined (0 when it has no code object of its own)."""
    code = getattr(builder, "__code__", None)
    return int(getattr(code, "co_firstlineno", 0))


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _where_raised(builder: Callable[..., object], exc: BaseException) -> str:
    """' (line N)' for the last frame of the traceback inside the builder's own file, if any."""
    code = getattr(builder, "__code__", None)
    filename = getattr(code, "co_filename", None)
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return f" (line {lines[-1]})" if lines else ""


def problem(derivation: object) -> str | None:
    """Why `derivation` cannot be checked and written (None if it can)."""
    if not isinstance(derivation, Derivation):
        return f"returned a {type(derivation).__name__}, not a Derivation"
    for name in _TEXT_FIELDS:
        if not isinstance(getattr(derivation, name), str):
            return f"{name} is a {type(getattr(derivation, name)).__name__}, not text"
    for name in _TEXT_TUPLES:
        value = getattr(derivation, name)
        if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
            return f"{name} must be a tuple of strings, got {_one_line(repr(value), 80)}"
    if not ID_PATTERN.fullmatch(derivation.id):
        return (f"id {_one_line(repr(derivation.id), 80)} cannot name a file: use letters, digits, '.', '_' and '-' "
                "(at most 100 characters, starting with a letter or digit)")
    if derivation.id.lower() in RESERVED_IDS:
        return f"id {derivation.id!r} is the name of a file hfx writes; choose another"
    if not derivation.steps:
        return f"derivation {derivation.id!r} has no steps: it would show nothing"
    for i, step in enumerate(derivation.steps, start=1):
        if not isinstance(step, Step):
            return f"derivation {derivation.id!r}: step {i} is a {type(step).__name__}, not a Step"
        if not isinstance(step.reason, str) or not isinstance(step.citation, str):
            return f"derivation {derivation.id!r}: step {i}'s reason and citation must be text"
    return None


def build_one(builder: Builder, where: str) -> Derivation:
    """Call `builder` and check what it returns; `BuildError` naming `where` and the builder otherwise."""
    name = builder_name(builder)
    try:
        derivation = builder()
    except BaseException as exc:  # a user's builder may raise anything (GeneratorExit, their own BaseException)
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = _one_line(str(exc))
        what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        raise BuildError(f"{where}: builder {name} raised {what}{_where_raised(builder, exc)}") from exc
    found = problem(derivation)
    if found is not None:
        raise BuildError(f"{where}: builder {name}: {found}")
    assert isinstance(derivation, Derivation)
    return derivation


def build_all(builders: Iterable[Builder], where: str, taken: Collection[str] = ()) -> tuple[Derivation, ...]:
    """Build every builder, in the order given; ids unique among them and not in `taken` (ignoring case)."""
    seen: dict[str, str] = {i.lower(): "" for i in taken}
    out: list[Derivation] = []
    for builder in builders:
        derivation = build_one(builder, where)
        key = derivation.id.lower()
        if key in seen:
            first = f" (also built by {seen[key]})" if seen[key] else " (already registered)"
            raise BuildError(f"{where}: builder {builder_name(builder)}: duplicate id {derivation.id!r}{first}")
        seen[key] = builder_name(builder)
        out.append(derivation)
    return tuple(out)


def ordered(builders: Sequence[Builder]) -> list[Builder]:
    """Module, then definition order."""
    return sorted(builders, key=lambda b: (getattr(b, "__module__", "") or "", definition_order(b)))
