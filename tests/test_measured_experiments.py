"""The rules that turn experiment results into audit evidence (hfx.measured_experiments)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfx import theorems, verify
from hfx.cli import main
from hfx.measured_experiments import deep_linear, deep_stack, linear_block, nonlinear_block
from numerics.degradation import DegradationRun
from numerics.experiments import ExperimentResult


def result(name: str, summaries: list[dict[str, object]], passed: bool = True) -> ExperimentResult:
    checks = [{"name": "cross-check", "passed": passed}]
    return ExperimentResult(name=name, config={}, records=[], summaries=summaries, checks=checks)


def best(steps: float | None, **keys: object) -> dict[str, object]:
    return {"best_lr": True, "steps_median": steps, **keys}


def test_a_failed_cross_check_does_not_establish_evidence() -> None:
    evidence = linear_block(result("linear-block", [], passed=False))
    assert all(not e.established for items in evidence.values() for e in items)
    assert "FAILED" in evidence["C11"][0].finding


def test_plain_blocks_that_never_converge_support_c5() -> None:
    summaries = [best(None, variant="plain", activation="tanh"), best(40, variant="residual", activation="tanh")]
    (e,) = nonlinear_block(result("nonlinear-block", summaries))["C5"]
    assert e.bearing == "supports" and e.established


def test_plain_blocks_that_converge_slowly_qualify_c5_with_the_ratio() -> None:
    summaries = [best(200, variant="plain", activation="relu"), best(50, variant="residual", activation="relu")]
    (e,) = nonlinear_block(result("nonlinear-block", summaries))["C5"]
    assert e.bearing == "qualifies" and "4.0–4.0× slower" in e.finding


def test_residual_faster_at_every_depth_supports_c12() -> None:
    summaries = [best(10 * d, variant="residual", depth=d) for d in (1, 2)]
    summaries += [best(30 * d, variant="plain", depth=d) for d in (1, 2)]
    assert deep_linear(result("deep-linear", summaries))["C12"][0].bearing == "supports"
    summaries[0] = best(100, variant="residual", depth=1)  # now slower at depth 1
    assert deep_linear(result("deep-linear", summaries))["C12"][0].bearing == "qualifies"


def test_only_zero_initialised_residual_stacks_training_qualifies_c13() -> None:
    depths = (1, 8)
    summaries = [best(None, variant="plain", depth=d) for d in depths]
    summaries += [best(5 if d == 1 else None, variant="residual", depth=d) for d in depths]
    summaries += [best(5, variant="rezero", depth=d) for d in depths]
    (e,) = deep_stack(result("deep-stack", summaries))["C13"]
    assert e.bearing == "qualifies" and e.established and "zero-initialised branch does" in e.finding
    summaries = [s for s in summaries if s["variant"] != "rezero"]
    (e,) = deep_stack(result("deep-stack", summaries))["C13"]
    assert not e.established


def test_verify_audits_measurements_and_fails_on_a_broken_cross_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [
        DegradationRun(arch, depth, seed, err, err, 0.0, 1.0, 1.0, 0.0)
        for seed in range(2)
        for arch, depth, err in (("plain", 20, 0.01), ("plain", 56, 0.6), ("residual", 20, 0.0), ("residual", 56, 0.0))
    ]
    monkeypatch.setattr(theorems, "resolve_ids", lambda requested: ["reformulation.residual"])
    monkeypatch.setattr(verify, "_measure", lambda config: runs)
    monkeypatch.setattr(verify, "_experiments", lambda: {"weight-decay": result("weight-decay", [], passed=False)})
    assert main(["verify", "--out", str(tmp_path)]) == 1  # a failed theory cross-check is a failed check
    claims = {c["id"]: c for c in json.loads((tmp_path / "claims.json").read_text())}
    assert claims["C1"]["verdict"] == "confirmed"
    assert claims["C10"]["verdict"] == "unsettled"
    assert (tmp_path / "tables" / "degradation.csv").read_text().count("\n") == len(runs) + 1
    assert "weight-decay" in capsys.readouterr().out


def test_a_cross_check_that_examined_nothing_is_no_evidence() -> None:
    empty = ExperimentResult(name="linear-block", config={}, records=[], summaries=[], checks=[])
    assert all(not e.established for items in linear_block(empty).values() for e in items)


def test_no_comparison_when_residual_blocks_do_not_converge_either() -> None:
    summaries = [best(None, variant="plain", activation="tanh"), best(None, variant="residual", activation="tanh")]
    (e,) = nonlinear_block(result("nonlinear-block", summaries))["C5"]
    assert not e.established and "no comparison" in e.finding
    (e,) = nonlinear_block(result("nonlinear-block", []))["C5"]
    assert not e.established
