"""linear-block: gradient descent on one linear block toward the identity, plain vs residual.

Plain H(x) = Wx (θ = W = M) and residual H(x) = x + Ax (θ = A = M − I), trained by full-batch
gradient descent on L = ½ tr((M − I) Σ (M − I)ᵀ) + (λ/2)‖θ‖²_F (CONTRIBUTING.md conventions).
The data have empirical covariance exactly Σ (XᵀX/N = Σ), so GD on the sample loss is GD on
the population loss and the closed form applies step for step:

    M_k − M* = (M_0 − M*) (I − η(Σ + λI))^k,   M* = Σ(Σ + λI)⁻¹ (plain),  M* = I (residual)

(Goh, *Why Momentum Really Works*, Distill 2017, the eigen-decomposition of GD on a quadratic;
Hastie, Tibshirani, Friedman, *ESL* 2009, Eq. (3.44) for the ridge minimiser).  Converged: the
distance ‖M_k − M*‖_F < ε; the predicted count is the smallest such k (`numerics.closed_forms`).  GD is
stable iff η < 2/(σ_max + λ) (Goh 2017); learning rates are set as multiples of that limit so that the grid
straddles it.  Float64 throughout.

The checks judge only what they can: a run that starts at M* (decided at step 0) says nothing about the
dynamics, a prediction within one step of the budget cannot be told from a censored run, and an unstable run
that converges (by the closed form) before it blows up, or blows up after the budget, says nothing about
stability.  Such runs are excluded, and counted as such.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics import closed_forms
from numerics.experiments.blocks import MAX_DECAY, MAX_RATE, MAX_SAMPLES, MAX_SCALE, MAX_WIDTH, Budget, Replicates
from numerics.experiments.chunks import (
    Part,
    chunk_generator,
    chunk_result,
    init_generator,
    merged,
    plan,
    replicate_generator,
)
from numerics.experiments.contract import Chunk, ChunkResult, Cost, CrossCheck, Curves, ExperimentResult, Progress
from numerics.experiments.devices import torch_device, train_on
from numerics.experiments.grid import RunGrid, StepProgress
from numerics.experiments.params import ConfigBase, at_least, nested, param, positive
from numerics.experiments.rate_search import mark_best_lr
from numerics.experiments.records import Outcome, RankedSummary, RunStatus, group_summaries, outcomes
from numerics.experiments.resources import batch_bytes, curve_bytes
from numerics.models import BlockSpec, data_with_covariance, end_to_end, spectrum_matrix
from numerics.train import OptimizerSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "linear-block"
DESCRIPTION = "GD on one linear block toward the identity, plain vs residual; exact step counts and the stability limit"
STEP_SLACK = 1  # the smallest k with ‖e_k‖ < ε can move by one step when ‖e_k‖ lands within rounding of ε
PREDICTION_SOURCE = "numerics.closed_forms.linear_gd_steps"
LOCAL_POOL = False  # one batched tensor program per chunk: a local run trains the chunks in this process
INITS = ("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity")
VARIANTS = ("plain", "residual")


@dataclass(frozen=True)
class Config(ConfigBase):
    width: int = param(4, "d: the block maps R^d → R^d", interval=at_least(1, MAX_WIDTH))
    variants: tuple[str, ...] = param(VARIANTS, "block variants", choices=VARIANTS)
    inits: tuple[str, ...] = param(("xavier",), "initialisations of W (plain) or A (residual), batched together",
                                   choices=INITS)
    init_scale: float = param(1.0, "multiplier of the initialisation", interval=positive(MAX_SCALE))
    sigma_min: float = param(0.5, "smallest eigenvalue of the input covariance Σ", interval=positive(MAX_SCALE))
    sigma_max: float = param(2.0, "largest eigenvalue of Σ (eigenvalues evenly spaced)", interval=positive(MAX_SCALE))
    weight_decay: float = param(0.0, "λ of the L2 penalty (λ/2)‖θ‖²", interval=at_least(0, MAX_DECAY))
    lr_factors: tuple[float, ...] = param((0.1, 0.5, 0.9, 1.1, 1.5),
                                          "learning rates as multiples of the stability limit 2/(σ_max + λ)",
                                          interval=positive(MAX_RATE))
    budget: Budget = nested(Budget(eps=1e-6, max_steps=3000))  # criterion: ‖M_k − M*‖_F
    samples: int = param(32, "N: samples (rows of X), N ≥ d", interval=at_least(1, MAX_SAMPLES))
    replicates: Replicates = nested(Replicates(seeds=8))  # a seed draws the initialisation and Σ's eigenvectors

    def check(self) -> None:
        if self.sigma_max < self.sigma_min:
            raise ValueError("sigma_max must be ≥ sigma_min")
        if self.samples < self.width:
            raise ValueError(f"samples must be ≥ width ({self.width}), got {self.samples}")


@dataclass(frozen=True, kw_only=True)
class LinearBlockRun:
    """One run: its set-up, theory's prediction, what happened."""

    experiment: str = NAME
    variant: str  # plain or residual
    block: str = "linear"
    depth: int = 1
    width: int
    optimizer: str = "gd"
    weight_decay: float
    criterion: str = "distance"  # ‖M_k − M*‖_F
    eps: float
    max_steps: int
    stability_limit: float  # 2/(σ_max + λ)
    prediction_source: str = PREDICTION_SOURCE
    seed: int
    init: str
    lr_factor: float  # η as a multiple of the stability limit
    lr: float  # η
    predicted_steps: int | None  # the closed form's step count; None: never, or beyond the budget
    closed_form_steps: int | None  # the closed form's step count whatever the budget; None: never converges
    predicted_stable: bool  # η < 2/(σ_max + λ)
    outcome: Outcome
    run: int


