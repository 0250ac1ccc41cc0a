"""Every theorem hfx knows: the topic modules of `theory/`, and the theorem modules that packages register.

A topic module marks each function that builds a `Derivation` with `@theorem`.
`all_derivations()` imports the topic modules listed in `_import_topics` (plain
imports, so that readers and mypy see them; a new topic adds one line there) and
builds every registered derivation once, in a stable order (module, then
definition order), followed by the derivations of the installed plugins.

**Plugins.**  A package registers theorem modules under the entry-point group
``hfx.theorems`` (in its ``pyproject.toml``: ``[project.entry-points."hfx.theorems"]``
``my_name = "my_package.theorems"``); each module is imported once and its ``@theorem``
builders join the registry (`hfx verify`, `hfx list theorems`, `pytest proofs/`).  A
plugin that does not import, whose builder raises, returns something that is not a
`Derivation`, has no steps, or repeats an id already taken is left out as a whole;
`plugin_problems()` says why, one line each (the command line prints them).

**Modules checked on their own** (`hfx check FILE.py`): `collecting(module_name)`
routes the builders of that one module into a separate table while it is imported,
so that they never join the registry.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata

from theory.core.builders import Builder, BuildError, build_all, builder_name, ordered
from theory.core.derivation import Derivation

__all__ = [
    "ENTRY_POINT_GROUP",
    "BuildError",
    "Plugin",
    "all_derivations",
    "collecting",
    "derivation_by_id",
    "plugin_derivations",
    "plugin_problems",
    "plugins",
    "theorem",
]

ENTRY_POINT_GROUP = "hfx.theorems"  # packages register theorem modules here

_BUILDERS: dict[str, Builder] = {}  # "module.qualname" → builder: hfx's own and the plugins'
_ROUTES: dict[str, dict[str, Builder]] = {}  # module name → its own table, while `collecting(module)` is open


def theorem(builder: Builder) -> Builder:
    """Register a zero-argument builder of a `Derivation`."""
    if not callable(builder):
        raise TypeError(f"@theorem marks a function that builds a Derivation, not a {type(builder).__name__}")
    module = getattr(builder, "__module__", None) or ""
    key = f"{module}.{builder_name(builder)}"
    _ROUTES.get(module, _BUILDERS)[key] = builder
    return builder


@contextlib.contextmanager
def collecting(module_name: str) -> Iterator[dict[str, Builder]]:
    """While open, the builders that module `module_name` registers go into the table yielded, not the registry."""
    if module_name in _ROUTES:
        raise RuntimeError(f"already collecting the builders of {module_name}")
    table: dict[str, Builder] = {}
    _ROUTES[module_name] = table
    try:
        yield table
    finally:
        del _ROUTES[module_name]


def _import_topics() -> None:
    # every topic module, once; importing one registers its @theorem builders
    from theory import (  # noqa: F401
        blocks,
        conv_bn,
        deep_linear,
        depth,
        dynamics,
        expressivity,
        hardt_ma,
        identity_init,
        jacobian,
        landscape,
        landscape_smooth,
        learning_time,
        linear_block,
        reformulation,
        tanh_block,
        weight_decay,
    )


@dataclass(frozen=True)
class Plugin:
    """One entry point of the group ``hfx.theorems``, after loading."""

    name: str  # the entry point's name
    module: str  # what it points to, e.g. "my_package.theorems"
    distribution: str  # the installed distribution that declares it, with its version ("" if unknown)
    ids: tuple[str, ...] = ()  # the derivations it contributes (empty when left out)
    problem: str = ""  # why it was left out, one line ("" when loaded)

    def line(self) -> str:
        return f"plugin {self.name!r} ({self.module}) left out: {self.problem}"


@functools.cache
def _own() -> tuple[Derivation, ...]:
    _import_topics()
    own = [b for k, b in _BUILDERS.items() if k.startswith("theory.")]
    return build_all(ordered(own), "hfx")  # stable order, whatever order the modules happened to be imported in


def _entry_points() -> list[metadata.EntryPoint]:
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    unique = {(ep.name, ep.value): ep for ep in found}  # a distribution seen twice on sys.path counts once
    return sorted(unique.values(), key=lambda ep: (ep.name, ep.value))


def _load(ep: metadata.EntryPoint, taken: set[str]) -> tuple[Plugin, tuple[Derivation, ...]]:
    dist = getattr(ep, "dist", None)
    label = f"{dist.name} {dist.version}" if dist is not None else ""
    before = set(_BUILDERS)
    try:
        ep.load()
    except Exception as exc:
        for key in set(_BUILDERS) - before:  # whatever it registered before failing
            del _BUILDERS[key]
        return Plugin(ep.name, ep.value, label, problem=f"does not import: {_one_line(exc)}"), ()
    # what it registered now, and what its module had registered before (imported earlier by someone else)
    mine = [b for k, b in _BUILDERS.items() if k not in before or _inside(b, ep.module)]
    try:
        built = build_all(ordered(mine), ep.value, taken)
        if not built:
            raise BuildError(f"{ep.value}: no @theorem builders")
    except BuildError as exc:
        for key in set(_BUILDERS) - before:
            del _BUILDERS[key]
        return Plugin(ep.name, ep.value, label, problem=str(exc)), ()
    return Plugin(ep.name, ep.value, label, ids=tuple(d.id for d in built)), built


@functools.cache
def _plugins() -> tuple[tuple[Plugin, ...], tuple[Derivation, ...]]:
    entry_points = _entry_points()
    if not entry_points:  # the common case: nothing to load, and hfx's own derivations need not be built
        return (), ()
    taken = {d.id for d in _own()}
    loaded: list[Plugin] = []
    derivations: list[Derivation] = []
    for ep in entry_points:
        plugin, built = _load(ep, taken)
        loaded.append(plugin)
        derivations.extend(built)
        taken.update(d.id for d in built)
    return tuple(loaded), tuple(derivations)


def _inside(builder: Builder, module: str) -> bool:
    name = getattr(builder, "__module__", None) or ""
    return name == module or name.startswith(module + ".")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def plugins() -> tuple[Plugin, ...]:
    """Every entry point of the group, loaded or left out (with why)."""
    return _plugins()[0]


def plugin_problems() -> list[str]:
    """One line for each plugin that was left out."""
    return [p.line() for p in plugins() if p.problem]


def plugin_derivations() -> list[Derivation]:
    """The derivations that installed plugins contribute, in entry-point then definition order."""
    return list(_plugins()[1])


def _built() -> tuple[Derivation, ...]:
    return _own() + _plugins()[1]


def all_derivations() -> list[Derivation]:
    """Every registered derivation (hfx's own, then the plugins'), in module then definition order; ids are unique.

    Built once per process (derivations are immutable).
    """
    return list(_built())


def derivation_by_id(derivation_id: str) -> Derivation:
    """The derivation with this id; KeyError lists the known ids."""
    for d in _built():
        if d.id == derivation_id:
            return d
    known = ", ".join(d.id for d in _built())
    raise KeyError(f"unknown theorem {derivation_id!r}; known: {known}")

