"""Kaplan–Meier quantiles and bootstrap intervals against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.stats import km_quantiles, km_survival, summarize


def test_without_censoring_quantiles_are_order_statistics() -> None:
    # F̂ jumps by ¼ at 10, 20, 30, 40: the smallest t with F̂(t) ≥ q
    q = km_quantiles(np.array([30.0, 10.0, 40.0, 20.0]), np.ones(4, bool), (0.25, 0.5, 0.75, 1.0))
    np.testing.assert_array_equal(q, [10.0, 20.0, 30.0, 40.0])


def test_censored_example_by_hand() -> None:
    # times 1, 2, 2, 3+, 4, 5+ (+ = censored):
    # Ŝ(1) = 5/6; Ŝ(2) = 5/6 · 3/5 = 1/2; 3 is censored; Ŝ(4) = 1/2 · 1/2 = 1/4 (2 at risk)
    t = np.array([1, 2, 2, 3, 4, 5], float)
    e = np.array([1, 1, 1, 0, 1, 0], bool)
    grid, S = km_survival(t, e)
    np.testing.assert_array_equal(grid, [1, 2, 4])
    np.testing.assert_allclose(S, [5 / 6, 1 / 2, 1 / 4], rtol=1e-15)
    q = km_quantiles(t, e, (0.25, 0.5, 0.75, 0.9))
    assert q[0] == 2 and q[1] == 2 and q[2] == 4 and np.isnan(q[3])  # F̂ never reaches 0.9


def test_median_is_undefined_when_most_runs_are_censored() -> None:
    # 2 of 5 converged (fast): a mean over converged runs would say 1.5 steps; the median is beyond the budget
    t = np.array([1, 2, 100, 100, 100], float)
    e = np.array([1, 1, 0, 0, 0], bool)
    assert np.isnan(km_quantiles(t, e, (0.5,))[0])
    s = summarize(t, e, np.random.default_rng(0), n_boot=200)
    assert s.median is None and s.n_converged == 2 and s.q25 == 2.0


def test_vectorised_quantiles_equal_row_by_row() -> None:
    rng = np.random.default_rng(1)
    t = rng.integers(1, 20, size=(50, 9)).astype(float)
    e = rng.random((50, 9)) < 0.7
    batch = km_quantiles(t, e, (0.25, 0.5, 0.75))
    for i in range(50):
        grid, S = km_survival(t[i], e[i])
        for j, q in enumerate((0.25, 0.5, 0.75)):
            hit = np.nonzero(1 - S >= q - 1e-12)[0]
            expected = grid[hit[0]] if len(hit) else np.nan
            np.testing.assert_equal(batch[i, j], expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bootstrap_interval_brackets_the_estimate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.exponential(50.0, size=40).round() + 1
    e = t < 120
    t = np.where(e, t, 120.0)  # type-I censoring at the budget
    s = summarize(t, e, np.random.default_rng(seed + 100), n_boot=500)
    lo, hi = s.median_ci
    assert s.median is not None and lo is not None
    assert lo <= s.median and (hi is None or s.median <= hi)
    assert s.ci_level == 0.95


def test_bad_input_is_rejected() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        summarize([1.0, 2.0], [True], rng)
    with pytest.raises(ValueError):
        summarize([1.0], [True], rng, level=1.5)
    empty = summarize([], [], rng)
    assert empty.n == 0 and empty.median is None and empty.median_ci == (None, None)
