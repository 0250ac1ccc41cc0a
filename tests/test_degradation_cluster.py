"""The degradation study on a Dask cluster and resumed after a kill (`hfx.degradation_jobs`): a LocalCluster of 2
workers gives the records of a local run bit for bit, round after round; a run SIGKILLed midway resumes to the
outputs of an uninterrupted run, computing each missing job once and no finished one again; a resume into
another configuration, another experiment or a verify folder is one line, exit 2, nothing touched.

Tiny studies (MLPs of depth 4–8, width 8–16, a few epochs on the digits) whose learning-rate grid is widened
once, so that every test crosses a round.  The killed runs are real `hfx` processes in a session of their own;
waiting limits are generous (a shared machine): they detect a hang, they time nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from _outputs import folder_view, manifest, same

from hfx.cli import main
from hfx.degradation_jobs import JobStore, run_study
from hfx.lock import LOCK_NAME
from numerics.experiments import degradation
from numerics.experiments.params import Value, replace_flat

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]
TINY: dict[str, Value] = {"depths": (4, 6), "width": 8, "epochs": 2, "lrs": (0.05, 0.2), "widen": 1,
                          "norms": ("batch",), "replicates.seeds": 2}
TINY_ARGS = ["--set", "depths=4,6", "--set", "width=8", "--set", "epochs=2", "--set", "lrs=0.05,0.2", "--set",
             "widen=1", "--set", "norms=batch", "--seeds", "2", "--no-figures"]
# 12 jobs in round 0 (2 norms × 3 depths × 2 architectures), 12 in round 1 (each arm's best rate at an edge)
KILLED = ["run", "degradation", "--set", "depths=4,6,8", "--set", "width=16", "--set", "epochs=20", "--set",
          "lrs=0.05,0.2", "--set", "widen=1", "--set", "norms=batch,none", "--set", "plateau_window=40", "--seeds", "2",
          "--no-figures"]
ROUND0 = 12
START_S = 300
HANG_S = 120


def _tiny() -> degradation.Config:
    return replace_flat(degradation.Config(), {"seeds" if k == "replicates.seeds" else k: v for k, v in TINY.items()})


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from hfx import cluster

    with cluster.connect(2, None) as c:
        yield c


def test_a_local_cluster_of_two_workers_gives_the_local_results_bit_for_bit(client: Any) -> None:
    config = _tiny()
    on_cluster = run_study(config, client=client)
    assert len(client.scheduler_info()["workers"]) == 2
    assert {r.round for r in on_cluster.records} == {0, 1}  # a widening round ran, on the cluster too
    same(run_study(config), on_cluster)  # over the local pool of `hfx run`
    same(degradation.run(config, torch.Generator()), on_cluster)  # in this process, one job after the other


def test_hfx_run_degradation_with_workers_writes_what_a_local_run_writes(tmp_path: Path) -> None:
    def hfx(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hfx", *argv], cwd=tmp_path, capture_output=True, text=True,
                              timeout=600)

    local = hfx("run", "degradation", *TINY_ARGS, "--out", str(tmp_path / "local"))
    dask = hfx("run", "degradation", *TINY_ARGS, "--workers", "2", "--out", str(tmp_path / "dask"))
    assert local.returncode == dask.returncode == 0, dask.stderr
    assert folder_view(tmp_path / "local") == folder_view(tmp_path / "dask")
    done = manifest(tmp_path / "dask")
    assert done["workers"] == 2 and "workers" not in manifest(tmp_path / "local")
    assert done["config_hash"] == manifest(tmp_path / "local")["config_hash"]
    assert done["jobs"] == manifest(tmp_path / "local")["jobs"] == 8 and done["resumed_jobs"] == 0


def test_hfx_run_degradation_on_a_scheduler_writes_what_a_local_run_writes(
        client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    address = client.scheduler.address  # the fixture's LocalCluster, reached as a remote scheduler is
    assert main(["run", "degradation", *TINY_ARGS, "--scheduler", address, "--out", str(tmp_path / "remote")]) == 0
    assert main(["run", "degradation", *TINY_ARGS, "--out", str(tmp_path / "local")]) == 0
    assert folder_view(tmp_path / "remote") == folder_view(tmp_path / "local")
    assert manifest(tmp_path / "remote")["scheduler"] == address
    capsys.readouterr()


def test_verify_runs_the_degradation_study_on_its_cluster(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # what `hfx verify --workers/--scheduler` passes on: its Backend's client reaches the study's jobs
    from hfx import degradation_jobs, measure
    from hfx.execute import Backend

    seen: list[object] = []
    real = degradation_jobs.run_study

    def spy(config: degradation.Config, progress: object = None, client: object = None) -> degradation.Result:
        seen.append(client)
        return real(config, None, client)  # type: ignore[arg-type]

    monkeypatch.setattr(degradation_jobs, "run_study", spy)
    result = measure.run_degradation(_tiny(), None, Backend(client=client))
    assert seen == [client]
    same(run_study(_tiny()), result)


# ---- resume after a SIGKILL --------------------------------------------------------------------------------


def _job_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "chunks").glob("[0-9]*.json"))


def _kill_midway(argv: list[str], out: Path, cwd: Path, after: int) -> list[str]:
    """Start hfx, SIGKILL its whole process group once `after` jobs are stored; the job files left."""
    proc = subprocess.Popen([sys.executable, "-m", "hfx", *argv, "--out", str(out)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_S
        while len(_job_files(out)) < after and proc.poll() is None:
            assert time.monotonic() < deadline, "timed out waiting for finished jobs"
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed: make it longer"
    finally:
        with contextlib.suppress(ProcessLookupError):  # the run and every worker it started: no handler runs
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=HANG_S)
        _wait_for_the_lock(out)
    return _job_files(out)


def _wait_for_the_lock(out: Path) -> None:
    """Until the killed run's pool workers (forked: they share its lock) have exited too, as a user's next run
    would find them: under load the kernel takes a moment to end them after the SIGKILL."""
    path = out / LOCK_NAME
    if not path.exists():
        return
    deadline = time.monotonic() + HANG_S
    fd = os.open(path, os.O_RDWR)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                assert time.monotonic() < deadline, "the killed run's processes still hold its folder"
                time.sleep(0.05)
    finally:
        os.close(fd)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL of a process group")
@pytest.mark.parametrize("cluster", [[], ["--workers", "2"]], ids=["local", "workers-2"])
def test_a_study_killed_midway_resumes_to_the_outputs_of_an_uninterrupted_run(
        cluster: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    killed = tmp_path / "killed"
    left = _kill_midway([*KILLED, *cluster], killed, tmp_path, after=ROUND0 + 2)  # into the widening round
    assert manifest(killed)["complete"] is False  # nothing that looks complete
    assert not (killed / "runs.csv").exists() and not (killed / "summary.json").exists()

    computed: list[str] = []  # every job the resumed run computes (saved as it finishes, in this process)
    save = JobStore.save_job

    def counted(self: JobStore, job: degradation.Job, runs: Any) -> None:
        computed.append(self._name(job))
        save(self, job, runs)

    monkeypatch.setattr(JobStore, "save_job", counted)
    assert main([*KILLED, "--resume", "--out", str(killed)]) == 0  # locally, whatever ran before
    monkeypatch.undo()
    assert main([*KILLED, "--out", str(tmp_path / "whole")]) == 0
    capsys.readouterr()

    assert folder_view(killed) == folder_view(tmp_path / "whole")  # every record and summary, bit for bit
    every = _job_files(tmp_path / "whole")
    assert len(every) > ROUND0 + 2 and _job_files(killed) == every  # no job lost
    assert len(computed) == len(set(computed)) and not set(computed) & set(left)  # none computed twice
    assert sorted([*left, *computed]) == every  # each job once: kept from the killed run, or computed now
    done = manifest(killed)
    assert done["complete"] is True and done["jobs"] == len(every) and done["resumed_jobs"] == len(left)
    assert done["config_hash"] == manifest(tmp_path / "whole")["config_hash"]
    assert not [p for p in killed.rglob("*") if p.name.endswith(".hfx-tmp")]  # no temporary left over
    assert {f"chunks/{name}" for name in every} <= set(done["files"])


# ---- resuming what cannot be resumed: one line, exit 2, nothing touched -----------------------------------


@pytest.fixture
def finished(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "tiny"
    assert main(["run", "degradation", *TINY_ARGS, "--out", str(out)]) == 0
    capsys.readouterr()
    return out


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def work(*args: object, **kwargs: object) -> object:
        raise AssertionError("a job was trained")

    monkeypatch.setattr(degradation, "train_job", work)


def test_resuming_a_complete_study_trains_nothing_and_writes_the_same(
        finished: Path, capsys: pytest.CaptureFixture[str], no_training: None) -> None:
    before = folder_view(finished)
    assert main(["run", "degradation", *TINY_ARGS, "--resume", "--out", str(finished)]) == 0
    assert folder_view(finished) == before
    assert manifest(finished)["resumed_jobs"] == manifest(finished)["jobs"] == 8
    capsys.readouterr()


def test_a_damaged_or_foreign_job_file_is_computed_again(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_view(finished)
    names = _job_files(finished)
    (finished / "chunks" / names[0]).write_text('{"config_hash": "x", "result": tru', encoding="utf-8")
    other = json.loads((finished / "chunks" / names[1]).read_text(encoding="utf-8"))
    (finished / "chunks" / names[2]).write_text(json.dumps(other), encoding="utf-8")  # another job's runs
    assert main(["run", "degradation", *TINY_ARGS, "--resume", "--out", str(finished)]) == 0
    err = capsys.readouterr().err
    assert f"{names[0]} cannot be used" in err and f"{names[2]} cannot be used (of another job)" in err
    assert folder_view(finished) == before and manifest(finished)["resumed_jobs"] == 6


def _verify_folder(out: Path) -> Path:
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"config": {"command": "verify", "tier": "quick"},
                                                   "complete": True, "files": {}}), encoding="utf-8")
    return out


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "degradation", *TINY_ARGS, "--set", "epochs=3"], "was run with another configuration"),
    (["run", "degradation", *TINY_ARGS, "--seeds", "3"], "was run with another configuration"),
    (["run", "degradation", *TINY_ARGS, "--set", "norms=none"], "was run with another configuration"),
    (["run", "degradation", *TINY_ARGS, "--workers", "2", "--set", "width=9"], "was run with another configuration"),
    (["run", "linear-block", "--seeds", "2"], "'hfx run degradation', not of 'hfx run linear-block'"),  # hfx.owner
])
def test_resume_refuses_another_configuration_or_experiment_and_touches_nothing(
        finished: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str], no_training: None) -> None:
    stamp = {p: p.stat().st_mtime_ns for p in finished.rglob("*")}
    assert main([*argv, "--resume", "--out", str(finished)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert {p: p.stat().st_mtime_ns for p in finished.rglob("*")} == stamp


def test_resume_into_a_chunked_experiment_or_a_verify_folder_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], no_training: None) -> None:
    chunked = tmp_path / "linear"
    assert main(["run", "linear-block", "--seeds", "2", "--set", "max_steps=50", "--no-figures", "--out",
                 str(chunked)]) in (0, 1)
    capsys.readouterr()
    for out, message in ((chunked, "'hfx run linear-block', not of 'hfx run degradation'"),  # hfx.owner
                         (_verify_folder(tmp_path / "verify"), "holds the output of 'hfx verify'")):
        stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
        assert main(["run", "degradation", *TINY_ARGS, "--resume", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamp


def test_the_small_studies_still_run_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for option in (["--workers", "2"], ["--resume"]):
        assert main(["run", "branch-norms", *option, "--out", str(tmp_path / "bn")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "branch-norms runs whole" in err, err
    assert not (tmp_path / "bn").exists()


# ---- Ctrl-C and the folder lock, as for the chunked experiments -------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals a process group")
@pytest.mark.parametrize("cluster", [[], ["--workers", "2"]], ids=["local", "workers-2"])
def test_ctrl_c_exits_130_with_one_line_the_folder_locked_until_then_and_resumable(
        cluster: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "hfx", *KILLED, *cluster, "--out", str(out)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + START_S
        while len(_job_files(out)) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "timed out waiting for finished jobs"
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted: make it longer"
        assert main([*KILLED, "--resume", "--out", str(out)]) == 2  # a second run into the same folder
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "is in use by another hfx run" in err, err
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: every process of the group gets it
        code = proc.wait(timeout=HANG_S)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=HANG_S)
    assert proc.stderr is not None
    lines = proc.stderr.read().strip().splitlines()
    proc.stderr.close()
    assert code == 130 and lines[-1].startswith("hfx: interrupted"), lines
    assert lines[-1].endswith(f"--resume --out {out} computes only what is missing")
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in lines), lines
    assert manifest(out)["complete"] is False and not (out / ".hfx.lock").exists()
    stored = _job_files(out)
    assert main([*KILLED, "--resume", "--out", str(out)]) == 0
    capsys.readouterr()
    done = manifest(out)
    assert done["complete"] is True and done["resumed_jobs"] >= len(stored) >= 2
    assert done["jobs"] == len(_job_files(out)) > ROUND0
