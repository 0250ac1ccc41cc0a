"""`hfx run … --resume`: a run killed midway (SIGKILL: no handler runs) resumes to the outputs of an
uninterrupted run, computing only the missing chunks; nothing that looks complete is left by the kill; a store of
another configuration, or a damaged chunk file, is never merged.

The killed runs are real `hfx` processes in a session of their own; the rest runs in this process.  Waiting limits
are generous (a shared machine): they detect a hang, they time nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _outputs import folder_view, manifest

from hfx.cli import main

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL of a process group")

START_S = 300  # how long a loaded machine may take to finish the first chunks
HANG_S = 120
# deep-stack, 4 architectures × 6 seeds, one seed per chunk: 24 chunks of a fraction of a second each
KILLED = ["run", "deep-stack", "--set", "depths=1,3", "--set", "variants=plain,residual", "--set", "lrs=0.03",
          "--set", "max_steps=400", "--set", "chunk_seeds=1", "--set", "optimizer=sgd", "--set", "batch_size=8",
          "--seeds", "6", "--no-figures"]
CHUNKS = 24
SMALL = ["run", "linear-block", "--seeds", "4", "--set", "chunk_seeds=1", "--set", "max_steps=200", "--no-figures"]


def _hfx(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hfx", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


def _chunk_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "chunks").glob("[0-9]*.json"))


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _kill_midway(argv: list[str], out: Path, cwd: Path, after: int) -> int:
    """Start hfx, SIGKILL its whole process group once `after` chunks are stored; the chunk files left."""
    proc = subprocess.Popen([sys.executable, "-m", "hfx", *argv, "--out", str(out)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: len(_chunk_files(out)) >= after or proc.poll() is not None, START_S, "finished chunks")
        assert proc.poll() is None, "the run ended before it could be killed: make it longer"
    finally:
        with contextlib.suppress(ProcessLookupError):  # the run and every worker it started: no handler runs
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=HANG_S)
    return len(_chunk_files(out))


@pytest.mark.parametrize("cluster", [[], ["--workers", "2"]], ids=["local", "workers-2"])
def test_a_run_killed_midway_resumes_to_the_outputs_of_an_uninterrupted_run(cluster: list[str],
                                                                            tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    left = _kill_midway([*KILLED, *cluster], killed, tmp_path, after=4)
    assert 4 <= left < CHUNKS, left
    assert manifest(killed)["complete"] is False  # nothing that looks complete
    assert not (killed / "runs.csv").exists() and not (killed / "summary.json").exists()

    resumed = _hfx([*KILLED, "--resume", "--out", str(killed)], tmp_path)  # locally, whatever ran before
    assert resumed.returncode == 0, resumed.stderr
    whole = _hfx([*KILLED, "--out", str(tmp_path / "whole")], tmp_path)
    assert whole.returncode == 0, whole.stderr

    assert folder_view(killed) == folder_view(tmp_path / "whole")  # every record and summary, bit for bit
    done = manifest(killed)
    assert done["complete"] is True and done["chunks"] == CHUNKS
    assert done["resumed_chunks"] >= left  # what the kill left was kept (a chunk may finish as it dies)
    assert done["resumed_chunks"] < CHUNKS  # and the rest computed
    assert done["config_hash"] == manifest(tmp_path / "whole")["config_hash"]
    assert _chunk_files(killed) == [f"{i:06d}.json" for i in range(CHUNKS)]  # each chunk once
    assert not [p for p in killed.rglob("*") if p.name.endswith(".hfx-tmp")]  # no temporary left over
    files = done["files"]
    assert isinstance(files, dict) and f"chunks/{CHUNKS - 1:06d}.json" in files and "chunks/store.json" in files


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    out = tmp_path / "small"
    assert main([*SMALL, "--out", str(out)]) in (0, 1)
    return out


@pytest.fixture
def no_chunk_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def work(*args: object, **kwargs: object) -> object:
        raise AssertionError("a chunk was computed")

    from numerics.experiments import linear_block

    monkeypatch.setattr(linear_block, "run_chunk", work)


def test_resuming_a_complete_folder_computes_nothing_and_writes_the_same(
        finished: Path, capsys: pytest.CaptureFixture[str], no_chunk_runs: None) -> None:
    before = folder_view(finished)
    assert main([*SMALL, "--resume", "--out", str(finished)]) in (0, 1)  # run_chunk would raise
    assert folder_view(finished) == before
    assert manifest(finished)["resumed_chunks"] == manifest(finished)["chunks"] == 8
    capsys.readouterr()


def test_a_damaged_chunk_file_is_computed_again(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_view(finished)
    (finished / "chunks" / "000003.json").write_text('{"config_hash": "x", "result": tru', encoding="utf-8")
    doc = json.loads((finished / "chunks" / "000005.json").read_text(encoding="utf-8"))
    doc["result"]["fields"]["records"] = {"tuple": []}  # a chunk that lost its records
    (finished / "chunks" / "000005.json").write_text(json.dumps(doc), encoding="utf-8")
    assert main([*SMALL, "--resume", "--out", str(finished)]) in (0, 1)
    err = capsys.readouterr().err
    assert "000003.json cannot be used" in err and "000005.json cannot be used" in err
    assert folder_view(finished) == before and manifest(finished)["resumed_chunks"] == 6


@pytest.mark.parametrize(("change", "message"), [
    (["--set", "max_steps=201"], "was run with another configuration"),
    (["--seeds", "5"], "was run with another configuration"),
])
def test_resume_refuses_another_configuration_and_touches_nothing(
        finished: Path, change: list[str], message: str, capsys: pytest.CaptureFixture[str],
        no_chunk_runs: None) -> None:
    capsys.readouterr()
    stamp = {p: p.stat().st_mtime_ns for p in finished.rglob("*")}
    assert main([*SMALL, *change, "--resume", "--out", str(finished)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert {p: p.stat().st_mtime_ns for p in finished.rglob("*")} == stamp


def test_resume_refuses_another_experiment(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["run", "deep-linear", "--resume", "--out", str(finished)]) == 2
    err = capsys.readouterr().err.strip()
    # (refused as any command into another's folder is, before torch is imported: hfx.owner)
    assert len(err.splitlines()) == 1 and "'hfx run linear-block', not of 'hfx run deep-linear'" in err, err


def test_without_resume_a_run_starts_afresh(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*SMALL, "--set", "max_steps=150", "--out", str(finished)]) in (0, 1)
    assert "8 finished chunks of the previous run discarded" in capsys.readouterr().err
    assert manifest(finished)["resumed_chunks"] == 0


def test_resume_with_nothing_to_resume_says_so_and_computes_everything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new"
    assert main([*SMALL, "--resume", "--out", str(out)]) in (0, 1)
    err = capsys.readouterr().err
    assert f"--resume: nothing to resume in {out}" in err, err
    assert manifest(out)["resumed_chunks"] == 0 and manifest(out)["chunks"] == len(_chunk_files(out)) > 0
