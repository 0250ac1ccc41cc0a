"""Hostile command lines, round 3 (/tmp/rt4cli/hostile.py): every class found there, kept as tests.

* Another command's output folder (`hfx.owner`): `hfx run linear-block` into the folder of `hfx verify`, of
  `hfx derive`, of `hfx check` or of `hfx run branch-norms` (finished or interrupted) is refused with one line,
  before any work, and nothing there is touched; each command likewise.  A rerun of the same command (another
  `--set`, a sweep of the same experiment) replaces its own output and keeps the files a user put there.
* A chunk store of another layout (`hfx.store.FORMAT`: another hfx version, or edited) is refused by
  `--resume` with one line, nothing written; so is `--resume` of a sweep into the folder of a single run.
* `--scheduler` where nothing answers, or with a scheme Dask cannot use here (tls:// without credentials,
  ucx:// without UCX), and `--workers`/`--scheduler` without Dask: one line, exit 2, before torch is imported
  where it can be.
* JSON nested too deeply for Python in a file hfx reads (manifest, store header, chunk): the same as any other
  malformed file (not an internal error).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from _outputs import assert_refused as _refused
from _outputs import tree as _tree

from hfx.cli import main
from hfx.owner import owner_of, read_owner, same

LB = ["run", "linear-block", "--seeds", "1", "--set", "max_steps=5", "--no-figures"]
ID = "reformulation.identity-iff-zero"
EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "residual_identity.py")




def _forge(out: Path, command: str, files: dict[str, str], experiment: str | None = None,
           complete: bool = True) -> None:
    """A folder as `hfx COMMAND` leaves it (finished: the final manifest; else the progress manifest of an
    interrupted run, as written before `owner` existed: only its command line)."""
    out.mkdir(parents=True, exist_ok=True)
    listed = {}
    for name, text in files.items():
        (out / name).write_text(text)
        listed[name] = hashlib.sha256(text.encode()).hexdigest()
    if complete:
        config = {"command": command, **({"experiment": experiment} if experiment else {})}
        document: dict[str, object] = {"config": config, "config_hash": "0" * 64, "complete": True, "files": listed}
    else:
        document = {"complete": False, "command": f"hfx {command} --out {out} {experiment or ''}".strip(),
                    "files": listed, "previous_files": {}}
    (out / "manifest.json").write_text(json.dumps(document))


# ---- another command's output folder ----------------------------------------------------------------------------

FOREIGN = {  # (folder's command, its experiment, finished?, the command line run into it)
    "run-into-verify": ("verify", None, True, LB),
    "run-into-derive": ("derive", None, True, LB),
    "run-into-check": ("check", None, True, LB),
    "run-into-other-experiment": ("run", "branch-norms", True, LB),
    "run-into-interrupted-derive": ("derive", None, False, LB),
    "run-into-interrupted-other-experiment": ("run", "branch-norms", False, LB),
    "sweep-into-verify": ("verify", None, True, [*LB, "--set", "width=2,3"]),
    "resume-into-verify": ("verify", None, True, [*LB, "--resume"]),
    "study-into-verify": ("verify", None, True, ["run", "branch-norms", "--seeds", "1"]),
    "derive-into-run": ("run", "linear-block", True, ["derive", ID]),
    "verify-into-run": ("run", "linear-block", True, ["verify", "--no-experiments"]),
    "verify-into-derive": ("derive", None, True, ["verify", "--quick"]),
    "check-into-derive": ("check", None, False, ["derive", ID]),
    "check-into-run": ("run", "deep-stack", True, ["check", EXAMPLE]),
}


@pytest.mark.parametrize("case", FOREIGN)
def test_another_commands_output_folder_is_refused_and_left_alone(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    command, experiment, complete, argv = FOREIGN[case]
    out = tmp_path / "out"
    _forge(out, command, {"theirs.json": "{}", "REPORT.md": "# theirs\n"}, experiment, complete)
    owner = f"hfx {command} {experiment}" if experiment else f"hfx {command}"
    _refused([*argv, "--out", str(out)], f"holds the output of '{owner}'", tmp_path, capsys)


def test_a_sweep_point_folder_of_another_experiment_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """The second point's folder belongs to another experiment: refused before the first point runs."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    _forge(out / "width=3", "run", {"summary.json": "{}"}, "branch-norms")
    _refused([*LB, "--set", "width=2,3", "--out", str(out)], "holds the output of 'hfx run branch-norms'",
             tmp_path, capsys)


