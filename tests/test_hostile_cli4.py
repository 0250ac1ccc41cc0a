"""Hostile command lines, round 5 (/tmp/rt5cli/hostile.py): every class found there, kept as tests.

* An option given twice counts with its last value, but every value given is input: `--seeds 0 --seeds 1`,
  `--threads 0 --threads 1`, `--jobs -1 --jobs 2`, `--workers 0 --workers 1`, a malformed `--scheduler` or an
  unusable `--out` that a later one replaces are refused like the last value would be (`hfx.options.given`).
* A file that hfx reads from an output folder (a manifest, the chunk store's header, a chunk) that is not a
  regular file — a FIFO (opening one waits for a writer, for ever), /dev/zero (endless) — is treated as a file
  that does not parse, never read blocking (`hfx.readfile`): a manifest of that kind is not hfx's (refused), a
  chunk is computed again.
* Environment variables that a library hfx runs cannot use (`SOURCE_DATE_EPOCH=abc`, `TQDM_MININTERVAL=abc`)
  are bad input: one line naming them, exit 2, before any work; `MPLBACKEND` cannot break the figures (hfx writes
  files only: always Agg) (`hfx.environment`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from _outputs import assert_refused as _refused

import hfx
from hfx.cli import main
from hfx.readfile import NotRegular, read_small

LB = ["run", "linear-block", "--seeds", "1", "--set", "max_steps=5", "--no-figures"]
ID = "reformulation.identity-iff-zero"
EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "residual_identity.py")


# ---- an overridden option value is input too ----------------------------------------------------------------------

OVERRIDDEN = {
    "seeds": (["run", "linear-block", "--seeds", "0", "--seeds", "1"], "--seeds must be ≥ 1, got 0"),
    "threads": (["run", "linear-block", "--threads", "0", "--threads", "1"], "--threads must be in [1, 1024], got 0"),
    "threads-huge": (["run", "linear-block", "--threads", "5000", "--threads=2"], "got 5000"),
    "workers": (["run", "linear-block", "--workers", "0", "--workers", "1"], "--workers must be in [1, 1024], got 0"),
    "scheduler": (["run", "linear-block", "--scheduler", "a b", "--scheduler", "127.0.0.1:8786"],
                  "--scheduler 'a b' is not a scheduler address"),
    "run-out-root": (["run", "linear-block", "--out", "/", "--out", "{tmp}/o"], "is the root of the file system"),
    "jobs-derive": (["derive", ID, "--jobs", "-1", "--jobs", "1"], "--jobs must be ≥ 0, got -1"),
    "jobs-verify": (["verify", "--jobs", "5000", "--jobs", "0"], "--jobs must be ≤ 1024"),
    "jobs-check": (["check", EXAMPLE, "--jobs", "-3", "--jobs", "1"], "--jobs must be ≥ 0, got -3"),
    "verify-workers": (["verify", "--workers", "0", "--workers", "2"], "--workers must be in [1, 1024], got 0"),
    "verify-scheduler": (["verify", "--scheduler", "nope nope", "--scheduler", "h:1"], "is not a scheduler address"),
    "derive-out-dash": (["derive", ID, "--out", "-", "--out", "{tmp}/o"], "--out '-'"),
    "verify-out-file": (["verify", "--out", "{tmp}/file", "--out", "{tmp}/o"], "exists and is not a folder"),
    "check-out-under-file": (["check", EXAMPLE, "--out", "{tmp}/file/sub", "--out", "{tmp}/o"], "is not a folder"),
}


@pytest.mark.parametrize("case", OVERRIDDEN)
def test_a_value_that_a_later_option_overrides_is_checked_too(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("mine")
    argv, expected = OVERRIDDEN[case]
    _refused([a.replace("{tmp}", str(tmp_path)) for a in argv], expected, tmp_path, capsys)


def test_the_last_value_of_an_option_given_twice_still_counts() -> None:
    from hfx.cli import build_parser
    from hfx.options import given, overridden

    args = build_parser().parse_args(["run", "linear-block", "--seeds", "2", "--seeds=3", "--threads", "4"])
    assert args.seeds == 3 and args.threads == 4
    assert list(given(args, "seeds")) == [2, 3] and overridden(args, "seeds") == [2]
    assert list(given(args, "threads")) == [4] and overridden(args, "threads") == []
    assert list(given(args, "workers")) == [None]  # not given: its default, nothing overridden
    args = build_parser().parse_args(["derive", "--jobs", "1", "--jobs", "2", "--jobs", "3"])
    assert args.jobs == 3 and overridden(args, "jobs") == [1, 2]


# ---- files hfx reads that are not regular files -------------------------------------------------------------------


def _in_thread(fn: object, timeout: float = 20.0) -> object:
    """fn() in a thread; AssertionError if it has not returned within `timeout` (a blocking read of a FIFO)."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()  # type: ignore[operator]
        except BaseException as exc:  # (handed back to the test)
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "blocked (a FIFO opened for reading waits for a writer)"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


