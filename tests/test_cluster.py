"""Dask: a LocalCluster of 2 workers gives the results of a local run, bit for bit; the cluster and device options
refuse bad input with one line (exit 2) before any work; Dask is imported only when a cluster option is given."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from _outputs import folder_view, manifest, same

from hfx.cli import main
from hfx.execute import Backend, Job, execute, execute_all
from numerics.experiments import get, run
from numerics.experiments.params import Value, replace_flat

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]
SMALL: dict[str, dict[str, Value]] = {  # several chunks each, a few seconds in all
    "deep-stack": {"depths": (1, 3), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 3, "max_steps": 60,
                   "chunk_seeds": 2, "optimizer": "sgd", "batch_size": 8},
    "linear-block": {"seeds": 4, "lr_factors": (0.3, 1.2), "max_steps": 300, "chunk_seeds": 1},
    "trainable-depth": {"depths": (1, 10), "variants": ("plain", "rezero"), "rate_constants": (0.3, 1.0),
                        "seeds": 3, "max_steps": 50, "chunk_seeds": 2},
}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from hfx import cluster

    with cluster.connect(2, None) as c:
        yield c


def test_a_local_cluster_of_two_workers_gives_the_local_results_bit_for_bit(client: Any) -> None:
    jobs = [Job(get(name), replace_flat(get(name).Config(), values)) for name, values in SMALL.items()]
    on_cluster = execute_all(jobs, Backend(client=client))  # every chunk of all three at once, in any order
    assert len(client.scheduler_info()["workers"]) == 2
    for job, result in zip(jobs, on_cluster, strict=True):
        same(run(job.experiment, job.config), result)  # in this process, chunk after chunk
        assert result.records


def test_results_do_not_depend_on_the_number_of_workers(client: Any) -> None:
    module = get("linear-block")
    config = replace_flat(module.Config(), SMALL["linear-block"])
    same(execute(Job(module, config), Backend()), execute(Job(module, config), Backend(client=client)))
    from hfx import cluster

    with cluster.connect(1, None) as one:
        same(execute(Job(module, config), Backend(client=one)), execute(Job(module, config), Backend(client=client)))


def test_a_lost_worker_loses_nothing(client: Any) -> None:
    # a worker killed while it trains a chunk: the scheduler gives that chunk to another worker
    import signal

    from distributed import as_completed

    from hfx.execute import chunk_task

    module = get("deep-stack")
    config = replace_flat(module.Config(), {**SMALL["deep-stack"], "max_steps": 400, "chunk_seeds": 1})
    futures = [client.submit(chunk_task, module.NAME, config, c, "cpu", 1, pure=False, key=f"lost-{c.index}")
               for c in module.chunks(config)]
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    os.kill(victim, signal.SIGKILL)
    parts = [f.result() for f in as_completed(futures)]
    same(module.merge(config, parts), run(module, config))
    client.wait_for_workers(2, timeout=120)  # the nanny starts a new worker


def _run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hfx", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_hfx_run_with_workers_writes_what_a_local_run_writes(tmp_path: Path) -> None:
    sets = ["--set", "depths=1,3", "--set", "variants=plain,rezero", "--set", "lrs=0.03", "--set", "max_steps=60",
            "--set", "chunk_seeds=1", "--seeds", "2", "--no-figures"]
    local = _run_cli(["run", "deep-stack", *sets, "--out", str(tmp_path / "local")], tmp_path)
    dask = _run_cli(["run", "deep-stack", *sets, "--workers", "2", "--out", str(tmp_path / "dask")], tmp_path)
    assert local.returncode == dask.returncode == 0, dask.stderr
    assert folder_view(tmp_path / "local") == folder_view(tmp_path / "dask")
    assert manifest(tmp_path / "dask")["workers"] == 2 and "workers" not in manifest(tmp_path / "local")
    assert manifest(tmp_path / "dask")["config_hash"] == manifest(tmp_path / "local")["config_hash"]


# ---- bad input: one line on stderr, exit 2, nothing written, before any work ---------------------------------

BAD = [
    (["run", "linear-block", "--workers", "0"], "--workers must be in [1, 1024], got 0"),
    (["run", "linear-block", "--workers", "-2"], "--workers must be in [1, 1024]"),
    (["run", "linear-block", "--workers", "100000"], "--workers must be in [1, 1024]"),
    (["run", "linear-block", "--workers", "two"], "--workers: invalid int value"),
    (["run", "linear-block", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "give one"),
    (["run", "linear-block", "--scheduler", "not an address"], "is not a scheduler address"),
    (["run", "linear-block", "--scheduler", "tcp://127.0.0.1:99999"], "is not a scheduler address"),
    (["run", "linear-block", "--scheduler", "http://127.0.0.1:8786"], "is not a scheduler address"),
    (["run", "linear-block", "--scheduler", ""], "is not a scheduler address"),
    (["run", "linear-block", "--device", "gpu"], "--device: invalid choice: 'gpu'"),
    (["verify", "--workers", "0"], "--workers must be in [1, 1024]"),
    (["run", "branch-norms", "--workers", "2"], "branch-norms runs whole"),  # the degradation study does not
    (["run", "branch-norms", "--resume"], "--workers, --scheduler and --resume apply to the batched experiments"),
    (["run", "degradation", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "give one"),
    (["run", "degradation", "--workers", "0"], "--workers must be in [1, 1024]"),
    (["verify", "--scheduler", "tcp://nowhere"], "is not a scheduler address"),
    (["verify", "--device", "tpu"], "--device: invalid choice"),
]


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def work(*args: object, **kwargs: object) -> object:
        raise AssertionError("work started before the input was validated")

    import hfx.theorems
    from numerics.experiments import linear_block

    monkeypatch.setattr(hfx.theorems, "verify_ids", work)
    monkeypatch.setattr(linear_block, "run_chunk", work)


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a[1:]) or a[0] for a, _ in BAD])
def test_bad_cluster_and_device_options_are_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


@pytest.mark.parametrize("command", [["run", "linear-block"], ["verify"]])
def test_an_unreachable_scheduler_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    assert main([*command, "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)]) == 2  # nothing listens on 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot reach a Dask scheduler there" in err, err
    assert not out.exists()


def test_hfx_run_on_a_scheduler_writes_what_a_local_run_writes(client: Any, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    sets = ["--seeds", "3", "--set", "chunk_seeds=1", "--set", "max_steps=200", "--no-figures"]
    address = client.scheduler.address  # the fixture's LocalCluster, reached as a remote scheduler is
    assert main(["run", "linear-block", *sets, "--scheduler", address, "--out", str(tmp_path / "remote")]) in (0, 1)
    assert main(["run", "linear-block", *sets, "--out", str(tmp_path / "local")]) in (0, 1)
    assert folder_view(tmp_path / "remote") == folder_view(tmp_path / "local")
    assert manifest(tmp_path / "remote")["scheduler"] == address
    capsys.readouterr()


def _serve(reply: bytes) -> tuple[str, Callable[[], None]]:
    """A TCP server on a free loopback port that accepts, sends `reply`, and keeps the connection open."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                held.append(conn)  # held first: closed below even if the peer has gone before the reply
                conn.sendall(reply)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()

    def close() -> None:
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        server.close()
        acceptor.join(timeout=5)
        for conn in held:
            conn.close()

    return f"tcp://127.0.0.1:{server.getsockname()[1]}", close


