"""`hfx check FILE.py`: a user's own derivations, checked like hfx's; a user's broken code is bad input.

Each hostile module must give exit 2, exactly one line on stderr naming the file (and the builder where
there is one), no traceback, and nothing written: no output folder, no bytecode cache beside the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfx import cli
from theory.core import registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

HEADER = """\
import sympy as sp
from theory.derivation import Derivation, Equal, Formula, theorem
x = sp.Symbol("x", real=True)

def good(id="user.good"):
    step = Equal(sp.Derivative(x**2, x), 2 * x, "power rule")
    return Derivation(id=id, title="d/dx x² = 2x", claims=(), statement="d/dx x² = 2x", steps=(step,),
                      proves=(step,))
"""

# name → (module text after HEADER, what the one line must contain besides the file name)
HOSTILE: dict[str, tuple[str, tuple[str, ...]]] = {
    "syntax-error": ("def broken(:\n    pass\n", ("does not import", "SyntaxError", "line")),
    "import-error": ("import hfx_no_such_module_anywhere\n", ("does not import", "ModuleNotFoundError")),
    "top-level-raises": ("1 / 0\n", ("does not import", "ZeroDivisionError", "line 10")),
    "exits-at-import": ("import sys\nsys.exit(3)\n", ("does not import", "SystemExit")),
    "base-exception-at-import": ("raise BaseException('odd')\n", ("does not import", "BaseException: odd")),
    "generator-exit-at-import": ("raise GeneratorExit\n", ("does not import", "GeneratorExit")),
    "own-base-exception-at-import": ("class Stop(BaseException):\n    pass\nraise Stop('mine')\n",
                                     ("does not import", "Stop: mine")),
    "builder-raises-base-exception": ("@theorem\ndef odd():\n    raise GeneratorExit('gen')\n",
                                      ("builder odd raised GeneratorExit: gen",)),
    "relative-import": ("from . import helper\n", ("does not import", "ImportError")),
    "builder-raises": ("@theorem\ndef boom():\n    raise RuntimeError('no luck')\n",
                       ("builder boom raised RuntimeError: no luck", "line 12")),
    "not-a-derivation": ("@theorem\ndef half():\n    return {'id': 'x'}\n", ("builder half", "dict, not a Derivation")),
    "returns-none": ("@theorem\ndef nothing():\n    pass\n", ("builder nothing", "NoneType, not a Derivation")),
    "wrong-step-type": (
        "@theorem\ndef typo():\n    return Derivation(id='u.t', title='t', claims=(), statement='s', steps=(1,))\n",
        ("builder typo", "step 1 is a int, not a Step"),
    ),
    "no-steps": (
        "@theorem\ndef empty():\n    return Derivation(id='u.e', title='t', claims=(), statement='s', steps=())\n",
        ("builder empty", "has no steps"),
    ),
    "hollow-step": (
        "@theorem\ndef hollow():\n    return Derivation(id='u.h', title='t', claims=(), statement='s',\n"
        "        steps=(Equal(sp.diff(x**2, x), 2 * x, 'evaluated too early'),))\n",
        ("builder hollow", "hollow step"),
    ),
    "duplicate-ids": (
        "@theorem\ndef first():\n    return good('user.same')\n@theorem\ndef second():\n    return good('user.same')\n",
        ("builder second", "duplicate id 'user.same'", "first"),
    ),
    "duplicate-ids-by-case": (
        "@theorem\ndef lower():\n    return good('user.case')\n@theorem\ndef upper():\n    return good('User.Case')\n",
        ("builder upper", "duplicate id"),
    ),
    "id-escapes-folder": ("@theorem\ndef sneaky():\n    return good('../../escaped')\n",
                          ("builder sneaky", "cannot name a file")),
    "reserved-id": ("@theorem\ndef clash():\n    return good('derivations')\n", ("builder clash", "name of a file")),
    "claims-a-string": (
        "@theorem\ndef claims():\n    return Derivation(id='u.c', title='t', claims='C1', statement='s',\n"
        "        steps=(Equal(sp.Derivative(x**2, x), 2 * x, 'r'),))\n",
        ("builder claims", "claims must be a tuple of strings"),
    ),
    "title-not-text": (
        "@theorem\ndef titled():\n    return Derivation(id='u.t', title=x, claims=(), statement='s',\n"
        "        steps=(Equal(sp.Derivative(x**2, x), 2 * x, 'r'),))\n",
        ("builder titled", "title is a Symbol, not text"),
    ),
    "builder-exits": ("@theorem\ndef quits():\n    raise SystemExit(0)\n", ("builder quits raised SystemExit",)),
    "builder-raises-keyboard-interrupt": ("@theorem\ndef stop():\n    raise KeyboardInterrupt\n",
                                          ("builder raised KeyboardInterrupt",)),
    "keyboard-interrupt-at-import": ("raise KeyboardInterrupt\n", ("does not import", "KeyboardInterrupt")),
    "no-builders": ("value = good()  # built, but never marked @theorem\n", ("no @theorem builders",)),
}


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name.replace('-', '_')}.py"
    path.write_text(HEADER + "\n" + body, encoding="utf-8")
    return path


def _check(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """hfx check in this process, its output captured by descriptor (`capfd`): the user's code runs in processes
    of their own, which write to the descriptors."""
    code = cli.main(["check", *argv])
    captured = capfd.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_users_broken_module_is_one_line_exit_2_and_nothing_written(
    name: str, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HFX_DEBUG", raising=False)
    body, expected = HOSTILE[name]
    path = _write(tmp_path, name, body)
    before = set(registry._BUILDERS)
    code, out, err = _check([str(path), "--out", str(tmp_path / "out"), "--pdf"], capfd)
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0], lines[0]
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no __pycache__, nothing else
    assert set(registry._BUILDERS) == before  # nothing of the user's joined hfx's registry


@pytest.mark.parametrize("argv, fragment", [
    (["no_such_file.py"], "no_such_file.py: no such file"),
    (["."], ".: not a file"),
    (["README.md"], "README.md: not a Python module"),
    (["examples/residual_identity.py", "--out", ""], "--out must not be empty"),
])
def test_bad_file_or_folder_names_are_refused_before_anything_runs(
    argv: list[str], fragment: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = _check(argv, capfd)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err


def test_hfx_debug_adds_the_traceback_and_keeps_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "builder-raises", HOSTILE["builder-raises"][0])
    env = {**os.environ, "HFX_DEBUG": "1"}
    done = subprocess.run([sys.executable, "-m", "hfx", "check", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "RuntimeError: no luck" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("hfx: error: ")
    assert not (tmp_path / "out").exists()


def test_only_the_named_file_runs(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # a sibling module and the file's own __main__ block would leave marks; neither may run
    (tmp_path / "helper.py").write_text("open(__file__ + '.ran', 'w').close()\n", encoding="utf-8")
    main_block = ("@theorem\ndef ok():\n    return good()\n"
                  "if __name__ == '__main__':\n    open('main.ran', 'w').close()\n")
    path = _write(tmp_path, "with-main", main_block)
    code, _, err = _check([str(path), "--out", str(tmp_path / "out")], capfd)
    assert code == 0, err
    assert not (tmp_path / "main.ran").exists() and not Path("main.ran").exists()
    sibling = _write(tmp_path, "imports-sibling", "import helper\n@theorem\ndef ok():\n    return good()\n")
    code, _, err = _check([str(sibling), "--out", str(tmp_path / "out2")], capfd)
    assert code == 2 and "No module named 'helper'" in err
    assert not (tmp_path / "helper.py.ran").exists()


def test_the_example_is_proved_written_and_documented(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, stdout, err = _check([str(EXAMPLES / "residual_identity.py"), "--pdf", "--out", str(out)], capfd)
    assert code == 0, err
    assert "mine.jacobian-at-origin" in stdout and "PROVED" in stdout
    records = json.loads((out / "theorems.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == ["mine.jacobian-at-origin", "mine.two-blocks-compose"]
    assert all(r["status"] == "proved" for r in records)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True and manifest["config"]["command"] == "check"
    assert manifest["source"]["sha256"] and "derivations/mine.jacobian-at-origin.pdf" in manifest["files"]
    pdf = out / "derivations" / "mine.jacobian-at-origin.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert set(manifest["files"]) == {p.relative_to(out).as_posix() for p in out.rglob("*")
                                      if p.is_file() and p.name not in ("manifest.json", ".hfx.lock")}


def test_a_derivation_the_documents_refuse_is_exit_2_with_nothing_written(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # a citation the bibliography does not know: the user's input, found before anything is written
    body = ("@theorem\ndef cites():\n    step = Equal(sp.Derivative(x**2, x), 2 * x, 'power rule', "
            "citation='@nobody2099, Eq. (1)')\n"
            "    return Derivation(id='user.cites', title='t', claims=(), statement='s', steps=(step,),\n"
            "                      proves=(step,))\n")
    path = _write(tmp_path, "cites", body)
    code, _, err = _check([str(path), "--pdf", "--out", str(tmp_path / "out")], capfd)
    assert code == 2 and "cannot be typeset: " in err.strip().splitlines()[-1], err
    assert "nobody2099" in err.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists()


def test_a_failed_step_exits_1_and_prints_its_counterexample(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code, stdout, err = _check([str(EXAMPLES / "failing_step.py"), "--out", str(tmp_path / "out")], capfd)
    assert code == 1, err
    assert "mine.slope-everywhere step 2 failed (counterexample)" in stdout
    assert "at a = " in stdout  # the point where the two sides differ
    records = json.loads((tmp_path / "out" / "theorems.json").read_text(encoding="utf-8"))
    assert records[0]["status"] == "failed" and records[0]["step_results"][1]["status"] == "failed"


def test_json_prints_only_the_records_on_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, stdout, err = _check([str(EXAMPLES / "residual_identity.py"), "--json", "--out", str(tmp_path)], capfd)
    assert code == 0, err
    assert json.loads(stdout) == json.loads((tmp_path / "theorems.json").read_text(encoding="utf-8"))
    assert "PROVED" in err  # the table went to stderr


def test_json_keeps_what_the_users_code_prints_off_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "chatty", "print('hello at import')\n@theorem\ndef ok():\n    print('building')\n"
                                      "    return good()\n")
    code, stdout, err = _check([str(path), "--json", "--out", str(tmp_path / "out")], capfd)
    assert code == 0, err
    assert [r["id"] for r in json.loads(stdout)] == ["user.good"]
    assert "hello at import" in err and "building" in err


def test_hfxs_own_derivations_are_not_checked(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # importing hfx's own builders does not make them the user's
    body = "from theory.reformulation import identity_iff_zero_residual, residual_reformulation\n" \
           "@theorem\ndef mine():\n    return good()\n"
    path = _write(tmp_path, "imports-hfx", body)
    code, _, err = _check([str(path), "--out", str(tmp_path / "out")], capfd)
    assert code == 0, err
    records = json.loads((tmp_path / "out" / "theorems.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == ["user.good"]


def test_the_users_builders_never_join_hfxs_registry(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # hfx's own registry narrowed to theory.reformulation (building all 45 takes seconds): after `hfx check`, it
    # still lists only those; a builder of the user's module (hfx_check_<stem>) that had joined `_BUILDERS`
    # would be listed too
    from theory.core.builders import build_all, ordered

    def narrowed() -> tuple[object, ...]:
        kept = [b for k, b in registry._BUILDERS.items() if k.startswith(("theory.reformulation.", "hfx_check_"))]
        return build_all(ordered(kept), "hfx")

    __import__("theory.reformulation")
    monkeypatch.setattr(registry, "_own", narrowed)
    monkeypatch.setattr(registry, "_entry_points", lambda: [])
    registry._plugins.cache_clear()
    try:
        code, _, err = _check([str(EXAMPLES / "residual_identity.py"), "--out", str(tmp_path / "out")], capfd)
        assert code == 0, err
        ids = [d.id for d in registry.all_derivations()]
        assert ids == ["reformulation.residual", "reformulation.identity-iff-zero"]
        assert not any(k.startswith("hfx_check_") for k in registry._BUILDERS)
        assert not any(m.startswith("hfx_check_") for m in sys.modules)
    finally:
        registry._plugins.cache_clear()


def test_the_example_runs_from_a_copy_outside_the_repository(tmp_path: Path) -> None:
    # what a fresh clone's user does: the installed hfx, the example file anywhere, the command line
    copy = tmp_path / "residual_identity.py"
    shutil.copy(EXAMPLES / "residual_identity.py", copy)
    hfx = Path(sys.executable).with_name("hfx")
    command = [str(hfx)] if hfx.exists() else [sys.executable, "-m", "hfx"]
    done = subprocess.run([*command, "check", copy.name, "--pdf"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "hfx-check" / "residual_identity" / "derivations" / "derivations.pdf").is_file()



def test_a_module_that_changes_the_working_folder_does_not_move_hfx(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`os.chdir` to the module's own folder at its top level (a common idiom) moved hfx too: FILE, given relative,
    was looked for again from there (exit 3), and a relative --out was written there."""
    here = tmp_path / "work"
    (here / "src").mkdir(parents=True)
    body = "import os\nos.chdir(os.path.dirname(os.path.abspath(__file__)))\n" \
           "@theorem\ndef ok():\n    return good()\n"
    _write(here / "src", "moves", body)
    monkeypatch.chdir(here)
    code, _, err = _check(["src/moves.py", "--out", "out"], capfd)
    assert code == 0, err
    assert (here / "out" / "theorems.json").is_file() and not (here / "src" / "out").exists()
    assert Path.cwd() == here


