"""Validation of output folders, done before anything is written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hfx.errors import UsageError


def output_dir(value: str) -> Path:
    """An output folder that exists or can be created; UsageError otherwise."""
    path = Path(value)
    if not value.strip():
        raise UsageError("--out must not be empty")
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {value!r} exists and is not a folder")
    parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise UsageError(f"--out {value!r}: {parent} is not a folder")
    try:  # a real probe (permission bits say nothing for root or special file systems); leaves nothing behind
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError:
        raise UsageError(f"--out {value!r}: cannot write in {parent}") from None
    return path
