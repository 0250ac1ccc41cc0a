"""hfx.output and hfx.encoding: one JSON and one CSV encoding, atomic files with the umask, honest output folders."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hfx.encoding import csv_text, json_text, jsonable
from hfx.errors import UsageError
from hfx.lock import LOCK_NAME
from hfx.output import MANIFEST, open_output, write_bytes_atomic, write_json_atomic, write_text_atomic
from hfx.paths import output_dir
from theory.core.derivation import Bearing, Status

# ---- encodings --------------------------------------------------------------------------------------------------


def test_json_writes_non_finite_numbers_as_null() -> None:
    record = {"loss": math.inf, "metric": -math.inf, "ratio": math.nan, "ok": 1.5, "n": 3, "deep": [[math.nan]]}
    parsed = json.loads(json_text(record))  # strict JSON: Python's parser would accept NaN, so look at the text
    assert parsed == {"loss": None, "metric": None, "ratio": None, "ok": 1.5, "n": 3, "deep": [[None]]}
    assert "NaN" not in json_text(record) and "Infinity" not in json_text(record)


def test_json_takes_numpy_values_enums_and_tuples() -> None:
    value = {"a": np.float64(0.25), "b": np.int64(7), "c": np.array([1.0, np.inf]), "d": (1, 2), "e": Status.PROVED,
             "f": np.bool_(True), "g": {Bearing.SUPPORTS: 1}}
    assert json.loads(json_text(value)) == {"a": 0.25, "b": 7, "c": [1.0, None], "d": [1, 2], "e": "proved",
                                            "f": True, "g": {"supports": 1}}


def test_json_refuses_what_it_does_not_know() -> None:
    with pytest.raises(TypeError):
        json_text({"x": object()})
    with pytest.raises(TypeError):
        json_text({(1, 2): 3})


def test_json_is_utf8_and_ascii_when_asked() -> None:
    text = json_text({"claim": "‖θ‖ ≥ 0"})
    assert "‖θ‖ ≥ 0" in text and text.endswith("\n")
    escaped = json_text({"claim": "‖θ‖ ≥ 0"}, ascii_only=True)
    assert escaped.isascii() and json.loads(escaped) == json.loads(text)


def test_csv_encodes_lists_as_json_nulls_as_empty_and_takes_every_column() -> None:
    rows = [{"run": 0, "lrs": [0.1, 0.2], "steps": None, "loss": math.nan, "ok": True},
            {"run": 1, "lrs": (0.3,), "steps": 12, "loss": 0.5, "extra": {"k": math.inf}}]
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert list(parsed[0]) == ["run", "lrs", "steps", "loss", "ok", "extra"]
    assert parsed[0] == {"run": "0", "lrs": "[0.1, 0.2]", "steps": "", "loss": "", "ok": "True", "extra": ""}
    assert parsed[1] == {"run": "1", "lrs": "[0.3]", "steps": "12", "loss": "0.5", "ok": "", "extra": '{"k": null}'}
    # a cell decodes to what the JSON encoding of the same record holds
    assert json.loads(parsed[1]["extra"]) == jsonable(rows[1])["extra"]  # type: ignore[index]


# ---- atomic files -----------------------------------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_files_and_folders_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    write_text_atomic(tmp_path / "new" / "deeper" / "report.md", "hello")
    assert (tmp_path / "new" / "deeper" / "report.md").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o755
    os.umask(0o077)
    write_json_atomic(tmp_path / "private.json", {"a": 1})
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600


def test_an_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    write_bytes_atomic(target, b"old")
    write_bytes_atomic(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    write_json_atomic(target, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": object()})
    assert json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json"]


# ---- output folders ---------------------------------------------------------------------------------------------


def _manifest(folder: Path) -> dict[str, object]:
    document = json.loads((folder / MANIFEST).read_text())
    assert isinstance(document, dict)
    return document


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_says_incomplete_while_running_and_lists_every_file_at_the_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with open_output(out) as folder:
        assert _manifest(out)["complete"] is False  # written first
        folder.write_text("REPORT.md", "report")
        assert _manifest(out)["files"] == {"REPORT.md": _sha(out / "REPORT.md")}  # listed as written
        folder.write_json("tables/t.json", {"x": math.inf})
        folder.write_csv("tables/t.csv", [{"a": [1, 2]}])
        assert (out / LOCK_NAME).exists()
        folder.finish({"command": "test"})
    manifest = _manifest(out)
    assert manifest["complete"] is True and manifest["command"] == "test"
    files = manifest["files"]
    assert isinstance(files, dict)
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted([*files, MANIFEST]) == on_disk  # no lock, no temporary left
    for name, digest in files.items():
        assert _sha(out / name) == digest


def test_an_interrupted_run_leaves_an_incomplete_manifest_and_no_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt) as caught, open_output(out) as folder:
        folder.write_text("a.txt", "a")
        raise KeyboardInterrupt
    assert any("incomplete" in note for note in caught.value.__notes__)
    manifest = _manifest(out)
    assert manifest["complete"] is False and "a.txt" in manifest["files"]  # type: ignore[operator]
    assert not (out / LOCK_NAME).exists()


def test_a_rerun_removes_what_the_previous_run_wrote_and_this_one_did_not(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with open_output(out) as folder:
        for name in ("runs.csv", "figures/loss.pdf", "figures/loss.png"):
            folder.write_text(name, name)
        folder.finish({})
    (out / "notes.txt").write_text("the user's own file")  # never listed: never touched
    with open_output(out) as folder:  # e.g. --no-figures
        folder.write_text("runs.csv", "new")
        folder.finish({})
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [MANIFEST, "notes.txt", "runs.csv"]
    assert _manifest(out)["files"] == {"runs.csv": _sha(out / "runs.csv")}


def test_files_of_an_interrupted_run_are_still_cleaned_by_the_next_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), open_output(out) as folder:
        folder.write_text("partial.json", "{}")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt), open_output(out) as folder:  # interrupted again, before writing
        raise KeyboardInterrupt
    with open_output(out) as folder:
        folder.write_text("final.json", "{}")
        folder.finish({})
    assert sorted(p.name for p in out.iterdir()) == ["final.json", MANIFEST]


def test_a_file_changed_since_its_run_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with open_output(out) as folder:
        folder.write_text("figure.png", "ours")
        folder.finish({})
    (out / "figure.png").write_text("edited by hand")
    with open_output(out) as folder:
        folder.finish({})
    assert (out / "figure.png").read_text() == "edited by hand"
    assert "kept" in capsys.readouterr().err


def test_a_hostile_manifest_cannot_remove_files_outside_the_folder(tmp_path: Path) -> None:
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("precious")
    digest = _sha(victim)
    listed = {"../victim.txt": digest, str(victim): digest, "a/../../victim.txt": digest}
    (out / MANIFEST).write_text(json.dumps({"complete": True, "files": listed}))
    (out / "link").symlink_to(tmp_path)
    listed["link/victim.txt"] = digest
    (out / MANIFEST).write_text(json.dumps({"complete": True, "files": listed}))
    with open_output(out) as folder:
        folder.finish({})
    assert victim.read_text() == "precious"


def test_a_temporary_file_of_a_killed_writer_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    (out / f".runs.csv.{dead}-deadbeef.hfx-tmp").write_text("half a file from a killed run")
    live = out / f".runs.csv.{os.getpid()}-0badcafe.hfx-tmp"  # a writer still at work (a nested run)
    live.write_text("being written")
    with open_output(out) as folder:
        folder.finish({})
    assert sorted(p.name for p in out.iterdir()) == [live.name, MANIFEST]


def test_the_folders_own_files_cannot_be_written_as_outputs(tmp_path: Path) -> None:
    with open_output(tmp_path / "out") as folder:
        for name in (MANIFEST, LOCK_NAME, "../x", "a/../../x", "/etc/x", ""):
            with pytest.raises(ValueError):
                folder.write_text(name, "x")
        folder.finish({})


def test_the_lock_refuses_a_second_run_into_the_same_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with open_output(out) as folder:
        with pytest.raises(UsageError, match="in use by another hfx run"):
            output_dir(str(out))  # the up-front check
        with pytest.raises(UsageError, match=f"pid {os.getpid()}"), open_output(out):
            pass  # the lock itself
        folder.write_text("a.txt", "first run")
        folder.finish({})
    assert (out / "a.txt").read_text() == "first run"
    with open_output(out) as folder:  # released
        folder.finish({})


def test_a_killed_holder_does_not_leave_the_folder_locked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = textwrap.dedent(f"""
        import sys, time
        from hfx.output import open_output
        with open_output({str(out)!r}) as folder:
            print("locked", flush=True)
            time.sleep(600)
    """)
    with subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
            with pytest.raises(UsageError, match="in use"):
                output_dir(str(out))
        finally:
            proc.kill()
            proc.wait(timeout=60)
    with open_output(out) as folder:  # the kernel dropped the lock with the process
        assert _manifest(out)["complete"] is False
        folder.finish({})


def test_finishing_is_not_optional(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="never finished"), open_output(tmp_path / "out"):
        pass


# ---- through the command line ----------------------------------------------------------------------------------


def test_a_rerun_without_figures_leaves_no_figure_of_the_previous_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hfx.cli import main

    out = tmp_path / "out"
    assert main(["run", "linear-block", "--seeds", "2", "--out", str(out)]) == 0
    first = _manifest(out)["files"]
    assert isinstance(first, dict) and any(name.startswith("figures/") for name in first)
    assert main(["run", "linear-block", "--seeds", "2", "--out", str(out), "--no-figures"]) == 0
    files = _manifest(out)["files"]
    store = ["chunks/000000.json", "chunks/000001.json", "chunks/store.json"]  # a chunk per variant (hfx.store)
    assert isinstance(files, dict) and sorted(files) == [*store, "runs.csv", "summary.json"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        *store, MANIFEST, "runs.csv", "summary.json"]
    # one encoding: the CSV is the JSON records, cell by cell
    summary = json.loads((out / "summary.json").read_text())
    assert (out / "runs.csv").read_text() == csv_text(summary["records"])
    capsys.readouterr()
