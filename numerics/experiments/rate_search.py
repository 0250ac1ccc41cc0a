"""Learning-rate grids widened until the best rate is interior: the rule, and a driver for any experiment.

A comparison "at each architecture's best learning rate" is only as good as its grid: when the best rate is the
largest (or smallest) rate tried, a faster one may lie beyond it, and the comparison says more about the grid
than about the architecture.  The rule, per architecture (its runs grouped by rate):

1. The best rate is the one of smallest Kaplan–Meier median steps to converge; ties, or no median at all, go to
   more converged runs, then to the smaller median final loss (`mark_best_lr` flags it in the summaries).
2. If at every rate most runs diverged (no finite median final loss), the grid wants the smallest rate / factor.
3. If the best median is 0 steps (decided at initialisation), no rate can do better: stop.  If the largest rate
   of the grid is (tied for) the best, the grid wants largest × factor; else if the smallest is, smallest /
   factor.  Otherwise the best rate is interior: stop.  A rate beyond the largest that diverges is worse than
   the best, so "the next rate diverges" ends the search here too.

`widen` trains the wanted rates (one batch per widening, from the same starting points) until no architecture
wants one, or `RateSearch.lr_max_widenings` batches were added, or a wanted rate leaves [MIN_RATE, MAX_RATE].
A widened rate only has to show whether it beats the current best, so its runs stop at
`SEARCH_BUDGET_FACTOR` × the best median steps (+ `SEARCH_BUDGET_SLACK`) when that is below the budget: a run
still unconverged there is slower than the best, and its record says so (censored at its own `max_steps`).
What still wants a rate then is **grid-limited** (`grid_limited`); the audit never establishes a verdict on a
grid-limited comparison (hfx.audit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from numerics.experiments.blocks import MAX_RATE
from numerics.experiments.params import ConfigBase, Interval, at_least, param
from numerics.experiments.records import GroupSummary, HasOutcome, RankedSummary, StepsSummary, group_summaries

R = TypeVar("R", bound=HasOutcome)
K = TypeVar("K", bound=Hashable)

SEARCH_BUDGET_FACTOR = 2  # a widened rate runs to 2 × the best median steps: enough to show it is slower
SEARCH_BUDGET_SLACK = 10  # … plus 10 steps, so that a best median of 0–5 steps still leaves room
MIN_RATE = 1e-9  # below this a rate makes no progress in any budget hfx allows (MAX_STEPS = 10⁶)
MAX_WIDENINGS = 20  # factor² … factor²⁰: far beyond any useful grid
SIGNIFICANT = 3  # widened rates are rounded to 3 significant digits (0.03 × 3 = 0.09, not 0.09000000000000001)


@dataclass(frozen=True)
class RateSearch(ConfigBase):
    """How a learning-rate grid is widened until each architecture's best rate is interior (rate_search)."""

    lr_widen_factor: float = param(3.0, "a grid whose best rate is at an edge gets edge×factor (or edge/factor)",
                                   interval=Interval(1.0, 100.0, low_open=True))
    lr_max_widenings: int = param(6, "at most this many widening batches (0: the grid as given; what stays at an "
                                  "edge is grid-limited)", interval=at_least(0, MAX_WIDENINGS))


@dataclass(frozen=True)
class RatePoint:
    """One rate of an architecture's grid, with the summary of its runs."""

    lr: float
    steps: StepsSummary


def _key(p: RatePoint) -> tuple[float, float, float]:
    m, loss = p.steps.steps_median, p.steps.final_loss_median
    return (np.inf if m is None else m, -float(p.steps.n_converged), np.inf if loss is None else loss)


def best_rate(points: Sequence[RatePoint]) -> RatePoint:
    """The rate of smallest median steps (ties, or no median: more converged runs, then the smaller median final
    loss; then the smaller rate)."""
    return min(sorted(points, key=lambda p: p.lr), key=_key)


def wanted_direction(points: Sequence[RatePoint]) -> int:
    """+1 (a larger rate), −1 (a smaller one) or 0 (the best rate is settled), by the rule of the module
    docstring; with ties for the best, the largest (then the smallest) tied rate decides."""
    if not points:
        return 0
    ordered = sorted(points, key=lambda p: p.lr)
    low, high = ordered[0], ordered[-1]
    best = _key(best_rate(ordered))
    if best[2] == np.inf:  # no median steps, and most runs diverged at every rate: only a smaller rate can help
        return -1
    if best[0] == 0:  # decided at step 0 (e.g. a zero branch fitting the identity): no rate can do better
        return 0
    if _key(high) == best:
        return 1
    if _key(low) == best:
        return -1
    return 0


def wanted_rate(points: Sequence[RatePoint], factor: float) -> float | None:
    """The rate the rule asks for next (the edge × or ÷ factor), or None when the best rate is settled."""
    direction = wanted_direction(points)
    if direction == 0:
        return None
    rates = [p.lr for p in points]
    return _round(max(rates) * factor) if direction > 0 else _round(min(rates) / factor)


def grid_limited(points: Sequence[RatePoint]) -> bool:
    """Whether the rule still wants a rate: the best rate may lie beyond the grid."""
    return wanted_direction(points) != 0


def _round(rate: float) -> float:
    return float(f"{rate:.{SIGNIFICANT}g}")


