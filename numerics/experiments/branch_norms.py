"""branch-norms: does gradient descent drive *all* weights of a residual block to zero?  ‖W₁‖ and ‖W₂‖ along
training (claim C8).

A residual block H(x) = x + W₂σ(W₁x) (He et al., CVPR 2016, Eq. (1), no biases) learns the identity target
y = x from x ~ N(0, I) by full-batch gradient descent on ½·mean‖H(x) − y‖² + (λ/2)(‖W₁‖² + ‖W₂‖²) (L2 decay
on the branch; CONTRIBUTING.md conventions), from a Xavier initialisation, with and without decay.  The note
(C8) says GD gets F = 0 "by pushing all weights of the block to zero"; the zero-set theorems
(`blocks.two-layer.*`) say W₂ = 0 alone suffices.  What GD does is measured: the Frobenius norms ‖W₁‖_F and
‖W₂‖_F every `record_every` steps (`trajectories.gd_trajectory`), the step at which the loss falls below ε, and
the ratios ‖W_i‖/‖W_i(0)‖ at the end of the budget.  No closed form is claimed for the fitting phase.

Cross-check (with decay): once the block fits (F ≈ 0) the data gradient is negligible and only the decay acts,
so each weight tensor shrinks by the factor 1 − ηλ per step (`weight-decay.alone`; Loshchilov & Hutter, ICLR
2019, Eq. (1) with ∇f = 0).  Over the second half of the budget the measured per-step factor
(‖W(K)‖/‖W(K/2)‖)^{1/(K − K/2)} of every fitted run with λ > 0 must equal 1 − ηλ to `DECAY_TOLERANCE`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics import closed_forms
from numerics.experiments.blocks import MAX_DECAY, MAX_RATE, MAX_SAMPLES, MAX_STEPS, MAX_WIDTH, Replicates
from numerics.experiments.contract import Cost, CrossCheck, Curves, ExperimentResult, Progress
from numerics.experiments.grid import RunGrid
from numerics.experiments.params import ConfigBase, at_least, nested, param, positive
from numerics.experiments.resources import batch_bytes, curve_bytes
from numerics.experiments.trajectories import gd_trajectory
from numerics.models import ACTIVATIONS, BlockSpec
from numerics.stats import km_median

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "branch-norms"
DECAY_TOLERANCE = 1e-4  # relative error of the per-step factor; the data gradient left after the fit is far below
DESCRIPTION = "‖W₁‖ and ‖W₂‖ of a residual two-layer block along GD toward the identity, with and without decay"


@dataclass(frozen=True)
class Config(ConfigBase):
    activations: tuple[str, ...] = param(("tanh", "relu"), "σ of the branch", choices=ACTIVATIONS)
    width: int = param(4, "d: features", interval=at_least(1, MAX_WIDTH))
    hidden: int = param(8, "m: hidden units of the branch", interval=at_least(1, MAX_WIDTH))
    samples: int = param(64, "N: training samples x ~ N(0, I)", interval=at_least(1, MAX_SAMPLES))
    weight_decays: tuple[float, ...] = param((0.0, 0.01), "λ of the L2 decay on W₁, W₂",
                                             interval=at_least(0, MAX_DECAY))
    lr: float = param(0.5, "η of full-batch GD", interval=positive(MAX_RATE))
    eps: float = param(1e-4, "ε: the loss counts as fitted once below it", interval=positive())
    max_steps: int = param(1000, "GD steps per run (every run takes all of them)", interval=at_least(1, MAX_STEPS))
    record_every: int = param(50, "steps between two readings of the norms", interval=at_least(1, MAX_STEPS))
    replicates: Replicates = nested(Replicates(seeds=4))


@dataclass(frozen=True, kw_only=True)
class BranchNormRun:
    """One run: its set-up and what happened to each layer's norm."""

    experiment: str = NAME
    activation: str
    weight_decay: float
    lr: float
    seed: int
    init: str = "xavier"
    eps: float
    max_steps: int
    steps_to_eps: int | None  # smallest k with loss < ε (None: not within the budget)
    final_loss: float | None  # None: not finite
    w1_initial: float  # ‖W₁(0)‖_F
    w2_initial: float
    w1_final: float | None  # ‖W₁(K)‖_F (None: diverged)
    w2_final: float | None
    w1_ratio: float | None  # ‖W₁(K)‖/‖W₁(0)‖
    w2_ratio: float | None
    diverged_step: int | None
    decay_factor: float | None  # measured per-step factor of ‖(W₁, W₂)‖ over the second half of the budget
    predicted_decay_factor: float | None  # 1 − ηλ where λ > 0 (the closed form); None without decay
    run: int


