"""Provenance manifests and atomic writes for everything hfx puts on disk.

A manifest records what a reader needs to reproduce a result: package
versions, the git commit and whether the tree was dirty, the host, the
command, seeds, a hash of the configuration, and UTC start/end times.
Files are written atomically (temporary file in the same folder, then
`os.replace`), so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

PACKAGES = ("hfx", "sympy", "numpy", "scipy", "torch", "matplotlib", "typst")  # versions recorded


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


def git_state(path: Path | None = None) -> dict[str, object]:
    """The commit of the source tree hfx runs from, and whether it is dirty."""
    where = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where, capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def config_hash(config: Mapping[str, object]) -> str:
    """sha256 of the configuration's canonical JSON (sorted keys)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def manifest(
    config: Mapping[str, object],
    started: str,
    seeds: Sequence[int] = (),
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """A provenance record for one hfx command."""
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


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_csv_atomic(path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    """A tidy CSV, one row per mapping, columns in the first row's order."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def write_json_atomic(path: Path, obj: object) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
