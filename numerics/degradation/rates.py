"""The learning-rate grid of one architecture: best of grid, and widening until the best rate is interior.

Every architecture (model, plain/residual, depth, normalisation, shortcut) is trained at every rate of its grid
with the same seeds. A rate's *score* is the pair (mean over seeds of the final training error, median of the
final training loss), a diverged run counting as error 1 and loss +∞ (the mean, which is what the study reports,
penalises a rate at which one seed diverges); the *best* rate has the smallest score (ties: the smaller rate). The
best rate is *interior* when the grid holds a smaller and a larger rate (a larger rate at which every seed
diverged counts: it is the end of the stable range). Otherwise the grid is widened on the side of the best rate by
the factor f (`widen_factor`), on the lattice of its powers: with best ≈ f^k, the next rate is f^(k−1) or f^(k+1)
(to three significant digits; for f = √10 the half-decades …, 0.00316, 0.01, 0.0316, 0.1, …, whatever rounding the
initial grid carries), one rate per side and round, until the best rate is interior, `max_widenings` rates were
added on that side, or the next rate would leave [`min_rate`, `max_rate`]. A best rate still at an edge then is
*grid-limited*: evidence that rests on it never establishes a verdict (`hfx.evidence.degradation`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

WIDEN_FACTOR = math.sqrt(10.0)  # half a decade per widening


@dataclass(frozen=True)
class RatePolicy:
    widen_factor: float = WIDEN_FACTOR  # f
    max_widenings: int = 3  # rates added per side at most
    min_rate: float = 1e-5
    max_rate: float = 10.0

    def __post_init__(self) -> None:
        if self.widen_factor <= 1 or self.max_widenings < 0 or not 0 < self.min_rate < self.max_rate:
            raise ValueError(f"impossible rate policy {self}")


@dataclass(frozen=True)
class RateScore:
    """How one rate did over the seeds."""

    lr: float
    mean_train_error: float  # diverged runs count as 1
    median_train_loss: float  # diverged runs count as +inf
    all_diverged: bool

    @property
    def key(self) -> tuple[float, float, float]:
        return (self.mean_train_error, self.median_train_loss, self.lr)


def score(lr: float, errors: Sequence[float | None], losses: Sequence[float | None]) -> RateScore:
    """The score of one rate from its seeds' final training errors and losses (None: diverged)."""
    if not errors:
        raise ValueError("a rate needs at least one run")
    e = [1.0 if v is None else v for v in errors]
    loss = [math.inf if v is None or not math.isfinite(v) else v for v in losses]
    return RateScore(lr, statistics.fmean(e), statistics.median(loss), all(v is None for v in errors))


@dataclass(frozen=True)
class GridDecision:
    """What the grid of one architecture says after a round."""

    best: float  # the best rate so far
    rates: tuple[float, ...]  # every rate tried, ascending
    edge: str | None  # "low" or "high" if the best rate is at that edge of the grid, else None (interior)
    next_rates: tuple[float, ...]  # rates to try next (empty: done)
    widened_low: int  # rates added below the first grid
    widened_high: int  # rates added above it

    @property
    def grid_limited(self) -> bool:
        """Done, and the best rate still at an edge."""
        return self.edge is not None and not self.next_rates


def decide(scores: Sequence[RateScore], initial: Sequence[float], policy: RatePolicy) -> GridDecision:
    """Best rate, where it sits, and what to try next (module docstring)."""
    by_rate = sorted(scores, key=lambda s: s.lr)
    rates = tuple(s.lr for s in by_rate)
    best = min(by_rate, key=lambda s: s.key)
    i = rates.index(best.lr)
    low, high = min(initial), max(initial)
    widened_low = sum(r < low for r in rates)
    widened_high = sum(r > high for r in rates)
    edge = None
    if i == 0:
        edge = "low"
    if i == len(rates) - 1:
        edge = "high" if edge is None else "both"
    nxt: list[float] = []
    if edge in ("low", "both") and widened_low < policy.max_widenings:
        r = _lattice(best.lr, -1, policy.widen_factor)
        if r >= policy.min_rate * (1 - 1e-9):
            nxt.append(r)
    if edge in ("high", "both") and widened_high < policy.max_widenings:
        r = _lattice(best.lr, 1, policy.widen_factor)
        if r <= policy.max_rate * (1 + 1e-9):
            nxt.append(r)
    if edge == "both":
        edge = "low"  # a single rate: reported as at the low edge until a neighbour is tried
    return GridDecision(best.lr, rates, edge, tuple(nxt), widened_low, widened_high)


def _lattice(rate: float, step: int, factor: float) -> float:
    """f^(k + step) for the k with f^k nearest to `rate` (log scale), to three significant digits."""
    k = round(math.log(rate) / math.log(factor))
    return float(f"{factor ** (k + step):.3g}")