@pytest.mark.parametrize(("reply", "message"), [
    (b"", "nothing answered within 1 s"),  # e.g. an HTTP server: it waits for a request, Dask for a handshake
    (b"SSH-2.0-OpenSSH_9.6\r\n", "does not speak Dask's protocol"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "does not speak Dask's protocol"),
])
def test_a_server_that_is_not_a_dask_scheduler_is_exit_2_not_a_hang(
    reply: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from hfx import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)  # distributed's Client alone would wait forever
    address, close = _serve(reply)
    try:
        assert main(["run", "linear-block", "--scheduler", address, "--out", str(tmp_path / "out")]) == 2
    finally:
        close()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a Dask scheduler" in err and message in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
@pytest.mark.parametrize("command", [["run", "linear-block"], ["verify"]])
def test_cuda_without_a_device_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    assert main([*command, "--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--device cuda: no CUDA device on this machine" in err, err
    assert not out.exists()


def test_device_auto_takes_cuda_when_present_else_the_cpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "auto"
    args = ["run", "linear-block", "--seeds", "1", "--set", "max_steps=50", "--no-figures", "--out"]
    code = main([*args, str(out), "--device", "auto"])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert manifest(out)["device"] == expected and code in (0, 1)
    assert main([*args, str(tmp_path / "cpu"), "--device", "cpu"]) == code
    if expected == "cpu":  # the same device: the same results
        assert folder_view(out) == folder_view(tmp_path / "cpu")
    capsys.readouterr()


def test_a_run_without_cluster_options_imports_no_dask(tmp_path: Path) -> None:
    script = ("import sys\nfrom hfx.cli import main\n"
              "code = main(['run', 'linear-block', '--seeds', '1', '--set', 'max_steps=20', '--no-figures', '--out', "
              f"{str(tmp_path / 'out')!r}])\n"
              "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.stdout.splitlines()[-1] == "0 []", done.stderr  # after the run's table


def test_the_slurm_recipe_of_the_docs_makes_a_valid_job(tmp_path: Path) -> None:
    # the recipe's code, as written in docs/cluster.md, with the pinned dask-jobqueue: it builds the job script
    # (scaling, which would call sbatch, is recorded instead)
    text = (ROOT / "docs" / "cluster.md").read_text(encoding="utf-8")
    recipe = re.search(r"<!-- slurm-recipe -->\n```python\n(.*?)```", text, re.S)
    assert recipe is not None
    script = ("import dask_jobqueue\n"
              "scaled = []\n"
              "dask_jobqueue.SLURMCluster.scale = lambda self, *a, **k: scaled.append(k)\n"
              "dask_jobqueue.SLURMCluster.adapt = lambda self, *a, **k: scaled.append(k)\n"
              f"{recipe.group(1)}\n"
              "print(scaled)\n"
              "print(cluster.job_script())\n"
              "cluster.close()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tcp://" in done.stdout and "#SBATCH" in done.stdout and "--nthreads 1" in done.stdout
    assert "distributed.cli.dask_worker" in done.stdout and "{'jobs':" in done.stdout