def test_read_small_refuses_what_is_not_a_regular_file_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NotRegular):
        _in_thread(lambda: read_small(fifo, 100))
    for special in ("/dev/zero", "/dev/null"):
        if os.path.exists(special):
            with pytest.raises(NotRegular):
                read_small(special, 100)
    (tmp_path / "link").symlink_to("/dev/zero")
    with pytest.raises(NotRegular):
        read_small(tmp_path / "link", 100)
    with pytest.raises(NotRegular):
        read_small(tmp_path, 100)  # a folder
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        read_small(tmp_path / "big", 100)
    (tmp_path / "ok").write_bytes(b"x" * 100)
    assert read_small(tmp_path / "ok", 100) == b"x" * 100
    (tmp_path / "to-ok").symlink_to(tmp_path / "ok")  # a symbolic link to a regular file is that file
    assert read_small(tmp_path / "to-ok", 100) == b"x" * 100


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("argv", [LB, ["derive", ID], ["check", EXAMPLE], ["verify", "--quick"]],
                         ids=["run", "derive", "check", "verify"])
def test_a_manifest_that_is_no_regular_file_is_refused_at_once(
    kind: str, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    if kind == "fifo":
        os.mkfifo(out / "manifest.json")
    else:
        (out / "manifest.json").symlink_to("/dev/zero")
    t0 = time.perf_counter()
    _in_thread(lambda: _refused([*argv, "--out", str(out)], "holds a manifest.json that hfx did not write",
                                tmp_path, capsys), timeout=60)
    assert time.perf_counter() - t0 < 60


def test_owner_and_store_readers_never_block(tmp_path: Path) -> None:
    from hfx.owner import read_owner
    from hfx.store import _read_json

    os.mkfifo(tmp_path / "manifest.json")
    assert _in_thread(lambda: read_owner(tmp_path)) is None
    os.mkfifo(tmp_path / "chunk.json")
    assert _in_thread(lambda: _read_json(tmp_path / "chunk.json")) is None
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    assert _in_thread(lambda: _read_json(tmp_path / "zero.json")) is None


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_resume_over_a_chunk_that_is_no_regular_file(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A chunk that is not a regular file is computed again (as a truncated one is), never read blocking."""
    import json

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main([*LB, "--out", str(out)]) == 0
    chunk = out / "chunks" / "000000.json"
    chunk.unlink()
    if kind == "fifo":
        os.mkfifo(chunk)
    else:
        chunk.symlink_to("/dev/zero")
    assert _in_thread(lambda: main([*LB, "--resume", "--out", str(out)]), timeout=120) in (0, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if json.loads((out / "manifest.json").read_text()).get("complete") is not True:
        assert len([line for line in err.strip().splitlines() if line.startswith("hfx: error")]) == 1, err


# ---- environment variables that a library hfx runs reads ----------------------------------------------------------

ENVIRONMENT = {
    "source-date-epoch-word": ({"SOURCE_DATE_EPOCH": "abc"}, "SOURCE_DATE_EPOCH must be a whole number"),
    "source-date-epoch-float": ({"SOURCE_DATE_EPOCH": "1.5"}, "got '1.5'"),
    "source-date-epoch-negative": ({"SOURCE_DATE_EPOCH": "-5"}, "got '-5'"),
    "source-date-epoch-empty": ({"SOURCE_DATE_EPOCH": ""}, "got ''"),
    "tqdm-mininterval": ({"TQDM_MININTERVAL": "abc"}, "TQDM_MININTERVAL='abc'"),
    "tqdm-ncols": ({"TQDM_NCOLS": "wide"}, "TQDM_NCOLS='wide'"),
    "omp-word": ({"OMP_NUM_THREADS": "abc"}, "OMP_NUM_THREADS must be a positive whole number"),
    "omp-zero": ({"OMP_NUM_THREADS": "0"}, "got '0'"),
    "omp-empty": ({"OMP_NUM_THREADS": ""}, "got ''"),
    "omp-list": ({"OMP_NUM_THREADS": "4,x"}, "got '4,x'"),
    "omp-huge": ({"OMP_NUM_THREADS": "1" + "0" * 20}, "OMP_NUM_THREADS"),
    "mkl-word": ({"MKL_NUM_THREADS": "abc"}, "MKL_NUM_THREADS must be a whole number of threads"),
    "mkl-space": ({"MKL_NUM_THREADS": " 3"}, "got ' 3', with which PyTorch runs on 1 thread"),
}


@pytest.mark.parametrize("argv", [LB, ["derive", ID], ["check", EXAMPLE], ["verify", "--quick"]],
                         ids=["run", "derive", "check", "verify"])
@pytest.mark.parametrize("case", ENVIRONMENT)
def test_an_environment_variable_a_library_cannot_use_is_bad_input(
    case: str, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    env, expected = ENVIRONMENT[case]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _refused([*argv, "--out", str(tmp_path / "out")], expected, tmp_path, capsys)


@pytest.mark.parametrize("env", [{"SOURCE_DATE_EPOCH": "0"}, {"SOURCE_DATE_EPOCH": " 1700000000 "},
                                 {"TQDM_DISABLE": "1"}, {"TQDM_MININTERVAL": "0.5"}, {"OMP_NUM_THREADS": "2"},
                                 {"OMP_NUM_THREADS": " 2 , 1 "}, {"OMP_NUM_THREADS": "+3"},
                                 {"MKL_NUM_THREADS": "2"}, {"MKL_NUM_THREADS": "0"}, {"MKL_NUM_THREADS": ""}])
def test_usable_values_of_those_variables_are_accepted(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from hfx.environment import check_environment

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    check_environment()


def test_a_bad_omp_num_threads_is_one_line_before_openmp_is_loaded() -> None:
    """libgomp printed its own two-line warning (once per copy loaded: twice for `hfx list experiments`) and hfx
    went on; now hfx refuses the value before anything loads OpenMP."""
    import subprocess
    import sys

    code = "import sys; from hfx._entry import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "list", "experiments"],
                          env={**os.environ, "OMP_NUM_THREADS": "abc"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["hfx: error: the environment variable OMP_NUM_THREADS must be a positive whole "
                                        "number of threads (or a comma-separated list of them), got 'abc'; unset it "
                                        "or correct it"]


def test_any_mplbackend_gives_the_file_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    from hfx.environment import check_environment

    monkeypatch.setenv("MPLBACKEND", "no-such-backend")
    check_environment()
    assert os.environ["MPLBACKEND"] == "agg"


@pytest.mark.slow
def test_a_run_with_figures_under_a_bad_mplbackend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was exit 3 after the work (matplotlib's import refused the backend); hfx writes files only: Agg."""
    import subprocess
    import sys

    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "no-such-backend"}
    code = "import sys; from hfx._entry import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "run", "branch-norms", "--seeds", "1", "--set",
                           "max_steps=5", "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert any(p.suffix == ".png" for p in (out / "figures").iterdir())


# ---- the documented commands ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDERS = ("...", "EXPERIMENT", "HOST", "ADDRESS", "FILE.py", "KEY=VALUE", "[", "|", " N", "DIR")


def _documented_commands() -> list[tuple[str, str]]:
    """(file, command line) of every concrete `hfx` command in a shell block of README.md and docs/*.md, and of
    every complete one in their prose."""
    import re
    import shlex

    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        block, joined = False, ""
        for line in doc.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                block, joined = (line.strip() in ("```bash", "```sh", "```")) and not block, ""
                continue
            if not block:
                continue
            joined += line.rstrip("\\").strip() + " "
            if line.endswith("\\"):
                continue
            text, joined = joined.split(" #")[0].strip(), ""
            for part in text.split("&&"):
                words = part.split()
                if words and words[0] in ("hfx", ".venv/bin/hfx") and not any(p in part for p in PLACEHOLDERS):
                    shlex.split(part)  # (a documented command must be one a shell can read)
                    found.append((doc.name, part.strip()))
        inline = re.findall(r"`((?:\.venv/bin/)?hfx (?:run|verify|derive|check|list)[^`]*)`", " ".join(
            doc.read_text(encoding="utf-8").splitlines()))
        for text in inline:  # in the prose: the complete ones (a bare `hfx run` names the command, no more)
            for part in text.split("&&"):
                words = part.split()
                if len(words) >= 4 and words[0] in ("hfx", ".venv/bin/hfx") and not any(
                        p in part for p in PLACEHOLDERS):
                    found.append((doc.name, " ".join(words)))
    return list(dict.fromkeys(found))


DOCUMENTED = _documented_commands()


def test_the_docs_hold_concrete_commands() -> None:
    assert len(DOCUMENTED) >= 10, DOCUMENTED  # README's examples at least (a parser that finds none tests nothing)


@pytest.mark.parametrize("doc, command", DOCUMENTED, ids=[c for _, c in DOCUMENTED])
def test_a_documented_command_is_valid_input(doc: str, command: str, tmp_path: Path) -> None:
    """Every documented command line parses and passes the checks made before any work (the runs themselves:
    /tmp/rt5cli/hostile.py, part docs)."""
    import shlex

    from hfx import preflight
    from hfx.cli import build_parser
    from hfx.run import EXPERIMENT_NAMES

    args = build_parser().parse_args(shlex.split(command)[1:])
    if args.command == "run":
        assert args.experiment in EXPERIMENT_NAMES, command
        preflight.check(args.experiment, args.overrides, args.seeds)
    if args.command == "check":
        assert (ROOT / args.file).is_file(), command
    if args.command == "derive" and args.ids:
        from hfx.theorems import resolve_ids

        assert resolve_ids(args.ids)


# ---- the default output folder, checked before the heavy imports ---------------------------------------------------


@pytest.mark.parametrize("argv", [["run", "linear-block", "--seeds", "1"], ["derive", ID]], ids=["run", "derive"])
def test_an_unusable_default_output_folder_is_refused_before_torch(argv: list[str], tmp_path: Path) -> None:
    """`hfx run` without --out checked its default folder only after importing torch (13 s here for one line)."""
    import subprocess
    import sys

    (tmp_path / "hfx-out").write_text("mine")  # the default folders are below it: a path through a file
    code = "import sys; from hfx.cli import main; code = main(sys.argv[1:]); print('torch' in sys.modules); " \
           "sys.exit(code)"
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == "False"
    assert len(done.stderr.strip().splitlines()) == 1 and "is not a folder" in done.stderr, done.stderr
    assert (tmp_path / "hfx-out").read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["hfx-out"]


# ---- a hang-up sent to the whole process group ----------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_resource_tracker_ignores_a_hangup() -> None:
    """multiprocessing's resource tracker ignores SIGINT and SIGTERM itself, not SIGHUP: a hang-up of the process
    group killed it and the parent printed its KeyError tracebacks; hfx starts it with SIGHUP blocked."""
    import signal
    from multiprocessing import resource_tracker

    from hfx.pool import start_resource_tracker

    start_resource_tracker()
    pid = resource_tracker._resource_tracker._pid  # (the tracker this process shares with its pools)
    assert pid is not None
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    blocked, ignored = (int(fields[k].strip(), 16) for k in ("SigBlk", "SigIgn"))
    assert (blocked | ignored) >> (signal.SIGHUP - 1) & 1, fields["SigBlk"]
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, set()) & {signal.SIGHUP}  # this process: unblocked again


