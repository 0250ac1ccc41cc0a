"""Summaries over seeds of the degradation study: intervals, the best rate per architecture, and its grid.

Intervals over seeds: for n seeds of a quantity v (an error rate), the mean v̄ and the 95% Student-t interval
v̄ ± t_{0.975, n−1}·s/√n (s the sample standard deviation), clipped to [0, 1] (error rates); with one seed
the interval is the value itself (n = 1: no spread can be estimated, and n is stated).  The minimum and maximum
over seeds are kept beside it.  A diverged run counts as error 1 (it classifies nothing it was trained for).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CI_LEVEL = 0.95


@dataclass(frozen=True)
class SeedInterval:
    """Mean over seeds with its Student-t interval, clipped to [0, 1], and the range."""

    n: int
    mean: float
    low: float
    high: float
    min: float
    max: float


def seed_interval(values: Sequence[float], level: float = CI_LEVEL) -> SeedInterval:
    """The interval of the module docstring (ValueError for no values)."""
    if not values:
        raise ValueError("an interval needs at least one value")
    n = len(values)
    mean = statistics.fmean(values)
    if n == 1:
        return SeedInterval(1, mean, mean, mean, mean, mean)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * statistics.stdev(values) / math.sqrt(n)
    return SeedInterval(n, mean, max(0.0, mean - half), min(1.0, mean + half), min(values), max(values))


def loss_median(values: Sequence[float | None]) -> float | None:
    """Median over every seed of a final loss, a diverged run's (None or not finite) counting as +∞, as in the
    rate search (`rates.RateScore.median_train_loss`); None when that median is +∞.  Dropping the diverged runs
    would bias the median low: of losses 0.1, 0.2 and a diverged run the median is 0.2, not 0.15."""
    if not values:
        return None
    m = statistics.median(math.inf if v is None or not math.isfinite(v) else v for v in values)
    return m if math.isfinite(m) else None


def median_or_none(values: Sequence[float | None]) -> float | None:
    """Median of the values that are not None (None if there are none)."""
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(kept) if kept else None