def test_the_owner_of_a_folder() -> None:
    assert owner_of({"config": {"command": "run", "experiment": "linear-block"}}) == ("run", "linear-block")
    assert owner_of({"owner": {"command": "verify", "experiment": None}}) == ("verify", None)
    # the command line of an interrupted run (options before the experiment), from before `owner` existed
    assert owner_of({"command": "hfx run --out x --set width=2 deep-stack --seeds 1"}) == ("run", "deep-stack")
    assert owner_of({"command": "hfx -- derive a.b"}) == ("derive", None)
    for nothing in (None, [], {}, {"command": 3}, {"command": "hfx nothing"}, {"config": {"command": "rm"}}):
        assert owner_of(nothing) is None
    assert same(("run", None), ("run", "linear-block")) and not same(("run", "a"), ("run", "b"))
    assert not same(("derive", None), ("verify", None))


def test_a_run_writes_its_owner_into_the_progress_manifest(tmp_path: Path) -> None:
    from hfx.output import open_output

    with open_output(tmp_path / "o", owner=("run", "linear-block")) as folder:
        progress = json.loads((tmp_path / "o" / "manifest.json").read_text())
        assert progress["complete"] is False and progress["owner"] == {"command": "run",
                                                                       "experiment": "linear-block"}
        assert read_owner(tmp_path / "o") == ("run", "linear-block")
        folder.finish({"config": {"command": "run", "experiment": "linear-block"}})


def test_open_output_refuses_another_owner_even_after_validation(tmp_path: Path) -> None:
    """The folder changed between validation and opening (another command finished there): still refused."""
    from hfx.errors import UsageError
    from hfx.output import open_output

    _forge(tmp_path / "o", "verify", {"REPORT.md": "x"})
    with pytest.raises(UsageError, match="holds the output of 'hfx verify'"), \
            open_output(tmp_path / "o", owner=("derive", None)):
        pass
    assert (tmp_path / "o" / "REPORT.md").read_text() == "x"
    assert not (tmp_path / "o" / ".hfx.lock").exists()


@pytest.mark.slow
def test_a_rerun_replaces_its_own_output_and_keeps_the_users_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main([*LB, "--out", str(out)]) in (0, 1)
    (out / "notes.txt").write_text("mine")
    assert main([*LB, "--set", "width=3", "--out", str(out)]) in (0, 1)  # the same experiment, another config
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "manifest.json").read_text())["complete"] is True
    assert main([*LB, "--set", "width=2,3", "--out", str(out)]) in (0, 1)  # a sweep of it, into the same folder
    assert (out / "notes.txt").read_text() == "mine" and (out / "width=3" / "manifest.json").is_file()
    capsys.readouterr()
    # and the sweep's folder is still linear-block's: another experiment is refused there
    _refused(["run", "branch-norms", "--seeds", "1", "--out", str(out)], "holds the output of 'hfx run linear-block'",
             tmp_path, capsys)


# ---- a store of another layout ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "out"
    assert main([*LB, "--out", str(out)]) in (0, 1)
    return out