SIGHUP_MASKS = r"""
import signal
from pathlib import Path

def masks(pid=None):
    status = Path(f"/proc/{pid or 'self'}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return [int(fields[k].strip(), 16) >> (signal.SIGHUP - 1) & 1 for k in ("SigBlk", "SigIgn")]
"""

HANGUP_PROOF = r"""
import signal
from multiprocessing import forkserver
from hfx.pool import worker_pool
from hfx.verify_server import fork_server
from sighup_masks import masks  # (a module: the fork server's workers cannot import what -c defines)

context = fork_server()
with worker_pool(1, mp_context=context, max_tasks_per_child=1) as pool:
    print("worker of the fork server", *pool.submit(masks).result())
print("fork server", *masks(forkserver._forkserver._forkserver_pid))
with worker_pool(1) as pool:
    print("worker", *pool.submit(masks).result())
print("hfx", *masks(), signal.getsignal(signal.SIGHUP) is signal.SIG_DFL)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_and_the_fork_server_outlive_a_hangup_of_the_process_group(tmp_path: Path) -> None:
    """A hang-up of the process group killed the fork server and the workers before hfx stopped its pool: a
    replacement worker started through the dead server in that instant raised ConnectionRefusedError in the pool's
    manager thread.  They block or ignore SIGHUP (the parent decides; they die with it); hfx itself does not."""
    import subprocess

    (tmp_path / "sighup_masks.py").write_text(SIGHUP_MASKS)
    here = str(Path(hfx.__file__).parents[1])
    path = [here, str(tmp_path), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    done = subprocess.run([sys.executable, "-c", HANGUP_PROOF], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for what in ("worker of the fork server", "fork server", "worker"):
        blocked, ignored = (int(v) for v in next(ln for ln in lines if ln.startswith(what + " ")).split()[-2:])
        assert blocked or ignored, (what, done.stdout)
    assert lines[-1] == "hfx 0 0 True", done.stdout


@pytest.mark.slow
def test_a_hangup_of_the_process_group_is_one_line_and_leaves_no_process(tmp_path: Path) -> None:
    """`kill -HUP -- -PGID` (a closing terminal) during `hfx derive --jobs 2` (every derivation: minutes, in
    workers of the fork server): 129, one line, nothing left."""
    import signal
    import subprocess
    import sys

    code = "import sys; from hfx._entry import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, "derive", "--jobs", "2", "--out", str(tmp_path / "o")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (tmp_path / "o" / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGHUP)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("finished before the signal")
    assert proc.returncode == 128 + signal.SIGHUP, err
    assert "Traceback" not in err and "Exception ignored" not in err and "UserWarning" not in err, err
    assert [line for line in err.splitlines() if line.startswith("hfx: ")] == [err.splitlines()[-1]], err
    deadline = time.monotonic() + 15  # (zombies of the workers stay until they are reaped: about a second)
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no process of its group is left


# ---- overlong input in the one line --------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["run", "branch-norms", "--seeds", "9" * 5000],
                                  ["run", "branch-norms", "--bogus", "x" * 3000],
                                  ["run", "branch-norms", "--set", "max_steps=" + "7" * 5000]],
                         ids=["seeds", "unknown-option", "set"])
def test_an_overlong_value_is_shortened_in_its_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A 5,000-digit --seeds came back whole in its error line; now its ends and its length."""
    assert main(argv) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and len(line) < 400 and "characters)" in line, line


