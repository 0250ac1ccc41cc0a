"""Figures of the degradation study, publication-grade, each with the rows of data it draws.

Sizes: a column (3.25 in) or the text width (6.75 in); serif text ≥ 7 pt, mathtext labels; TrueType (Type 42)
fonts in PDF and PS (`matplotlib.rcParams["pdf.fonttype"] = 42`; venues reject Type 3).  Every interval is the
95% Student-t interval over seeds with its n in the legend or caption; open markers are grid-limited arms.
Figures (a panel only where there is data):

* ``degradation-error-vs-depth`` — training and test error against depth, plain vs residual, one row per
  normalisation (He et al. 2016, Fig. 6 end points; Table 6 for the residual test error);
* ``degradation-curves`` — training (dashed) and test (solid) error against epoch at each arm's best rate, plain
  vs residual at 20 and 56 layers (He et al. 2016, Fig. 1 and Fig. 6);
* ``degradation-responses`` — std of each layer's response (first layer and trunk), plain vs residual at several
  depths (Fig. 7);
* ``degradation-shortcuts`` — test error of the shortcut variants (He et al. 2016b, Table 1).

`figure_rows(result)` gives, for each figure, the rows of its data CSV.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:
    from numerics.experiments.degradation import DegradationRun, DegradationSummary, Result
    from numerics.experiments.trainable_depth import Result as TrainableResult

COLUMN, TEXT = 3.25, 6.75  # inches
STYLE: dict[str, Any] = {
    "font.family": "serif", "font.serif": ["DejaVu Serif"], "mathtext.fontset": "dejavuserif",
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "legend.title_fontsize": 7, "pdf.fonttype": 42, "ps.fonttype": 42,
    "axes.linewidth": 0.6, "lines.linewidth": 1.0, "lines.markersize": 3.5,
}
COLORS = {"plain": "#b2182b", "residual": "#2166ac"}
Row = dict[str, object]


def _style() -> None:
    """Fonts, sizes and Type 42 embedding (global: `pdf.fonttype` is read when a figure is saved)."""
    matplotlib.rcParams.update(cast(Any, STYLE))


def _best(result: Result) -> list[DegradationSummary]:
    return [s for s in result.summaries if s.best_lr and s.shortcut == "identity"]


def _best_runs(result: Result, model: str, arch: str, depth: int, norm: str) -> list[DegradationRun]:
    lr = next((s.lr for s in result.summaries if s.best_lr and s.shortcut == "identity" and not s.deep
               and (s.model, s.architecture, s.depth, s.norm) == (model, arch, depth, norm)), None)
    return [r for r in result.records if not r.deep and r.shortcut == "identity" and r.fit.lr == lr
            and (r.model, r.architecture, r.depth, r.norm) == (model, arch, depth, norm)]


def error_vs_depth(result: Result) -> tuple[Figure, list[Row]]:
    rows = sorted((s for s in _best(result) if not s.deep), key=lambda s: (s.norm, s.architecture, s.depth))
    norms = list(dict.fromkeys(s.norm for s in rows))
    fig = Figure(figsize=(TEXT, 1.9 * max(len(norms), 1) + 0.3))
    axes = fig.subplots(max(len(norms), 1), 2, squeeze=False, sharex=True)
    data: list[Row] = []
    for i, norm in enumerate(norms):
        for j, (what, label) in enumerate((("train", "training"), ("test", "test"))):
            ax = axes[i][j]
            for arch in COLORS:
                mine = [s for s in rows if s.norm == norm and s.architecture == arch]
                if not mine:
                    continue
                x = [s.depth for s in mine]
                mean = [100 * getattr(s, f"{what}_error_mean") for s in mine]
                lo = [m - 100 * getattr(s, f"{what}_error_low") for m, s in zip(mean, mine, strict=True)]
                hi = [100 * getattr(s, f"{what}_error_high") - m for m, s in zip(mean, mine, strict=True)]
                ax.errorbar(x, mean, yerr=[lo, hi], color=COLORS[arch], capsize=2, lw=1, label=f"{arch}")
                limited = [(d, m) for d, m, s in zip(x, mean, mine, strict=True) if s.grid_limited]
                ax.plot(x, mean, "o", color=COLORS[arch], ms=3.5)
                if limited:
                    ax.plot(*zip(*limited, strict=True), "o", mfc="white", mec=COLORS[arch], ms=5)
            ax.set_xscale("log")
            ax.set_xticks(sorted({s.depth for s in rows}), [str(d) for d in sorted({s.depth for s in rows})])
            ax.minorticks_off()
            ax.set_ylabel(f"{label} error (%)")
            ax.set_title(f"{label} error, {'batch norm' if norm == 'batch' else 'no normalisation'}")
            ax.grid(alpha=0.3, lw=0.4)
            if i == len(norms) - 1:
                ax.set_xlabel("depth $L$ (weight layers)")
    n = max((s.n for s in rows), default=0)
    if rows:
        axes[0][0].legend(title=f"mean, 95% CI, n = {n}; open: grid-limited", frameon=False)
    for s in rows:
        data.append({"model": s.model, "norm": s.norm, "architecture": s.architecture, "depth": s.depth,
                     "lr": s.lr, "n": s.n, "train_error_mean": s.train_error_mean, "train_error_low": s.train_error_low,
                     "train_error_high": s.train_error_high, "test_error_mean": s.test_error_mean,
                     "test_error_low": s.test_error_low, "test_error_high": s.test_error_high,
                     "grid_limited": s.grid_limited, "n_plateaued": s.n_plateaued})
    fig.tight_layout()
    return fig, data


def curves(result: Result, depths: Sequence[int] = (20, 56)) -> tuple[Figure, list[Row]] | None:
    best = _best(result)
    norms = list(dict.fromkeys(s.norm for s in best))
    have = [d for d in depths if any(s.depth == d for s in best)]
    if not have:
        return None
    model = best[0].model
    fig = Figure(figsize=(TEXT, 1.9 * len(norms) + 0.3))
    axes = fig.subplots(len(norms), 2, squeeze=False, sharey=True)
    data: list[Row] = []
    shades = {d: 0.45 + 0.55 * k / max(len(have) - 1, 1) for k, d in enumerate(have)}
    for i, norm in enumerate(norms):
        for j, arch in enumerate(COLORS):
            ax = axes[i][j]
            drawn = False
            for depth in have:
                runs = _best_runs(result, model, arch, depth, norm)
                if not runs:
                    continue
                color = matplotlib.colors.to_rgba(COLORS[arch], shades[depth])
                for what, style in (("train", "--"), ("test", "-")):
                    mean = _mean_curve([getattr(r.fit, f"curve_{what}_error") for r in runs],
                                       [r.fit.status == "diverged" for r in runs])
                    if any(math.isfinite(v) for v in mean):
                        drawn = True
                        ax.plot(range(1, len(mean) + 1), [100 * v for v in mean], style, color=color, lw=1,
                                label=f"{arch}-{depth}" if what == "test" else None)
                for r in runs:
                    for e, (a, b) in enumerate(zip(r.fit.curve_train_error, r.fit.curve_test_error, strict=True)):
                        data.append({"model": model, "norm": norm, "architecture": arch, "depth": depth,
                                     "lr": r.fit.lr, "seed": r.fit.seed, "epoch": e + 1, "train_error": a,
                                     "test_error": b, "status": r.fit.status})
            if drawn:
                ax.legend(frameon=False, title="dashed: training; solid: test")
            else:
                ax.text(0.5, 0.5, "every run diverged\n(at every rate tried)", ha="center", va="center",
                        transform=ax.transAxes)
                ax.set_xlim(0.5, 1.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(f"{arch}, {'batch norm' if norm == 'batch' else 'no normalisation'}")
            ax.set_xlabel("epoch")
            ax.set_ylabel("error (%)")
            ax.grid(alpha=0.3, lw=0.4)
    fig.tight_layout()
    return fig, data


def _mean_curve(curves: Sequence[Sequence[float | None]], diverged: Sequence[bool]) -> list[float]:
    """Mean over seeds per epoch; a run that ended on a plateau keeps its last value (it is frozen), a diverged
    run counts no more (NaN where no run has a value)."""
    length = max((len(c) for c in curves), default=0)
    out = []
    for e in range(length):
        values = []
        for c, blown in zip(curves, diverged, strict=True):
            v = c[e] if e < len(c) else (None if blown or not c else c[-1])
            if v is not None:
                values.append(v)
        out.append(statistics.fmean(values) if values else math.nan)
    return out


def responses(result: Result) -> tuple[Figure, list[Row]] | None:
    best = [s for s in _best(result) if not s.deep]
    norms = list(dict.fromkeys(s.norm for s in best))
    depths = sorted({s.depth for s in best})
    if not best or not depths:
        return None
    model = best[0].model
    fig = Figure(figsize=(TEXT, 2.1))
    axes = fig.subplots(1, len(norms), squeeze=False)[0]
    data: list[Row] = []
    for ax, norm in zip(axes, norms, strict=True):
        for arch in COLORS:
            for k, depth in enumerate(depths):
                runs = [r for r in _best_runs(result, model, arch, depth, norm) if r.fit.responses]
                if not runs:
                    continue
                layers = list(zip(*(r.fit.responses for r in runs), strict=True))
                mean = [statistics.fmean(col) for col in layers]
                alpha = 0.35 + 0.65 * k / max(len(depths) - 1, 1)
                ax.plot(range(1, len(mean) + 1), mean, "-", color=COLORS[arch], alpha=alpha, lw=0.9,
                        label=f"{arch}-{depth}")
                data += [{"model": model, "norm": norm, "architecture": arch, "depth": depth, "layer": i + 1,
                          "std_mean": m, "n": len(runs)} for i, m in enumerate(mean)]
        ax.set_yscale("log")
        ax.set_xlabel("layer index")
        ax.set_ylabel("std of layer response")
        ax.set_title("batch norm" if norm == "batch" else "no normalisation")
        ax.grid(alpha=0.3, lw=0.4)
        ax.legend(frameon=False, ncol=2)
    fig.tight_layout()
    return fig, data


def shortcuts(result: Result) -> tuple[Figure, list[Row]] | None:
    rows = [s for s in result.summaries if s.best_lr and s.architecture == "residual" and not s.deep
            and s.depth == result.config.shortcut_depth]
    if len({s.shortcut for s in rows}) < 2:
        return None
    fig = Figure(figsize=(COLUMN, 2.3))
    ax = fig.subplots()
    norms = list(dict.fromkeys(s.norm for s in rows))
    names = list(dict.fromkeys(s.shortcut for s in rows))
    width = 0.8 / len(norms)
    data: list[Row] = []
    for k, norm in enumerate(norms):
        for i, name in enumerate(names):
            s = next((s for s in rows if s.norm == norm and s.shortcut == name), None)
            if s is None:
                continue
            x = i + (k - (len(norms) - 1) / 2) * width
            m = 100 * s.test_error_mean
            ax.bar(x, m, width, color="#4d4d4d" if norm == "batch" else "#bababa",
                   label=("batch norm" if norm == "batch" else "no norm") if i == 0 else None,
                   hatch="//" if s.grid_limited else None)
            ax.errorbar(x, m, yerr=[[m - 100 * s.test_error_low], [100 * s.test_error_high - m]], color="black",
                        capsize=2, lw=0.8)
            data.append({"norm": norm, "shortcut": name, "depth": s.depth, "lr": s.lr, "n": s.n,
                         "test_error_mean": s.test_error_mean, "test_error_low": s.test_error_low,
                         "test_error_high": s.test_error_high, "train_error_mean": s.train_error_mean,
                         "grid_limited": s.grid_limited})
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("test error (%)")
    ax.set_title(f"shortcuts, residual-{result.config.shortcut_depth} (n = {max(s.n for s in rows)})")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3, lw=0.4, axis="y")
    fig.tight_layout()
    return fig, data


def build(result: Result) -> dict[str, tuple[Figure, list[Row]]]:
    """Every figure with data, by name (module docstring)."""
    _style()
    out: dict[str, tuple[Figure, list[Row]]] = {"degradation-error-vs-depth": error_vs_depth(result)}
    for name, made in (("degradation-curves", curves(result)), ("degradation-responses", responses(result)),
                       ("degradation-shortcuts", shortcuts(result))):
        if made is not None:
            out[name] = made
    return out


def degradation_figures(result: Result) -> dict[str, Figure]:
    return {name: fig for name, (fig, _) in build(result).items()}


def figure_rows(result: Result) -> dict[str, list[Row]]:
    return {name: rows for name, (_, rows) in build(result).items()}


def trainable_depth_figure(result: TrainableResult) -> tuple[Figure, list[Row]]:
    """Fraction of runs that trained (loss < ε within the budget) at each variant's best rate, against depth."""
    _style()
    fig = Figure(figsize=(COLUMN, 2.3))
    ax = fig.subplots()
    data: list[Row] = []
    markers = {"plain": "s", "residual": "o", "rezero": "^", "fixup": "D"}
    for k, variant in enumerate(result.config.variants):
        rows = sorted((s for s in result.summaries if s.best_lr and s.group.variant == variant),
                      key=lambda s: s.group.depth)
        x = [s.group.depth * 1.08 ** (k - 1.5) for s in rows]  # a small offset keeps coinciding points visible
        y = [s.steps.n_converged / s.steps.n for s in rows]
        ax.plot(x, y, "-", marker=markers.get(variant, "o"), label=variant, ms=4)
        data += [{"variant": variant, "depth": s.group.depth, "rate_constant": s.group.rate_constant,
                  "n": s.steps.n, "n_converged": s.steps.n_converged, "steps_median": s.steps.steps_median,
                  "best_lr_at_grid_edge": s.best_lr_at_grid_edge} for s in rows]
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("depth $L$ (blocks)")
    ax.set_ylabel("fraction trained (loss < $\\varepsilon$)")  # no \\mathcal: see tests/test_figure_fonts.py
    c = result.config
    ax.set_title(f"{c.block} stacks, GD, $\\eta = c/L$, n = {c.replicates.seeds}")
    ax.grid(alpha=0.3, lw=0.4)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig, data
