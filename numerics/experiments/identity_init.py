"""identity-init: what a residual linear network learns from the identity initialisation (Bartlett et al. 2018).

A stack of L residual linear blocks H = (I + A_L)⋯(I + A_1)x, every A_l = 0 at the start (the identity), learns
a symmetric target Φ (`models.linear_target`: eigenvalues evenly in [eig_low, eig_high]; for linear-indefinite
the smallest is −eig_low) from whitened inputs (XᵀX/N = I exactly) by full-batch GD on ½·mean‖H(x) − Φx‖²
(no decay; float64).  Converged: the loss < ε.

Prediction (Bartlett, Helmbold & Long, ICML 2018; theorem `identity-init.negative-mode-floor`, lambdified in
`numerics.closed_forms.negative_mode_floor`): every layer stays a polynomial in Φ, so each eigen-direction is a
scalar chain u = w^L from w = 1 with loss ½(λ − u)²; for L ≥ 2 a mode with λ < 0 can never cross u = 0, and the
loss never falls below ½Σ_{λ<0}λ² (the floor).  Each layer's GD step on the mode is
w_{k+1} = w_k + η w_k^{L−1}(λ − w_k^L) = w_k(1 + η w_k^{L−2}(λ − w_k^L)) (the gradient of ½(λ − w^L)² in one
layer's w is −(λ − u)w^{L−1}; the factor L appears only in u̇), so gradient *descent* keeps a negative mode's
w in (0, 1] when η(1 + max|λ|) < 1; the experiment judges under the stricter, conservative ηL(1 + max|λ|) < 1
(`small_step`: the end-to-end rate of a mode is L times the per-layer one), and runs outside it are not judged.
Positive-definite targets, and every target at L = 1, are learnt: the flow's time to bring every mode within
√(2ε/d) of its λ is the largest of the per-mode times t(1 → λ − (±)√(2ε/d)) of the chain
(`numerics.closed_forms.residual_learning_time`), in the record as `predicted_steps`.

That is exact arithmetic.  In floating point the layers are equal (and commute with Φ) only up to rounding, and
the floor is a saddle: for L = 2 the difference w₁ − w₂ of the negative mode grows like e^{|λ|t} there, so the
loss sits on the floor for a long plateau and may then escape below it.  What is measured is therefore the
plateau: the steps the loss spends within `PLATEAU_BAND` of the floor, and the step at which it escapes (if it
does within the budget).

Checks: `floor-plateau` — no judged run (indefinite target, L ≥ 2, small step, and the floor reached within the
budget) falls below the floor (by more than `PLATEAU_BAND`) before it has spent `plateau_steps` steps within
`PLATEAU_BAND` of it; a run whose budget ends on the floor is consistent with "never", a run that never reached
the floor within its budget is not judged; `learnt-where-predicted` — positive-definite targets and L = 1
converge within the budget, judged where the step is small and `TIME_SLACK` × the flow's time fits in the
budget.  Records carry the smallest and final loss, their ratio to the floor, the plateau and the escape step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics import closed_forms
from numerics.experiments.blocks import MAX_DEPTH, MAX_RATE, MAX_SAMPLES, MAX_SCALE, MAX_WIDTH, Budget, Replicates
from numerics.experiments.contract import Cost, CrossCheck, Curves, ExperimentResult, Progress
from numerics.experiments.grid import RunGrid, StepProgress
from numerics.experiments.params import ConfigBase, at_least, nested, param, positive
from numerics.experiments.records import GroupSummary, Outcome, RunStatus, finite_or_none, group_summaries, outcomes
from numerics.experiments.resources import batch_bytes, curve_bytes
from numerics.models import BlockSpec, data_with_covariance, spectrum_matrix
from numerics.train import OptimizerSpec, train

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "identity-init"
DESCRIPTION = "residual linear stacks from the identity learning symmetric targets; the negative-eigenvalue floor"
TARGETS = ("linear-pd", "linear-indefinite")
PLATEAU_BAND = 0.01  # within 1% of the floor counts as on it
TIME_SLACK = 2.0  # learnt-where-predicted judges a run when TIME_SLACK × the flow's steps fit in the budget: a wide
# margin for forward Euler's error at the small steps judged (ηL(1 + max|λ|) < 1), so no run is failed for a budget
# the theory does not promise to be enough


@dataclass(frozen=True)
class Config(ConfigBase):
    depths: tuple[int, ...] = param((1, 2, 4), "L: residual blocks", interval=at_least(1, MAX_DEPTH))
    targets: tuple[str, ...] = param(TARGETS, "symmetric targets Φ", choices=TARGETS)
    width: int = param(4, "d: features", interval=at_least(1, MAX_WIDTH))
    eig_low: float = param(0.5, "smallest |eigenvalue| of Φ (negated for linear-indefinite)",
                           interval=positive(MAX_SCALE))
    eig_high: float = param(1.5, "largest eigenvalue of Φ", interval=positive(MAX_SCALE))
    lr: float = param(0.05, "η of full-batch GD", interval=positive(MAX_RATE))
    plateau_steps: int = param(500, "the floor check needs at least this many steps within 1% of the floor",
                               interval=at_least(1))
    budget: Budget = nested(Budget(eps=1e-6, max_steps=2000))  # criterion: the data loss
    samples: int = param(16, "N: whitened samples, N ≥ d", interval=at_least(1, MAX_SAMPLES))
    replicates: Replicates = nested(Replicates(seeds=3))  # a seed draws Φ's eigenvectors and the data

    def check(self) -> None:
        if self.samples < self.width:
            raise ValueError(f"samples must be ≥ width ({self.width}), got {self.samples}")
        if self.eig_high < self.eig_low:
            raise ValueError("eig_high must be ≥ eig_low")


@dataclass(frozen=True, kw_only=True)
class IdentityInitRun:
    """One run: its set-up, the floor the theory predicts, what happened."""

    experiment: str = NAME
    target: str
    depth: int
    width: int
    variant: str = "residual"
    init: str = "identity"  # A_l = 0
    lr: float
    eps: float
    max_steps: int
    seed: int
    predicted_floor: float  # ½Σ_{λ<0}λ² (0 for positive-definite targets)
    floor_applies: bool  # L ≥ 2, a negative eigenvalue, and ηL(1 + max|λ|) < 1
    small_step: bool  # ηL(1 + max|λ|) < 1: GD keeps every mode's w > 0 and follows the flow closely
    predicted_steps: float | None  # learnable runs: the flow's time (/η) to bring every mode within √(2ε/d) of λ
    min_loss: float | None  # smallest loss over the run
    min_loss_over_floor: float | None  # where the floor is positive
    final_loss_over_floor: float | None
    plateau_steps: int | None  # steps with the loss within 1% of a positive floor
    escape_step: int | None  # first step after the plateau with the loss below the floor by more than 1%
    outcome: Outcome
    run: int


class Group(NamedTuple):
    target: str
    depth: int


Result = ExperimentResult[Config, IdentityInitRun, GroupSummary[Group]]


def _eigenvalues(config: Config, target: str) -> torch.Tensor:
    eigs = torch.linspace(config.eig_low, config.eig_high, config.width, dtype=torch.float64)
    if target == "linear-indefinite":
        eigs[0] = -config.eig_low  # as models.linear_target: the smallest eigenvalue negated
    return eigs


def cost(config: Config) -> Cost:
    runs, steps = config.replicates.seeds, config.budget.max_steps
    batches = len(config.targets) * len(config.depths)
    peak = max(batch_bytes(BlockSpec(block="linear", depth=L, width=config.width), runs, config.samples, steps)
               for L in config.depths)
    return Cost(peak + batches * curve_bytes(runs, steps), units=batches * steps)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> Result:
    t_start = time.perf_counter()
    dtype, d, S = torch.float64, config.width, config.replicates.seeds
    X = torch.stack([data_with_covariance(torch.eye(d, dtype=dtype), config.samples, generator) for _ in range(S)])
    records: list[IdentityInitRun] = []
    curves: dict[str, Curves] = {}
    for target in config.targets:
        eigs = _eigenvalues(config, target)
        Phi = torch.stack([spectrum_matrix(eigs, generator) for _ in range(S)])  # (S, d, d), symmetric
        floor = closed_forms.negative_mode_floor(eigs.tolist())
        for L in config.depths:
            spec = BlockSpec(block="linear", variant="residual", depth=L, width=d)
            grid = RunGrid(S, ("identity",), (config.lr,))
            x = grid.per_seed(X)
            y = x @ grid.per_seed(Phi).transpose(-2, -1)
            steps = StepProgress(progress, config.budget.max_steps)
            res = train(spec, {"W": torch.zeros((grid.size, L, d, d), dtype=dtype)}, x, y, OptimizerSpec("gd"),
                        torch.full((grid.size,), config.lr, dtype=dtype), torch.zeros(grid.size, dtype=dtype),
                        config.budget.max_steps, config.budget.eps, generator, progress=steps)
            steps.finish()
            small = config.lr * L * (1 + float(eigs.abs().max())) < 1
            applies = L >= 2 and floor > 0 and small
            flow_steps = learning_steps(eigs.tolist(), L, config.budget.eps, config.lr)
            for r, (point, outcome) in enumerate(zip(grid.points(), outcomes(res), strict=True)):
                curve = res.loss_curve[:, r]
                low = float(np.nanmin(curve)) if np.isfinite(curve).any() else math.nan
                final = outcome.final_loss
                plateau = escape = None
                if floor > 0:
                    on = np.abs(curve / floor - 1) <= PLATEAU_BAND  # NaN compares False
                    plateau = int(on.sum())
                    after = np.nonzero((curve < floor * (1 - PLATEAU_BAND)) & (np.cumsum(on) > 0))[0]
                    escape = int(res.recorded_steps[after[0]]) if len(after) else None
                records.append(IdentityInitRun(
                    target=target, depth=L, width=d, lr=config.lr, eps=config.budget.eps,
                    max_steps=config.budget.max_steps, seed=point.seed, predicted_floor=floor, floor_applies=applies,
                    small_step=small, predicted_steps=flow_steps,
                    min_loss=finite_or_none(low), min_loss_over_floor=finite_or_none(low / floor) if floor else None,
                    final_loss_over_floor=None if final is None or not floor else final / floor,
                    plateau_steps=plateau, escape_step=escape, outcome=outcome,
                    run=len(records),
                ))
            curves[f"{target} L={L}"] = Curves(res.recorded_steps, res.loss_curve,
                                               tuple(f"seed {p.seed}" for p in grid.points()),
                                               floor=floor if floor else None)
    summaries = group_summaries(records, lambda r: Group(r.target, r.depth),
                                np.random.default_rng(config.replicates.seed))
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=tuple(summaries),
                            checks=_checks(records, config), curves=curves, seconds=time.perf_counter() - t_start)


def learning_steps(eigenvalues: list[float], depth: int, eps: float, lr: float) -> float | None:
    """Gradient-flow steps t/η for the chain of every mode (u(0) = 1, loss ½(λ − u)²) to come within g = √(2ε/d)
    of its λ, the largest over the modes (then the loss ½Σ(λ_i − u_i)² < ½d·g² = ε); None where a mode is never
    learnt (λ ≤ 0 at depth ≥ 2: the floor).  Time from `numerics.closed_forms.residual_learning_time` (the plain
    chain's ODE from u₀ = 1, Arora, Cohen & Hazan, ICML 2018), t = kη."""
    gap = math.sqrt(2 * eps / len(eigenvalues))
    times = []
    for lam in eigenvalues:
        if depth >= 2 and lam <= 0:
            return None
        if abs(lam - 1.0) < gap:
            times.append(0.0)
            continue
        try:
            times.append(closed_forms.residual_learning_time(depth, lam, lam - math.copysign(gap, lam - 1.0)))
        except (ValueError, OverflowError, ZeroDivisionError):
            return None  # λ within rounding of 1, or extreme: no finite prediction
    t = max(times)
    return t / lr if math.isfinite(t) else None


def _checks(records: list[IdentityInitRun], config: Config) -> tuple[CrossCheck, ...]:
    """`floor-plateau` and `learnt-where-predicted` on the runs they can judge (see the module docstring)."""
    band = 1 - PLATEAU_BAND

    def below(r: IdentityInitRun) -> bool:  # fell below the floor by more than the band (at any step)
        return r.min_loss is not None and r.min_loss < r.predicted_floor * band

    judged = [r for r in records if r.floor_applies and ((r.plateau_steps or 0) > 0 or below(r))]
    short = [r for r in judged if below(r) and (r.plateau_steps or 0) < config.plateau_steps]
    escaped = [r for r in judged if r.escape_step is not None]
    floor = CrossCheck(
        name="floor-plateau",
        description=f"from the identity, residual stacks of depth ≥ 2 do not fall below the loss floor "
                    f"½Σ_{{λ<0}}λ² (by more than 1%) before {config.plateau_steps} steps on it (Bartlett et al. "
                    "2018: never, in exact arithmetic)",
        examined=len(judged), mismatches=len(short),
        details={"band_relative": PLATEAU_BAND,
                 "shortest_plateau_steps": min((r.plateau_steps or 0 for r in judged), default=None),
                 "escaped_within_budget": len(escaped),
                 "earliest_escape_step": min((r.escape_step for r in escaped if r.escape_step is not None),
                                             default=None),
                 "final_loss_over_floor_max": max((r.final_loss_over_floor for r in judged
                                                   if r.final_loss_over_floor is not None), default=None)},
        excluded=sum(r.predicted_floor > 0 for r in records) - len(judged),
        excluded_reason="indefinite targets at depth 1 (no floor), a step size outside ηL(1 + max|λ|) < 1, or a "
                        "loss that had not reached the floor within the budget",
    )
    learnable = [r for r in records if r.predicted_floor == 0 or r.depth == 1]
    fits = [r for r in learnable if r.small_step and r.predicted_steps is not None
            and TIME_SLACK * r.predicted_steps <= r.max_steps]
    learnt = CrossCheck(
        name="learnt-where-predicted",
        description="positive-definite targets (every depth) and every target at depth 1 converge (loss < ε) "
                    f"where {TIME_SLACK:g}× the gradient flow's time fits in the budget",
        examined=len(fits),
        mismatches=sum(r.outcome.status is not RunStatus.CONVERGED for r in fits),
        details={"runs": len(learnable), "time_slack": TIME_SLACK},
        excluded=len(learnable) - len(fits),
        excluded_reason="a step size outside ηL(1 + max|λ|) < 1, or a flow time (× the slack) beyond the budget",
    )
    return (floor, learnt)


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots_dynamics import identity_init

    return {"identity-init": identity_init(result.curves)}
