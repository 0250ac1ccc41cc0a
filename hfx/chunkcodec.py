"""Chunk results to JSON and back, losslessly: the format of the chunk store (`hfx.store`).

Unlike `hfx.encoding` (for readers: non-finite numbers become null, tuples lists), this encoding reads back to
equal objects, bit for bit, so that a resumed run merges exactly the records an uninterrupted run would:

* ``None``, ``bool``, ``int``, ``str``: as themselves; a finite float as a JSON number (Python writes the
  shortest decimal that reads back to the same float64); a non-finite float as ``{"float": "nan" | "inf" |
  "-inf"}``;
* a list as a list; a tuple as ``{"tuple": […]}``; a mapping as ``{"map": [[key, value], …]}``;
* a NumPy array or scalar as ``{"ndarray": dtype, "shape": […], "data": base64 of its bytes}`` (numeric dtypes
  only);
* a dataclass or a NamedTuple as ``{"type": "module:QualName", "fields": {…}}``, an enum as ``{"enum":
  "module:QualName", "value": …}``.

Decoding builds only types defined in hfx's own packages (`TRUSTED`): a store file can name no other code to
run.  Anything malformed is a `ValueError` (the store then recomputes that chunk).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import math
from typing import Any

import numpy as np

TRUSTED = ("numerics.", "hfx.")  # modules whose dataclasses, NamedTuples and enums a store file may name
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def encode(obj: object) -> object:
    """`obj` as JSON values (module docstring); TypeError for a type the store does not know."""
    if isinstance(obj, enum.Enum):  # first: a StrEnum is a str, an IntEnum an int
        return {"enum": _name(type(obj)), "value": encode(obj.value)}
    if obj is None or type(obj) in (bool, str):
        return obj
    if isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"cannot store an array of dtype {a.dtype}")
        return {"ndarray": a.dtype.str, "shape": list(a.shape) if isinstance(obj, np.ndarray) else None,
                "data": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")}
    if type(obj) is int:
        return obj
    if type(obj) is float:
        if math.isfinite(obj):
            return float(obj)
        return {"float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
    fields = getattr(obj, "_fields", None)
    if isinstance(obj, tuple) and isinstance(fields, tuple):  # a NamedTuple
        return {"type": _name(type(obj)), "fields": {k: encode(getattr(obj, k)) for k in fields}}
    if isinstance(obj, tuple):
        return {"tuple": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, dict) or (hasattr(obj, "items") and hasattr(obj, "keys")):
        return {"map": [[encode(k), encode(v)] for k, v in obj.items()]}  # type: ignore[attr-defined]  # (a Mapping-like object: .items() checked above)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"type": _name(type(obj)),
                "fields": {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    raise TypeError(f"cannot store a {type(obj).__name__}")


def _trusted_type(name: object) -> type:
    if not isinstance(name, str) or ":" not in name:
        raise ValueError(f"not a type name: {name!r}")
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith(TRUSTED):
        raise ValueError(f"a store may not name {name!r} (only types of {', '.join(TRUSTED)})")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"unknown type {name!r}") from exc
    if not isinstance(target, type):
        raise ValueError(f"{name!r} is not a type")
    return target


def decode(obj: object) -> Any:
    """The object that `encode` encoded; ValueError for anything else (a value nested too deeply too)."""
    try:
        return _decode(obj)
    except RecursionError:
        raise ValueError("malformed store value: nested too deeply") from None


def _decode(obj: object) -> Any:
    if obj is None or isinstance(obj, (bool, str, int, float)):
        return obj
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict) or len(obj) not in (1, 2, 3):
        raise ValueError(f"malformed store value: {str(obj)[:80]}")
    try:
        if "float" in obj:
            return _NONFINITE[obj["float"]]
        if "tuple" in obj:
            return tuple(_decode(v) for v in obj["tuple"])
        if "map" in obj:
            return {_hashable(_decode(k)): _decode(v) for k, v in obj["map"]}
        if "ndarray" in obj:
            dtype = np.dtype(obj["ndarray"])
            if dtype.kind not in "biuf":
                raise ValueError(f"array dtype {dtype} not allowed")
            flat = np.frombuffer(base64.b64decode(obj["data"], validate=True), dtype=dtype)
            if obj["shape"] is None:
                return flat[0]
            return flat.reshape(tuple(int(n) for n in obj["shape"])).copy()
        if "enum" in obj:
            cls = _trusted_type(obj["enum"])
            if not issubclass(cls, enum.Enum):
                raise ValueError(f"{obj['enum']} is not an enum")
            return cls(_decode(obj["value"]))
        if "type" in obj:
            return _build(_trusted_type(obj["type"]), obj["fields"])
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"malformed store value: {exc}") from exc
    raise ValueError(f"malformed store value: {str(obj)[:80]}")


def _hashable(key: object) -> object:
    return tuple(key) if isinstance(key, list) else key


def _build(cls: type, fields: object) -> object:
    if not isinstance(fields, dict):
        raise ValueError("malformed store record")
    values = {k: decode(v) for k, v in fields.items()}
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        if set(values) != set(cls._fields):
            raise ValueError(f"{cls.__qualname__}: fields {sorted(values)} ≠ {list(cls._fields)}")
        return cls(**values)
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"{cls.__qualname__} is neither a dataclass nor a NamedTuple")
    declared = {f.name: f for f in dataclasses.fields(cls)}
    if set(values) != set(declared):
        raise ValueError(f"{cls.__qualname__}: fields {sorted(values)} ≠ {sorted(declared)}")
    made = cls(**{k: v for k, v in values.items() if declared[k].init})
    for k, v in values.items():
        if not declared[k].init:
            object.__setattr__(made, k, v)
    return made
