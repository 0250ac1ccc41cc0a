"""Figures of what GD does near the identity (branch-norms, branch-rate, identity-init, hardt-ma-bound).

Like `numerics.plots`: functions build `matplotlib.figure.Figure`s from typed arrays (`Curves`) and return
them; hfx writes them.  Measured runs are drawn thick and translucent, closed forms thin, dashed and black on top
(so they stay visible where they coincide), levels the checks use (ε, a predicted loss floor) as dotted lines.
Labels use mathtext.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from numerics.experiments.contract import Curves


def _finite_positive(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _panels(curves: Mapping[str, Curves], ylabel: str, floor_label: str, ncols: int = 3,
            closed_label: str = "closed form", decades_below_floor: float | None = None) -> Figure:
    """One panel per curve set, log y: each run (coloured by its label), its closed form (`closed_label`), the floor.

    `decades_below_floor`: the shared y axis stops that many decades below the lowest floor (lines run off the
    bottom), so that one geometric run falling to 1e-200 does not flatten every other panel into its top edge."""
    names = list(curves)
    ncols = max(1, min(len(names), ncols))
    nrows = max(1, -(-len(names) // ncols))
    fig = Figure(figsize=(2.3 * ncols, 1.9 * nrows + 0.3))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    colors = matplotlib.colormaps["tab10"]
    for ax, name in zip(axes.flat, names, strict=False):
        c = curves[name]
        values = _finite_positive(np.asarray(c.values, dtype=float))
        labels = list(dict.fromkeys(c.labels))
        for j, label in enumerate(c.labels):
            ax.plot(c.steps, values[:, j], color=colors(labels.index(label) % 10), lw=2, alpha=0.5)
        drawn = False
        for pred in c.predicted:
            if pred is not None:
                ax.plot(c.steps, _finite_positive(np.asarray(pred, dtype=float)), color="black", lw=0.7, ls="--")
                drawn = True
        for i, label in enumerate(labels):
            ax.plot([], [], color=colors(i % 10), lw=2, alpha=0.5, label=label)
        if drawn:
            ax.plot([], [], color="black", lw=0.7, ls="--", label=closed_label)
        if c.floor:
            ax.axhline(c.floor, color="grey", lw=0.8, ls=":", label=floor_label)
        if np.any(np.isfinite(values)):
            ax.set_yscale("log")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    floors = [c.floor for c in curves.values() if c.floor]
    if decades_below_floor is not None and floors and axes[0][0].get_yscale() == "log":
        low = min(floors) / 10**decades_below_floor
        arrays = [_finite_positive(np.asarray(a, dtype=float))
                  for c in curves.values() for a in (c.values, *(q for q in c.predicted if q is not None))]
        tops = [float(np.nanmax(v)) for v in arrays if np.isfinite(v).any()]
        bottom, _ = axes[0][0].get_ylim()
        if tops and bottom < low < max(tops):  # (the autoscaled top carried a margin of 5% of all the decades)
            axes[0][0].set_ylim(low, 3 * max(tops))  # shared by every panel
    for ax in axes[-1]:
        ax.set_xlabel(r"GD step $k$")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    fig.set_layout_engine("tight")  # laid out when drawn (once per format), not here
    return fig


def branch_norms(curves: Mapping[str, Curves], eps: float) -> Figure:
    """‖W₁‖/‖W₁(0)‖ and ‖W₂‖/‖W₂(0)‖ along GD per activation, one line per L2 decay λ (C8)."""
    norms = {k: v for k, v in curves.items() if "‖" in k}
    renamed = {k.replace("‖W₁‖/‖W₁(0)‖", r"$\|W_1\|/\|W_1(0)\|$").replace("‖W₂‖/‖W₂(0)‖", r"$\|W_2\|/\|W_2(0)\|$"): v
               for k, v in norms.items()}
    fig = _panels(renamed, "norm / initial norm", "", ncols=2)
    fig.suptitle(rf"Residual branch weights along GD ($\varepsilon = {eps:g}$)")
    fig.set_layout_engine("tight")  # laid out when drawn (once per format), not here
    return fig


def branch_rate(curves: Mapping[str, Curves]) -> Figure:
    """Loss of a linear branch decaying to the degenerate minimum vs the gradient-flow closed form (C9): GD is its
    forward Euler, so the two agree for small steps only (one layer at η = 0.2 falls faster: (1 − η)² per step
    against e^{−2η}); the y axis stops six decades below ε."""
    return _panels({k.replace("N=", "$N$ = "): v for k, v in curves.items()}, r"loss $L_k$",
                   r"$\varepsilon$", closed_label="gradient flow", decades_below_floor=6.0)


def identity_init(curves: Mapping[str, Curves]) -> Figure:
    """Loss from the identity initialisation per target and depth, with the predicted floor ½Σ_{λ<0}λ²."""
    return _panels({k.replace("L=", "$L$ = "): v for k, v in curves.items()}, r"loss $L_k$",
                   r"floor $\frac{1}{2}\sum_{\lambda<0}\lambda^2$")


def hardt_ma_ratios(sigma_min: np.ndarray, corrected: np.ndarray, printed: np.ndarray, depth: np.ndarray) -> Figure:
    """‖∇f‖² over each form of Hardt & Ma's Eq. (2.3) bound against σ_min(Σ): a ratio below 1 violates it."""
    fig = Figure(figsize=(3.25, 3.0), layout="constrained")
    ax: Axes = fig.subplots()
    colors = matplotlib.colormaps["tab10"]
    for i, d in enumerate(sorted({int(x) for x in depth})):
        at = depth == d
        ax.scatter(sigma_min[at], corrected[at], s=8, color=colors(i), marker="o", label=rf"corrected, $\ell = {d}$")
        ax.scatter(sigma_min[at], printed[at], s=10, color=colors(i), marker="x", label=rf"printed, $\ell = {d}$")
    ax.axhline(1.0, color="black", lw=0.7, ls="--", label="ratio 1 (the bound)")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\sigma_{\min}(\Sigma)$")
    ax.set_ylabel(r"$\|\nabla f\|_F^2\,/\,$bound")
    ax.grid(alpha=0.3)
    fig.legend(fontsize=7, frameon=False, ncols=2, loc="outside lower center")
    return fig