# ---- the user's code runs in processes of its own, never in hfx's ---------------------------------------------------
# Each module ends, holds or outlives the process that imports it; in hfx's own process it ended hfx silently (exit 0,
# no line), killed it (137), hung it at its exit (a thread, an atexit hook) or left a process running after it.
ENDS = {
    "os-exit-0": ("import os\nos._exit(0)\n", "exited with code 0"),
    "kills-itself": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "was killed by SIGKILL"),
    "builder-exits-the-process": ("@theorem\ndef gone():\n    import os\n    os._exit(5)\n", "exited with code 5"),
    # a process it forked keeps the answer's pipe open: the end of the child is watched, not only the pipe
    "forks-then-exits": ("import os, time\nif os.fork() == 0:\n    time.sleep(60)\n    os._exit(0)\nos._exit(3)\n",
                         "exited with code 3"),
}


@pytest.mark.parametrize("name", list(ENDS))
def test_a_module_that_ends_its_process_is_one_line_exit_2(name: str, tmp_path: Path) -> None:
    body, how = ENDS[name]
    path = _write(tmp_path, name, body)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "hfx", "check", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 50  # (not held until the forked process ends)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hfx: error: ") and how in lines[0] and str(path) in lines[0], lines
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "out").exists()


LINGERS = {
    "thread": "import threading, time\nthreading.Thread(target=time.sleep, args=(600,)).start()\n",
    "atexit": "import atexit, time\natexit.register(time.sleep, 600)\n",
    "child-process": "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
                     "'hfx-check-orphan-{tag}'])\n",
    "changes-signals-and-streams": "import signal, sys\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                   "sys.stdout.close()\nsys.stderr.close()\n",
}


