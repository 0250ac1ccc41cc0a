"""`hfx run` and `hfx list experiments`: outputs, one JSON document, exit codes, bad input."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from hfx.cli import main

TINY = ["--set", "lr_factors=0.5,1.3", "--set", "max_steps=300", "--seeds", "2"]


@pytest.fixture(autouse=True, scope="module")
def _restore_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("run") / "linear"
    return main(["run", "linear-block", *TINY, "--out", str(out)]), out


def test_run_writes_csv_json_manifest_and_figures(written: tuple[int, Path]) -> None:
    code, out = written
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["experiment"] == "linear-block" and summary["passed"] is True
    assert summary["config"]["seeds"] == 2 and summary["config"]["lr_factors"] == [0.5, 1.3]
    with (out / "runs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(summary["records"]) == 2 * 2 * 2  # variants × lr × seeds
    assert {"status", "steps_to_converge", "predicted_steps", "wall_seconds", "lr"} <= set(rows[0])
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"versions", "git", "host", "config_hash", "seeds", "started_utc", "finished_utc"} <= set(manifest)
    assert manifest["config"]["experiment"] == "linear-block" and manifest["seeds"] == [0, 1]
    for fmt in ("pdf", "png"):
        path = out / "figures" / f"linear-block-loss.{fmt}"
        assert path.stat().st_size > 1000
    assert (out / "figures" / "linear-block-loss.pdf").read_bytes().startswith(b"%PDF")


def test_run_json_prints_exactly_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "weight-decay", "--set", "lrs=0.2", "--set", "weight_decays=0.5", "--set", "max_steps=50",
                 "--seeds", "1", "--no-figures", "--json", "--out", str(tmp_path / "wd")])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # the whole of stdout is one JSON document
    assert code == 0 and doc["experiment"] == "weight-decay"
    for rec in doc["records"]:
        assert rec["status"] in {"converged", "censored", "diverged"}
        assert "steps_to_converge" in rec and "wall_seconds" in rec and "predicted_steps" in rec


# Bad input: every case names the parameter (and its allowed range where it has one), exits 2, writes nothing.
BAD_INPUT = [
    (["run", "no-such-experiment"], "unknown experiment"),
    (["run", "linear-block", "--set", "width=-3"], "width must be in [1, 4096]"),
    (["run", "linear-block", "--set", "width=2.5"], "width"),
    (["run", "linear-block", "--set", "nonsense=1"], "unknown parameter"),
    (["run", "linear-block", "--set", "width"], "KEY=VALUE"),
    (["run", "linear-block", "--set", "variants=plain,dense"], "variants"),
    (["run", "linear-block", "--set", "eps=nan"], "eps"),
    (["run", "linear-block", "--seeds", "0"], "--seeds must be ≥ 1"),
    (["run", "deep-linear", "--set", "depths="], "depths"),
    (["run", "linear-block", "--set", "seed=-1"], "seed must be in [0, "),
    (["run", "linear-block", "--set", "seed=99999999999999999999999"], "seed must be in [0, "),
    # issue 12: infinite, overflowing and absurd values are refused up front, naming the range
    (["run", "linear-block", "--set", "eps=inf"], "eps"),
    (["run", "linear-block", "--set", "eps=1e400"], "eps"),
    (["run", "linear-block", "--set", "lr_factors=0.5,1e400"], "lr_factors"),
    (["run", "linear-block", "--set", "width=100000"], "width must be in [1, 4096]"),
    (["run", "linear-block", "--seeds", "1000000000"], "seeds must be in [1, 100000]"),
    (["run", "linear-block", "--set", "max_steps=1000000000000"], "max_steps must be in [0, 1000000]"),
    (["run", "deep-linear", "--set", "target_scale=1e300"], "target_scale must be in (0, 1000]"),
    (["run", "weight-decay", "--set", "lrs=1e308"], "lrs (every value) must be in (0, 1000]"),
    (["run", "nonlinear-block", "--set", "batch_size=0"], "batch_size must be in [1, "),
    (["run", "degradation", "--set", "depths=20,57"], "depths must be even"),
    (["run", "degradation", "--set", "momentum=1"], "momentum must be in [0, 1)"),
    (["run", "degradation", "--set", "batch_size=5000"], "batch_size must be in [1, 1257]"),
    (["run", "degradation", "--set", "batch_size=1"], "batch_size must be ≥ 2 with norm=batch"),
    (["run", "linear-block", "--threads", "0"], "--threads must be in [1, "),
    # a sweep with one bad value is refused as a whole, before anything runs
    (["run", "linear-block", "--set", "width=2,3,-1"], "width=-1"),
    (["run", "linear-block", "--set", "width=2,,3"], "comma-separated"),
    # memory: what this machine cannot hold is refused with the estimate and the available memory
    (["run", "linear-block", "--set", "width=1500", "--set", "samples=1500", "--seeds", "100000"], "available"),
    (["run", "linear-block", "--set", "max_steps=1000000", "--seeds", "10000"], "available"),
    (["run", "linear-block", "--set", "init_scale=0.5,5e-1"], "given twice"),  # one value, one folder
    (["run", "linear-block", "--set", "width=3,3"], "given twice"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    assert main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and captured.err.startswith("hfx")
    assert message in captured.err
    assert not out.exists()


def test_memory_refusal_gives_the_estimate_and_the_available_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfx import resources

    monkeypatch.setattr(resources, "available_memory", lambda: 1_000_000)  # a machine with 1 MB left
    assert main(["run", "linear-block", "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "MB" in err and "1 MB available" in err
    assert not (tmp_path / "never").exists()


def _run_json(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--no-figures", "--json", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


def _status(doc: dict[str, Any], name: str) -> str:
    return str(next(c["status"] for c in doc["checks"] if c["name"] == name))


def test_weight_decay_survives_a_rate_beyond_its_stability_limit(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # ηλ = 10⁶: |1 − ηλ|^k overflows float64 within ~50 steps; the runs diverge (recorded at their step) and the
    # overflowed norms are written as null, never as inf
    code, doc = _run_json(["run", "weight-decay", "--set", "lrs=1000", "--set", "weight_decays=1000",
                           "--set", "max_steps=200", "--seeds", "1"], tmp_path, capsys)
    assert code == 0 and doc["passed"] is True
    diverged = [r for r in doc["records"] if r["status"] == "diverged"]
    assert diverged and all(isinstance(r["diverged_step"], int) for r in diverged)
    assert any(r["final_norm"] is None for r in doc["records"])


def test_weight_decay_oscillating_rate_is_not_a_false_failure(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # 1 − ηλ = −0.5 < 0: stable but oscillating; |θ_k| = 0.5^k |θ₀| (the sign of (1 − ηλ)^k flips θ, not ‖θ‖)
    code, doc = _run_json(["run", "weight-decay", "--set", "lrs=1.5", "--set", "weight_decays=1",
                           "--set", "parts=decay-only", "--set", "max_steps=60", "--seeds", "1"], tmp_path, capsys)
    assert code == 0 and _status(doc, "weight-decay-trajectory") == "passed"
    assert _status(doc, "weight-decay-steps") == "passed"


def test_runs_decided_at_step_zero_are_no_evidence_not_a_failure(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # A₀ = 0 is M₀ = I = M*: every run has converged before the first step; it says nothing about GD or stability
    code, doc = _run_json(["run", "linear-block", "--set", "variants=residual", "--set", "inits=zero",
                           "--set", "max_steps=50", "--seeds", "2"], tmp_path, capsys)
    assert code == 0 and doc["passed"] is True
    for check in doc["checks"]:
        assert check["status"] == "no evidence" and check["passed"] is None and check["excluded"] > 0


def test_predictions_beyond_a_short_budget_are_no_evidence_not_a_failure(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run_json(["run", "deep-linear", "--set", "max_steps=50", "--set", "depths=1,2", "--seeds", "1"],
                          tmp_path, capsys)
    assert code == 0 and _status(doc, "deep-linear-flow-time") == "no evidence"


def test_a_start_at_the_target_has_no_float_of_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # s = 1: the residual chain starts at u₀ = 1 = s, predicted time 0 (decided at step 0, excluded)
    code, doc = _run_json(["run", "deep-linear", "--set", "target_scale=1", "--set", "depths=1,2",
                           "--set", "max_steps=2000", "--seeds", "1"], tmp_path, capsys)
    assert code in (0, 1) and doc["checks"][0]["status"] in ("passed", "no evidence")
    assert all(r["relative_error"] is None for r in doc["records"] if r["variant"] == "residual")


def test_extreme_target_scale_within_range_runs_to_a_verdict(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run_json(["run", "deep-linear", "--set", "target_scale=1000", "--set", "depths=1,3",
                           "--set", "max_steps=100", "--seeds", "1"], tmp_path, capsys)
    assert code in (0, 1)
    json.dumps(doc, allow_nan=False)


def test_scalar_sweep_makes_one_run_per_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    code = main(["run", "linear-block", "--set", "width=2,3", "--set", "lr_factors=0.5", "--set", "max_steps=300",
                 "--seeds", "1", "--no-figures", "--json", "--out", str(out)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and [p["overrides"] for p in doc["sweep"]] == [{"width": 2}, {"width": 3}]
    for point, width in zip(doc["sweep"], (2, 3), strict=True):
        assert point["summary"]["config"]["width"] == width
        summary = json.loads((out / f"width={width}" / "summary.json").read_text())
        assert summary["config"]["width"] == width and (out / f"width={width}" / "runs.csv").exists()
    index = json.loads((out / "sweep.json").read_text())
    assert [p["folder"] for p in index["points"]] == ["width=2", "width=3"]


@pytest.mark.parametrize("values", [
    (0.5, 0.5000001, 1e-05, 1.0000000000000002),  # floats that print alike with 6 digits
    ("a/b", "../../x", "a", ".", "..", "a b", "%2F", "\u00e9", "x" * 300, "x" * 299 + "y"),  # paths, odd names
])
def test_sweep_folders_are_single_distinct_path_components(values: tuple[object, ...]) -> None:
    from hfx.sweep import Point

    folders = [Point(None, (("v", v),)).folder for v in values]  # type: ignore[arg-type]
    assert len(set(folders)) == len(folders)
    for name in folders:
        assert "/" not in name and name not in (".", "..") and len(name) <= 120 and name.isascii()
        assert Path("out", name).parent == Path("out")


def test_two_swept_scalars_make_their_product(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "weight-decay", "--set", "width=2,3", "--set", "optimizer=gd,sgd", "--set", "lrs=0.2",
                 "--set", "weight_decays=0.5", "--set", "max_steps=30", "--seeds", "1", "--no-figures", "--json",
                 "--out", str(tmp_path / "sweep")])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and len(doc["sweep"]) == 4
    assert {p["folder"] for p in doc["sweep"]} == {"width=2,optimizer=gd", "width=2,optimizer=sgd",
                                                   "width=3,optimizer=gd", "width=3,optimizer=sgd"}


def test_degradation_is_a_named_experiment_with_its_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "degradation"
    code = main(["run", "degradation", "--set", "depths=4,6", "--set", "width=8", "--set", "epochs=1", "--seeds", "2",
                 "--set", "lrs=0.05", "--set", "widen=0", "--set", "norms=batch", "--json", "--out", str(out)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["experiment"] == "degradation" and len(doc["records"]) == 2 * 2 * 2
    assert {r["architecture"] for r in doc["records"]} == {"plain", "residual"}
    for r in doc["records"]:
        assert 0 <= r["train_error"] <= 1 and 0 <= r["test_error"] <= 1
    for name in ("degradation-error-vs-depth", "degradation-responses"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert (out / "figures" / f"{name}.pdf").stat().st_size > 1000
        assert (out / "figures" / f"{name}.csv").read_text().count("\n") > 1  # the data drawn, beside it


def test_list_experiments_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "experiments", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rows]
    assert names == ["branch-norms", "branch-rate", "deep-linear", "deep-stack", "degradation", "hardt-ma-bound",
                     "identity-init", "linear-block", "nonlinear-block", "trainable-depth", "weight-decay"]
    for row in rows:
        assert row["description"]
        for p in row["parameters"]:
            assert {"name", "type", "default", "help"} <= set(p)
            assert "choices" in p or "range" in p or "path" in p or p["type"] == "bool"  # every constraint listed
        assert "seeds" in {p["name"] for p in row["parameters"]}


def test_list_experiments_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "experiments"]) == 0
    text = capsys.readouterr().out
    assert "degradation:" in text and "[1, 4096]" in text


def test_run_figures_are_as_publication_grade_as_verifys(written: tuple[int, Path]) -> None:
    """`hfx run` draws its figures like `hfx verify` (`hfx.figures`): a serif Type 42 font and a print width
    (they were drawn in matplotlib's defaults: DejaVu Sans at 6.75 × 2 in, with 6 pt labels)."""
    import io

    import pypdf

    from hfx.figures import COLUMN, TEXT

    _, out = written
    pdf = (out / "figures" / "linear-block-loss.pdf").read_bytes()
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    width_in = float(page.mediabox.width) / 72
    assert min(abs(width_in - COLUMN), abs(width_in - TEXT)) < 0.01, width_in
    assert b"/Type3" not in pdf and b"DejaVuSerif" in pdf and b"DejaVuSans-" not in pdf
