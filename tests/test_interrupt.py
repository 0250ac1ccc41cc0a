"""Ctrl-C, SIGTERM and SIGKILL on real hfx processes: exit 130/143 at once with one line, no orphaned workers.

A terminal sends Ctrl-C to the whole foreground process group: the tests start hfx in a session of its own
and signal its group the same way.  Waiting limits are generous (a shared 2-core machine); they detect a
hang, they do not time anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

HANG_S = 60  # a command that has not exited this long after the signal is hung
START_S = 300  # how long hfx may take to get to its workers on a loaded machine


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def _start(*argv: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-m", "hfx", *argv], cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        started.append(proc)
        return proc

    yield _start
    for proc in started:  # whatever happened, leave nothing running
        for pid in [proc.pid, *_children(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=HANG_S)
        if proc.stderr is not None:
            proc.stderr.close()


def _running_with_workers(proc: subprocess.Popen[str], out: Path, workers: int) -> list[int]:
    """Wait until hfx has opened its output folder and started `workers` pool processes; their pids."""
    _wait_for(lambda: ((out / "manifest.json").exists() and len(_children(proc.pid)) >= workers) or
              proc.poll() is not None, START_S, "the workers")
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    time.sleep(0.5)  # let the pool hand out its first tasks
    return _children(proc.pid)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, list[str]]:
    code = proc.wait(timeout=HANG_S)
    assert proc.stderr is not None
    return code, proc.stderr.read().strip().splitlines()


def _incomplete(out: Path) -> None:
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    assert not (out / ".hfx.lock").exists()


@pytest.mark.parametrize("command", [["verify", "--no-experiments"], ["derive"]])
def test_ctrl_c_stops_the_workers_and_exits_130_with_one_line(
    start: Callable[..., subprocess.Popen[str]], tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "out"
    proc = start(*command, "--jobs", "2", "--out", str(out))
    workers = _running_with_workers(proc, out, 2)
    os.killpg(proc.pid, signal.SIGINT)
    code, lines = _finish(proc)
    assert code == 130
    assert lines[-1].startswith("hfx: interrupted") and "incomplete" in lines[-1]
    assert not any("Traceback" in line for line in lines)
    _wait_for(lambda: not any(_alive(w) for w in workers), 10, "the workers to end")
    _incomplete(out)


def test_a_second_ctrl_c_during_the_clean_up_changes_nothing(
    start: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = start("verify", "--no-experiments", "--jobs", "2", "--out", str(out))
    workers = _running_with_workers(proc, out, 2)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    code, lines = _finish(proc)
    assert code == 130 and not any("Traceback" in line for line in lines)
    _wait_for(lambda: not any(_alive(w) for w in workers), 10, "the workers to end")
    _incomplete(out)


def test_sigterm_exits_143_and_stops_the_workers(start: Callable[..., subprocess.Popen[str]], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start("verify", "--no-experiments", "--jobs", "2", "--out", str(out))
    workers = _running_with_workers(proc, out, 2)
    os.kill(proc.pid, signal.SIGTERM)  # the main process only, as `kill PID` does
    code, lines = _finish(proc)
    assert code == 143 and lines[-1].startswith("hfx: terminated")
    _wait_for(lambda: not any(_alive(w) for w in workers), 10, "the workers to end")
    _incomplete(out)


def test_workers_die_with_a_killed_parent(start: Callable[..., subprocess.Popen[str]], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start("verify", "--no-experiments", "--jobs", "2", "--out", str(out))
    workers = _running_with_workers(proc, out, 2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=HANG_S)
    _wait_for(lambda: not any(_alive(w) for w in workers), 10, "the orphaned workers to end")
    assert json.loads((out / "manifest.json").read_text())["complete"] is False


def test_ctrl_c_during_a_training_run_exits_130(start: Callable[..., subprocess.Popen[str]], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start("run", "deep-stack", "--out", str(out))
    _wait_for(lambda: (out / "manifest.json").exists() or proc.poll() is not None, START_S, "the run to start")
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)
    code, lines = _finish(proc)
    assert code == 130 and "incomplete (its manifest.json says complete: false)" in lines[-1]
    assert lines[-1].endswith("--resume --out " + str(out) + " computes only what is missing")
    _incomplete(out)


CLUSTER_RUN = ("run", "deep-stack", "--set", "depths=1,3", "--set", "max_steps=400", "--set", "chunk_seeds=1",
               "--seeds", "6", "--no-figures", "--workers", "2")


def _chunks_stored(out: Path) -> int:
    return len(list((out / "chunks").glob("[0-9]*.json"))) if (out / "chunks").is_dir() else 0


def test_ctrl_c_on_a_local_cluster_exits_130_with_one_line_and_no_worker_left(
    start: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = start(*CLUSTER_RUN, "--out", str(out))
    _wait_for(lambda: _chunks_stored(out) >= 1 or proc.poll() is not None, START_S, "a finished chunk")
    assert proc.poll() is None
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: every process of the group gets it
    code, lines = _finish(proc)
    assert code == 130 and lines[-1].startswith("hfx: interrupted") and "--resume" in lines[-1]
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in lines), lines
    _wait_for(lambda: not any(_alive(w) for w in workers), HANG_S, "the Dask workers to end")
    _incomplete(out)


def test_dask_workers_die_with_a_killed_parent(start: Callable[..., subprocess.Popen[str]], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start(*CLUSTER_RUN, "--out", str(out))
    _wait_for(lambda: _chunks_stored(out) >= 1 or proc.poll() is not None, START_S, "a finished chunk")
    assert proc.poll() is None
    workers = _children(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)  # the main process only: nothing of it runs again
    proc.wait(timeout=HANG_S)
    _wait_for(lambda: not any(_alive(w) for w in workers), HANG_S, "the orphaned Dask workers to end")
    assert json.loads((out / "manifest.json").read_text())["complete"] is False


@pytest.mark.parametrize("how", ["returned", "raised"])
def test_the_exit_after_a_signal_is_bounded_even_if_a_thread_hangs(tmp_path: Path, how: str) -> None:
    """Python's exit joins every non-daemon thread (a pool's manager thread, say): one that never ends must not
    keep hfx from exiting with its code after a Ctrl-C, whichever way the interrupt reached the entry point."""
    program = (
        "import sys, threading, hfx._entry as entry, hfx.cli as cli\n"
        "entry.EXIT_GRACE_S = 0.5\n"
        "def main():\n"
        "    threading.Thread(target=threading.Event().wait, name='stuck').start()\n"
        + ("    return 130\n" if how == "returned" else "    raise KeyboardInterrupt\n")
        + "cli.main = main\n"
        "sys.exit(entry.main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True,
                          timeout=HANG_S)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated"),
                                                   (signal.SIGHUP, 129, "hung up (SIGHUP)")])
def test_a_signal_while_the_entry_point_is_imported_is_one_line_and_its_code(
    tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    """The console script imports hfx._entry before `main` runs: a signal then (here: sent by the process to itself
    right after that import, where Python's own handler printed a traceback of the import) is one line."""
    program = f"import os, hfx._entry\nos.kill(os.getpid(), {int(sig)})\nimport time\ntime.sleep(30)\n"
    proc = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True,
                          timeout=HANG_S)
    assert (proc.returncode, proc.stderr) == (code, f"hfx: {word}\n")


def test_a_signal_ignored_at_start_stays_ignored_by_the_entry_point(tmp_path: Path) -> None:
    """nohup, or a background job of a non-interactive shell: the ignored signal is the caller's choice."""
    program = ("import signal, hfx._entry\n"
               "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN, signal.getsignal(signal.SIGHUP) is "
               "signal.SIG_IGN, signal.getsignal(signal.SIGTERM) is hfx._entry._leave_now)\n")

    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True,
                          timeout=HANG_S, preexec_fn=ignore)
    assert proc.stdout.split() == ["True", "True", "True"], proc.stderr
