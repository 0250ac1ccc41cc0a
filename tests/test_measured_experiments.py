"""The rules that turn experiment results into audit evidence (hfx.evidence.convergence), on typed results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hfx import theorems, verify_measure
from hfx.audit import ExperimentStatus, Verdict
from hfx.cli import main
from hfx.evidence import Measurements
from hfx.evidence.convergence import deep_linear, deep_stack, linear_block, nonlinear_block, weight_decay
from hfx.progress import say
from numerics.degradation.fit import FitRun
from numerics.experiments import CrossCheck, ExperimentResult
from numerics.experiments import deep_linear as deep_linear_experiment
from numerics.experiments import deep_stack as deep_stack_experiment
from numerics.experiments import degradation as degradation_experiment
from numerics.experiments import linear_block as linear_block_experiment
from numerics.experiments import nonlinear_block as nonlinear_block_experiment
from numerics.experiments import weight_decay as weight_decay_experiment
from numerics.experiments.records import RankedSummary, StepsSummary
from theory.core.derivation import Bearing

PASSED = CrossCheck("cross-check", "", examined=3, mismatches=0)
FAILED = CrossCheck("cross-check", "", examined=3, mismatches=1)
NOTHING = CrossCheck("cross-check", "", examined=0, mismatches=0)  # a check that examined nothing


def steps(median: float | None) -> StepsSummary:
    return StepsSummary(n=4, n_converged=4 if median is not None else 0, n_diverged=0, steps_q25=median,
                        steps_median=median, steps_q75=median, steps_median_ci=(median, median), seconds_median=None,
                        seconds_median_ci=(None, None), ci_level=0.95, max_steps=1000)


def best(group: object, median: float | None, limited: bool = False) -> RankedSummary[object]:
    return RankedSummary(group, steps(median), best_lr=True, best_lr_at_grid_edge=limited, grid_limited=limited)


def result(name: str, config: object, summaries: list[RankedSummary[object]],
           check: CrossCheck = PASSED) -> ExperimentResult[object, object, RankedSummary[object]]:
    return ExperimentResult(name=name, config=config, records=(), summaries=tuple(summaries), checks=(check,))


def test_a_failed_cross_check_does_not_establish_evidence() -> None:
    evidence = linear_block(result("linear-block", linear_block_experiment.Config(), [], FAILED))
    assert all(not e.established for items in evidence.values() for e in items)
    assert "FAILED" in evidence["C11"][0].finding


def test_plain_blocks_that_never_converge_support_c5() -> None:
    G = nonlinear_block_experiment.Group
    summaries = [best(G("tanh", "plain", "xavier", 0.01), None), best(G("tanh", "residual", "xavier", 0.01), 40)]
    (e,) = nonlinear_block(result("nonlinear-block", None, summaries))["C5"]
    assert e.bearing is Bearing.SUPPORTS and e.established


def test_plain_blocks_that_converge_slowly_qualify_c5_with_the_ratio() -> None:
    G = nonlinear_block_experiment.Group
    summaries = [best(G("relu", "plain", "xavier", 0.01), 200), best(G("relu", "residual", "xavier", 0.01), 50)]
    (e,) = nonlinear_block(result("nonlinear-block", None, summaries))["C5"]
    assert e.bearing is Bearing.QUALIFIES and e.established and "4.0× (relu) slower" in e.why
    assert "200" in e.finding and "50" in e.finding  # the numbers, not only a verdict


@pytest.mark.parametrize("which", ["plain", "residual"])
def test_a_grid_limited_best_rate_never_establishes_c5(which: str) -> None:
    G = nonlinear_block_experiment.Group
    summaries = [best(G("relu", "plain", "xavier", 0.01), 200, limited=which == "plain"),
                 best(G("relu", "residual", "xavier", 0.01), 50, limited=which == "residual")]
    (e,) = nonlinear_block(result("nonlinear-block", None, summaries))["C5"]
    assert e.grid_limited and not e.established and "edge of its grid" in e.why
    from hfx.audit import decide
    from hfx.claims import CLAIMS

    verdict = decide(next(c for c in CLAIMS if c.id == "C5"), [e])
    assert verdict.verdict is Verdict.UNSETTLED and "grid-limited" in verdict.reason


def test_residual_faster_at_every_depth_supports_c12() -> None:
    G = deep_linear_experiment.Group
    summaries = [best(G("residual", d, 0.01), 10 * d) for d in (1, 2)]
    summaries += [best(G("plain", d, 0.01), 30 * d) for d in (1, 2)]
    assert deep_linear(result("deep-linear", None, summaries))["C12"][0].bearing is Bearing.SUPPORTS
    summaries[0] = best(G("residual", 1, 0.01), 100)  # now slower at depth 1
    assert deep_linear(result("deep-linear", None, summaries))["C12"][0].bearing is Bearing.QUALIFIES
    summaries[0] = best(G("residual", 1, 0.01), 10, limited=True)  # faster, but at the edge of its grid
    (e,) = deep_linear(result("deep-linear", None, summaries))["C12"]
    assert e.grid_limited and not e.established


def test_only_zero_initialised_residual_stacks_training_qualifies_c13() -> None:
    G = deep_stack_experiment.Group
    depths = (1, 8)
    summaries = [best(G("plain", "xavier", d, 0.01), None) for d in depths]
    summaries += [best(G("residual", "xavier", d, 0.01), 5 if d == 1 else None) for d in depths]
    summaries += [best(G("rezero", "xavier", d, 0.01), 5) for d in depths]
    (e,) = deep_stack(result("deep-stack", None, summaries))["C13"]
    assert e.bearing is Bearing.QUALIFIES and e.established and "zero-initialised branches (rezero)" in e.why
    assert "stop converging at depth 8" in e.why
    limited = [best(s.group, s.steps.steps_median, limited=s.group.variant == "rezero") for s in summaries]
    assert not deep_stack(result("deep-stack", None, limited))["C13"][0].established
    summaries = [s for s in summaries if s.group.variant != "rezero"]
    (e,) = deep_stack(result("deep-stack", None, summaries))["C13"]
    assert not e.established


def _fit(seed: int, lr: float, error: float) -> FitRun:
    return FitRun(seed=seed, lr=lr, status="plateaued", epochs=5, plateau_epoch=5, drop_epochs=(), train_error=error,
                  train_loss=error, test_error=error, test_loss=error, grad_norm_first=1.0, grad_norm_last=1.0,
                  responses=(1.0, 1.0), curve_train_loss=(1.0,), curve_train_error=(0.5, error),
                  curve_test_error=(0.5, error), seconds=0.0)


def _degradation() -> degradation_experiment.Result:
    # plain 56 far worse than plain 20 on every seed, residual nets fine; the middle rate is each arm's best
    runs = tuple(
        degradation_experiment.DegradationRun(model="mlp", architecture=arch, depth=depth, norm="batch",
                                              shortcut="identity", width=8, data="digits", round=0, deep=False,
                                              fit=_fit(seed, lr, err + (0.0 if lr == 0.03 else 0.2)))
        for seed in range(3) for lr in (0.01, 0.03, 0.1)
        for arch, depth, err in (("plain", 20, 0.01), ("plain", 56, 0.6), ("residual", 20, 0.0), ("residual", 56, 0.0))
    )
    config = degradation_experiment.Config(norms=("batch",), depths=(20, 56))
    return ExperimentResult(name="degradation", config=config, records=runs,
                            summaries=degradation_experiment.summarize(runs, config))


def test_verify_audits_measurements_and_fails_on_a_broken_cross_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = ExperimentResult(name="weight-decay", config=weight_decay_experiment.Config(), records=(),
                              summaries=(), checks=(FAILED,))
    monkeypatch.setattr(theorems, "resolve_ids", lambda requested: ["reformulation.residual"])
    def measure(tier: str, place: verify_measure.Place) -> Measurements:
        say(f"measured by process {os.getpid()}")  # through the board of the hfx process
        return Measurements(degradation=_degradation(), weight_decay=broken)

    monkeypatch.setattr(verify_measure, "measure", measure)  # (the measuring process is forked: it sees this)
    assert main(["verify", "--out", str(tmp_path)]) == 1  # a failed theory cross-check is a failed check
    captured = capsys.readouterr()
    (line,) = [x for x in captured.err.splitlines() if x.startswith("measured by process")]
    assert line != f"measured by process {os.getpid()}"  # beside the derivations, in a process of its own
    claims = {c["id"]: c for c in json.loads((tmp_path / "claims.json").read_text())}
    assert claims["C1"]["verdict"] == Verdict.CONFIRMED
    assert claims["C10"]["verdict"] == Verdict.UNSETTLED
    assert (tmp_path / "tables" / "degradation.csv").read_text().count("\n") == len(_degradation().records) + 1
    assert json.loads((tmp_path / "experiments" / "degradation.json").read_text())["experiment"] == "degradation"
    assert "weight-decay" in captured.out
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Degradation and trainable depth" in report and "`hfx verify` defaults" in report
    for name in ("degradation-error-vs-depth", "degradation-curves", "degradation-responses"):
        assert f"figures/degradation/{name}.png" in report  # embedded, and written with its data
        for ext in ("pdf", "png", "csv"):
            assert (tmp_path / "figures" / "degradation" / f"{name}.{ext}").stat().st_size > 100


def test_a_cross_check_that_examined_nothing_is_no_evidence() -> None:
    for checks in ((), (NOTHING,)):
        empty = ExperimentResult(name="linear-block", config=linear_block_experiment.Config(), records=(),
                                 summaries=(), checks=checks)
        assert all(not e.established for items in linear_block(empty).values() for e in items)
        wd = ExperimentResult(name="weight-decay", config=weight_decay_experiment.Config(), records=(),
                              summaries=(), checks=checks)
        assert weight_decay(wd)["C10"][0].status is ExperimentStatus.NOT_REPRODUCED
    assert "no evidence" in linear_block(ExperimentResult(
        name="linear-block", config=None, records=(), summaries=(), checks=(NOTHING,)))["C11"][0].finding


def test_no_comparison_when_residual_blocks_do_not_converge_either() -> None:
    G = nonlinear_block_experiment.Group
    summaries = [best(G("tanh", "plain", "xavier", 0.01), None), best(G("tanh", "residual", "xavier", 0.01), None)]
    (e,) = nonlinear_block(result("nonlinear-block", None, summaries))["C5"]
    assert not e.established and "no comparison" in e.finding
    (e,) = nonlinear_block(result("nonlinear-block", None, []))["C5"]
    assert not e.established


def test_deep_linear_words_say_where_the_residual_chain_wins() -> None:
    """Not all wins: the evidence names the depths where the residual chain is faster, as fast, slower, or where
    neither converged (it used to say only "not faster than the plain chain at every depth")."""
    from types import SimpleNamespace

    from hfx.evidence import convergence

    def at(median: float | None) -> object:
        return SimpleNamespace(steps=SimpleNamespace(steps_median=median))

    rows = [(1, at(3.0), at(3.0)), (2, at(3.0), at(6.0)), (4, at(3.0), at(15.0)), (8, at(9.0), at(5.0)),
            (16, at(None), at(None)), (32, at(None), at(40.0))]
    assert convergence._per_depth(rows) == (  # type: ignore[arg-type]
        "faster than the plain chain at depths 2, 4; as fast at depth 1; slower at depths 8, 32; "
        "with neither reaching ε at depth 16")
