"""Configuration fields of the experiments: help text and constraints in the metadata, checked uniformly.

A Config is a frozen dataclass deriving from `ConfigBase`, every field declared with `param(default, help, …)`.
The constraints live in the field's metadata (as scikit-learn's `_parameter_constraints`) and are checked by
`ConfigBase.__post_init__`, the same way for every experiment: the type (an int is not a bool, a float is finite),
an `Interval` (with a documented upper bound where a larger value is absurd), allowed `choices`, non-empty
lists.  Constraints between fields go in `check()`.  A field may hold a *block* (declared with `nested`), a
Config shared by several experiments (`numerics.experiments.blocks`); on the command line and in JSON the blocks
are flattened, so that every parameter has one flat name (`--set max_steps=300`): `parameters`, `replace_flat`,
`flat_values`.

Every failed constraint is a ValueError with one line that names the parameter and what it allows.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
C = TypeVar("C", bound="ConfigBase")
Scalar = int | float | str | bool
Value = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Interval:
    """The allowed range of a number (of every element, for a list): [low, high], either end open or absent."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # (low, …: low itself is not allowed
    high_open: bool = False  # …, high): high itself is not allowed

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def __str__(self) -> str:
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"{left}{low}, {high}{right}"


def _number(v: float) -> str:
    return str(v) if isinstance(v, int) else f"{v:g}"


def positive(high: float | None = None) -> Interval:
    """(0, high]."""
    return Interval(0, high, low_open=True)


def at_least(low: float, high: float | None = None) -> Interval:
    """[low, high]."""
    return Interval(low, high)


@dataclass(frozen=True)
class FieldSpec:
    """What `param` and `nested` attach to a field (its metadata, under `METADATA_KEY`)."""

    help: str = ""
    choices: tuple[str, ...] | None = None  # allowed values of a str field (of each element, for a list)
    interval: Interval | None = None  # allowed range of a number (of each element, for a list)
    nested: bool = False  # the field holds a block, a nested Config
    path: bool = False  # a str field that names a file or folder (free text, checked by `check_path`)


METADATA_KEY = "hfx"


def field_spec(f: dataclasses.Field[Any]) -> FieldSpec:
    spec = f.metadata.get(METADATA_KEY)
    return spec if isinstance(spec, FieldSpec) else FieldSpec()


def param(default: T, help: str, *, choices: tuple[str, ...] | None = None, interval: Interval | None = None,
          path: bool = False) -> T:
    """A configuration field with its help text and constraints as metadata (`path`: a str naming a file or
    folder, whose only constraint is `check_path`; whether it exists is the experiment's `check`)."""
    return field(default=default, metadata={METADATA_KEY: FieldSpec(help, choices, interval, path=path)})


MAX_PATH = 4096  # characters of a path parameter (PATH_MAX on Linux)


def check_path(name: str, value: str) -> str:
    """A path parameter: at most `MAX_PATH` characters, no NUL or line break (ValueError otherwise)."""
    if len(value) > MAX_PATH:
        raise ValueError(f"{name} must be a path of at most {MAX_PATH} characters, got {len(value)}")
    if any(c in value for c in "\x00\n\r"):
        raise ValueError(f"{name} must be a path without NUL or line breaks, got {value!r}")
    return value


