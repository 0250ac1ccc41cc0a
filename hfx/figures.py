"""The figures `hfx verify` writes: publication-grade PDF and PNG, each with the data it draws as CSV beside it.

Every experiment's `figures(result)` is built and saved inside `STYLE` (`matplotlib.rc_context`): fonts embedded as
TrueType (Type 42: `pdf.fonttype = 42`; venues reject Type 3), a serif font (DejaVu Serif, shipped with matplotlib,
and its mathtext set), text at least `MIN_POINTS` at print size. `publish` then sets the print size: a column
(`COLUMN` = 3.25 in) for a single panel, the text width (`TEXT` = 6.75 in) otherwise, the height scaled with the
width (capped at `MAX_HEIGHT`), raises any smaller text to `MIN_POINTS`, drops the minor ticks of log axes spanning
`MINOR_DECADES` or more, and lays the figure out (tight) when it is drawn, so that nothing is clipped. `figure_data`
reads back what was drawn (every line's and scatter's points, every bar), so the CSV beside a figure holds exactly
the numbers in it.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from numerics.experiments import AnyResult

COLUMN = 3.25  # inches: one column of a two-column paper
TEXT = 6.75  # inches: the text width
MAX_HEIGHT = 8.5
MIN_POINTS = 7.0
MINOR_DECADES = 3.0  # a log axis spanning this many decades or more has labelled major ticks enough: no minor ones
STYLE: dict[str, Any] = {
    "pdf.fonttype": 42, "ps.fonttype": 42,
    "font.family": "serif", "font.serif": ["DejaVu Serif"], "mathtext.fontset": "dejavuserif",
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "figure.titlesize": 9, "axes.unicode_minus": True,
}


@contextmanager
def style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # (a plain dict of rc names)
        yield


def publish(fig: Figure) -> Figure:
    """Print size (column or text width), text ≥ `MIN_POINTS`, laid out again (the module docstring)."""
    from matplotlib.text import Text
    from matplotlib.ticker import NullLocator

    panels = [ax for ax in fig.axes if ax.get_visible()]
    columns = len({round(ax.get_position().x0, 3) for ax in panels})
    width = COLUMN if columns <= 1 else TEXT
    w, h = fig.get_size_inches()
    fig.set_size_inches(width, min(MAX_HEIGHT, max(2.0, h * width / w)))
    for text in fig.findobj(Text):
        size = text.get_fontsize()
        if isinstance(size, (int, float)) and size < MIN_POINTS:
            text.set_fontsize(MIN_POINTS)
    for ax in panels:
        for text in (ax.title, ax.xaxis.label):
            _wrap(text, 0.8 * width / max(1, columns))  # the panel, less its tick labels
    for text in _suptitles(fig):
        _wrap(text, width)
    for ax in panels:
        for axis, limits in ((ax.yaxis, ax.get_ylim()), (ax.xaxis, ax.get_xlim())):
            if axis.get_scale() == "log" and _decades(limits) >= MINOR_DECADES:
                axis.set_minor_locator(NullLocator())  # unreadable at print size, and slow to lay out
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("tight")  # laid out when drawn, at the print size
    return fig


def _suptitles(fig: Figure) -> list[Any]:
    return [t for t in (getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None)) if t is not None]


def _wrap(text: Any, room: float) -> None:
    """Break a long title or label (no mathtext) at spaces so that it fits `room` inches in print."""
    words = text.get_text()
    if not words or "$" in words:
        return
    per_line = max(12, int(room * 72 / (0.6 * float(text.get_fontsize()))))  # ~0.6 em a character
    if len(words) > per_line:
        text.set_text(textwrap.fill(words, per_line, break_on_hyphens=False))  # never "near-\nidentity"


def _decades(limits: tuple[float, float]) -> float:
    low, high = sorted(limits)
    return math.log10(high / low) if low > 0 and math.isfinite(high / low) else 0.0


def render_all(fig: Figure, formats: Sequence[str], render_one: Callable[[Figure, str], bytes]) -> list[bytes]:
    """The figure in each format, laid out once: at the first rendering (its layout engine places the panels
    in figure coordinates, which do not depend on the format's resolution); the others reuse that layout
    instead of computing it again (a third of the rendering time of hfx's figures)."""
    out = [render_one(fig, formats[0])]
    engine = fig.get_layout_engine()
    if engine is not None and len(formats) > 1:
        try:
            fig.set_layout_engine("none")
        except RuntimeError:  # (a colorbar under one engine cannot change to another: laid out each time)
            engine = None
    try:
        out += [render_one(fig, fmt) for fmt in formats[1:]]
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return out


def render(fig: Figure, fmt: str) -> bytes:
    """The figure's bytes (no creation date: the same inputs give the same bytes)."""
    buf = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
    with style():
        fig.savefig(buf, format=fmt, dpi=150, metadata=metadata)
    return buf.getvalue()


def _label(artist: Any, fallback: str) -> str:
    label = str(artist.get_label())
    return fallback if not label or label.startswith("_") else label


def figure_data(fig: Figure) -> list[dict[str, object]]:
    """Every drawn point: panel (its title), series, kind, x, y (not finite: empty)."""
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    rows: list[dict[str, object]] = []

    def add(panel: str, series: str, kind: str, xs: Any, ys: Any) -> None:
        for x, y in zip(xs, ys, strict=False):
            fx, fy = float(x), float(y)
            rows.append({"panel": panel, "series": series, "kind": kind, "x": fx if math.isfinite(fx) else "",
                         "y": fy if math.isfinite(fy) else ""})

    for i, ax in enumerate(a for a in fig.axes if a.get_visible()):
        panel = ax.get_title() or f"panel {i + 1}"
        for j, line in enumerate(ax.get_lines()):
            xs, ys = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
            if len(xs):
                add(panel, _label(line, f"line {j + 1}"), "line", xs, ys)
        for j, coll in enumerate(c for c in ax.collections if isinstance(c, PathCollection)):
            offsets = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
            add(panel, _label(coll, f"points {j + 1}"), "points", offsets[:, 0], offsets[:, 1])
        for j, patch in enumerate(p for p in ax.patches if isinstance(p, Rectangle)):
            add(panel, _label(patch, f"bar {j + 1}"), "bar", [patch.get_x() + patch.get_width() / 2],
                [patch.get_height() if patch.get_height() else patch.get_width()])
    return rows


FigureFiles = tuple[str, bytes, bytes, list[dict[str, object]]]  # name, PDF, PNG, the data drawn


def experiment_files(item: tuple[str, AnyResult]) -> list[FigureFiles]:
    """One experiment's figures, built in `STYLE`, sized by `publish`, rendered, with their data."""
    from numerics.experiments import get

    name, result = item
    out: list[FigureFiles] = []
    if not result.records:  # nothing was measured: nothing to draw (an empty panel is no figure)
        return out
    with style():
        for fig_name, fig in get(name).figures(result).items():
            publish(fig)
            pdf, png = render_all(fig, ("pdf", "png"), render)
            out.append((fig_name, pdf, png, figure_data(fig)))
    return out
