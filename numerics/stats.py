"""Summaries of censored time-to-converge data.

A run that has not converged within its budget is *censored*: its time is only
known to exceed the budget.  Averaging the runs that happened to converge would
bias the time downwards, so quantiles come from the Kaplan–Meier estimate of the
distribution of the time to converge (Kaplan & Meier, *Nonparametric Estimation
from Incomplete Observations*, JASA 1958, Eq. (2)):

    Ŝ(t) = ∏_{t_j ≤ t} (1 − d_j / n_j),    F̂(t) = 1 − Ŝ(t),

d_j events (convergences) at time t_j and n_j runs still at risk.  The q-quantile
is the smallest observed event time with F̂(t) ≥ q; it is *undefined* (reported as
None, meaning "beyond the budget") when F̂ never reaches q.  A diverged run will
never converge; it is treated as censored at its budget (its time exceeds every
budget), which is conservative for the quantiles.

Intervals are percentile bootstrap intervals over runs (seeds), resampled with
replacement (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, §13.3);
an undefined bootstrap quantile counts as +∞, so an upper bound can be None
(unbounded) when too few resamples converge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

QUANTILES = (0.25, 0.5, 0.75)
_TOL = 1e-12  # F̂ is a product of rationals computed in float64; q = ½ must be reached when exactly half converge


def km_quantiles(times: np.ndarray, events: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Kaplan–Meier quantiles, vectorised over leading axes.

    times, events: (..., n) (events True = converged at that time, False = censored at it).
    Returns (..., len(qs)) with NaN where the quantile is undefined.
    """
    times = np.asarray(times, dtype=np.float64)
    events = np.asarray(events, dtype=bool)
    n = times.shape[-1]
    if n == 0:
        return np.full((*times.shape[:-1], len(qs)), np.nan)
    # sort by time; at tied times events come before censorings (the usual KM convention)
    order = np.lexsort((~events, times), axis=-1)
    t = np.take_along_axis(times, order, -1)
    e = np.take_along_axis(events, order, -1)
    at_risk = n - np.arange(n)  # n_j for each sorted position; tied events multiply to (n − d)/n
    S = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0), axis=-1)
    F = 1.0 - S
    out = np.full((*times.shape[:-1], len(qs)), np.nan)
    for i, q in enumerate(qs):
        hit = e & (q - _TOL <= F)
        first = np.argmax(hit, axis=-1)
        ok = hit.any(axis=-1)
        out[..., i] = np.where(ok, np.take_along_axis(t, first[..., None], -1)[..., 0], np.nan)
    return out


def km_survival(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier step function: distinct event times and Ŝ just after each."""
    times = np.asarray(times, dtype=np.float64)
    events = np.asarray(events, dtype=bool)
    grid = np.unique(times[events])
    S, surv = 1.0, []
    for tj in grid:
        n_j = np.sum(times >= tj)
        d_j = np.sum((times == tj) & events)
        S *= 1.0 - d_j / n_j
        surv.append(S)
    return grid, np.asarray(surv)


def _none(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def summarize(
    times: Sequence[float] | np.ndarray,
    events: Sequence[bool] | np.ndarray,
    rng: np.random.Generator,
    qs: Sequence[float] = QUANTILES,
    n_boot: int = 1000,
    level: float = 0.95,
) -> dict[str, object]:
    """Censoring-aware summary: KM quantiles and bootstrap intervals for each of them.

    Returns {"n", "n_converged", "fraction_converged", "q25"/"median"/"q75" (None = beyond the
    budget), "<name>_ci": [lo, hi] (None = unbounded), "ci_level", "n_boot"}.
    """
    t = np.asarray(times, dtype=np.float64)
    e = np.asarray(events, dtype=bool)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError("times and events must be 1-D and of equal length")
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError("level must be in (0, 1) and n_boot ≥ 1")
    n = len(t)
    point = km_quantiles(t, e, qs)
    out: dict[str, object] = {"n": n, "n_converged": int(e.sum()), "fraction_converged": float(e.mean()) if n else 0.0}
    names = [{0.25: "q25", 0.5: "median", 0.75: "q75"}.get(q, f"q{round(100 * q)}") for q in qs]
    if n:
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = np.nan_to_num(km_quantiles(t[idx], e[idx], qs), nan=np.inf)  # (n_boot, len(qs)); undefined = +∞
        alpha = (1 - level) / 2
        lo = np.quantile(boot, alpha, axis=0, method="lower")
        hi = np.quantile(boot, 1 - alpha, axis=0, method="higher")
    for i, name in enumerate(names):
        out[name] = _none(point[i]) if n else None
        out[f"{name}_ci"] = [_none(lo[i]), _none(hi[i])] if n else [None, None]
    out["ci_level"] = level
    out["n_boot"] = n_boot
    return out
