"""Hostile input at the command line: bad output folders, any locale, validation before the heavy imports.

Every case is exit code 2 with one line on stderr, before any work and with nothing written (or, for a
locale, exit 0 with the same content).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hfx import derive, documents
from hfx.cli import main
from hfx.output import open_output

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "residual_identity.py")  # for `hfx check`
LONG_NAME = "n" * 300  # one name over NAME_MAX (255 bytes on every Linux file system)
LONG_PATH = "/".join(["d" * 200] * 21)  # 4,220 bytes: over PATH_MAX


def _dangling(root: Path) -> str:
    (root / "link").symlink_to(root / "missing-target")
    return "link"


def _dangling_on_the_way(root: Path) -> str:
    (root / "link").symlink_to(root / "missing-target")
    return "link/out"


def _loop(root: Path) -> str:
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    return "a/out"


def _file(root: Path) -> str:
    (root / "taken").write_text("keep me")
    return "taken"


def _through_a_file(root: Path) -> str:
    (root / "taken").write_text("keep me")
    return "taken/out"


def _lock_is_a_link(root: Path) -> str:
    (root / "out").mkdir()
    (root / "target").write_text("keep me")
    (root / "out" / ".hfx.lock").symlink_to(root / "target")
    return "out"


def _foreign_manifest(root: Path) -> str:
    (root / "project").mkdir()
    (root / "project" / "manifest.json").write_text('{"name": "my web app", "icons": []}')
    return "project"


PATHS: dict[str, tuple[Callable[[Path], str], str]] = {
    "empty": (lambda root: "", "must not be empty"),
    "an existing file": (_file, "not a folder"),
    "a path through a file": (_through_a_file, "'taken' is not a folder"),
    "a dangling symlink": (_dangling, "symbolic link to a missing"),
    "a dangling symlink on the way": (_dangling_on_the_way, "symbolic link to a missing"),
    "a symlink loop": (_loop, "loop of symbolic links"),
    "an over-long name": (lambda root: LONG_NAME, "the file system allows"),
    "an over-long path": (lambda root: LONG_PATH, "too long"),
    "a read-only file system": (lambda root: "/proc/hfx-out", "cannot write"),
    "a device": (lambda root: os.devnull, "not a folder"),
    "a lock file that is a link": (_lock_is_a_link, "not a lock file"),
    "a folder with a foreign manifest": (_foreign_manifest, "manifest.json that hfx did not write"),
}
COMMANDS = {
    "verify": ["verify"],
    "derive": ["derive"],
    "run": ["run", "linear-block", "--seeds", "1"],
    "check": ["check", EXAMPLE],
}


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() if p.is_file() and not p.is_symlink() else "<dir/link>"
            for p in root.rglob("*")}


@pytest.mark.parametrize("case", PATHS, ids=[c.replace(" ", "-") for c in PATHS])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_output_folder_is_exit_2_with_one_line_before_any_work(
    case: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], no_work: None,
) -> None:
    make, expected = PATHS[case]
    monkeypatch.chdir(tmp_path)
    out = make(tmp_path)
    before = _tree(tmp_path)
    assert main([*COMMANDS[command], "--out", out]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert _tree(tmp_path) == before  # nothing written, nothing followed


def test_an_unwritable_folder_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through permission bits (the read-only file system case covers root)")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert main(["verify", "--out", str(locked / "out")]) == 2
    assert "cannot write" in capsys.readouterr().err


def _make_unwritable(folder: Path) -> Callable[[], None] | None:
    """Make `folder` unwritable for this user (root: the immutable attribute); its undo, or None if impossible."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    try:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (lambda: subprocess.run(["chattr", "-i", str(folder)], check=False, timeout=10)) if done.returncode == 0 \
        else None