class Group(NamedTuple):
    variant: str
    init: str
    lr_factor: float


Result = ExperimentResult[Config, LinearBlockRun, RankedSummary[Group]]


def _spec(config: Config, variant: str) -> BlockSpec:
    return BlockSpec(block="linear", variant=variant, depth=1, width=config.width)


def _parts(config: Config) -> list[Part]:
    """One part per variant: seeds × inits × rates, one batch per seed block."""
    return [Part(variant, (VARIANTS.index(variant),), len(config.inits) * len(config.lr_factors),
                 config.budget.max_steps) for variant in config.variants]


def chunks(config: Config) -> tuple[Chunk, ...]:
    return plan(_parts(config), config.replicates)


def cost(config: Config) -> Cost:
    """One chunk's batch per variant; the distance criterion keeps M* (d × d) per run; the kept curves."""
    todo = chunks(config)
    runs = max(c.runs for c in todo)
    steps = config.budget.max_steps
    peak = max(batch_bytes(_spec(config, v), runs, config.samples, steps, extra_per_run=3 * config.width**2)
               for v in config.variants)
    return Cost(peak + sum(curve_bytes(c.runs, steps) for c in todo), units=sum(c.units for c in todo))


def run_chunk(config: Config, chunk: Chunk, device: str = "cpu",
              progress: Progress | None = None) -> ChunkResult[LinearBlockRun]:
    """One variant's seeds of the chunk × initialisations × learning rates as one batch; records carry
    predicted_steps.  Each replicate draws Σ's eigenvectors and its data from its own stream, the same for both
    variants (`chunks.replicate_generator`)."""
    t_start = time.perf_counter()
    dtype = torch.float64
    d, lam, budget, base = config.width, config.weight_decay, config.budget, config.replicates.seed
    variant = config.variants[chunk.part]
    eigs = torch.linspace(config.sigma_min, config.sigma_max, d, dtype=dtype)
    limit = closed_forms.stability_limit(eigs.numpy(), lam)  # 2/(σ_max + λ)
    grid = RunGrid(len(chunk.seeds), config.inits, config.lr_factors, first_seed=chunk.first_seed)
    data_gens = [replicate_generator(base, s) for s in chunk.seeds]
    Sigmas = [spectrum_matrix(eigs, g) for g in data_gens]  # one Σ per seed (random eigenvectors)
    X = torch.stack([data_with_covariance(Sig, config.samples, g)
                     for Sig, g in zip(Sigmas, data_gens, strict=True)])  # (S, N, d)
    spec, residual = _spec(config, variant), variant == "residual"
    p0 = grid.initial_params(spec, config.init_scale, [init_generator(base, chunk, s) for s in chunk.seeds],
                             dtype)  # (R, …)
    lrs = grid.per_setting([f * limit for f in config.lr_factors], dtype)  # (R,)
    x = grid.per_seed(X)  # (R, N, d)
    Mstar = grid.per_seed(torch.stack(
        [torch.from_numpy(closed_forms.fixed_point(Sig.numpy(), lam, residual)) for Sig in Sigmas]))  # (R, d, d)
    Mstar_on = Mstar.to(torch_device(device))

    def distance(p: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.linalg.matrix_norm(end_to_end(spec, p) - Mstar_on)  # (R,) Frobenius

    steps = StepProgress(progress, budget.max_steps)
    res = train_on(device, spec, p0, x, x.clone(), OptimizerSpec("gd"), lrs, torch.full((grid.size,), lam, dtype=dtype),
                   budget.max_steps, budget.eps, chunk_generator(base, chunk), metric=distance, progress=steps)
    steps.finish()
    M0 = end_to_end(spec, p0).numpy()
    records: list[LinearBlockRun] = []
    for r, (point, outcome) in enumerate(zip(grid.points(), outcomes(res), strict=True)):
        lr = float(lrs[r])
        p = closed_forms.linear_gd_steps(M0[r], Sigmas[point.seed - chunk.first_seed].numpy(), lr, lam, budget.eps,
                                         residual)
        records.append(LinearBlockRun(
            variant=variant, width=d, weight_decay=lam, eps=budget.eps, max_steps=budget.max_steps,
            stability_limit=limit, seed=point.seed, init=point.init, lr_factor=point.setting, lr=lr,
            predicted_steps=None if p is None or p > budget.max_steps else p, closed_form_steps=p,
            predicted_stable=lr < limit, outcome=outcome, run=chunk.first_run + r,
        ))
    panel = Curves(res.recorded_steps, res.loss_curve, tuple(f"{f:g}×" for _, _, f in grid.points()))
    return chunk_result(chunk, records, {variant: panel}, t_start)


def merge(config: Config, parts: Sequence[ChunkResult[LinearBlockRun]]) -> Result:
    """The chunks' records in run order; summaries and both checks on all of them."""
    records, curves = merged(chunks(config), parts)
    groups = group_summaries(records, lambda r: Group(r.variant, r.init, r.lr_factor),
                             np.random.default_rng(config.replicates.seed))
    summaries = mark_best_lr(groups, lambda g: (g.variant, g.init), lambda g: g.lr_factor)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=tuple(summaries),
                            checks=(_steps_check(records), _stability_check(records)), curves=curves)