def mark_best_lr(
    summaries: Sequence[GroupSummary[K]], architecture: Callable[[K], Hashable], lr: Callable[[K], float]
) -> list[RankedSummary[K]]:
    """The summaries with, per architecture, its best learning rate flagged (`best_lr`, `best_rate`).

    On the best row `best_lr_at_grid_edge` says whether it is the smallest or largest rate of the grid, and
    `grid_limited` whether the rule of the module docstring still wants a rate beyond the grid (a faster one may
    lie there); both are None on the other rows.
    """
    by_arch: dict[Hashable, list[GroupSummary[K]]] = {}
    for row in summaries:
        by_arch.setdefault(architecture(row.group), []).append(row)
    flags: dict[int, tuple[bool, bool]] = {}  # id of each best row → (at the grid's edge, grid-limited)
    for rows in by_arch.values():
        points = [RatePoint(lr(r.group), r.steps) for r in rows]
        best = best_rate(points)
        best_row = next(r for r in rows if lr(r.group) == best.lr)
        rates = sorted(p.lr for p in points)
        flags[id(best_row)] = (len(rates) > 1 and best.lr in (rates[0], rates[-1]), grid_limited(points))
    out = []
    for row in summaries:
        edge, limited = flags.get(id(row), (None, None))
        out.append(RankedSummary(row.group, row.steps, id(row) in flags, edge, limited))
    return out


def rate_points(records: Sequence[R], lr: Callable[[R], float]) -> list[RatePoint]:
    """One `RatePoint` per rate of an architecture's runs (Kaplan–Meier medians; no bootstrap needed)."""
    rows = group_summaries(records, lr, np.random.default_rng(0), n_boot=1)
    return [RatePoint(float(row.group), row.steps) for row in rows]


@dataclass(frozen=True)
class SearchedGrid:
    """What the search did for one architecture: the grid it started from and the grid it ended with."""

    architecture: str  # e.g. "tanh residual xavier" or "plain L=8"
    initial_lrs: tuple[float, ...]
    final_lrs: tuple[float, ...]  # sorted
    best_lr: float
    best_median: float | None  # Kaplan–Meier median steps at the best rate (None: beyond the budget)
    widenings: int  # rates added for this architecture
    grid_limited: bool  # the rule still wanted a rate when the search stopped


def search_budget(points: Sequence[RatePoint], max_steps: int) -> int:
    """Steps a widened rate needs to show whether it beats the best one (the module docstring): the budget, or
    less when the best median is well within it."""
    median = best_rate(points).steps.steps_median
    if median is None:
        return max_steps
    return min(max_steps, SEARCH_BUDGET_FACTOR * math.ceil(median) + SEARCH_BUDGET_SLACK)


def widen(
    train_rates: Callable[[tuple[float, ...], int], list[R]],
    initial: tuple[float, ...],
    max_steps: int,
    architecture: Callable[[R], Hashable],
    lr: Callable[[R], float],
    search: RateSearch,
    label: Callable[[Hashable], str] = str,
) -> tuple[list[R], tuple[SearchedGrid, ...]]:
    """Train `initial`, then every wanted rate, batch by batch (see the module docstring).

    `train_rates(rates, steps)` trains every architecture of the batch at those rates for at most `steps` steps
    (from the same starting points as before) and returns their records.  Returns all records and one
    `SearchedGrid` per architecture.
    """
    records = list(train_rates(tuple(initial), max_steps))
    for _ in range(search.lr_max_widenings):
        wanted: set[float] = set()
        steps = 0
        for recs in _by_architecture(records, architecture).values():
            points = rate_points(recs, lr)
            rate = wanted_rate(points, search.lr_widen_factor)
            if rate is not None and MIN_RATE <= rate <= MAX_RATE and rate not in {p.lr for p in points}:
                wanted.add(rate)
                steps = max(steps, search_budget(points, max_steps))
        if not wanted:
            break
        records += train_rates(tuple(sorted(wanted)), steps)
    searched = []
    for arch, recs in _by_architecture(records, architecture).items():
        points = rate_points(recs, lr)
        best = best_rate(points)
        final = tuple(sorted(p.lr for p in points))
        searched.append(SearchedGrid(
            architecture=label(arch), initial_lrs=tuple(sorted(initial)), final_lrs=final, best_lr=best.lr,
            best_median=best.steps.steps_median, widenings=len(set(final) - set(initial)),
            grid_limited=grid_limited(points),
        ))
    return records, tuple(searched)


def _by_architecture(records: Sequence[R], architecture: Callable[[R], Hashable]) -> dict[Hashable, list[R]]:
    out: dict[Hashable, list[R]] = {}
    for r in records:
        out.setdefault(architecture(r), []).append(r)
    return out


def searched_grids(records: Sequence[R], initial: Sequence[float], architecture: Callable[[R], str],
                   lr: Callable[[R], float]) -> tuple[SearchedGrid, ...]:
    """What the widening did per architecture, read from the merged records of every chunk: the grid it started
    from, the grid it ended with, the best rate, and whether the rule still wants a rate beyond the grid
    (grid-limited: decided on all the architecture's runs, not on one chunk's)."""
    out = []
    for arch, recs in _by_architecture(records, architecture).items():
        points = rate_points(recs, lr)
        best = best_rate(points)
        final = tuple(sorted(p.lr for p in points))
        out.append(SearchedGrid(architecture=str(arch), initial_lrs=tuple(sorted(initial)), final_lrs=final,
                                best_lr=best.lr, best_median=best.steps.steps_median,
                                widenings=len(set(final) - set(initial)), grid_limited=grid_limited(points)))
    return tuple(out)