def nested(default: C) -> C:
    """A field that holds a nested Config block (its fields are parameters of the experiment)."""
    return field(default=default, metadata={METADATA_KEY: FieldSpec(nested=True)})


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@dataclass(frozen=True)
class ConfigBase:
    """Base of every experiment Config and block: checks every field's constraints on construction."""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            if field_spec(f).nested:
                continue
            value = _checked(f, hints[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)  # ints given for floats become floats
        self.check()

    def check(self) -> None:
        """Constraints between fields (ValueError with one line); none by default."""


def _checked(f: dataclasses.Field[Any], tp: object, value: object) -> object:
    """The value converted to the field's type, after its constraints: ValueError naming the field otherwise."""
    if typing.get_origin(tp) is tuple:
        (item,) = typing.get_args(tp)[:1]
        if not isinstance(value, tuple):
            raise ValueError(f"{f.name} must be a list of {type_name(item)}, got {value!r}")
        if not value:
            raise ValueError(f"{f.name} must not be empty")
        values = tuple(_checked_scalar(f, item, v, element=True) for v in value)
        twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
        if twice is not None:  # every list is a grid: a value twice would run its runs twice, counted as more runs
            raise ValueError(f"{f.name}: {twice!r} is given twice (a grid holds each value once)")
        return values
    return _checked_scalar(f, tp, value)


def _checked_scalar(f: dataclasses.Field[Any], tp: object, value: object, element: bool = False) -> Scalar:
    name = f"{f.name} (every value)" if element else f.name
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        allowed = field_spec(f).choices
        if allowed is not None and value not in allowed:
            raise ValueError(f"{f.name}: {value!r} is not one of {', '.join(allowed)}")
        return check_path(name, value) if field_spec(f).path else value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        number: int | float = value
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    else:
        raise TypeError(f"unsupported configuration type {tp!r} of {f.name}")
    interval = field_spec(f).interval
    if interval is not None and number not in interval:
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return number


# ---- introspection: flat names over blocks (used by `hfx run --set`, `hfx list experiments`, JSON) ----------


@dataclass(frozen=True)
class Parameter:
    """One settable parameter of an experiment, under its flat name."""

    name: str  # the flat name (unique within the experiment)
    path: tuple[str, ...]  # attribute path from the Config (blocks first)
    type: object  # int, float, str, bool or tuple[X, ...]
    default: Value
    help: str
    choices: tuple[str, ...] | None
    interval: Interval | None
    path_like: bool = False  # a str naming a file or folder (`param`)

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.type) is tuple

    @property
    def item_type(self) -> object:
        """The type of one value (of each element, for a list)."""
        return typing.get_args(self.type)[0] if self.is_list else self.type


def type_name(tp: object) -> str:
    """A short name: int, float, str, bool, list[int], list[float], list[str]."""
    if tp in (int, float, str, bool):
        return getattr(tp, "__name__", str(tp))
    if typing.get_origin(tp) is tuple:
        return f"list[{type_name(typing.get_args(tp)[0])}]"
    raise TypeError(f"unsupported configuration type {tp!r}")


def parameters(config_cls: type[ConfigBase], default: ConfigBase | None = None) -> tuple[Parameter, ...]:
    """Every parameter of a Config class, blocks flattened in place, in declaration order."""
    instance = default if default is not None else config_cls()
    out: list[Parameter] = []
    hints = _hints(config_cls)
    for f in dataclasses.fields(config_cls):
        value = getattr(instance, f.name)
        spec = field_spec(f)
        if spec.nested:
            for p in parameters(type(value), value):
                out.append(dataclasses.replace(p, path=(f.name, *p.path)))
            continue
        out.append(Parameter(f.name, (f.name,), hints[f.name], value, spec.help, spec.choices, spec.interval,
                             spec.path))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise TypeError(f"{config_cls.__qualname__}: parameter names repeat across blocks: {names}")
    return tuple(out)


def flat_values(config: ConfigBase) -> dict[str, Value]:
    """{flat name: value} of a Config instance, in declaration order."""
    out: dict[str, Value] = {}
    for p in parameters(type(config), config):
        value: Any = config
        for attr in p.path:
            value = getattr(value, attr)
        out[p.name] = value
    return out


def replace_flat(config: C, values: Mapping[str, Value]) -> C:
    """`dataclasses.replace` by flat names (KeyError for an unknown one; ValueError from the constraints)."""
    index = {p.name: p.path for p in parameters(type(config), config)}
    nested: dict[str, Any] = {}
    for name, value in values.items():
        if name not in index:
            raise KeyError(name)
        *blocks, attr = index[name]
        level = nested
        for b in blocks:
            level = level.setdefault(b, {})
        level[attr] = value
    return _replace(config, nested)


def _replace(obj: C, changes: Mapping[str, Any]) -> C:
    resolved = {k: _replace(getattr(obj, k), v) if isinstance(v, dict) else v for k, v in changes.items()}
    return dataclasses.replace(obj, **resolved)
