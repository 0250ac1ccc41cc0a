"""The degradation experiment (numerics.classifiers, numerics.experiments.degradation) and its evidence rules
(hfx.evidence.degradation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hfx.audit import ExperimentStatus
from hfx.evidence.degradation import GRADIENT_FACTOR, MARGIN, degradation_evidence
from numerics.classifiers import Measurement, Recipe, build_network, load_digits_split, train_one
from numerics.experiments import ExperimentResult
from numerics.experiments.degradation import Config, DegradationRun, Result, jobs, summarize
from numerics.experiments.params import replace_flat
from theory.core.derivation import Bearing

TINY = Recipe(width=8, epochs=1)


def test_network_has_the_stated_number_of_weight_layers() -> None:
    for architecture in ("plain", "residual"):
        net = build_network(architecture, 20, 8, "batch", torch.Generator().manual_seed(0))
        assert sum(isinstance(m, torch.nn.Linear) for m in net.modules()) == 20


def test_split_is_a_partition_and_standardised() -> None:
    x_train, y_train, x_test, _ = load_digits_split(np.random.default_rng(1))
    assert len(x_train) + len(x_test) == 1797 and len(y_train) == len(x_train)
    assert torch.allclose(x_train.mean(dim=0), torch.zeros(64), atol=1e-4)


def test_a_run_is_reproducible_from_its_seed() -> None:
    data = load_digits_split(np.random.default_rng(0))
    first = train_one("residual", 6, TINY, 3, data)
    again = train_one("residual", 6, TINY, 3, data)
    assert (first.train_error, first.test_error, first.grad_norm_first) == (
        again.train_error,
        again.test_error,
        again.grad_norm_first,
    )
    assert 0 <= first.train_error <= 1 and 0 <= first.test_error <= 1


@pytest.mark.parametrize("depth", [3, 5, 0])
def test_impossible_depth_is_rejected(depth: int) -> None:
    data = load_digits_split(np.random.default_rng(0))
    with pytest.raises(ValueError, match="depth"):
        train_one("plain", depth, TINY, 0, data)


def test_the_grid_is_seeds_then_depths_then_rates_then_architectures() -> None:
    config = replace_flat(Config(), {"depths": (4, 6), "lrs": (0.01, 0.05), "seeds": 2})
    grid = jobs(config)
    assert len(grid) == 2 * 2 * 2 * 2
    assert grid[0] == ("plain", 4, 0.01, 0) and grid[1] == ("residual", 4, 0.01, 0) and grid[-1][3] == 1


def _run(arch: str, depth: int, seed: int, train: float, test: float, g_first: float | None = 1,
         g_last: float | None = 1, lr: float = 0.05) -> DegradationRun:
    return DegradationRun(architecture=arch, depth=depth, seed=seed, lr=lr,
                          measurement=Measurement(train, test, 0.0, g_first, g_last, 0.0))


def _result(runs: list[DegradationRun]) -> Result:
    return ExperimentResult(name="degradation", config=Config(), records=tuple(runs), summaries=summarize(runs))


def _grid(deep_train: float, deep_test: float, g_first: float | None, residual_train: float) -> Result:
    runs = []
    for seed in range(3):
        runs += [
            _run("plain", 20, seed, 0.01, 0.03),
            _run("plain", 56, seed, deep_train, deep_test, g_first, 1.0),
            _run("residual", 20, seed, residual_train, 0.03),
            _run("residual", 56, seed, residual_train, 0.03),
        ]
    return _result(runs)


def test_clear_degradation_confirms_c1_c2_and_exploding_gradients_qualify_c3() -> None:
    evidence = degradation_evidence(_grid(0.8, 0.8, 10 * GRADIENT_FACTOR, 0.0))
    assert evidence["C1"][0].status == evidence["C2"][0].status == ExperimentStatus.CONFIRMED
    assert evidence["C3"][0].bearing is Bearing.QUALIFIES and "exploding" in evidence["C3"][0].finding
    assert evidence["C13"][0].status is ExperimentStatus.CONFIRMED and evidence["C13"][0].bearing is Bearing.QUALIFIES


def test_no_degradation_is_not_reproduced_rather_than_refuted() -> None:
    evidence = degradation_evidence(_grid(0.01 + MARGIN / 2, 0.03, 1.0, 0.0))
    assert evidence["C1"][0].status is ExperimentStatus.NOT_REPRODUCED
    assert all(not e.established for e in evidence["C1"])


def test_healthy_gradients_with_degradation_refute_the_vanishing_gradient_story() -> None:
    evidence = degradation_evidence(_grid(0.5, 0.5, 1.0, 0.0))
    assert evidence["C3"][0].bearing is Bearing.REFUTES and evidence["C3"][0].established


def test_vanishing_gradients_support_c3() -> None:
    evidence = degradation_evidence(_grid(0.5, 0.5, 1 / (10 * GRADIENT_FACTOR), 0.0))
    assert evidence["C3"][0].bearing is Bearing.SUPPORTS


def test_non_finite_gradient_norms_are_no_evidence_for_c3() -> None:
    evidence = degradation_evidence(_grid(0.5, 0.5, None, 0.0))
    assert not evidence["C3"][0].established and "no finite gradient norms" in evidence["C3"][0].finding


def test_residual_that_also_degrades_does_not_confirm_c13() -> None:
    evidence = degradation_evidence(_grid(0.8, 0.8, 1.0, 0.5))
    assert evidence["C13"][0].status is ExperimentStatus.NOT_REPRODUCED


def test_without_the_reference_depth_there_is_no_evidence() -> None:
    assert degradation_evidence(_result([_run("plain", 8, 0, 0.1, 0.1), _run("residual", 8, 0, 0.1, 0.1)])) == {}


def test_the_best_rate_per_architecture_and_depth_is_the_one_the_rules_read() -> None:
    # a second, bad learning rate: the rules read each (architecture, depth)'s best rate, so the verdicts hold
    good = _grid(0.8, 0.8, 10 * GRADIENT_FACTOR, 0.0)
    bad = [_run(r.architecture, r.depth, r.seed, 0.9, 0.9, lr=1.0) for r in good.records]
    evidence = degradation_evidence(_result([*good.records, *bad]))
    assert evidence["C1"][0].status is ExperimentStatus.CONFIRMED and evidence["C13"][0].established