def test_a_long_path_in_a_short_line_is_left_whole() -> None:
    from hfx.cli import _line

    path = "/tmp/" + "/".join(["folder"] * 40) + "/manifest.json"
    message = f"hfx: error: cannot read {path}"
    assert _line(message) == message


# ---- values a grid holds twice, and a start already within ε -------------------------------------------------------


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "linear-block", "--set", "variants=plain,plain"], "variants: 'plain' is given twice"),
    (["run", "linear-block", "--set", "lr_factors=0.5,0.50"], "lr_factors: 0.5 is given twice"),
    (["run", "trainable-depth", "--set", "depths=10,10"], "depths: 10 is given twice"),
    (["run", "branch-rate", "--set", "u0=0.005"], "u0 must be > √(2·eps/width)"),
    (["run", "branch-rate", "--set", "u0=1e-300"], "u0 must be > √(2·eps/width)"),
    (["run", "branch-rate", "--set", "u0=0.01", "--set", "eps=0.01"], "u0 must be > √(2·eps/width)"),
], ids=["variants", "lr-factors", "depths", "u0", "u0-tiny", "u0-eps"])
def test_a_grid_value_twice_or_a_start_within_eps_is_refused(argv: list[str], expected: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A list given with a value twice ran that value's runs twice and counted them as independent (n = 4 from
    one seed, narrower intervals); branch-rate's balanced start already within ε (u0 ≤ √(2ε/d)) stopped with an
    internal error (exit 3) and a partial folder.  Both are bad input: one line, exit 2, nothing written."""
    _refused([*argv, "--seeds", "1", "--no-figures", "--out", str(tmp_path / "out")], expected, tmp_path, capsys)


def test_a_start_just_above_eps_is_no_evidence_not_a_failed_flow_check(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """u0 just above √(2ε/d): the closed form predicts ε within a few steps, which a whole count of steps cannot
    resolve to 2 %; the flow check judged it and printed FAILED (exit 1).  Such runs are left out (no evidence)."""
    argv = ["run", "branch-rate", "--set", "u0=0.0071", "--set", "max_steps=5", "--seeds", "1", "--no-figures",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "branch-decay-flow  NO EVIDENCE" in out and "FAILED" not in out, out


@pytest.mark.parametrize("options", [["--full"], ["--quick"], ["--workers", "2"], ["--device", "cuda"],
                                     ["--device", "auto"], ["--scheduler", "tcp://127.0.0.1:1"]],
                         ids=["full", "quick", "workers", "cuda", "auto", "scheduler"])
def test_an_option_of_the_measurements_with_no_experiments_is_refused(options: list[str], tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`hfx verify --no-experiments --full` (or --workers, --device cuda on a CPU-only machine) ran the derivations
    for two minutes as if the option had not been given; an option that cannot act is bad input."""
    _refused(["verify", "--no-experiments", *options, "--out", str(tmp_path / "out")],
             "which --no-experiments skips", tmp_path, capsys)


