"""Comparing results and output folders exactly, wall-clock fields aside (shared by the chunk, cluster and resume
tests), and a refused command line leaving a folder untouched (the hostile-input tests).

Two runs of the same configuration must agree in every field, bit for bit in float64, and in every type (a
StrEnum is not a str): `same` walks typed results, `folder_view` reads an output folder's `runs.csv` and
`summary.json`.  The only fields left out are the measurements of the machine's clock (`CLOCK`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

CLOCK = frozenset({"wall_seconds", "batch_seconds", "seconds", "seconds_median", "seconds_median_ci"})


def same(a: Any, b: Any, path: str = "result") -> None:
    """AssertionError naming the first difference of type or value (floats compared bit for bit; NaN = NaN)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} ≠ {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{path}: {a.dtype}{a.shape} ≠ {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{path}: arrays differ"
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a.hex() == b.hex(), f"{path}: {a!r} ≠ {b!r}"
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            if f.name not in CLOCK:
                same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} ≠ {list(b)}"
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: {len(a)} ≠ {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} ≠ {b!r}"


def _without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in CLOCK}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def folder_view(out: Path) -> dict[str, Any]:
    """An output folder's runs.csv and summary.json as values, wall-clock fields left out."""
    with (out / "runs.csv").open(encoding="utf-8") as handle:
        rows = [{k: v for k, v in row.items() if k not in CLOCK} for row in csv.DictReader(handle)]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"runs.csv": rows, "summary.json": _without_clock(summary)}


def manifest(out: Path) -> dict[str, Any]:
    found = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path below `root` with its bytes (files) or "<dir/link>"."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() and not p.is_symlink() else "<dir/link>"
            for p in root.rglob("*")}


def assert_refused(argv: list[str], expected: str, root: Path, capsys: Any) -> None:
    """`hfx argv` exits 2 with one line on stderr holding `expected`, no traceback, and nothing below `root` changed."""
    from hfx.cli import main

    before = tree(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err, err
    assert tree(root) == before
