"""The public API for stating and checking a derivation (re-exported from `theory.core`).

    from theory.derivation import (Derivation, Assumption, Equal, Equivalent, Substitute,
                                   MatrixGradient, Inequality, verify, Status, Formula, theorem)

(`theorem` is `theory.core.registry.theorem`, the decorator that marks a builder; docs/api.md is the guide.)

The engine itself lives in `theory.core` (derivation, steps, ladder, sampling);
this module is the one stable place to import it from.
"""

from __future__ import annotations

from theory.core.derivation import *  # noqa: F403  (the public names, listed in theory.core.derivation.__all__)
from theory.core.derivation import __all__ as _core_names
from theory.core.registry import theorem

__all__ = [*_core_names, "theorem"]
