"""`hfx run --set`: values parsed against an experiment's Config, and sweeps over scalar parameters.

Every `--set KEY=VALUE` is parsed against the type of the flat parameter KEY (numerics.experiments.params).  A
list parameter takes comma-separated values; a scalar parameter given several comma-separated values is a *sweep*
(as Hydra's multirun): one configuration per value, the product over several swept parameters.  Every
configuration is built, and so checked against the declared constraints, before anything runs.  A key given
again overrides the earlier value (`--set` is repeatable: a base command line plus overrides); every value given
is still checked.  A sweep has at most `MAX_POINTS` points (counted before any is built).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hfx.errors import UsageError

if TYPE_CHECKING:
    from numerics.experiments import Experiment
    from numerics.experiments.params import ConfigBase, Parameter, Value


MAX_POINTS = 1000  # points of one sweep: each is a whole run with its own folder
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_value(key: str, text: str, tp: object) -> Value:
    """Convert `text` to the scalar type `tp` (int, float, str, bool); UsageError otherwise."""
    text = text.strip()
    try:
        if tp is bool:
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError
        if tp is int:
            return int(text)
        if tp is float:
            value = float(text)
            if not math.isfinite(value):
                raise UsageError(f"--set {key}: {text!r} is not a finite number")
            return value
        if tp is str:
            return text
    except ValueError:
        name = getattr(tp, "__name__", str(tp))
        raise UsageError(f"--set {key}: {text!r} is not a valid {name}") from None
    raise UsageError(f"--set {key}: unsupported type {tp!r}")


def _items(key: str, text: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not t for t in items):
        raise UsageError(f"--set {key}: expected a value or a comma-separated list, got {text!r}")
    return items


def _values(key: str, text: str, p: _Declared) -> list[Value]:
    return [parse_value(key, t, p.item_type) for t in _items(key, text)]


@dataclass(frozen=True)
class Point:
    """One run of a (possibly swept) command: its configuration and the swept values that made it."""

    config: ConfigBase
    swept: tuple[tuple[str, Value], ...]  # (name, value) of each swept parameter; empty without a sweep

    @property
    def folder(self) -> str:
        """The point's sub-folder of --out: one path component, exact and distinct for distinct values.

        Floats are written in full (`repr`: 0.5 and 0.5000001 differ); every character outside [A-Za-z0-9._+-]
        of a value is percent-encoded (a value holding `/` or `..` stays inside --out); a name longer than
        `_FOLDER_MAX` characters is cut and ends with a hash of the whole name.
        """
        name = ",".join(f"{k}={quote(_plain(v), safe='+-._')}" for k, v in self.swept)
        if len(name) > _FOLDER_MAX:
            name = f"{name[:_FOLDER_MAX - 17]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        return name


_FOLDER_MAX = 120  # characters (ASCII after encoding): far below the 255 bytes a file name may take


def _plain(v: Value) -> str:
    return repr(v) if isinstance(v, float) else str(v)


class _Declared(typing.Protocol):
    """What parsing needs of a parameter's declaration (`numerics...params.Parameter`, `hfx.preflight.Spec`)."""

    @property
    def is_list(self) -> bool: ...

    @property
    def item_type(self) -> object: ...


def parse_overrides(name: str, params: Mapping[str, _Declared], overrides: Sequence[str],
                    seeds: int | None) -> tuple[dict[str, Value], dict[str, list[Value]]]:
    """(fixed values, swept values) of the `--set` overrides (and `--seeds`) of experiment `name`, parsed against
    the declared types (a key given again overrides, `--seeds` overrides `--set seeds=`); UsageError for an unknown
    key, a value that does not parse, a value twice in a sweep, more than `MAX_POINTS` points."""
    fixed: dict[str, Value] = {}
    swept: dict[str, list[Value]] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        if key not in params:
            raise UsageError(f"--set: unknown parameter {key!r} of {name}; known: {', '.join(params)}")
        p = params[key]
        values = _values(key, text, p)
        fixed.pop(key, None)  # a later --set of the same key overrides an earlier one (a base command + overrides)
        swept.pop(key, None)
        if p.is_list:
            fixed[key] = tuple(typing.cast(list[Any], values))
        elif len(values) == 1:
            fixed[key] = values[0]
        else:
            twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
            if twice is not None:
                raise UsageError(f"--set {key}: the value {_plain(twice)} is given twice in the sweep")
            swept[key] = values
    if seeds is not None:  # --seeds overrides --set seeds= (its help says so)
        swept.pop("seeds", None)
        fixed["seeds"] = seeds
    count = math.prod(len(v) for v in swept.values())
    if count > MAX_POINTS:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in swept.items())
        raise UsageError(f"--set: a sweep of {count:,} points ({sizes}) is more than the {MAX_POINTS:,} allowed; "
                         "sweep fewer values or run several commands")
    return fixed, swept


def build_configs(module: Experiment, overrides: list[str], seeds: int | None) -> list[Point]:
    """The experiment's Config for every point of the sweep, overrides applied and checked; UsageError otherwise."""
    from numerics.experiments.params import parameters, replace_flat

    params: dict[str, Parameter] = {p.name: p for p in parameters(module.Config)}
    fixed, swept = parse_overrides(module.NAME, params, overrides, seeds)
    points = []
    for combo in itertools.product(*swept.values()):
        chosen = tuple(zip(swept, combo, strict=True))
        try:
            config = replace_flat(module.Config(), {**fixed, **dict(chosen)})
        except ValueError as exc:
            where = f" ({', '.join(f'{k}={_plain(v)}' for k, v in chosen)})" if chosen else ""
            raise UsageError(f"{module.NAME}{where}: {exc}") from None
        points.append(Point(config, chosen))
    folders = [p.folder for p in points]
    if len(set(folders)) != len(folders):  # distinct values, one folder each (a safety net: cannot happen above)
        raise UsageError("--set: two points of the sweep would share one output folder")
    return points