class Group(NamedTuple):
    activation: str
    weight_decay: float


@dataclass(frozen=True)
class NormSummary:
    """One (activation, λ) over its seeds: the median steps to ε, and medians and ranges of the final norm ratios
    over the runs that fitted (loss < ε within the budget): only those stopped in the zero set F ≈ 0, which is
    what the ratios are read as (C8: where in the zero set GD stops); None when no run fitted."""

    group: Group
    n: int
    n_fitted: int  # runs whose loss fell below ε within the budget
    steps_to_eps_median: float | None  # Kaplan–Meier median, unfitted runs censored at the budget (`steps_median`)
    w1_ratio_median: float | None
    w1_ratio_range: tuple[float | None, float | None]
    w2_ratio_median: float | None
    w2_ratio_range: tuple[float | None, float | None]


Result = ExperimentResult[Config, BranchNormRun, NormSummary]


def _spec(config: Config, activation: str) -> BlockSpec:
    return BlockSpec(block="mlp", variant="residual", depth=1, width=config.width, hidden=config.hidden,
                     activation=activation)


def cost(config: Config) -> Cost:
    runs = config.replicates.seeds * len(config.weight_decays)
    peak = max(batch_bytes(_spec(config, a), runs, config.samples, config.max_steps) for a in config.activations)
    return Cost(peak + len(config.activations) * 3 * curve_bytes(runs, config.max_steps),
                units=len(config.activations) * config.max_steps)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> Result:
    t_start = time.perf_counter()
    dtype = torch.float64
    grid = RunGrid(config.replicates.seeds, ("xavier",), config.weight_decays)
    x = torch.randn((grid.seeds, config.samples, config.width), generator=generator, dtype=dtype)  # (S, N, d)
    records: list[BranchNormRun] = []
    curves: dict[str, Curves] = {}
    for activation in config.activations:
        spec = _spec(config, activation)
        # (R, …), the same start for every λ of a seed; the seeds drawn one after another from `generator`
        p0 = grid.initial_params(spec, 1.0, [generator] * grid.seeds, dtype)
        xs = grid.per_seed(x)
        lam = grid.per_setting(config.weight_decays, dtype)
        traj = gd_trajectory(spec, p0, xs, xs.clone(), torch.full((grid.size,), config.lr, dtype=dtype), lam,
                             config.max_steps, config.record_every, generator, progress)
        fitted = traj.first_below(config.eps)
        w1, w2 = traj.norms["W1"], traj.norms["W2"]
        total = np.sqrt(w1**2 + w2**2)  # (C + 1, R) ‖(W₁, W₂)‖_F
        half = int(np.searchsorted(traj.norm_steps, traj.norm_steps[-1] // 2))
        span = int(traj.norm_steps[-1] - traj.norm_steps[half])
        for r, point in enumerate(grid.points()):
            div = int(traj.diverged_step[r])
            ok = div < 0
            factor = float((total[-1, r] / total[half, r]) ** (1.0 / span)) if ok and span > 0 else None
            decays = point.setting > 0
            records.append(BranchNormRun(
                activation=activation, weight_decay=point.setting, lr=config.lr, seed=point.seed, eps=config.eps,
                max_steps=config.max_steps, steps_to_eps=fitted[r],
                final_loss=float(traj.loss[-1, r]) if ok else None,
                w1_initial=float(w1[0, r]), w2_initial=float(w2[0, r]),
                w1_final=float(w1[-1, r]) if ok else None, w2_final=float(w2[-1, r]) if ok else None,
                w1_ratio=float(w1[-1, r] / w1[0, r]) if ok else None,
                w2_ratio=float(w2[-1, r] / w2[0, r]) if ok else None,
                diverged_step=None if ok else div, decay_factor=factor,
                predicted_decay_factor=closed_forms.decay_factor(config.lr, point.setting, 1) if decays else None,
                run=len(records),
            ))
        labels = tuple(f"λ={p.setting:g}" for p in grid.points())
        curves[f"{activation} ‖W₁‖/‖W₁(0)‖"] = Curves(traj.norm_steps, w1 / w1[0], labels)
        curves[f"{activation} ‖W₂‖/‖W₂(0)‖"] = Curves(traj.norm_steps, w2 / w2[0], labels)
        curves[f"{activation} loss"] = Curves(np.arange(traj.loss.shape[0], dtype=np.int64), traj.loss, labels)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=_summaries(records),
                            checks=(_decay_check(records),), curves=curves, seconds=time.perf_counter() - t_start)


def _decay_check(records: list[BranchNormRun]) -> CrossCheck:
    errors = [abs(r.decay_factor - r.predicted_decay_factor) / r.predicted_decay_factor for r in records
              if r.predicted_decay_factor is not None and r.decay_factor is not None
              and r.steps_to_eps is not None and r.steps_to_eps <= r.max_steps // 2]
    decaying = sum(r.predicted_decay_factor is not None for r in records)
    return CrossCheck(
        name="decay-after-fit",
        description="after the fit, ‖(W₁, W₂)‖ shrinks by 1 − ηλ per step (decay alone), to 1e-4 relative",
        examined=len(errors), mismatches=sum(e > DECAY_TOLERANCE for e in errors),
        details={"tolerance_relative": DECAY_TOLERANCE, "max_relative_error": max(errors, default=None)},
        excluded=decaying - len(errors),
        excluded_reason="runs with decay that did not fit within the first half of the budget (or diverged)",
    )


def _median_range(values: list[float]) -> tuple[float | None, tuple[float | None, float | None]]:
    if not values:
        return None, (None, None)
    return statistics.median(values), (min(values), max(values))


def steps_median(records: Iterable[BranchNormRun]) -> float | None:
    """Kaplan–Meier median of the steps to ε over `records` (a run that never fitted, or diverged, is censored at
    its budget; `numerics.stats.km_median`); None: beyond the budget.  Pooled over several groups it is the median
    of all their runs, not a median of the groups' medians."""
    rs = list(records)
    return km_median([r.steps_to_eps for r in rs], [r.max_steps for r in rs])


def _summaries(records: list[BranchNormRun]) -> tuple[NormSummary, ...]:
    groups: dict[Group, list[BranchNormRun]] = {}
    for r in records:
        groups.setdefault(Group(r.activation, r.weight_decay), []).append(r)
    out = []
    for g, rs in groups.items():
        fitted = [r.steps_to_eps for r in rs if r.steps_to_eps is not None]
        done = [r for r in rs if r.steps_to_eps is not None and r.diverged_step is None]
        w1m, w1r = _median_range([r.w1_ratio for r in done if r.w1_ratio is not None])
        w2m, w2r = _median_range([r.w2_ratio for r in done if r.w2_ratio is not None])
        out.append(NormSummary(g, len(rs), len(fitted), steps_median(rs), w1m, w1r, w2m, w2r))
    return tuple(out)


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots_dynamics import branch_norms

    return {"branch-norms": branch_norms(result.curves, result.config.eps)}
