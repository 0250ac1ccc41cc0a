"""Theorem modules registered by other packages (entry points of ``hfx.theorems``): included, or left out in one line.

A real distribution is installed for each test the way pip leaves one: a module and a ``.dist-info`` folder
with ``entry_points.txt``, on ``sys.path`` (`importlib.metadata` finds it there).  hfx's own registry is
replaced by the two derivations of `theory.reformulation`, so that the tests do not build all of them.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import hfx.theorems
from hfx import cli
from hfx.doc_model import DocView
from theory import reformulation
from theory.core import registry
from theory.derivation import TheoremRecord, verify

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
import sympy as sp
from theory.derivation import Derivation, Equal, theorem
x = sp.Symbol("x", real=True)

@theorem
def square_rule():
    step = Equal(sp.Derivative(x**2, x), 2 * x, "power rule")
    return Derivation(id="{prefix}.power-rule", title="$d/dx\\\\, x² = 2x$", claims=(), statement="$d/dx\\\\, x² = 2x$",
                      steps=(step,), proves=(step,))
"""

BROKEN = {
    "does-not-import": ("import hfx_no_such_module_anywhere\n", "does not import: ModuleNotFoundError"),
    "raises": ("from theory.derivation import theorem\n@theorem\ndef boom():\n    raise ValueError('bad')\n",
               "builder boom raised ValueError: bad"),
    "takes-an-id": (
        "from theory.derivation import theorem\nfrom theory.reformulation import residual_reformulation as r\n"
        "@theorem\ndef again():\n    return r()\n",
        "duplicate id 'reformulation.residual'",
    ),
    "no-builders": ("VALUE = 1\n", "no @theorem builders"),
}


def _install(site: Path, modules: dict[str, str]) -> str:
    """A distribution 'hfx-dummy-<token>' in `site` whose entry points name `modules` (entry name → source)."""
    token = secrets.token_hex(4)
    lines = ["[hfx.theorems]"]
    for entry, source in modules.items():
        module = f"hfx_dummy_{token}_{entry.replace('-', '_')}"
        (site / f"{module}.py").write_text(source.replace("{prefix}", f"dummy-{token}"), encoding="utf-8")
        lines.append(f"{entry} = {module}")
    info = site / f"hfx_dummy_{token}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: hfx-dummy-{token}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return token


def _in_process(ids: Sequence[str], jobs: int | None = None, progress: bool = True) -> list[TheoremRecord]:
    return [verify(registry.derivation_by_id(i)).record() for i in ids]


def _in_process_with_views(
    ids: Sequence[str], jobs: int | None = None, progress: bool = True
) -> tuple[list[TheoremRecord], list[DocView], list[str]]:
    records = _in_process(ids)
    views = [hfx.theorems.view_or_problem(registry.derivation_by_id(r.id), r) for r in records]
    return records, [v for v in views if isinstance(v, DocView)], [v for v in views if isinstance(v, str)]


@pytest.fixture
def small_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """hfx's own derivations replaced by theory.reformulation's two, verified in this process (the fork server
    of `hfx verify` preloads the real registry: `test_a_plugins_theorems_reach_the_verification_workers`
    covers that path); caches cleared before and after."""
    own = (reformulation.residual_reformulation(), reformulation.identity_iff_zero_residual())
    monkeypatch.setattr(registry, "_own", lambda: own)
    monkeypatch.setattr(hfx.theorems, "verify_ids", _in_process)
    monkeypatch.setattr(hfx.theorems, "verify_with_views", _in_process_with_views)
    monkeypatch.setattr(hfx.theorems, "server_ids", hfx.theorems.known_ids)  # the server lists the real registry
    registry._plugins.cache_clear()
    yield
    registry._plugins.cache_clear()


