"""Learning-rate grids widened until the best rate is interior (numerics.experiments.rate_search)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from numerics.experiments.rate_search import (
    RatePoint,
    RateSearch,
    best_rate,
    grid_limited,
    mark_best_lr,
    search_budget,
    wanted_direction,
    wanted_rate,
    widen,
)
from numerics.experiments.records import GroupSummary, Outcome, RunStatus, StepsSummary


def steps(median: float | None, n: int = 4, converged: int | None = None, diverged: int = 0,
          loss: float | None = 1.0) -> StepsSummary:
    c = n if converged is None else converged
    return StepsSummary(n=n, n_converged=c, n_diverged=diverged, steps_q25=median, steps_median=median,
                        steps_q75=median, steps_median_ci=(median, median), seconds_median=None,
                        seconds_median_ci=(None, None), ci_level=0.95, max_steps=100, final_loss_median=loss)


def points(*pairs: tuple[float, StepsSummary]) -> list[RatePoint]:
    return [RatePoint(lr, s) for lr, s in pairs]


def test_best_rate_at_the_top_edge_asks_for_a_larger_one() -> None:
    p = points((0.01, steps(90)), (0.03, steps(40)))
    assert wanted_direction(p) == 1 and wanted_rate(p, 3.0) == 0.09 and grid_limited(p)


def test_best_rate_at_the_bottom_edge_asks_for_a_smaller_one() -> None:
    p = points((0.01, steps(30)), (0.03, steps(50)), (0.1, steps(None, converged=0)))
    assert wanted_direction(p) == -1 and wanted_rate(p, 3.0) == pytest.approx(0.00333)


def test_interior_best_rate_is_settled() -> None:
    p = points((0.01, steps(90)), (0.03, steps(40)), (0.09, steps(60)))
    assert wanted_direction(p) == 0 and wanted_rate(p, 3.0) is None and not grid_limited(p)


def test_a_diverging_next_rate_settles_the_best_rate_below_it() -> None:
    p = points((0.01, steps(90)), (0.03, steps(40)), (0.09, steps(None, converged=0, diverged=4, loss=None)))
    assert best_rate(p).lr == 0.03 and not grid_limited(p)


def test_runs_decided_at_step_zero_need_no_wider_grid() -> None:
    p = points((0.003, steps(0.0)), (0.01, steps(0.0)), (0.03, steps(0.0)))
    assert not grid_limited(p)


def test_nothing_converging_is_ranked_by_final_loss() -> None:
    none = {"converged": 0}
    interior = points((0.01, steps(None, loss=0.5, **none)), (0.03, steps(None, loss=0.1, **none)),
                      (0.09, steps(None, loss=0.2, **none)))
    assert best_rate(interior).lr == 0.03 and not grid_limited(interior)
    top = points((0.01, steps(None, loss=0.5, **none)), (0.03, steps(None, loss=0.1, **none)))
    assert wanted_direction(top) == 1


def test_every_rate_diverging_asks_for_a_smaller_one() -> None:
    p = points((0.1, steps(None, converged=0, diverged=4, loss=None)), (0.3, steps(None, converged=0, diverged=4,
                                                                                     loss=None)))
    assert wanted_direction(p) == -1


def test_a_single_rate_is_grid_limited_unless_decided_at_step_zero() -> None:
    assert grid_limited(points((0.01, steps(50))))
    assert not grid_limited(points((0.01, steps(0.0))))


def test_ties_for_the_best_prefer_the_larger_rate_side() -> None:
    p = points((0.01, steps(40)), (0.03, steps(40)))
    assert wanted_direction(p) == 1


def test_search_budget_is_twice_the_best_median_plus_slack_within_the_budget() -> None:
    assert search_budget(points((0.01, steps(40))), 1000) == 90
    assert search_budget(points((0.01, steps(40))), 50) == 50
    assert search_budget(points((0.01, steps(None, converged=0))), 1000) == 1000


@dataclass(frozen=True)
class FakeRun:
    arch: str
    lr: float
    max_steps: int
    outcome: Outcome


def _outcome(k: int | None, diverged: bool = False) -> Outcome:
    status = RunStatus.DIVERGED if diverged else RunStatus.CONVERGED if k is not None else RunStatus.CENSORED
    return Outcome(status=status, steps_to_converge=k, diverged_step=3 if diverged else None, wall_seconds=None,
                   batch_seconds=0.1, batch_runs=1, final_loss=None if diverged else 0.5, final_metric=None)


def _valley(optimum: float) -> Callable[[tuple[float, ...], int], list[FakeRun]]:
    """A fake experiment: steps to converge grow as |log(η/optimum)|; beyond 10·optimum it diverges."""

    def train(rates: tuple[float, ...], max_steps: int) -> list[FakeRun]:
        out = []
        for lr in rates:
            for arch in ("a", "b"):
                o = optimum if arch == "a" else optimum / 10
                k = 20 + int(30 * abs(math.log(lr / o)))
                diverged = lr > 10 * o
                out += [FakeRun(arch, lr, max_steps, _outcome(None if diverged or k > max_steps else k, diverged))
                        for _ in range(3)]
        return out

    return train


@pytest.mark.parametrize("optimum", [0.1, 0.5, 0.002])
def test_widening_finds_an_interior_optimum_outside_the_initial_grid(optimum: float) -> None:
    records, grids = widen(_valley(optimum), (0.01, 0.03), 1000, lambda r: r.arch, lambda r: r.lr,
                           RateSearch(lr_widen_factor=3.0, lr_max_widenings=10))
    for g in grids:
        o = optimum if g.architecture == "a" else optimum / 10
        assert not g.grid_limited and g.initial_lrs == (0.01, 0.03)
        assert o / 3 <= g.best_lr <= 3 * o, (g, o)  # within one factor of the true optimum
        assert g.best_lr not in (g.final_lrs[0], g.final_lrs[-1])
    assert {r.max_steps for r in records} - {1000}, "widened rates run on a shorter budget"


def test_widening_stops_at_its_cap_and_says_grid_limited() -> None:
    _, grids = widen(_valley(10.0), (0.01, 0.03), 1000, lambda r: r.arch, lambda r: r.lr,
                     RateSearch(lr_widen_factor=3.0, lr_max_widenings=2))
    a = next(g for g in grids if g.architecture == "a")
    assert a.grid_limited and a.widenings == 2 and a.best_lr == a.final_lrs[-1] == 0.27


def test_no_widening_keeps_the_grid_and_flags_its_edge() -> None:
    records, grids = widen(_valley(10.0), (0.01, 0.03), 1000, lambda r: r.arch, lambda r: r.lr,
                           RateSearch(lr_max_widenings=0))
    assert {r.lr for r in records} == {0.01, 0.03} and all(g.grid_limited and g.widenings == 0 for g in grids)


def test_mark_best_lr_flags_grid_limited_only_on_the_best_row() -> None:
    rows = [GroupSummary(("a", 0.01), steps(90)), GroupSummary(("a", 0.03), steps(40)),
            GroupSummary(("b", 0.01), steps(30)), GroupSummary(("b", 0.03), steps(50)),
            GroupSummary(("b", 0.1), steps(None, converged=0, diverged=4, loss=None)),
            GroupSummary(("c", 0.01), steps(60)), GroupSummary(("c", 0.03), steps(20)),
            GroupSummary(("c", 0.09), steps(70))]
    ranked = {r.group: r for r in mark_best_lr(rows, lambda g: g[0], lambda g: g[1])}
    assert ranked[("a", 0.03)].best_lr and ranked[("a", 0.03)].grid_limited
    assert ranked[("b", 0.01)].best_lr and ranked[("b", 0.01)].grid_limited
    assert ranked[("c", 0.03)].best_lr and ranked[("c", 0.03)].grid_limited is False
    assert all(r.grid_limited is None for r in ranked.values() if not r.best_lr)
    assert sum(r.best_lr for r in ranked.values()) == 3