@pytest.mark.parametrize("name", list(LINGERS))
def test_what_a_module_leaves_running_neither_holds_hfx_nor_outlives_it(name: str, tmp_path: Path) -> None:
    tag = tmp_path.name
    body = LINGERS[name].replace("{tag}", tag) + "@theorem\ndef ok():\n    return good()\n"
    path = _write(tmp_path, name, body)
    done = subprocess.run([sys.executable, "-m", "hfx", "check", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, check=False)  # (it hung for good before)
    assert done.returncode == 0, done.stderr
    assert "PROVED" in done.stdout and "Traceback" not in done.stderr
    left = subprocess.run(["pgrep", "-f", f"hfx-check-orphan-{tag}"], capture_output=True, text=True, check=False)
    assert left.stdout.strip() == "", "a process the module started outlived hfx"


def test_what_the_module_prints_is_shown_once(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "prints", "print('hello at import')\n@theorem\ndef a():\n    return good('user.a')\n"
                                       "@theorem\ndef b():\n    return good('user.b')\n")
    code, stdout, err = _check([str(path), "--out", str(tmp_path / "out")], capfd)
    assert code == 0, err
    assert stdout.count("hello at import") == 1  # imported three times (the census, then once per derivation)
    assert stdout.index("hello at import") < stdout.index("PROVED")