@pytest.mark.parametrize("fmt", [99, "1", 1.0, True, None, [1]])
def test_a_store_of_another_format_is_refused_by_resume(
    fmt: object, finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    header = out / "chunks" / "store.json"
    document = json.loads(header.read_text())
    document["format"] = fmt
    header.write_text(json.dumps(document))
    _refused([*LB, "--resume", "--out", str(out)], "store format", tmp_path, capsys)


# ---- --scheduler / --workers: answered before the heavy imports; Dask missing ----------------------------------

def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_scheduler_that_does_not_answer_is_refused_before_torch_is_imported(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from hfx.cli import main; rc = main(sys.argv[1:]); "
            "print(rc, 'torch' in sys.modules, 'sympy' in sys.modules)")
    for argv in ([*LB, "--scheduler", f"tcp://127.0.0.1:{_closed_port()}"],
                 ["verify", "--quick", "--scheduler", f"127.0.0.1:{_closed_port()}"]):
        out = tmp_path / "out"
        done = subprocess.run([sys.executable, "-c", code, *argv, "--out", str(out)], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
        assert done.stdout.split() == ["2", "False", "False"], (done.stdout, done.stderr)
        assert "cannot reach a Dask scheduler" in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not out.exists()


def test_a_silent_scheduler_is_refused_within_the_connect_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    import socket
    import time

    from hfx import cluster

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as silent:  # accepts (the kernel's backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        t0 = time.monotonic()
        _refused([*LB, "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path / "o")],
                 "nothing answered within 1 s", tmp_path, capsys)
        assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("option", [["--workers", "1"], ["--scheduler", "127.0.0.1:8786"]])
def test_without_dask_the_cluster_options_are_refused_with_one_line(
    option: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    no_work: None
) -> None:
    import sys

    from hfx import cluster

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails; find_spec finds nothing
    for argv in ([*LB, *option], ["verify", "--quick", *option]):
        _refused([*argv, "--out", str(tmp_path / "o")], "need Dask", tmp_path, capsys)
    # found, but broken (it does not import): refused when the cluster is started, before anything is written
    monkeypatch.setattr(cluster, "_dask_installed", lambda: True)
    monkeypatch.setattr(cluster, "_probe", lambda scheduler: None)
    _refused([*LB, "--workers", "1", "--out", str(tmp_path / "o")], "need Dask", tmp_path, capsys)


@pytest.mark.parametrize("scheme", ["tls", "ucx", "ws"])
def test_a_scheme_dask_cannot_use_here_is_bad_input(
    scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """tls:// without TLS credentials, ucx:// without UCX: Dask raises TypeError & co., which is the user's setup
    (exit 2), not an internal error; a tls:// or ws:// port where nothing listens is said before torch."""
    import socket

    from hfx import cluster

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2)
    if scheme == "ws":
        _refused([*LB, "--scheduler", f"ws://127.0.0.1:{_closed_port()}", "--out", str(tmp_path / "o")],
                 "cannot reach a Dask scheduler", tmp_path, capsys)
        return
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(4)
        port = listening.getsockname()[1]
        before = _tree(tmp_path)
        assert main([*LB, "--scheduler", f"{scheme}://127.0.0.1:{port}", "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and f"--scheduler {scheme}://" in err, err
        assert _tree(tmp_path) == before


def test_a_sweep_does_not_resume_a_single_run(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--resume` of a sweep into the folder of one run of the same experiment: nothing there to resume, and the
    run's outputs would be discarded; refused, as a single run is refused into a sweep's folder."""
    import shutil

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    _refused([*LB, "--set", "width=2,3", "--resume", "--out", str(out)], "holds a single run of linear-block",
             tmp_path, capsys)
    (out / "chunks" / "store.json").unlink()  # the manifest alone says it too
    _refused([*LB, "--set", "width=2,3", "--resume", "--out", str(out)], "not a sweep", tmp_path, capsys)


# ---- JSON nested too deeply for Python (a hand-edited or hostile file hfx reads) -------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("argv", [LB, ["derive", ID], ["verify", "--quick"], ["check", EXAMPLE]],
                         ids=["run", "derive", "verify", "check"])
def test_a_manifest_nested_too_deeply_is_not_hfxs(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(DEEP)
    _refused([*argv, "--out", str(out)], "holds a manifest.json that hfx did not write", tmp_path, capsys)


def test_store_files_nested_too_deeply_are_computed_again(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from hfx.chunkcodec import decode

    monkeypatch.chdir(tmp_path)
    deep_tuple: object = 1
    for _ in range(5000):
        deep_tuple = {"tuple": [deep_tuple]}
    with pytest.raises(ValueError, match="nested too deeply"):
        decode(deep_tuple)
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    (out / "chunks" / "000000.json").write_text(DEEP)
    capsys.readouterr()
    assert main([*LB, "--resume", "--out", str(out)]) in (0, 1)
    err = capsys.readouterr().err
    assert "000000.json cannot be used" in err and "Traceback" not in err, err
    assert json.loads((out / "manifest.json").read_text())["resumed_chunks"] == 1
    (out / "chunks" / "store.json").write_text(DEEP)  # an unreadable header: nothing to resume, all computed
    assert main([*LB, "--resume", "--out", str(out)]) in (0, 1)
    assert json.loads((out / "manifest.json").read_text())["complete"] is True


# ---- nested output folders: hfx derive's default folder is inside hfx verify's ---------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("enclosing_lists_it", [True, False])
def test_a_rerun_never_removes_a_file_that_an_enclosing_folder_lists(enclosing_lists_it: bool,
                                                                    tmp_path: Path) -> None:
    """`hfx verify` (hfx-out/) wrote derivations/b.pdf; `hfx derive` (hfx-out/derivations/) wrote it too; a
    later `hfx derive a` must not remove b.pdf: verify's folder lists it.  Without the enclosing claim it goes."""
    from hfx.output import open_output

    top, sub = tmp_path / "hfx-out", tmp_path / "hfx-out" / "derivations"
    sub.mkdir(parents=True)
    (sub / "b.pdf").write_text("b")
    top_files = {"derivations/b.pdf": _sha("b")} if enclosing_lists_it else {}
    (top / "manifest.json").write_text(json.dumps({"config": {"command": "verify"}, "complete": True,
                                                   "files": top_files}))
    (sub / "manifest.json").write_text(json.dumps({"config": {"command": "derive"}, "complete": True,
                                                   "files": {"b.pdf": _sha("b")}}))
    with open_output(sub, owner=("derive", None)) as folder:
        folder.write_text("a.pdf", "a")
        folder.finish({"config": {"command": "derive"}})
    assert (sub / "b.pdf").exists() is enclosing_lists_it
    assert (sub / "a.pdf").read_text() == "a"
