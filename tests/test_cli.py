"""The command-line contract (docs/design.md): outputs, exit codes, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hfx.claims import CLAIM_IDS
from hfx.cli import main
from theory.core.registry import all_derivations


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("audit") / "out"
    umask = os.umask(0o022)  # a shared folder's usual umask: the report must come out readable by all
    try:
        code = main(["verify", "--out", str(out), "--jobs", "2", "--no-experiments"])
    finally:
        os.umask(umask)
    return code, out


def test_verify_checks_every_registered_derivation(verified: tuple[int, Path]) -> None:
    code, out = verified
    records = json.loads((out / "theorems.json").read_text())
    assert [r["id"] for r in records] == [d.id for d in all_derivations()]
    failed = [r["id"] for r in records if r["status"] == "failed"]
    assert code == (1 if failed else 0)
    for r in records:
        assert set(r["claims"]) <= CLAIM_IDS
        assert r["steps"] == len(r["step_results"]) > 0
        for s in r["step_results"]:
            assert s["status"] in {"proved", "checked", "failed"}
            assert s["method"]


def test_verify_writes_a_provenance_manifest(verified: tuple[int, Path]) -> None:
    _, out = verified
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"versions", "git", "host", "started_utc", "finished_utc", "config_hash"} <= set(manifest)
    assert manifest["versions"]["sympy"]
    assert set(manifest["git"]) == {"commit", "dirty"}


def test_verify_lists_every_file_it_wrote_with_its_hash_and_mode(verified: tuple[int, Path]) -> None:
    _, out = verified
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted([*manifest["files"], "manifest.json"]) == on_disk
    written = {"REPORT.md", "REPORT.html", "claims.json", "theorems.json", "derivations/derivations.pdf"}
    assert written <= set(manifest["files"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    for path in out.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path


def test_list_theorems_json_lists_every_derivation_without_verifying_any(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hfx.theorems
    import theory.core.derivation
    import theory.derivation

    def no_verification(*args: object, **kwargs: object) -> object:
        raise AssertionError("listing verified a derivation")

    for module in (theory.derivation, theory.core.derivation):
        monkeypatch.setattr(module, "verify", no_verification)
    monkeypatch.setattr(hfx.theorems, "verify_ids", no_verification)
    monkeypatch.setattr(hfx.theorems, "verify_with_views", no_verification)
    assert main(["list", "theorems", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    derivations = all_derivations()
    assert [r["id"] for r in rows] == [d.id for d in derivations]
    for row, d in zip(rows, derivations, strict=True):
        assert (row["title"], row["claims"], row["steps"]) == (d.title, list(d.claims), len(d.steps))
        assert "status" not in row  # nothing was checked, so nothing is claimed


def test_list_theorems_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "theorems"]) == 0
    out = capsys.readouterr().out
    from theory.core.printing.prose_unicode import unicode_text

    assert all(d.id in out and unicode_text(d.title) in out for d in all_derivations())  # titles as text
    assert "$" not in out and "[@" not in out


def test_list_claims_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "claims", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [f"C{i}" for i in range(1, 14)]


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--jobs", "-1"],
        ["verify", "--jobs", "two"],
        ["verify", "--bogus"],
        ["list", "lemmas"],
        ["frobnicate"],
        [],
    ],
    ids=["negative-jobs", "malformed-jobs", "unknown-option", "unknown-kind", "unknown-command", "no-command"],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_out_that_is_a_file_is_rejected_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main(["verify", "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_console_entry_point_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hfx", "list", "--json", "nonsense"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_unwritable_out_is_bad_input_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--out", "/proc/hfx-cannot-write-here"]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_an_internal_error_is_one_line_and_exit_3_not_a_failed_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hfx import theorems

    def boom(requested: list[str]) -> list[str]:
        raise RuntimeError("planted bug")

    monkeypatch.setattr(theorems, "resolve_ids", boom)
    assert main(["verify", "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "planted bug" in err and "Traceback" not in err


def test_verify_writes_the_summary_tables_and_links_everything_it_rests_on(verified: tuple[int, Path]) -> None:
    import csv
    import re

    _, out = verified
    for name in ("verdicts", "medians", "published-vs-measured"):
        assert (out / "tables" / f"{name}.csv").is_file()
        assert "\\toprule" in (out / "tables" / f"{name}.tex").read_text()
    report = (out / "REPORT.md").read_text()
    links = re.findall(r"\]\(([\w./-]+\.(?:csv|tex|pdf|png|json|md))\)", report)  # links to files
    assert "tables/published-vs-measured.csv" in links and "tables/verdicts.tex" in links
    assert any(link.startswith("derivations/") and link.endswith(".pdf") for link in links)
    assert all((out / link).is_file() for link in links), [link for link in links if not (out / link).is_file()]
    with (out / "tables" / "published-vs-measured.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["agreement"] for r in rows)
    measured = [r for r in rows if not r["settings"].startswith("exact")]  # no experiments ran
    assert measured and all(r["agreement"] in ("not measured", "not testable") for r in measured)
