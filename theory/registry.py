"""Every theorem hfx knows, discovered from the modules of `theory/`.

A topic module marks each function that builds a `Derivation` with
`@theorem`; `all_derivations()` imports every module of the package (so a new
topic needs no registration elsewhere) and builds them in a stable order.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

import theory
from theory.derivation import Derivation

_BUILDERS: dict[str, Callable[[], Derivation]] = {}
_INFRASTRUCTURE = {"derivation", "steps", "ladder", "sampling", "registry", "printing"}


def theorem(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
    """Register a zero-argument builder of a `Derivation`."""
    key = f"{builder.__module__}.{builder.__qualname__}"
    _BUILDERS[key] = builder
    return builder


def _import_topics() -> None:
    for info in pkgutil.iter_modules(theory.__path__):
        if info.name not in _INFRASTRUCTURE and not info.name.startswith("_"):
            importlib.import_module(f"theory.{info.name}")


def all_derivations() -> list[Derivation]:
    """Every registered derivation, in module then definition order; ids are unique."""
    _import_topics()
    # stable order, whatever order the modules happened to be imported in
    builders = sorted(_BUILDERS.values(), key=lambda b: (b.__module__, b.__code__.co_firstlineno))
    derivations = [build() for build in builders]
    seen: set[str] = set()
    for d in derivations:
        if d.id in seen:
            raise ValueError(f"duplicate derivation id {d.id!r}")
        seen.add(d.id)
    return derivations


def derivation_by_id(derivation_id: str) -> Derivation:
    """The derivation with this id; KeyError lists the known ids."""
    for d in all_derivations():
        if d.id == derivation_id:
            return d
    known = ", ".join(d.id for d in all_derivations())
    raise KeyError(f"unknown theorem {derivation_id!r}; known: {known}")
