"""`hfx run` and `hfx list experiments`: outputs, one JSON document, exit codes, bad input."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

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


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "no-such-experiment"],
        ["run", "linear-block", "--set", "width=-3"],
        ["run", "linear-block", "--set", "width=2.5"],
        ["run", "linear-block", "--set", "nonsense=1"],
        ["run", "linear-block", "--set", "width"],
        ["run", "linear-block", "--set", "variants=plain,dense"],
        ["run", "linear-block", "--set", "eps=nan"],
        ["run", "linear-block", "--seeds", "0"],
        ["run", "deep-linear", "--set", "depths="],
        ["run", "linear-block", "--set", "seed=-1"],
        ["run", "linear-block", "--set", "seed=99999999999999999999999"],
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    assert main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and captured.err.startswith("hfx")
    assert not out.exists()


def test_list_experiments_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "experiments", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rows]
    assert names == ["deep-linear", "deep-stack", "linear-block", "nonlinear-block", "weight-decay"]
    for row in rows:
        assert row["description"]
        for p in row["parameters"]:
            assert {"name", "type", "default", "help"} <= set(p)
        assert "seeds" in {p["name"] for p in row["parameters"]}
