"""Round 2 of hfx's numbers against reference values computed here, independently of hfx's code: Kaplan–Meier
medians and percentile bootstrap intervals written out by hand, and tiny float64 loops for what the optimiser does.

Each test states the convention it converts and fails on the defect it guards.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from numerics import stats
from numerics.experiments import branch_norms, branch_rate, get, run
from numerics.experiments.params import replace_flat


def _km_median_by_hand(times: list[int | None], budget: int) -> float | None:
    """Ŝ(t) = ∏_{t_j ≤ t}(1 − d_j/n_j) over the distinct event times (Kaplan & Meier 1958, Eq. (2)); runs that never
    converged (None) are censored at the budget and stay at risk up to it; the median is the least event time with
    Ŝ ≤ ½, None if there is none."""
    t = [budget if v is None else v for v in times]
    S = 1.0
    for tj in sorted({v for v in times if v is not None}):
        n_j = sum(1 for v in t if v >= tj)
        d_j = sum(1 for v in times if v == tj)
        S *= 1 - d_j / n_j
        if S <= 0.5 + 1e-12:
            return float(tj)
    return None


# --- medians of times to converge: censoring-aware and pooled, never over the fitted runs or over group medians ---

@pytest.mark.parametrize(("times", "budget"), [
    ([10, None, None, 40, None], 100),  # most runs never fit: the median is beyond the budget, not 25
    ([10, 20, None, None], 100),  # exactly half fit: Ŝ reaches ½ at 20
    ([5, None, 7, 9, None, 11, None], 50),
    ([3, 3, None, 8], 10),  # ties
    ([], 10),
    ([None], 10),
    ([4], 10),
])
def test_km_median_censors_unconverged_runs_at_their_budget(times: list[int | None], budget: int) -> None:
    assert stats.km_median(times, [budget] * len(times)) == _km_median_by_hand(times, budget)


def _norm_records(steps: list[int | None], activation: str, lam: float,
                  budget: int) -> list[branch_norms.BranchNormRun]:
    return [branch_norms.BranchNormRun(
        activation=activation, weight_decay=lam, lr=0.5, seed=i, eps=1e-4, max_steps=budget, steps_to_eps=k,
        final_loss=None, w1_initial=1.0, w2_initial=1.0, w1_final=0.5, w2_final=0.5, w1_ratio=0.5, w2_ratio=0.5,
        diverged_step=None, decay_factor=None, predicted_decay_factor=None, run=i) for i, k in enumerate(steps)]


def test_branch_norms_median_steps_counts_the_runs_that_never_fit() -> None:
    # 1 of 4 runs fits within K = 1000: the median time to fit lies beyond the budget.  A median over the fitted
    # runs alone said 120 steps (the one fast run).
    recs = _norm_records([120, None, None, None], "tanh", 0.0, 1000)
    (summary,) = branch_norms._summaries(recs)
    assert summary.n_fitted == 1
    assert summary.steps_to_eps_median is _km_median_by_hand([120, None, None, None], 1000) is None


def test_branch_norms_pooled_median_is_the_median_of_all_runs_not_of_group_medians() -> None:
    # the C8 sentence "n of n relu, tanh blocks below ε, median k steps" speaks of the pooled runs.  These are
    # the steps of the stored verify run (tanh 487, 340, 693, 816; relu 208, 98, 340, 151): the eight runs'
    # median is 340 (4th and 5th order statistics are both 340, KM gives the same), whereas the median of the two
    # groups' medians (590 and 179.5) is 384.75, which hfx printed as "median 385 steps".
    tanh, relu = [487, 340, 693, 816], [208, 98, 340, 151]
    recs = _norm_records(tanh, "tanh", 0.0, 1000) + _norm_records(relu, "relu", 0.0, 1000)
    pooled = tanh + relu
    assert statistics.median(pooled) == 340
    assert branch_norms.steps_median(recs) == _km_median_by_hand(list(pooled), 1000) == 340
    from hfx.evidence.dynamics import branch_norms as evidence
    from numerics.experiments.contract import ExperimentResult

    result = ExperimentResult(name="branch-norms", config=branch_norms.Config(), records=tuple(recs),
                              summaries=branch_norms._summaries(recs), checks=())
    why = evidence(result)["C8"][0].why
    assert "8 of 8" in why and "median 340 steps" in why, why


def test_branch_rate_median_steps_counts_the_runs_that_never_reach_eps() -> None:
    # N = 2 balanced branch u = w², loss (d/2)u², per layer w ← w − η u w (½·mean over whitened samples): from
    # u₀ = 0.2 at η = 0.2 the first k with (d/2)u_k² < ε is found by this loop and the run must take exactly k
    # steps.  Of three runs, if only that one reached ε within the budget, the median is beyond the budget (None):
    # a median over the runs that reached ε said k.
    import dataclasses

    d, u0, eta, eps = 4, 0.2, 0.2, 1e-4
    w, k = math.sqrt(u0), 0
    while (d / 2) * (w * w) ** 2 >= eps:
        w -= eta * (w * w) * w
        k += 1
    config = replace_flat(branch_rate.Config(), {"depths": (2,), "inits": ("balanced",), "seeds": 3, "width": d,
                                                 "u0": u0, "lr": eta, "eps": eps, "max_steps": k + 5})
    result = run(get("branch-rate"), config)
    assert [r.steps_to_eps for r in result.records] == [k, k, k]
    assert result.summaries[0].steps_to_eps_median == k
    mixed = [result.records[0]] + [dataclasses.replace(r, steps_to_eps=None) for r in result.records[1:]]
    assert _km_median_by_hand([r.steps_to_eps for r in mixed], k + 5) is None
    assert branch_rate._summaries(mixed)[0].steps_to_eps_median is None


# --- bootstrap intervals: one run gives none; two runs give the percentile interval of the 2ⁿ resamples ----------

def test_one_run_has_no_bootstrap_interval() -> None:
    # every resample of one run is that run: the percentile "interval" [t, t] has zero width whatever the spread of
    # the time, so it cannot be a 95% interval.  Reported as no interval (None, None), the point estimate kept.
    for t, e in [(42.0, True), (100.0, False)]:
        s = stats.summarize([t], [e], np.random.default_rng(0), n_boot=200)
        assert s.median == (t if e else None)
        assert s.median_ci == (None, None)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_run_bootstrap_is_the_percentile_interval_of_the_resamples(seed: int) -> None:
    # with the same resample indices (rng.integers(0, n, (B, n)), as the module draws them) the KM median of each
    # resample is computed by hand; the interval is the (B − 1)·α-th order statistic rounded down and the
    # (B − 1)(1 − α)-th rounded up (NumPy's "lower"/"higher"), an undefined median counting as +∞
    times, events, B = [10.0, 30.0], [True, True], 400
    idx = np.random.default_rng(seed).integers(0, 2, size=(B, 2))
    meds = sorted(_km_median_by_hand([int(times[i]) if events[i] else None for i in row], 10**6) or math.inf
                  for row in idx)
    lo, hi = meds[math.floor(0.025 * (B - 1))], meds[math.ceil(0.975 * (B - 1))]
    s = stats.summarize(times, events, np.random.default_rng(seed), n_boot=B)
    assert s.median_ci == (lo, hi) == (10.0, 30.0)


# --- degradation: the median final training loss over seeds counts a diverged seed ------------------------------

@pytest.mark.parametrize(("losses", "expected"), [
    ([0.1, 0.2, None], 0.2),  # sorted 0.1, 0.2, +∞: the middle one; dropping the diverged seed gave 0.15
    ([0.3, None, None], None),  # two of three diverged: the median loss is +∞ (None), not 0.3
    ([0.1, math.nan, 0.4, 0.2], 0.3),  # a non-finite loss is a diverged run: 0.1, 0.2, 0.4, +∞ → (0.2 + 0.4)/2
    ([0.5], 0.5),
])
def test_degradation_loss_median_counts_diverged_seeds_as_infinite(losses: list[float | None],
                                                                   expected: float | None) -> None:
    from numerics.degradation.summary import loss_median

    got = loss_median(losses)
    assert got == pytest.approx(expected, rel=1e-15) if expected is not None else got is None


def test_branch_norms_ratios_are_read_over_the_runs_that_fitted() -> None:
    # C8's "‖W₁‖ stays at x% of its initial norm: GD stops elsewhere in the zero set" reads the ratio of runs that
    # reached F ≈ 0 (hfx/evidence/dynamics.py's rule); a run still far from the fit at the end of its budget is
    # not in the zero set.  Fitted ratios 0.5, 0.6, 0.7 → median 0.6; the unfitted run's 0.99 must not count.
    import dataclasses

    recs = _norm_records([100, 200, 300, None], "relu", 0.0, 1000)
    recs = [dataclasses.replace(r, w1_ratio=v, w2_ratio=v) for r, v in zip(recs, [0.5, 0.6, 0.7, 0.99], strict=True)]
    (summary,) = branch_norms._summaries(recs)
    assert summary.w1_ratio_median == statistics.median([0.5, 0.6, 0.7]) == summary.w2_ratio_median
    assert summary.w1_ratio_range == (0.5, 0.7)


# --- linear-block: a budget of 0 steps is no evidence for the step-count or the stability check -------------------

def test_linear_block_checks_judge_nothing_without_a_step() -> None:
    # with max_steps = 0 only the initialisation is seen: a run predicted never to converge "did not converge" and
    # a stable run "did not diverge" trivially, so neither check may count them (they passed on 4 and 6 runs)
    from numerics.experiments import linear_block
    from numerics.experiments.contract import CheckStatus

    result = run(get("linear-block"), replace_flat(linear_block.Config(), {"width": 1, "seeds": 1, "max_steps": 0}))
    for check in result.checks:
        assert check.examined == 0 and check.status is CheckStatus.NO_EVIDENCE, (check.name, check.examined)


# --- records say the precision they were computed in ------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_task_records_carry_their_dtype(dtype: str) -> None:
    # a float32 run's step count can differ from the float64 one (rounding of the loss near ε); a CSV row that
    # does not say which precision produced it cannot be cited.  Every record states it.
    from numerics.experiments import deep_stack

    config = replace_flat(deep_stack.Config(), {"depths": (1,), "variants": ("residual",), "seeds": 1,
                                                "max_steps": 5, "lrs": (0.01,), "lr_max_widenings": 0,
                                                "dtype": dtype})
    records = run(get("deep-stack"), config).records
    assert records and all(r.dtype == dtype for r in records)