def test_a_plugins_theorems_join_the_registry_list_and_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], small_registry: None
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    token = _install(site, {"good": GOOD})
    monkeypatch.syspath_prepend(str(site))
    ids = [d.id for d in registry.all_derivations()]
    assert ids == ["reformulation.residual", "reformulation.identity-iff-zero", f"dummy-{token}.power-rule"]
    (plugin,) = registry.plugins()
    assert plugin.distribution == f"hfx-dummy-{token} 0.1" and not plugin.problem
    assert registry.derivation_by_id(f"dummy-{token}.power-rule").title == "$d/dx\\, x² = 2x$"

    assert cli.main(["list", "theorems", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in listed] == ids

    out = tmp_path / "out"
    assert cli.main(["verify", "--no-experiments", "--jobs", "1", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"dummy-{token}.power-rule" in captured.out
    records = json.loads((out / "theorems.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == ids and records[-1]["status"] == "proved"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["plugins"][0]["ids"] == [f"dummy-{token}.power-rule"]
    assert (out / "derivations" / f"dummy-{token}.power-rule.pdf").is_file()


def test_a_plugin_outside_the_prose_syntax_is_verified_but_not_typeset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], small_registry: None
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    raw = GOOD.replace("$d/dx\\\\, x² = 2x$", "d/dx x² = 2x")  # maths outside $…$: refused by the documents
    assert raw != GOOD
    token = _install(site, {"raw": raw})
    monkeypatch.syspath_prepend(str(site))
    out = tmp_path / "out"
    assert cli.main(["verify", "--no-experiments", "--jobs", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if "cannot be typeset" in x]
    assert f"dummy-{token}.power-rule" in line and "its document is not written" in line
    records = json.loads((out / "theorems.json").read_text(encoding="utf-8"))
    assert records[-1]["id"] == f"dummy-{token}.power-rule" and records[-1]["status"] == "proved"
    assert not (out / "derivations" / f"dummy-{token}.power-rule.pdf").exists()
    assert (out / "derivations" / "reformulation.residual.pdf").is_file()


def test_a_broken_plugin_is_one_line_and_the_others_still_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], small_registry: None
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    token = _install(site, {"good": GOOD, **{name: source for name, (source, _) in BROKEN.items()}})
    monkeypatch.syspath_prepend(str(site))
    problems = registry.plugin_problems()
    assert len(problems) == len(BROKEN)
    for name, (_, fragment) in BROKEN.items():
        (line,) = [p for p in problems if p.startswith(f"plugin {name!r}")]
        assert fragment in line and "\n" not in line, line
    ids = [d.id for d in registry.all_derivations()]
    assert ids[-1] == f"dummy-{token}.power-rule" and len(ids) == 3
    assert not any(k.endswith(".boom") or k.endswith(".again") for k in registry._BUILDERS)  # left out entirely

    assert cli.main(["list", "theorems"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len(BROKEN) and all(line.startswith("hfx: warning: plugin ") for line in err)

    out = tmp_path / "out"
    assert cli.main(["verify", "--no-experiments", "--jobs", "1", "--out", str(out)]) == 0  # not a crash
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sum(1 for p in manifest["plugins"] if p["problem"]) == len(BROKEN)


def test_pytest_proofs_runs_a_plugins_theorems_and_reports_a_broken_one(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    token = _install(site, {"good": GOOD, "raises": BROKEN["raises"][0]})
    # the proofs of plugins, in a fresh process that finds the distribution on its path (hfx's own replaced)
    program = (
        "import sys, pytest\n"
        "from theory.core import registry\n"
        "from theory import reformulation\n"
        "registry._own = lambda: (reformulation.residual_reformulation(),)\n"
        "sys.exit(pytest.main(['-q', '-n', '0', '-p', 'no:cacheprovider', 'proofs/test_plugins.py']))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr  # the broken plugin fails the run
    assert "1 failed, 1 passed" in done.stdout, done.stdout
    assert "FAILED proofs/test_plugins.py::test_every_installed_plugin_loads" in done.stdout
    assert "builder boom raised ValueError: bad" in done.stdout
    assert f"dummy-{token}.power-rule" in done.stdout.split("hfx verdicts")[-1]  # in the closing verdict table


def test_a_plugins_theorems_reach_the_verification_workers(tmp_path: Path) -> None:
    # a fresh `hfx derive ID`: the id is resolved in the command, the derivation verified in a fork of the
    # verification server (which preloads the registry, plugins included) and typeset
    site = tmp_path / "site"
    site.mkdir()
    token = _install(site, {"good": GOOD})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "docs"
    done = subprocess.run([sys.executable, "-m", "hfx", "derive", f"dummy-{token}.power-rule", "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert (out / f"dummy-{token}.power-rule.pdf").read_bytes().startswith(b"%PDF")
