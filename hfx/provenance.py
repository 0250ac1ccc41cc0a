"""What a reader needs to reproduce an output folder: the provenance record that `manifest.json` holds.

Package versions, the git commit of hfx's own source tree and whether it was dirty, the host, the command,
the seeds, a hash of the configuration, and UTC start and end times.  The commit is recorded only when the
imported `hfx` package sits in hfx's own source tree (a git work tree whose top holds `pyproject.toml` naming
the project `hfx`, and which tracks `hfx/__init__.py`); an installed copy that merely lies inside some other
git work tree (a virtual environment inside another project's repository) records `null`, never that
project's commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

PACKAGES = ("hfx", "sympy", "numpy", "scipy", "torch", "matplotlib", "typst")  # versions recorded
GIT_TIMEOUT_S = 10  # one git command; a hung network file system must not hang hfx


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(args: Sequence[str], cwd: Path) -> str:
    """stdout of `git ARGS` in `cwd`, with the caller's GIT_* variables (GIT_DIR, …) removed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", check=True, timeout=GIT_TIMEOUT_S)
    return done.stdout


def source_tree(package: Path | None = None) -> Path | None:
    """hfx's own git work tree, if the `hfx` package (`package`, default: the imported one) sits in it."""
    package = (package or Path(__file__).parent).resolve()
    root = package.parent
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
        if project.get("name") != "hfx" or package.name != "hfx":
            return None
        top = Path(_git(["rev-parse", "--show-toplevel"], root).strip()).resolve()
        if top != root:
            return None
        _git(["ls-files", "--error-unmatch", "--", "hfx/__init__.py"], root)  # tracked, not a stray copy
    except (OSError, ValueError, subprocess.SubprocessError):  # no git, not a work tree, no pyproject
        return None
    return root


def git_state(package: Path | None = None) -> dict[str, object]:
    """The commit of hfx's own source tree and whether it is dirty; both None outside it (module docstring)."""
    root = source_tree(package)
    if root is None:
        return {"commit": None, "dirty": None}
    try:
        commit = _git(["rev-parse", "HEAD"], root).strip()
        status = _git(["status", "--porcelain", "--untracked-files=no"], root)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def config_hash(config: Mapping[str, object]) -> str:
    """sha256 of the configuration's canonical JSON (sorted keys)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode("utf-8", errors="backslashreplace")
    return hashlib.sha256(blob).hexdigest()


def manifest(
    config: Mapping[str, object],
    started: str,
    seeds: Sequence[int] = (),
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """A provenance record for one hfx command (`OutputFolder.finish` adds the files and `complete`)."""
    return {
        "command": " ".join(["hfx", *sys.argv[1:]]),
        "config": dict(config),
        "config_hash": config_hash(config),
        "seeds": list(seeds),
        "versions": package_versions(),
        "git": git_state(),
        "host": {"name": platform.node(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "started_utc": started,
        "finished_utc": utc_now(),
        **(dict(extra) if extra else {}),
    }
