"""`hfx run --set` checked before PyTorch is imported: each parameter against a snapshot of its declaration.

The experiments' Config classes live in modules that import torch (seconds of start-up); `hfx.param_schema`
holds, for every experiment, each flat parameter's type, allowed choices, interval and whether it names a
path, as `numerics.experiments.params` declares them (`live_schema` computes the same from the classes; a test
keeps the two equal, and `scripts/update_param_schema.py` rewrites the snapshot).  `check(name, overrides,
seeds)` applies everything that concerns one parameter at a time — its name, the syntax and type of each value,
its choices, its interval, a path's length and characters (also of a value that a later `--set` overrides), the
size of a sweep — with the same messages as `hfx.sweep.build_configs`, which still builds every
configuration after the import and checks the constraints between fields (`Config.check`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hfx.errors import UsageError
from hfx.sweep import parse_overrides

MAX_PATH = 4096  # = numerics.experiments.params.MAX_PATH (a test keeps them equal)
# (low, high, low_open, high_open, text): an interval as numerics.experiments.params.Interval, and its str()
Bounds = tuple[float | None, float | None, bool, bool, str]


@dataclass(frozen=True)
class Spec:
    """One parameter's declaration, as `numerics.experiments.params.Parameter` has it (without its default)."""

    name: str
    type: str  # int, float, str, bool, list[int], list[float], list[str]
    choices: tuple[str, ...] | None
    bounds: Bounds | None
    path_like: bool

    @property
    def is_list(self) -> bool:
        return self.type.startswith("list[")

    @property
    def item_type(self) -> object:
        return {"int": int, "float": float, "str": str, "bool": bool}[self.type.removeprefix("list[").rstrip("]")]


def _contains(bounds: Bounds, value: float) -> bool:
    """As `numerics.experiments.params.Interval.__contains__`."""
    low, high, low_open, high_open, _ = bounds
    if low is not None and (value < low or (low_open and value == low)):
        return False
    return not (high is not None and (value > high or (high_open and value == high)))


def _check_value(name: str, spec: Spec, value: Any) -> None:
    """The constraints of one value, with the messages of `numerics.experiments.params._checked_scalar`."""
    label = f"{spec.name} (every value)" if spec.is_list else spec.name
    if isinstance(value, str):
        if spec.choices is not None and value not in spec.choices:
            raise UsageError(f"{name}: {spec.name}: {value!r} is not one of {', '.join(spec.choices)}")
        if spec.path_like and len(value) > MAX_PATH:
            raise UsageError(f"{name}: {label} must be a path of at most {MAX_PATH} characters, got {len(value)}")
        if spec.path_like and any(c in value for c in "\x00\n\r"):
            raise UsageError(f"{name}: {label} must be a path without NUL or line breaks, got {value!r}")
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and spec.bounds is not None:
        if not _contains(spec.bounds, value):
            raise UsageError(f"{name}: {label} must be in {spec.bounds[4]}, got {value}")


def check(name: str, overrides: Sequence[str], seeds: int | None,
          schema: Mapping[str, Mapping[str, Spec]] | None = None) -> None:
    """UsageError for an override of experiment `name` that no configuration can take (module docstring)."""
    if schema is None:
        from hfx.param_schema import SCHEMA

        schema = {n: {k: Spec(k, *v) for k, v in params.items()} for n, params in SCHEMA.items()}
    params = schema.get(name)
    if params is None:  # an experiment the snapshot does not know: build_configs says it all, after the import
        return
    fixed, swept = parse_overrides(name, params, overrides, seeds)
    for item in overrides:  # a value overridden by a later --set is still the user's input: checked too
        earlier, _ = parse_overrides(name, params, [item], None)
        for key, value in earlier.items():
            if key not in fixed or fixed[key] != value:
                for v in value if isinstance(value, tuple) else (value,):
                    _check_value(name, params[key], v)
    for key, value in fixed.items():
        for v in value if isinstance(value, tuple) else (value,):
            _check_value(name, params[key], v)
    for key, values in swept.items():
        for one in values:
            _check_value(f"{name} ({key}={one})", params[key], one)


def live_schema() -> dict[str, dict[str, tuple[Any, ...]]]:
    """What `hfx.param_schema.SCHEMA` must hold, computed from the Config classes (imports torch)."""
    from numerics import experiments
    from numerics.experiments.params import parameters, type_name

    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    for name in sorted(experiments.EXPERIMENTS):
        out[name] = {}
        for p in parameters(experiments.get(name).Config):
            i = p.interval
            bounds = None if i is None else (i.low, i.high, i.low_open, i.high_open, str(i))
            out[name][p.name] = (type_name(p.type), p.choices, bounds, p.path_like)
    return out
