"""Shared pieces of the named experiments: configuration fields, results, records, summaries.

(The registry itself is in `numerics/experiments/__init__.py`.)
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numerics.stats import summarize
from numerics.train import CONVERGED, DIVERGED, TrainResult

Progress = Callable[[int], None]  # called with a number of completed units of work


def param(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A configuration field with its help text (and allowed values) attached as metadata."""
    meta: dict[str, Any] = {"help": help}
    if choices is not None:
        meta["choices"] = choices
    return field(default=default, metadata=meta)


@dataclass
class ExperimentResult:
    """Everything an experiment measured, ready to be written or audited."""

    name: str  # the experiment's NAME
    config: dict[str, Any]  # the configuration, as plain JSON values
    records: list[dict[str, Any]]  # one per run (see docs/experiments.md)
    summaries: list[dict[str, Any]]  # one per group of runs (censoring-aware)
    checks: list[dict[str, Any]]  # theory cross-checks: name, passed, tolerance, details
    curves: dict[str, Any] = field(default_factory=dict)  # arrays for the figures
    seconds: float = 0.0  # wall time of run()
    work_units: int = 0  # total progress units (for a progress bar)

    @property
    def passed(self) -> bool:
        """Whether every theory cross-check passed."""
        return all(bool(c["passed"]) for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.name,
            "config": self.config,
            "seconds": round(self.seconds, 3),
            "passed": self.passed,
            "checks": self.checks,
            "summaries": self.summaries,
            "records": self.records,
        }


# ---- configuration introspection (used by `hfx run --set` and `hfx list experiments`) ----------------------


def field_types(config_cls: type) -> dict[str, Any]:
    """The resolved type of each field of a Config dataclass."""
    return typing.get_type_hints(config_cls)


def type_name(tp: object) -> str:
    """A short JSON-friendly name: int, float, str, bool, list[int], list[float], list[str]."""
    if tp in (int, float, str, bool):
        return tp.__name__  # type: ignore[union-attr]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and args and args[-1] is Ellipsis:
        return f"list[{type_name(args[0])}]"
    raise TypeError(f"unsupported configuration type {tp!r}")


def describe(module: Any) -> dict[str, Any]:
    """The experiment with every parameter, its type, default, help and allowed values."""
    types = field_types(module.Config)
    params = []
    for f in dataclasses.fields(module.Config):
        default = f.default
        entry: dict[str, Any] = {
            "name": f.name,
            "type": type_name(types[f.name]),
            "default": list(default) if isinstance(default, tuple) else default,
            "help": f.metadata.get("help", ""),
        }
        if "choices" in f.metadata:
            entry["choices"] = list(f.metadata["choices"])
        params.append(entry)
    return {"name": module.NAME, "description": module.DESCRIPTION, "parameters": params}


def config_to_json(config: object) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}  # type: ignore[call-overload]


def check_choices(config: object) -> None:
    """ValueError unless every field with `choices` holds allowed values (elementwise for lists)."""
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        allowed = f.metadata.get("choices")
        if allowed is None:
            continue
        value = getattr(config, f.name)
        values = value if isinstance(value, tuple) else (value,)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValueError(f"{f.name}: {bad[0]!r} is not one of {', '.join(allowed)}")
        if isinstance(value, tuple) and not value:
            raise ValueError(f"{f.name} must not be empty")


def check_positive(config: object, names: tuple[str, ...], strict: bool = True) -> None:
    """ValueError unless the named fields (numbers or lists of numbers) are > 0 (or ≥ 0)."""
    for name in names:
        value = getattr(config, name)
        values = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and not value:
            raise ValueError(f"{name} must not be empty")
        for v in values:
            if (strict and not v > 0) or (not strict and not v >= 0):
                raise ValueError(f"{name} must be {'>' if strict else '≥'} 0, got {v}")


# ---- records and summaries -----------------------------------------------------------------------------------


def _opt_int(v: int) -> int | None:
    return None if v < 0 else int(v)


def _opt_float(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def run_records(result: TrainResult, base: dict[str, Any], per_run: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One record per run of a batch: `base` fields, the per-run fields, and the outcome."""
    R = len(result.status)
    out = []
    for r in range(R):
        rec = dict(base)
        rec.update({k: v[r] for k, v in per_run.items()})
        rec.update(
            {
                "status": str(result.status[r]),
                "steps_to_converge": _opt_int(int(result.steps_to_converge[r])),
                "diverged_step": _opt_int(int(result.diverged_step[r])),
                "wall_seconds": _opt_float(float(result.wall_seconds[r])),
                "batch_seconds": round(result.total_seconds, 6),
                "batch_runs": R,
                "final_loss": _opt_float(float(result.final_loss[r])),
                "final_metric": _opt_float(float(result.final_metric[r])),
            }
        )
        out.append(rec)
    return out


def group_summaries(
    records: list[dict[str, Any]], keys: tuple[str, ...], rng: np.random.Generator, n_boot: int = 1000
) -> list[dict[str, Any]]:
    """Censoring-aware summaries of steps (and wall seconds) to converge per group of records.

    Censored and diverged runs are censored at their budget (`max_steps`, and the batch's wall time).
    """
    groups: dict[tuple[object, ...], list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault(tuple(rec[k] for k in keys), []).append(rec)
    out = []
    for key, recs in groups.items():
        events = np.array([r["status"] == CONVERGED for r in recs])
        steps = np.array([r["steps_to_converge"] if e else r["max_steps"] for r, e in zip(recs, events, strict=True)])
        secs = np.array([r["wall_seconds"] if e else r["batch_seconds"] for r, e in zip(recs, events, strict=True)])
        s = summarize(steps.astype(float), events, rng, n_boot=n_boot)
        w = summarize(secs.astype(float), events, rng, n_boot=n_boot)
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row.update(
            {
                "n": s["n"],
                "n_converged": s["n_converged"],
                "n_diverged": int(sum(r["status"] == DIVERGED for r in recs)),
                "steps_q25": s["q25"],
                "steps_median": s["median"],
                "steps_q75": s["q75"],
                "steps_median_ci": s["median_ci"],
                "seconds_median": w["median"],
                "seconds_median_ci": w["median_ci"],
                "ci_level": s["ci_level"],
                "max_steps": max(int(r["max_steps"]) for r in recs),  # type: ignore[call-overload]
            }
        )
        out.append(row)
    return out


def _median_key(row: dict[str, Any]) -> tuple[float, float]:
    m = row["steps_median"]
    return (float("inf") if m is None else float(m), -float(row["n_converged"]))  # type: ignore[arg-type]


def mark_best_lr(summaries: list[dict[str, Any]], arch_keys: tuple[str, ...], lr_key: str = "lr") -> None:
    """Flag, per architecture, the learning rate with the smallest median steps (`best_lr`: True).

    Ties (or no median at all) go to the rate with more converged runs.  A comparison between
    architectures uses each one's best rate.
    """
    by_arch: dict[tuple[object, ...], list[dict[str, Any]]] = {}
    for row in summaries:
        by_arch.setdefault(tuple(row[k] for k in arch_keys), []).append(row)
    for rows in by_arch.values():
        best = min(rows, key=_median_key)
        lrs = sorted(float(r[lr_key]) for r in rows)  # type: ignore[arg-type]
        edge = len(lrs) > 1 and float(best[lr_key]) in (lrs[0], lrs[-1])  # type: ignore[arg-type]
        for row in rows:
            row["best_lr"] = row is best
            # the best rate sits at an end of the grid: a wider grid might find a faster one
            row["best_lr_at_grid_edge"] = bool(edge) if row is best else None