def _steps_check(records: Sequence[LinearBlockRun]) -> CrossCheck:
    """Measured step counts against the closed form, on the runs it can judge."""
    excluded, counted, never, misses = 0, 0, 0, 0
    worst = 0
    for rec in records:
        p, k, budget = rec.closed_form_steps, rec.outcome.steps_to_converge, rec.max_steps
        if (p == 0 and k == 0) or (p is not None and p > budget - STEP_SLACK) or budget == 0:
            excluded += 1  # decided at initialisation, predicted at (or beyond) the end of the budget, or no step
        elif p is None:  # never converges: it must not
            never += 1
            misses += k is not None
        else:
            counted += 1
            misses += k is None or abs(k - p) > STEP_SLACK
            worst = max(worst, abs(k - p)) if k is not None else worst
    return CrossCheck(
        name="gd-steps-exact",
        description="GD step counts on a linear block equal the closed form (±1 step for the ceiling)",
        examined=counted + never, mismatches=misses,
        details={"tolerance_steps": STEP_SLACK, "runs_with_prediction": counted, "max_abs_step_difference": worst},
        excluded=excluded,
        excluded_reason="decided at step 0 (M₀ = M*), predicted within a step of the budget or beyond it, or a "
                        "budget of 0 steps",
    )


def _stability_check(records: Sequence[LinearBlockRun]) -> CrossCheck:
    """η < 2/(σ_max + λ) ⇔ the run does not diverge, on the runs that can show it."""
    excluded, examined, misses = 0, 0, 0
    for rec in records:
        p, status = rec.closed_form_steps, rec.outcome.status
        decided_at_start = rec.outcome.steps_to_converge == 0
        stops_first = not rec.predicted_stable and p is not None  # converges (and is stopped) before it blows up
        too_slow = not rec.predicted_stable and status is RunStatus.CENSORED  # blows up after the budget
        no_step = rec.max_steps == 0  # nothing but the initialisation: no run can show (in)stability
        if decided_at_start or stops_first or too_slow or no_step:
            excluded += 1
            continue
        examined += 1
        misses += rec.predicted_stable == (status is RunStatus.DIVERGED)
    return CrossCheck(
        name="stability-limit",
        description="η < 2/(σ_max + λ) separates converging from diverging runs",
        examined=examined, mismatches=misses,
        details={"runs": len(records), "predicted_stable": sum(r.predicted_stable for r in records),
                 "diverged": sum(r.outcome.status is RunStatus.DIVERGED for r in records)},
        excluded=excluded,
        excluded_reason="decided at step 0, unstable but stopped at convergence first or not blown up "
                        "within the budget, or a budget of 0 steps",
    )


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots import loss_curves

    return {"linear-block-loss": loss_curves(result.curves, "GD on a linear block (lr as × stability limit)",
                                             legend_title=r"$\eta\,/\,\eta_{\max}$")}
