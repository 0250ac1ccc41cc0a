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
(unbounded) when too few resamples converge.  One run gives no interval at all: every resample is that run, so
the percentile interval would have zero width whatever the spread of the time; it is reported as (None, None)
("no interval"), never as [t, t].

Every median of times to converge that hfx reports is this Kaplan–Meier median, with runs that never converged
censored at their budget (`km_median`): a median over the converged runs alone is biased low (it drops exactly
the slow runs), and a median of per-group medians is not the median of the pooled runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def km_median(times: Sequence[float | None], budgets: Sequence[float]) -> float | None:
    """Kaplan–Meier median of times to converge, `times[i]` None for a run that did not converge within
    `budgets[i]` (censored there; a diverged run too).  None: beyond the budget (fewer than half converged, by
    Ŝ); None for no runs."""
    if len(times) != len(budgets):
        raise ValueError("need one budget per time")
    if not times:
        return None
    t = np.array([b if v is None else v for v, b in zip(times, budgets, strict=True)], dtype=np.float64)
    e = np.array([v is not None for v in times])
    return _none(float(km_quantiles(t, e, (0.5,))[0]))


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


@dataclass(frozen=True)
class Quantile:
    """One Kaplan–Meier quantile and its bootstrap interval."""

    q: float  # the level, e.g. 0.5
    value: float | None  # None: beyond the budget (F̂ never reaches q)
    ci: tuple[float | None, float | None]  # percentile bootstrap interval; None: unbounded (or no runs)


@dataclass(frozen=True)
class CensoredSummary:
    """Censoring-aware summary of times to converge (Kaplan–Meier quantiles with bootstrap intervals)."""

    n: int  # runs
    n_converged: int  # runs with an event (converged)
    fraction_converged: float
    quantiles: tuple[Quantile, ...]  # one per requested level, in order
    ci_level: float  # e.g. 0.95
    n_boot: int  # bootstrap resamples

    def quantile(self, q: float) -> Quantile:
        """The quantile at level q (KeyError if it was not computed)."""
        for item in self.quantiles:
            if item.q == q:
                return item
        raise KeyError(q)

    @property
    def median(self) -> float | None:
        return self.quantile(0.5).value

    @property
    def median_ci(self) -> tuple[float | None, float | None]:
        return self.quantile(0.5).ci

    @property
    def q25(self) -> float | None:
        return self.quantile(0.25).value

    @property
    def q75(self) -> float | None:
        return self.quantile(0.75).value


def summarize(
    times: Sequence[float] | np.ndarray,
    events: Sequence[bool] | np.ndarray,
    rng: np.random.Generator,
    qs: Sequence[float] = QUANTILES,
    n_boot: int = 1000,
    level: float = 0.95,
) -> CensoredSummary:
    """Censoring-aware summary: KM quantiles and percentile bootstrap intervals for each of them.

    A quantile is None when F̂ never reaches it ("beyond the budget"); an interval bound is None when it is
    unbounded (an undefined bootstrap quantile counts as +∞), and both are None with fewer than two runs (no
    interval).  With one run `rng` is not drawn from.
    """
    t = np.asarray(times, dtype=np.float64)
    e = np.asarray(events, dtype=bool)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError("times and events must be 1-D and of equal length")
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError("level must be in (0, 1) and n_boot ≥ 1")
    n = len(t)
    if not n:
        empty = tuple(Quantile(float(q), None, (None, None)) for q in qs)
        return CensoredSummary(0, 0, 0.0, empty, level, n_boot)
    point = km_quantiles(t, e, qs)
    if n == 1:  # every resample is the one run: a zero-width "interval" says nothing (module docstring)
        quantiles = tuple(Quantile(float(q), _none(point[i]), (None, None)) for i, q in enumerate(qs))
        return CensoredSummary(1, int(e.sum()), float(e.mean()), quantiles, level, n_boot)
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = np.nan_to_num(km_quantiles(t[idx], e[idx], qs), nan=np.inf)  # (n_boot, len(qs)); undefined = +∞
    alpha = (1 - level) / 2
    lo = np.quantile(boot, alpha, axis=0, method="lower")
    hi = np.quantile(boot, 1 - alpha, axis=0, method="higher")
    quantiles = tuple(Quantile(float(q), _none(point[i]), (_none(lo[i]), _none(hi[i]))) for i, q in enumerate(qs))
    return CensoredSummary(n, int(e.sum()), float(e.mean()), quantiles, level, n_boot)
