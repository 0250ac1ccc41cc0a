"""Matplotlib figures of the experiments.  Functions return figures; hfx writes them to disk.

Figures are built with `matplotlib.figure.Figure` directly (no pyplot, so no global figure state
and no GUI backend).  They read the typed results of `numerics.experiments` (`Curves`, `GroupSummary`);
where a figure needs a field of an experiment's group key, the experiment passes an accessor.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import matplotlib
import numpy as np
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from numerics.experiments.contract import Curves
from numerics.experiments.records import RankedSummary

K = TypeVar("K", bound=Hashable)
S = TypeVar("S", bound=RankedSummary[Any])


def _cmap(n: int) -> Colormap:
    return matplotlib.colormaps["viridis"].resampled(max(n, 2))


def _finite(values: np.ndarray) -> np.ndarray:
    """NaN where not finite (overflowed or diverged values are not drawn)."""
    return np.where(np.isfinite(values), values, np.nan)


def _numeric_first(label: str) -> tuple[int, float, str]:
    """Sort key: labels that are numbers in numeric order, then the others as they are."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


STEP_NAMES = {"gd": "GD", "sgd": "SGD", "momentum": "momentum", "adam": "Adam"}  # x-axis words per optimiser


def loss_curves(curves: Mapping[str, Curves], title: str, legend_title: str, optimizer: str = "gd") -> Figure:
    """One panel per architecture: data loss vs step on a log scale, one line per run, coloured by its label.

    Sized for the text width (6.75 in, up to five panels a row, shared y axis, one legend beside the panels).
    A run's line ends where it converged (it was stopped there) or diverged; a panel whose loss is exactly 0 from
    step 0 (the block is the identity at initialisation) says so.  `optimizer` names the steps on the x axis
    ("GD step k" for gd, "Adam step k" for adam, ...).
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    names = list(curves)
    nrows = -(-len(names) // 5)
    ncols = -(-len(names) // nrows)  # balanced rows of at most five
    fig = Figure(figsize=(6.75, 1.35 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    labels: list[str] = []
    for c in curves.values():
        labels += [v for v in dict.fromkeys(c.labels) if v not in labels]
    labels.sort(key=_numeric_first)
    cmap = _cmap(len(labels))
    for ax, name in zip(axes.flat, names, strict=False):
        c = curves[name]
        loss = _finite(np.asarray(c.values))
        for r in range(loss.shape[1]):
            ax.plot(c.steps, np.where(loss[:, r] > 0, loss[:, r], np.nan), color=cmap(labels.index(c.labels[r])),
                    lw=0.8, alpha=0.6)
        if not np.any(loss > 0):
            ax.text(0.5, 0.5, "loss 0\nfrom step 0\n(identity\nat init)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=7)
            ax.set_xlim(-0.5, 10)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=cmap(i), lw=1.2) for i in range(len(labels))]
    fig.legend(handles, labels, title=legend_title, fontsize=7, title_fontsize=7, loc="outside right center",
               frameon=False)
    fig.supxlabel(f"{STEP_NAMES.get(optimizer, optimizer)} step $k$", fontsize=8)
    fig.supylabel(r"data loss $\frac{1}{2}\,\mathrm{mean}\,\|H(x) - y\|^2$", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig


def _nan(v: float | None) -> float:
    return np.nan if v is None else float(v)


def time_vs_depth(
    summaries: Sequence[S], title: str, depth: Callable[[Any], int], series: Callable[[Any], str],
    prediction: Callable[[S], float | None] | None = None,
) -> Figure:
    """Median steps to converge vs depth (log–log), best learning rate per (series, depth), with the
    bootstrap interval of the median as error bars; an open triangle at the budget marks a median beyond it
    (fewer than half the runs converged).  `prediction` (a summary's predicted steps) adds the closed form as a
    dashed line.  `depth` and `series` read the group key."""
    fig = Figure(figsize=(5.2, 5.0))  # the legend sits below the axes
    ax = fig.subplots()
    rows = [r for r in summaries if r.best_lr]
    names = list(dict.fromkeys(series(r.group) for r in rows))
    colors = matplotlib.colormaps["tab10"]
    budget = float(max((r.steps.max_steps for r in rows), default=0))
    for i, v in enumerate(names):
        vr = sorted((r for r in rows if series(r.group) == v), key=lambda r: depth(r.group))
        # a small horizontal offset per series keeps overlapping markers (e.g. several censored medians) visible
        x = np.array([depth(r.group) for r in vr]) * 2.0 ** (0.06 * (i - (len(names) - 1) / 2))
        med = np.array([_nan(r.steps.steps_median) for r in vr])
        lo = np.array([_nan(r.steps.steps_median_ci[0]) for r in vr])
        hi = np.array([np.inf if r.steps.steps_median_ci[1] is None else r.steps.steps_median_ci[1] for r in vr])
        plot_med = np.maximum(med, 0.8)  # a median of 0 steps (converged at initialisation) drawn just below 1
        ok = np.isfinite(med)
        yerr = np.vstack([plot_med - np.maximum(np.nan_to_num(lo, nan=0.8), 0.8), np.where(np.isfinite(hi),
                          np.maximum(hi, 0.8), plot_med) - plot_med])
        ax.errorbar(x[ok], plot_med[ok], yerr=yerr[:, ok], fmt="o-", color=colors(i), capsize=3, label=v)
        if (~ok).any() and budget:
            ax.scatter(x[~ok], np.full((~ok).sum(), budget), marker="^", facecolors="none",
                       edgecolors=colors(i), s=60, label=f"{v}: median > budget")
        if prediction is not None:
            pred = np.array([_nan(prediction(r)) for r in vr])
            if np.isfinite(pred).any():
                ax.plot(x, np.maximum(pred, 0.8), "--", color=colors(i), lw=1, label=f"{v}: gradient flow t/η")
    ax.set_xscale("log", base=2)  # before the ticks: setting the scale replaces their labels with 2^j
    ax.set_xticks([2**j for j in range(0, 12)], [str(2**j) for j in range(0, 12)])
    depths_all = [depth(r.group) for r in rows]
    if depths_all:
        ax.set_xlim(min(depths_all) / 1.4, max(depths_all) * 1.4)
    if budget and any(r.steps.steps_median is None for r in rows):
        ax.axhline(budget, color="grey", lw=0.6, ls=":", label="step budget")
    ax.set_yscale("log")
    ax.set_xlabel("depth L (blocks)")
    ax.set_ylabel("steps to converge (median, 95% CI)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    # below the axes: inside, "best" still covered the deepest points (where the series differ most), and a
    # legend at the right leaves no room for the axes in one column (`hfx.figures.publish`)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    fig.set_layout_engine("tight")  # laid out when drawn (once per format), not here
    return fig


def best_lr_bars(
    summaries: Sequence[RankedSummary[K]], label: Callable[[K], str], lr: Callable[[K], float], title: str
) -> Figure:
    """Median steps to converge at each architecture's best learning rate, with its bootstrap interval.

    A hatched bar reaching the budget marks a median beyond the budget (fewer than half converged).
    """
    from matplotlib.transforms import blended_transform_factory

    rows = [r for r in summaries if r.best_lr]
    budget = float(max((r.steps.max_steps for r in rows), default=1))
    fig = Figure(figsize=(6.0, 0.28 * len(rows) + 1.2))
    ax = fig.subplots()
    for i, r in enumerate(rows):
        med = r.steps.steps_median
        if med is None:
            ax.barh(i, budget, color="none", edgecolor="tab:red", hatch="//")
            continue
        lo, hi = r.steps.steps_median_ci
        v = max(med, 0.8)
        ax.barh(i, v, color="tab:blue", alpha=0.7)
        lo_v = max(lo, 0.8) if lo is not None else v
        hi_v = hi if hi is not None else budget
        ax.errorbar(v, i, xerr=[[v - lo_v], [max(hi_v, 0.8) - v]], color="black", capsize=2, lw=0.8)
        note = "" if hi is not None else "; CI > budget"  # (the upper end of the interval)
        # a column right of the axes (the layout makes room for it): beside the bars, long labels ran off the page
        ax.text(1.02, i, f"{med:g} (η={lr(r.group)}{note})", va="center", fontsize=6,
                transform=blended_transform_factory(ax.transAxes, ax.transData))
    ax.set_yticks(range(len(rows)), [label(r.group) for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(0.7, budget * 1.5)
    ax.set_xlabel("steps to converge (median, 95% CI); 0 steps drawn at 0.8; hatched: median > budget", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="x", which="both")
    fig.set_layout_engine("tight")  # laid out when drawn (once per format), not here
    return fig


def norm_vs_step(curves: Mapping[str, Curves], title: str) -> Figure:
    """‖θ_k‖_F vs step (log scale where it spans a decade): measured (thick, translucent) and the closed form (thin,
    dashed, black, on top), one legend beside the panels; sized for the text width (6.75 in)."""
    from matplotlib.lines import Line2D

    names = list(curves)
    ncols = min(len(names), 3)
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(6.75, 1.6 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    colors = matplotlib.colormaps["tab10"]
    labels: list[str] = []
    floor = False
    for ax, name in zip(axes.flat, names, strict=False):
        c = curves[name]
        norm = _finite(np.asarray(c.values))
        for j, label in enumerate(c.labels):
            if label not in labels:
                labels.append(label)
            ax.plot(c.steps, norm[:, j], color=colors(labels.index(label) % 10), lw=3, alpha=0.45, label=label)
            pred = c.predicted[j] if j < len(c.predicted) else None
            if pred is not None:
                ax.plot(c.steps, _finite(pred), color="black", lw=0.8, ls="--", label="closed form")
        if c.floor:
            ax.axhline(c.floor, color="grey", lw=0.8, ls=":", label="check stops below")
            floor = True
        finite = norm[np.isfinite(norm) & (norm > 0)]
        if finite.size and finite.max() / finite.min() > 10:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=colors(i % 10), lw=3, alpha=0.45) for i in range(len(labels))]
    handles.append(Line2D([], [], color="black", lw=0.8, ls="--"))
    names_ = [*labels, "closed form"]
    if floor:
        handles.append(Line2D([], [], color="grey", lw=0.8, ls=":"))
        names_.append("check stops below")
    fig.legend(handles, names_, fontsize=7, loc="outside right center", frameon=False)
    fig.supxlabel(r"GD step $k$", fontsize=8)
    fig.supylabel(r"$\|\theta_k\|_F$", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig


@dataclass(frozen=True)
class Band:
    """One architecture's error against depth: median with the range over seeds, and every seed's value."""

    depth: np.ndarray  # (D,) depths
    median: np.ndarray  # (D,) median over seeds
    low: np.ndarray  # (D,) smallest over seeds
    high: np.ndarray  # (D,) largest over seeds
    seen_depth: np.ndarray  # (n,) depth of each run
    seen: np.ndarray  # (n,) its value


def error_vs_depth(panels: Mapping[str, Mapping[str, Band]], title: str) -> Figure:
    """One panel per error (train, test): error rate against depth, a line per architecture (median over seeds)
    with its range over seeds as a band and each seed as a dot."""
    fig = Figure(figsize=(4.2 * len(panels), 3.4))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = matplotlib.colormaps["tab10"]
    for ax, (name, bands) in zip(axes, panels.items(), strict=True):
        for i, (arch, b) in enumerate(bands.items()):
            ax.fill_between(b.depth, 100 * b.low, 100 * b.high, color=colors(i), alpha=0.2, lw=0)
            ax.plot(b.depth, 100 * b.median, "o-", color=colors(i), label=f"{arch} (median, range over seeds)")
            ax.scatter(b.seen_depth, 100 * b.seen, color=colors(i), s=10, alpha=0.6)
        ax.set_xscale("log")
        depths = sorted({float(d) for b in bands.values() for d in b.depth})
        ax.set_xticks(depths, [f"{d:g}" for d in depths])
        ax.minorticks_off()
        ax.set_xlabel("depth (weight layers)")
        ax.set_ylabel(f"{name} error (%)")
        ax.set_title(f"{name} error", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.set_layout_engine("tight")  # laid out when drawn (once per format), not here
    return fig