def test_a_failing_latexmk_is_an_error_of_the_machine_not_an_internal_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """latexmk exiting 1 was reported as "hfx: internal error: RuntimeError"; a tool of the machine that fails is
    an I/O error: "hfx: error: latexmk failed on …", exit 3, the folder marked incomplete."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "latexmk"
    fake.write_text("#!/bin/sh\necho '! a failure of the fake latexmk'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    out = tmp_path / "out"
    assert main(["derive", "reformulation.identity-iff-zero", "--engine", "latex", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("hfx: ")]
    assert len(lines) == 1 and lines[0].startswith("hfx: error: latexmk failed on") and "internal" not in err, err


# ---- names with control characters, a home folder that does not exist -------------------------------------------


def test_control_characters_in_names_are_shown_escaped(tmp_path: Path) -> None:
    """A name typed with ESC (an --out folder, a FILE) reached the terminal raw, in the success line and in the
    error line: it could recolour, erase or rewrite what hfx printed."""
    from hfx.console import visible

    assert visible("o\x1b[31m\r\u202eé Σ\t") == "o\\x1b[31m\\x0d\\u202eé Σ\\x09"
    out = tmp_path / "o\x1b[2K"
    done = subprocess.run([sys.executable, "-m", "hfx", "check", EXAMPLE, "--out", str(out)], capture_output=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stderr and b"\\x1b[2K" in done.stderr
    bad = subprocess.run([sys.executable, "-m", "hfx", "check", str(tmp_path / "f\x1b[2K.py")], capture_output=True,
                         timeout=120, check=False)
    assert bad.returncode == 2 and b"\x1b" not in bad.stderr and b"\\x1b[2K" in bad.stderr, bad.stderr


def test_a_home_folder_that_does_not_exist_is_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from numerics.blocks import fused

    home = tmp_path / "nonexistent"
    monkeypatch.setenv("HOME", str(home))
    for name in ("HFX_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    folder = fused._cache_dir()
    assert not home.exists() and home not in folder.parents
    info = folder.stat()
    assert info.st_uid == os.getuid() and not info.st_mode & 0o077
