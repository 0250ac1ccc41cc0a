"""JSON and CSV views of the typed records, made only here, at the edge.

The experiments return frozen dataclasses (`numerics.experiments`); this module turns them into plain JSON
values with the layout of docs/experiments.md (`hfx.encoding` then writes them, its one JSON and one CSV
encoding):

* a record or summary is *flat*: a nested dataclass or NamedTuple (an `Outcome`, a group key, a
  `StepsSummary`, a `Measurement`) contributes its fields in place, in declaration order;
* a configuration is flat too (its blocks inlined: `numerics.experiments.params.flat_values`);
* a float that is not finite is written as null (JSON has no inf or NaN); the record's status says why;
* enums are written as their values; tuples as lists.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from hfx.encoding import jsonable
from numerics.experiments import AnyResult, CrossCheck
from numerics.experiments.params import ConfigBase, flat_values

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


def value(v: object) -> JSON:
    """A JSON value (hfx.encoding's rules: non-finite floats become None, enums their value, tuples lists); a
    configuration or a record is flattened as below."""
    if isinstance(v, ConfigBase):
        return dict(config(v))
    if _is_record(v):
        return dict(row(v))
    return typing.cast(JSON, jsonable(v))


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
        "lr_grids": [row(g) for g in result.grids],
        "records": [row(r) for r in result.records],
    }