@pytest.mark.parametrize("sub", ["chunks", "figures", "width=2/figures"])
@pytest.mark.parametrize("command", ["run", "verify"])
def test_an_unwritable_sub_folder_is_exit_2_before_any_work(
    sub: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    (out / sub).mkdir(parents=True)
    undo = _make_unwritable(out / sub)
    if undo is None:
        pytest.skip("cannot make a folder unwritable here (root without chattr)")
    try:
        before = _tree(tmp_path)
        assert main([*COMMANDS[command], "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "cannot write in" in err and sub.split("/")[-1] in err, err
        assert _tree(tmp_path) == before
    finally:
        undo()


def test_a_nul_character_is_exit_2(capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    assert main(["verify", "--out", "a\0b"]) == 2
    assert "NUL" in capsys.readouterr().err


def test_a_folder_another_run_is_writing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    with open_output(out) as folder:
        folder.write_text("REPORT.md", "the first run's")
        assert main(["verify", "--out", str(out)]) == 2
        assert "in use by another hfx run" in capsys.readouterr().err
        assert (out / "REPORT.md").read_text() == "the first run's"
        folder.finish({})


def test_derive_names_the_same_engines_as_documents() -> None:
    assert derive.ENGINES == documents.ENGINES


# ---- any locale -------------------------------------------------------------------------------------------------


def _hfx(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "hfx", *argv], capture_output=True, cwd=cwd, timeout=600,
                          env={**os.environ, **env})


ASCII = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}  # a true ASCII terminal
LOCALES = {
    "C": ASCII,
    "ascii-io": {"PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"},
    "latin-1": {"PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"},
}


@pytest.fixture(scope="module")
def utf8_listing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What `hfx list KIND --json` prints in a UTF-8 locale, per kind."""
    documents = {}
    for kind in ("experiments", "theorems", "claims"):
        done = _hfx(["list", kind, "--json"], {"PYTHONUTF8": "1"}, tmp_path_factory.mktemp("utf8"))
        assert done.returncode == 0, done.stderr
        documents[kind] = json.loads(done.stdout)
    return documents


LISTINGS = [("C", "experiments"), ("C", "theorems"), *((locale, "claims") for locale in LOCALES)]


@pytest.mark.parametrize(("locale", "kind"), LISTINGS)
def test_listing_works_in_any_locale(locale: str, kind: str, tmp_path: Path, utf8_listing: dict[str, object]) -> None:
    table = _hfx(["list", kind], LOCALES[locale], tmp_path)
    assert table.returncode == 0 and table.stdout and b"Traceback" not in table.stderr, table.stderr
    as_json = _hfx(["list", kind, "--json"], LOCALES[locale], tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == utf8_listing[kind]  # the same document, escaped as needed


def test_a_run_works_in_an_ascii_locale(tmp_path: Path) -> None:
    """The fused engine reads its UTF-8 C++ source to key its build: in LANG=C that read must not decode as ASCII."""
    out = tmp_path / "out"
    done = _hfx(["run", "branch-norms", "--seeds", "1", "--set", "max_steps=5", "--no-figures", "--out", str(out)],
                ASCII, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / "manifest.json").exists()


def test_bad_input_in_an_ascii_locale_is_one_line(tmp_path: Path) -> None:
    done = _hfx(["verify", "--jobs", "-1"], ASCII, tmp_path)  # the message holds ≥
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode("ascii").strip() == "hfx: error: --jobs must be \\u2265 0, got -1"


def test_an_output_folder_that_is_not_utf8_works(tmp_path: Path) -> None:
    out = os.fsencode(str(tmp_path)) + b"/out-\xff"
    done = subprocess.run([sys.executable.encode(), b"-m", b"hfx", b"run", b"linear-block", b"--seeds", b"1",
                           b"--no-figures", b"--out", out], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr
    manifest = json.loads(Path(os.fsdecode(out), "manifest.json").read_text())
    assert manifest["complete"] is True and "\udcff" in manifest["command"]


# ---- validation before the heavy imports ----------------------------------------------------------------------


CHEAP = [
    ["--help"],
    ["list", "claims"],
    ["verify", "--jobs", "-1"],
    ["verify", "--out", "/proc/hfx-out"],
    ["derive", "--out", LONG_NAME],
    ["run", "linear-block", "--threads", "0"],
    ["run", "linear-block", "--seeds", "0"],
    ["run", "linear-block", "--out", os.devnull],
    ["check", "no-such-file.py"],
    ["check", EXAMPLE, "--out", "/proc/hfx-out"],
    ["frobnicate"],
    ["run", "no-such-experiment"],
    ["run", "linear-block", "--workers", "0"],
    ["run", "linear-block", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
    ["run", "linear-block", "--scheduler", "not an address"],
    ["run", "linear-block", "--device", "gpu"],
    ["verify", "--workers", "100000"],
]


@pytest.mark.parametrize("argv", CHEAP, ids=[" ".join(a)[:40] for a in CHEAP])
def test_bad_input_and_help_import_neither_torch_nor_sympy(argv: list[str], tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom hfx.cli import main\ntry:\n    code = main(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    code = e.code\nheavy = sorted(m for m in ('torch', 'sympy', 'numpy', 'matplotlib', 'dask', 'distributed')"
        " if m in sys.modules)\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    code, heavy = done.stderr.strip().splitlines()[-1].split(" ", 1)
    assert code in ("0", "2") and heavy == "[]", done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["run", "linear-block"], ["verify"]])
def test_more_worker_processes_than_memory_holds_is_exit_2_before_any_start(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    no_work: None
) -> None:
    import hfx.resources

    monkeypatch.setattr(hfx.resources, "available_memory", lambda: 4 * 10**9)  # a 4 GB machine
    out = tmp_path / "out"
    assert main([*command, "--workers", "20", "--out", str(out)]) == 2  # 20 × ~367 MB > 90 % of 4 GB
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "20 worker processes need about 7.3 GB" in err, err
    assert "use at most --workers 9" in err and not out.exists()


def _store_is_a_file(out: Path) -> None:
    (out / "chunks").write_text("keep me")


def _store_is_a_link(out: Path) -> None:
    (out / "elsewhere").mkdir()
    (out / "chunks").symlink_to(out / "elsewhere")


def _chunk_is_a_folder(out: Path) -> None:
    (out / "chunks" / "000001.json").mkdir(parents=True)


def _header_is_a_folder(out: Path) -> None:
    (out / "chunks" / "store.json").mkdir(parents=True)


STORES = {"chunks is a file": (_store_is_a_file, "is not a folder"),
          "chunks is a link": (_store_is_a_link, "is not a folder"),
          "a chunk is a folder": (_chunk_is_a_folder, "000001.json is not a plain file"),
          "the header is a folder": (_header_is_a_folder, "store.json is not a plain file")}


@pytest.mark.parametrize("case", STORES, ids=[c.replace(" ", "-") for c in STORES])
@pytest.mark.parametrize("resume", [[], ["--resume"]], ids=["fresh", "resume"])
def test_a_chunk_store_that_cannot_be_written_is_exit_2_before_any_work(
    case: str, resume: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    make, message = STORES[case]
    out = tmp_path / "out"
    out.mkdir()
    make(out)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert main(["run", "linear-block", *resume, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before  # nothing written


def test_the_experiment_names_known_before_torch_are_the_registry_s() -> None:
    from hfx.run import EXPERIMENT_NAMES
    from numerics.experiments import EXPERIMENTS

    assert EXPERIMENT_NAMES == tuple(sorted(EXPERIMENTS))
