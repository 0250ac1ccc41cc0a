"""The degradation section of REPORT.md: settings, the table behind C1–C3 and C13, He et al.'s patterns, figures.

Pure: Markdown text from typed results (`numerics.degradation.findings`, `numerics.experiments.trainable_depth`).
"""

from __future__ import annotations

from collections.abc import Sequence

from numerics.degradation.findings import best_arms
from numerics.experiments import degradation, trainable_depth

TIER_WORDS = {"quick": "`hfx verify --quick` (reduced grids)", "default": "`hfx verify` defaults (reduced grids "
              "that fit its time budget)", "full": "`hfx verify --full` (the full study)"}


def _pct(low: float, mean: float, high: float) -> str:
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def degradation_table(result: degradation.Result) -> list[str]:
    """depth × architecture × normalisation (× shortcut): errors at the best rate, with the grid and plateau."""
    lines = ["| model | norm | architecture | depth | train error % (mean [95% CI]) | test error % | n | best lr "
             "| rates | grid-limited | plateaued | diverged |", "|" + "---|" * 12]
    for s in result.summaries:
        if not s.best_lr:
            continue
        arch = s.architecture + ("" if s.shortcut == "identity" else f" ({s.shortcut} shortcut)")
        lines.append(f"| {s.model} | {s.norm} | {arch} | {s.depth} | "
                     f"{_pct(s.train_error_low, s.train_error_mean, s.train_error_high)} | "
                     f"{_pct(s.test_error_low, s.test_error_mean, s.test_error_high)} | {s.n} | {s.lr:.3g} | "
                     f"{s.rates_tried} | {'**yes** (' + str(s.grid_edge) + ')' if s.grid_limited else 'no'} | "
                     f"{s.n_plateaued}/{s.n} | {s.n_diverged} |")
    return lines


def section(tier: str, results: Sequence[degradation.Result], stacks: trainable_depth.Result | None,
            figures: Sequence[str]) -> str:
    """The Markdown section (module docstring); `figures` are PNG paths relative to REPORT.md."""
    lines = ["## Degradation and trainable depth (C1, C2, C3, C13)", "",
             f"Measured at the settings of {TIER_WORDS[tier]}. "
             + ("Results that need `--full` (the ≥ 1,000-layer nets, the 10,000-layer stacks, He et al.'s CIFAR "
                "ResNet, the shortcut variants, depths 8–110 at width 64) are not in this run. " if tier != "full"
                else "") + "Each arm is reported at its best learning rate; grid-limited arms and runs that did "
             "not plateau never establish a verdict.", ""]
    for result in results:
        c = result.config
        lines += [f"### {c.model.upper()} on {c.data} (width {c.net_width}, {c.replicates.seeds} seeds, epochs ≤ "
                  f"{c.epochs}, plateau: best loss improves < {c.plateau_tolerance:g} relatively over "
                  f"{c.plateau_window} epochs, {c.lr_drops} rate drop(s))", ""]
        lines += [*degradation_table(result), ""]
        checks = degradation.published_comparison(result)
        if checks:
            lines += ["| published | quantity | published value or pattern | hfx setting | measured | reproduced "
                      "| why |", "|---|---|---|---|---|---|---|"]
            lines += [f"| {p.source} | {p.quantity} | {p.published} | {p.setting} | {p.measured} | "
                      f"{'n/a' if p.reproduced is None else 'yes' if p.reproduced else 'no'} | {p.why} |"
                      for p in checks]
            lines.append("")
        arms = best_arms(result)
        ratios = [f"{a.name} {a.norm}: {a.grad_ratio:.3g}" for a in arms.values()
                  if a.architecture == "plain" and a.grad_ratio is not None]
        if ratios:
            lines += ["Gradient ratio ‖∂L/∂W‖ first/last trunk layer at initialisation (median over seeds): "
                      + "; ".join(ratios) + ".", ""]
    if stacks is not None:
        lines += ["### Trainable depth (stacks on a near-identity map, GD with η = c/L)", "",
                  "| variant | trains at depths | fails at depths | converged runs at the best rate (depth: k/n) |",
                  "|---|---|---|---|"]
        for t in trainable_depth.trainable_depths(stacks):
            lines.append(f"| {t.variant} | {', '.join(map(str, t.trains_at)) or '—'} | "
                         f"{', '.join(map(str, t.fails_at)) or '— (trains at every depth measured)'} | "
                         + ", ".join(f"{d}: {k}/{n}" for d, k, n in t.converged) + " |")
        lines.append("")
    lines += [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n"
