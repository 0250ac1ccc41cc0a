"""Named experiments, discovered from the modules of this package.

Each module `numerics/experiments/<name>.py` (name with `_` for `-`) defines

* ``NAME``: the experiment's command-line name, e.g. ``"linear-block"``;
* ``DESCRIPTION``: one line;
* ``Config``: a frozen dataclass whose fields are declared with `param(default, help)`;
  it validates itself in ``__post_init__`` (ValueError with one clear line);
* ``run(config, generator, progress=None) -> ExperimentResult``;
* ``figures(result) -> dict[str, matplotlib.figure.Figure]``.

`all_experiments()` maps names to modules.  Modules whose name starts with `_` are helpers.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from numerics.experiments._common import ExperimentResult, describe

__all__ = ["ExperimentResult", "all_experiments", "describe", "get"]

_CACHE: dict[str, ModuleType] = {}


def all_experiments() -> dict[str, ModuleType]:
    """Every experiment module, by NAME, sorted (imported on first use)."""
    if _CACHE:
        return dict(_CACHE)
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        name = getattr(module, "NAME", None)
        if isinstance(name, str):
            found[name] = module
    _CACHE.update(sorted(found.items()))
    return dict(_CACHE)


def get(name: str) -> ModuleType:
    """The experiment module called `name`; KeyError lists the known names."""
    try:
        return all_experiments()[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(all_experiments())}") from None
