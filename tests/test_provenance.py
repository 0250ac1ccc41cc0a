"""Provenance: the git commit recorded is hfx's own, never that of a work tree hfx merely sits in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import hfx
from hfx.provenance import config_hash, git_state, source_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def _repository(root: Path, project: str, package_under: str) -> Path:
    """A git repository named `project` holding a copy of the hfx package under `package_under`; the package."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "{project}"\nversion = "1"\n')
    package = root / package_under / "hfx"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(Path(hfx.__file__).read_text())
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "x")
    return package


def test_a_copy_inside_another_projects_repository_records_no_commit(tmp_path: Path) -> None:
    # a virtual environment inside someone else's repository: site-packages/hfx is tracked there, even
    package = _repository(tmp_path / "other", "other-project", ".venv/lib/python3.11/site-packages")
    assert source_tree(package) is None
    assert git_state(package) == {"commit": None, "dirty": None}


def test_hfx_at_the_top_of_its_own_repository_records_its_commit(tmp_path: Path) -> None:
    package = _repository(tmp_path / "hfx-src", "hfx", ".")
    assert source_tree(package) == (tmp_path / "hfx-src").resolve()
    state = git_state(package)
    assert state["commit"] == _git(tmp_path / "hfx-src", "rev-parse", "HEAD") and state["dirty"] is False
    (package / "__init__.py").write_text("changed = True\n")
    assert git_state(package)["dirty"] is True


def test_an_untracked_copy_in_a_tree_named_hfx_records_no_commit(tmp_path: Path) -> None:
    root = tmp_path / "fork"
    package = _repository(root, "hfx", "elsewhere")  # tracked, but not at the top
    assert source_tree(package) is None
    stray = root / "hfx"
    stray.mkdir()
    (stray / "__init__.py").write_text("")  # at the top, never added
    assert source_tree(stray) is None


def test_outside_any_work_tree_nothing_is_recorded(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "hfx"
    package.mkdir(parents=True)
    assert git_state(package) == {"commit": None, "dirty": None}


def test_the_config_hash_is_canonical() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
