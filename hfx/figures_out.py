"""Figures to disk: each experiment figure as PDF and PNG, with the rows it draws as CSV beside it.

An experiment module gives its figures (`figures(result)`) and, where it can, their data
(`figure_data(result) -> {name: rows}`); both are written under `figures/` of an output folder through
`hfx.output` (atomic, listed in the manifest).  PDFs embed TrueType fonts (Type 42, not Type 3: venues reject
Type 3), set here for every figure that hfx writes; same inputs give the same bytes (no creation date).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfx.output import OutputFolder

FORMATS = ("pdf", "png")


def figure_bytes(fig: Any, fmt: str) -> bytes:
    """One figure in `fmt`, reproducibly (no creation date or software stamp), fonts as Type 42."""
    import matplotlib

    buf = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
    with matplotlib.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42}):
        fig.savefig(buf, format=fmt, dpi=200, metadata=metadata)
    return buf.getvalue()


def csv_bytes(rows: Sequence[Mapping[str, object]]) -> bytes:
    """Rows as the CSV file `hfx.output.OutputFolder.write_csv` writes."""
    from hfx.encoding import csv_text

    return csv_text(rows).encode("utf-8", errors="backslashreplace")


def figure_files(figures: Mapping[str, Any], data: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
                 prefix: str = "figures") -> list[tuple[str, bytes]]:
    """Every figure as PDF and PNG (and its data as CSV, when given): (path relative to the folder, content)."""
    from hfx.figures import render_all

    files: list[tuple[str, bytes]] = []
    for name, fig in figures.items():
        for fmt, content in zip(FORMATS, render_all(fig, FORMATS, figure_bytes), strict=True):
            files.append((f"{prefix}/{name}.{fmt}", content))
        rows = (data or {}).get(name)
        if rows:
            files.append((f"{prefix}/{name}.csv", csv_bytes([dict(r) for r in rows])))
    return files


def write_figures(folder: OutputFolder, figures: Mapping[str, Any],
                  data: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
                  prefix: str = "figures") -> list[str]:
    """Write every figure (and its data CSV, when given); returns the paths written, relative to the folder."""
    written = []
    for path, content in figure_files(figures, data, prefix):
        folder.write_bytes(path, content)
        written.append(path)
    return written
