"""Matplotlib figures of the experiments.  Functions return figures; hfx writes them to disk.

Figures are built with `matplotlib.figure.Figure` directly (no pyplot, so no global figure state
and no GUI backend).
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure


def _cmap(n: int) -> object:
    return matplotlib.colormaps["viridis"].resampled(max(n, 2))


def loss_curves(curves: dict[str, object], title: str, label_key: str, label_fmt: str = "{}") -> Figure:
    """One panel per architecture: data loss vs step on a log scale, one line per run, coloured by `label_key`."""
    names = list(curves)
    fig = Figure(figsize=(4.2 * len(names), 3.4))
    axes = fig.subplots(1, len(names), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], names, strict=True):
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
        ax.set_yscale("log")
        ax.set_xlabel("step k")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("data loss ½·mean‖H(x) − y‖²")
    axes[0][-1].legend(title=label_key, fontsize=7, title_fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
