"""JSON and CSV views of the typed records, made only here, at the edge.

The experiments return frozen dataclasses (`numerics.experiments`); this module turns them into plain JSON
values, with the layout of docs/experiments.md:

* a record or summary is *flat*: a nested dataclass or NamedTuple (an `Outcome`, a group key, a
  `StepsSummary`, a `Measurement`) contributes its fields in place, in declaration order;
* a configuration is flat too (its blocks inlined: `numerics.experiments.params.flat_values`);
* a float that is not finite is written as null (JSON has no inf or NaN); the record's status says why;
* enums are written as their values; tuples as lists.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np

from numerics.experiments import AnyResult, CrossCheck
from numerics.experiments.params import ConfigBase, flat_values

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


def value(v: object) -> JSON:
    """A JSON value: non-finite floats become None, enums their value, tuples lists."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, Enum):
        return value(v.value)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, ConfigBase):
        return config(v)
    if _is_record(v):
        return dict(row(v))
    if isinstance(v, (tuple, list)):
        return [value(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): value(x) for k, x in v.items()}
    raise TypeError(f"no JSON form for {type(v).__name__}")


def _is_record(v: object) -> bool:
    return (dataclasses.is_dataclass(v) and not isinstance(v, type)) or hasattr(v, "_fields")


def _items(v: Any) -> list[tuple[str, object]]:
    if hasattr(v, "_fields"):  # a NamedTuple
        return list(zip(v._fields, v, strict=True))
    return [(f.name, getattr(v, f.name)) for f in dataclasses.fields(v)]


def row(record: object) -> dict[str, JSON]:
    """A record as one flat mapping: nested records inlined in place, in declaration order."""
    out: dict[str, JSON] = {}
    for name, v in _items(record):
        if v is None or not _is_record(v) or isinstance(v, ConfigBase):
            out[name] = value(v)
        else:
            out.update(row(v))
    return out


def config(c: ConfigBase) -> dict[str, JSON]:
    """A configuration, flat (blocks inlined), lists as JSON arrays."""
    return {k: value(v) for k, v in flat_values(c).items()}


def check(c: CrossCheck) -> dict[str, JSON]:
    """A theory cross-check: name, description, status, passed (None when it had no evidence), its numbers."""
    out: dict[str, JSON] = {"name": c.name, "description": c.description, "status": c.status.value,
                            "passed": None if c.examined == 0 else c.mismatches == 0}
    out.update({k: value(v) for k, v in c.details.items()})
    out["examined"] = c.examined
    out["mismatches"] = c.mismatches
    if c.excluded:
        out["excluded"] = c.excluded
        out["excluded_reason"] = c.excluded_reason
    return out


def summary_document(result: AnyResult) -> dict[str, JSON]:
    """The `summary.json` document of an experiment (docs/experiments.md)."""
    return {
        "experiment": result.name,
        "config": config(result.config),
        "seconds": round(result.seconds, 3),
        "passed": result.passed,
        "checks": [check(c) for c in result.checks],
        "summaries": [row(s) for s in result.summaries],
        "records": [row(r) for r in result.records],
    }


def csv_cell(v: JSON) -> object:
    """A CSV cell: None is empty, a list or mapping is its JSON text."""
    import json

    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v
