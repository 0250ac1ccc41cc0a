"""Matplotlib figures of the experiments.  Functions return figures; hfx writes them to disk.

Figures are built with `matplotlib.figure.Figure` directly (no pyplot, so no global figure state
and no GUI backend).
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure


def _cmap(n: int) -> Any:
    return matplotlib.colormaps["viridis"].resampled(max(n, 2))


def loss_curves(curves: dict[str, Any], title: str, label_key: str, label_fmt: str = "{}") -> Figure:
    """One panel per architecture: data loss vs step on a log scale, one line per run, coloured by `label_key`.

    A run's line ends where it converged (it was stopped there) or diverged.
    """
    names = list(curves)
    ncols = min(len(names), 5)
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(3.3 * ncols, 2.7 * nrows + 0.4))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        c = curves[name]
        steps, loss, labels = np.asarray(c["steps"]), np.asarray(c["loss"]), np.asarray(c[label_key])
        values = list(dict.fromkeys(labels.tolist()))
        cmap = _cmap(len(values))
        for r in range(loss.shape[1]):
            i = values.index(labels[r])
            y = np.where(loss[:, r] > 0, loss[:, r], np.nan)
            ax.plot(steps, y, color=cmap(i), lw=0.8, alpha=0.6)
        for i, v in enumerate(values):
            ax.plot([], [], color=cmap(i), label=label_fmt.format(v))
        if not np.any(loss > 0):
            ax.text(0.5, 0.5, "loss exactly 0 from step 0\n(H(x) = x at initialisation)", ha="center",
                    va="center", transform=ax.transAxes, fontsize=8)
            ax.set_xlim(-0.5, 10)
        ax.set_yscale("log")
        ax.set_xlabel("step k", fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("data loss ½·mean‖H(x) − y‖²", fontsize=8)
    axes.flat[len(names) - 1].legend(title=label_key, fontsize=7, title_fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def time_vs_depth(summaries: list[dict[str, Any]], title: str, predicted_key: str | None = None) -> Figure:
    """Median steps to converge vs depth (log–log), best learning rate per (variant, depth), with the
    bootstrap interval of the median as error bars; an open triangle at the budget marks a median beyond it
    (fewer than half the runs converged).  `predicted_key` adds the closed form as a dashed line."""
    fig = Figure(figsize=(5.2, 3.8))
    ax = fig.subplots()
    rows = [r for r in summaries if r.get("best_lr", True)]
    several_inits = len({r.get("init") for r in rows}) > 1

    def label(r: dict[str, Any]) -> str:
        return f"{r['variant']} / {r['init']}" if several_inits else str(r["variant"])

    variants = list(dict.fromkeys(label(r) for r in rows))
    colors = matplotlib.colormaps["tab10"]
    budget = max((float(r.get("max_steps", 0) or 0) for r in rows), default=0.0)
    for i, v in enumerate(variants):
        vr = sorted((r for r in rows if label(r) == v), key=lambda r: int(r["depth"]))  # type: ignore[arg-type]
        # a small horizontal offset per series keeps overlapping markers (e.g. several censored medians) visible
        depth = np.array([int(r["depth"]) for r in vr]) * 2.0 ** (0.06 * (i - (len(variants) - 1) / 2))  # type: ignore[arg-type]
        med = np.array([np.nan if r["steps_median"] is None else float(r["steps_median"]) for r in vr])  # type: ignore[arg-type]
        lo = np.array([np.nan if r["steps_median_ci"][0] is None else float(r["steps_median_ci"][0]) for r in vr])  # type: ignore[index]
        hi = np.array([np.inf if r["steps_median_ci"][1] is None else float(r["steps_median_ci"][1]) for r in vr])  # type: ignore[index]
        plot_med = np.maximum(med, 0.8)  # a median of 0 steps (converged at initialisation) drawn just below 1
        ok = np.isfinite(med)
        yerr = np.vstack([plot_med - np.maximum(np.nan_to_num(lo, nan=0.8), 0.8), np.where(np.isfinite(hi),
                          np.maximum(hi, 0.8), plot_med) - plot_med])
        ax.errorbar(depth[ok], plot_med[ok], yerr=yerr[:, ok], fmt="o-", color=colors(i), capsize=3, label=v)
        if (~ok).any() and budget:
            ax.scatter(depth[~ok], np.full((~ok).sum(), budget), marker="^", facecolors="none",
                       edgecolors=colors(i), s=60, label=f"{v}: median > budget")
        if predicted_key:
            pred = np.array([np.nan if r.get(predicted_key) is None else float(r[predicted_key]) for r in vr])  # type: ignore[arg-type]
            if np.isfinite(pred).any():
                ax.plot(depth, np.maximum(pred, 0.8), "--", color=colors(i), lw=1, label=f"{v}: gradient flow t/η")
    ax.set_xticks([2**j for j in range(0, 12)], [str(2**j) for j in range(0, 12)])
    depths_all = [int(r["depth"]) for r in rows]  # type: ignore[arg-type]
    if depths_all:
        ax.set_xlim(min(depths_all) / 1.4, max(depths_all) * 1.4)
    if budget and any(r["steps_median"] is None for r in rows):
        ax.axhline(budget, color="grey", lw=0.6, ls=":", label="step budget")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("depth L (blocks)")
    ax.set_ylabel("steps to converge (median, 95% CI)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def best_lr_bars(summaries: list[dict[str, Any]], keys: tuple[str, ...], title: str) -> Figure:
    """Median steps to converge at each architecture's best learning rate, with its bootstrap interval.

    A hatched bar reaching the budget marks a median beyond the budget (fewer than half converged).
    """
    rows = [r for r in summaries if r.get("best_lr")]
    labels = [" ".join(str(r[k]) for k in keys) for r in rows]
    budget = max((float(r["max_steps"]) for r in rows), default=1.0)  # type: ignore[arg-type]
    fig = Figure(figsize=(6.0, 0.28 * len(rows) + 1.2))
    ax = fig.subplots()
    for i, r in enumerate(rows):
        med = r["steps_median"]
        if med is None:
            ax.barh(i, budget, color="none", edgecolor="tab:red", hatch="//")
            continue
        lo, hi = r["steps_median_ci"]  # type: ignore[misc]
        v = max(float(med), 0.8)  # type: ignore[arg-type]
        ax.barh(i, v, color="tab:blue", alpha=0.7)
        lo_v = max(float(lo), 0.8) if lo is not None else v  # type: ignore[arg-type]
        hi_v = float(hi) if hi is not None else budget  # type: ignore[arg-type]
        ax.errorbar(v, i, xerr=[[v - lo_v], [max(hi_v, 0.8) - v]], color="black", capsize=2, lw=0.8)
        note = "" if hi is not None else "; CI upper beyond budget"
        ax.text(max(hi_v, v) * 1.15, i, f"{float(med):g} (η={r.get('lr')}{note})", va="center", fontsize=6)  # type: ignore[arg-type]
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(0.7, budget * 3)
    ax.set_xlabel("steps to converge (median, 95% CI); 0 steps drawn at 0.8; hatched: median > budget", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="x", which="both")
    fig.tight_layout()
    return fig


def norm_vs_step(curves: dict[str, Any], title: str) -> Figure:
    """‖θ_k‖_F vs step (log scale): measured (thick, translucent) and the closed form (thin, dashed, black)."""
    names = list(curves)
    ncols = min(len(names), 3)
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(3.8 * ncols, 2.9 * nrows + 0.4))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    colors = matplotlib.colormaps["tab10"]
    for ax, name in zip(axes.flat, names, strict=False):
        c = curves[name]
        steps, norm = np.asarray(c["steps"]), np.asarray(c["norm"])
        for j, label in enumerate(c["label"]):  # type: ignore[arg-type]
            ax.plot(steps, norm[:, j], color=colors(j), lw=3, alpha=0.45, label=label)
            pred = c["predicted"][j]  # type: ignore[index]
            if pred is not None:
                ax.plot(steps, pred, color="black", lw=0.8, ls="--")
        ax.plot([], [], color="black", lw=0.8, ls="--", label="closed form")
        if c.get("floor"):
            ax.axhline(float(c["floor"]), color="grey", lw=0.8, ls=":", label="check stops below")  # type: ignore[arg-type]
        finite = norm[np.isfinite(norm) & (norm > 0)]
        if finite.size and finite.max() / finite.min() > 10:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step k", fontsize=8)
        ax.set_ylabel("‖θ_k‖_F", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
