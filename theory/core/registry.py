"""Every theorem hfx knows: the topic modules of `theory/`, imported by name.

A topic module marks each function that builds a `Derivation` with `@theorem`.
`all_derivations()` imports the topic modules listed in `_import_topics` (plain
imports, so that readers and mypy see them; a new topic adds one line there) and
builds every registered derivation once, in a stable order (module, then
definition order).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from theory.core.derivation import Derivation

_BUILDERS: dict[str, Callable[[], Derivation]] = {}


def theorem(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
    """Register a zero-argument builder of a `Derivation`."""
    key = f"{builder.__module__}.{builder.__qualname__}"
    _BUILDERS[key] = builder
    return builder


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
        jacobian,
        landscape,
        landscape_smooth,
        learning_time,
        linear_block,
        reformulation,
        tanh_block,
        weight_decay,
    )


@functools.cache
def _built() -> tuple[Derivation, ...]:
    _import_topics()
    # stable order, whatever order the modules happened to be imported in
    builders = sorted(_BUILDERS.values(), key=lambda b: (b.__module__, b.__code__.co_firstlineno))
    derivations = tuple(build() for build in builders)
    seen: set[str] = set()
    for d in derivations:
        if d.id in seen:
            raise ValueError(f"duplicate derivation id {d.id!r}")
        seen.add(d.id)
    return derivations


def all_derivations() -> list[Derivation]:
    """Every registered derivation, in module then definition order; ids are unique.

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
