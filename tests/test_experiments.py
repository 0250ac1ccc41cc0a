"""The named experiments on tiny grids: registry, records, theory cross-checks, configuration checks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from numerics.experiments import all_experiments, describe, get
from numerics.experiments.deep_linear import flow_time
from numerics.experiments.linear_block import closed_form_steps
from numerics.train import CONVERGED, DIVERGED
from theory.deep_linear import learning_time
from theory.dynamics import linear_gd_steps

NAMES = ("deep-linear", "deep-stack", "linear-block", "nonlinear-block", "weight-decay")
RECORD_FIELDS = {"run", "seed", "status", "steps_to_converge", "diverged_step", "wall_seconds", "max_steps", "eps",
                 "criterion", "predicted_steps"}

# tiny grids: every experiment in a second or two
TINY: dict[str, dict[str, object]] = {
    "linear-block": {"seeds": 2, "lr_factors": (0.3, 0.9, 1.2), "max_steps": 600},
    "deep-linear": {"depths": (1, 3), "lrs": (0.005, 0.02), "seeds": 1, "width": 2, "check_max_step": 0.05},
    "nonlinear-block": {"activations": ("relu",), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 2,
                        "max_steps": 60},
    "deep-stack": {"depths": (1, 4), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 2, "max_steps": 40},
    "weight-decay": {"lrs": (0.2,), "weight_decays": (0.5,), "seeds": 2, "max_steps": 120},
}


pytestmark = pytest.mark.usefixtures("one_thread")


def _run(name: str, seed: int = 0, **extra: object) -> object:
    module = get(name)
    config = dataclasses.replace(module.Config(), **{**TINY[name], **extra})
    return module.run(config, torch.Generator().manual_seed(seed))


def test_registry_finds_every_named_experiment() -> None:
    assert tuple(all_experiments()) == NAMES
    with pytest.raises(KeyError, match="known: deep-linear"):
        get("no-such-experiment")


@pytest.mark.parametrize("name", NAMES)
def test_description_lists_every_parameter_with_type_and_default(name: str) -> None:
    d = describe(get(name))
    params = {p["name"]: p for p in d["parameters"]}  # type: ignore[union-attr]
    fields = {f.name: f.default for f in dataclasses.fields(get(name).Config)}
    assert set(params) == set(fields)
    for key, default in fields.items():
        assert params[key]["type"] in {"int", "float", "str", "bool", "list[int]", "list[float]", "list[str]"}
        assert params[key]["default"] == (list(default) if isinstance(default, tuple) else default)
        assert params[key]["help"]
    json.dumps(d)


@pytest.mark.parametrize("name", NAMES)
def test_tiny_run_gives_complete_json_records_and_passing_checks(name: str) -> None:
    result = _run(name, seed=3)
    assert result.records and result.summaries  # type: ignore[attr-defined]
    for rec in result.records:  # type: ignore[attr-defined]
        assert RECORD_FIELDS <= set(rec)
        assert rec["status"] in {"converged", "censored", "diverged"}
        assert (rec["steps_to_converge"] is None) == (rec["status"] != CONVERGED)
        assert (rec["diverged_step"] is None) == (rec["status"] != DIVERGED)
    json.dumps(result.to_json(), allow_nan=False)  # type: ignore[attr-defined]
    failed = [c for c in result.checks if not c["passed"]]  # type: ignore[attr-defined]
    assert not failed, failed


@pytest.mark.parametrize("seed", [0, 7])
def test_linear_block_steps_match_the_closed_form_and_the_stability_limit(seed: int) -> None:
    result = _run("linear-block", seed=seed)
    checks = {c["name"]: c for c in result.checks}  # type: ignore[attr-defined]
    assert checks["gd-steps-exact"]["passed"] and checks["gd-steps-exact"]["runs_with_prediction"] > 0
    assert checks["stability-limit"]["passed"] and checks["stability-limit"]["diverged"] > 0
    for rec in result.records:  # type: ignore[attr-defined]
        assert (rec["lr_factor"] > 1) == (rec["status"] == DIVERGED)


def test_closed_form_steps_equal_a_brute_force_numpy_simulation() -> None:
    # independent: iterate e ← e(I − η(Σ + λI)) until ‖e‖_F < ε
    rng = np.random.default_rng(0)
    for residual in (False, True):
        for _ in range(5):
            Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
            Sigma = Q @ np.diag(rng.uniform(0.3, 2.0, 3)) @ Q.T
            M0 = np.eye(3) + rng.normal(scale=0.5, size=(3, 3))
            eta, lam, eps = float(rng.uniform(0.05, 0.8)), float(rng.uniform(0, 0.3)), 1e-5
            Mstar = np.eye(3) if residual else Sigma @ np.linalg.inv(Sigma + lam * np.eye(3))
            e, k = M0 - Mstar, 0
            while np.linalg.norm(e) >= eps:
                e = e @ (np.eye(3) - eta * (Sigma + lam * np.eye(3)))
                k += 1
            assert abs(closed_form_steps(M0, Sigma, eta, lam, eps, residual) - k) <= 1  # type: ignore[operator]
            assert abs(linear_gd_steps(M0, Sigma, eta, lam, eps, residual) - k) <= 1  # type: ignore[operator]
    assert closed_form_steps(np.eye(2) * 3, np.eye(2), 2.5, 0.0, 1e-3, False) is None  # |1 − 2.5| > 1


def test_flow_time_quadrature_equals_the_theory_learning_time() -> None:
    # two independent evaluations of t = ∫ du / (L u^{2−2/L}(s − u)): scipy quadrature vs theory's closed forms
    for L in (1, 2, 3, 4, 6):
        for u0, uf in ((0.05, 1.9), (1.0, 1.98), (0.3, 0.5)):
            assert flow_time(L, 2.0, u0, uf) == pytest.approx(learning_time(L, 2.0, u0, uf), rel=1e-8)


def test_deep_linear_measured_time_is_within_two_percent_of_gradient_flow() -> None:
    result = _run("deep-linear")
    check = result.checks[0]  # type: ignore[attr-defined]
    assert check["passed"] and check["runs_checked"] > 0 and check["max_relative_error"] <= 0.02
    for rec in result.records:  # type: ignore[attr-defined]
        assert rec["predicted_time"] > 0 and rec["measured_time"] is not None


def test_weight_decay_norms_follow_the_closed_form() -> None:
    result = _run("weight-decay")
    check = next(c for c in result.checks if c["name"] == "weight-decay-trajectory")  # type: ignore[attr-defined]
    assert check["passed"] and check["max_relative_error"] < 1e-6 and check["runs_checked"] == 12


def test_zero_branch_variants_fit_the_identity_at_step_zero() -> None:
    result = _run("nonlinear-block")
    for rec in result.records:  # type: ignore[attr-defined]
        if rec["variant"] == "rezero":
            assert rec["predicted_steps"] == 0 and rec["steps_to_converge"] == 0
        else:
            assert rec["predicted_steps"] is None


def test_conv_blocks_in_float32_learn_a_near_identity_map() -> None:
    result = _run("nonlinear-block", block="conv", target="near-identity", dtype="float32", image_size=3,
                  variants=("residual",), lrs=(0.03,), max_steps=30, eps=1e-9)
    for rec in result.records:  # type: ignore[attr-defined]
        assert rec["status"] == "censored"  # ε = 1e-9 is out of reach in 30 steps: nothing is miscounted
        assert rec["final_loss"] is not None and rec["final_loss"] > 0
    curves = next(iter(result.curves.values()))  # type: ignore[attr-defined]
    loss = curves["loss"]
    assert (loss[-1] < loss[0]).all()  # Adam made progress on every run


def test_initialisations_are_batched_with_seeds_and_learning_rates() -> None:
    # one batch per variant holds seeds × inits × lrs; a zero-initialised residual branch is exact at step 0
    result = _run("nonlinear-block", variants=("residual",), inits=("zero", "xavier"), lrs=(0.01, 0.03))
    recs = result.records  # type: ignore[attr-defined]
    assert len(recs) == 2 * 2 * 2 and len({r["batch_runs"] for r in recs}) == 1
    assert {(r["seed"], r["init"], r["lr"]) for r in recs} == {
        (s, i, lr) for s in (0, 1) for i in ("zero", "xavier") for lr in (0.01, 0.03)
    }
    for r in recs:
        assert (r["predicted_steps"] == 0) == (r["init"] == "zero")
        if r["init"] == "zero":
            assert r["steps_to_converge"] == 0
    best = [row for row in result.summaries if row["best_lr"]]  # type: ignore[attr-defined]
    assert sorted(row["init"] for row in best) == ["xavier", "zero"]  # a best rate per initialisation


def test_same_seed_same_records() -> None:
    a, b = _run("nonlinear-block", seed=5), _run("nonlinear-block", seed=5)
    keys = ("status", "steps_to_converge", "final_loss")
    assert [[r[k] for k in keys] for r in a.records] == [[r[k] for k in keys] for r in b.records]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("linear-block", {"width": -1}),
        ("linear-block", {"variants": ("plain", "dense")}),
        ("linear-block", {"samples": 2}),
        ("deep-linear", {"depths": ()}),
        ("deep-stack", {"lrs": (0.1, -0.1)}),
        ("nonlinear-block", {"block": "conv", "target": "linear-pd"}),
        ("weight-decay", {"seeds": 0}),
    ],
)
def test_bad_configurations_are_rejected(name: str, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(get(name).Config(), **bad)


def test_figures_are_built_for_every_experiment() -> None:
    for name in ("linear-block", "weight-decay"):
        figs = get(name).figures(_run(name))
        assert figs and all(f.axes for f in figs.values())
