"""deep-linear: time for a deep linear stack to learn Φ = sI, against the gradient-flow formula.

A depth-L linear stack M = W_L ⋯ W_1 (plain, balanced initialisation W_l = c O_l O_{l−1}ᵀ with
c = u₀^{1/L}) or H_l = I + A_l (residual, A_l = 0 so u₀ = 1) learns the target Φ = sI from
whitened data (XᵀX/N = I exactly) by full-batch GD on L = ½ tr((M − Φ)(M − Φ)ᵀ) (no decay).
Every mode is then a balanced scalar chain u = w^L with per-mode loss ½(s − u)², whose gradient flow is

    du/dt = L u^{2 − 2/L} (s − u)        (Arora, Cohen, Hazan, ICML 2018, Eq. (6)/Thm 1, scalar case;
                                          for L = 2 Saxe, McClelland, Ganguli, ICLR 2014, Eq. (10)
                                          with τ = 1/η, i.e. t = kη as in CONTRIBUTING.md)

and the learning time from u₀ to u_f is t = ∫ du / (L u^{2−2/L}(s − u)) (Saxe et al. Eq. (11) for
L = 2; `numerics.closed_forms.learning_time`).  The residual chain w_l = 1 + a_l, a_l(0) = 0 follows the
same ODE started at u₀ = 1 (Arora et al. 2018, §4).  Converged: the data loss (d/2)(s − u)² < ε, i.e. u
reaches u_f = s ∓ √(2ε/d).  Predicted steps = t/η.

Discretisation: GD on the layers is forward Euler for w' = (s − w^L) w^{L−1} (the balanced form is
preserved exactly by the discrete steps), so k*η − t = O(η): the relative error shrinks linearly
with η — in units of the flow's stiffness.  "Small η" is therefore stated without units: the
dimensionless step h = η·L·u*^{2−2/L}, u* = max(s, u₀) (the linearised rate of the flow near the
target, which sets Euler's error).  The check requires |k* − t/η| ≤ 2% of t/η for every run with
h ≤ `check_max_step` that it can judge: not one decided at step 0 (u₀ already within ε), nor one whose
prediction (with its 2%) lies beyond the budget; the measured error of every run is in its record
(`relative_error`, `dimensionless_step`), and the check reports the largest error per learning rate.
"""

from __future__ import annotations

import dataclasses
import math
import time
import typing
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics import closed_forms
from numerics.experiments.blocks import MAX_DEPTH, MAX_RATE, MAX_SAMPLES, MAX_SCALE, MAX_WIDTH, Budget, Replicates
from numerics.experiments.chunks import (
    Part,
    chunk_generator,
    chunk_result,
    init_generator,
    merged,
    plan,
    replicate_generator,
)
from numerics.experiments.contract import Chunk, ChunkResult, Cost, CrossCheck, ExperimentResult, Progress
from numerics.experiments.devices import train_on
from numerics.experiments.grid import RunGrid, StepProgress
from numerics.experiments.params import ConfigBase, at_least, nested, param, positive
from numerics.experiments.rate_search import RateSearch, mark_best_lr, searched_grids, widen
from numerics.experiments.records import (
    Outcome,
    PredictedSummary,
    Prediction,
    RunStatus,
    finite_or_none,
    group_summaries,
    outcomes,
)
from numerics.experiments.resources import batch_bytes, curve_bytes
from numerics.experiments.tasks import merged_curves
from numerics.models import BlockSpec, balanced_linear, data_with_covariance
from numerics.train import OptimizerSpec, TrainResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "deep-linear"
DESCRIPTION = "GD on deep linear stacks (balanced plain vs zero-init residual) vs the gradient-flow learning time"
FLOW_TOLERANCE = 0.02  # |k* − t/η| / (t/η): forward Euler's O(η) error must be below 2% at small η
PREDICTION_SOURCE = "numerics.closed_forms.learning_time"
VARIANTS = ("plain", "residual")
LOCAL_POOL = False  # one batched tensor program per chunk: a local run trains the chunks in this process


@dataclass(frozen=True)
class Config(ConfigBase):
    depths: tuple[int, ...] = param((1, 2, 4, 8), "L: depths of the stack", interval=at_least(1, MAX_DEPTH))
    variants: tuple[str, ...] = param(VARIANTS, "plain (balanced init) or residual (A_l = 0)", choices=VARIANTS)
    width: int = param(3, "d: width of every layer", interval=at_least(1, MAX_WIDTH))
    target_scale: float = param(2.0, "s: the target map is Φ = sI", interval=positive(MAX_SCALE))
    plain_u0: float = param(0.05, "u₀ of the plain balanced init (product c^L = u₀, c = u₀^{1/L})",
                            interval=positive(MAX_SCALE))
    lrs: tuple[float, ...] = param((0.001, 0.002, 0.005, 0.01), "learning rates η (GD)", interval=positive(MAX_RATE))
    rate_search: RateSearch = nested(RateSearch())
    check_max_step: float = param(0.05, "the 2% flow check applies where η·L·max(s, u₀)^{2−2/L} ≤ this",
                                  interval=positive(MAX_SCALE))
    budget: Budget = nested(Budget(eps=1e-3, max_steps=20000))  # criterion: the data loss (d/2)(s − u)²
    samples: int = param(16, "N: samples, N ≥ d, with XᵀX/N = I exactly", interval=at_least(1, MAX_SAMPLES))
    replicates: Replicates = nested(Replicates(seeds=2))  # random orthogonal factors; times are seed-invariant

    def check(self) -> None:
        if self.samples < self.width:
            raise ValueError(f"samples must be ≥ width ({self.width}), got {self.samples}")
        if self.budget.eps >= 0.5 * self.width * self.target_scale**2:
            raise ValueError("eps must be below the loss at u = 0, (d/2)s²")


@dataclass(frozen=True, kw_only=True)
class DeepLinearRun:
    """One run: its set-up, the gradient-flow prediction, what happened."""

    experiment: str = NAME
    variant: str
    block: str = "linear"
    depth: int
    width: int
    init: str  # balanced (plain) or zero-branch (residual)
    u0: float  # initial end-to-end value of every mode
    target_scale: float  # s
    optimizer: str = "gd"
    weight_decay: float = 0.0
    criterion: str = "loss"
    eps: float
    max_steps: int
    u_final: float  # u_f = s ∓ √(2ε/d)
    predicted_time: float | None  # gradient-flow time t (= kη); None: not finite
    prediction_source: str = PREDICTION_SOURCE
    seed: int
    lr: float
    predicted_steps: float | None  # t/η
    measured_time: float | None  # k*·η; None unless converged
    relative_error: float | None  # (k* − t/η)/(t/η); None unless both exist
    dimensionless_step: float  # η·L·max(s, u₀)^{2−2/L}
    outcome: Outcome
    run: int


class Group(NamedTuple):
    variant: str
    depth: int
    lr: float


Result = ExperimentResult[Config, DeepLinearRun, PredictedSummary[Group]]


def _architectures(config: Config) -> list[tuple[str, int]]:
    return [(variant, L) for variant in config.variants for L in config.depths]


def chunks(config: Config) -> tuple[Chunk, ...]:
    return plan([Part(f"{v} L={L}", (VARIANTS.index(v), L), len(config.lrs), config.budget.max_steps)
                 for v, L in _architectures(config)], config.replicates)


def cost(config: Config) -> Cost:
    todo = chunks(config)
    runs = max(c.runs for c in todo)
    steps = config.budget.max_steps
    peak = max(batch_bytes(BlockSpec(block="linear", depth=L, width=config.width), runs, config.samples, steps)
               for L in config.depths)
    widened = 1 + config.rate_search.lr_max_widenings  # memory's worst case: every widening batch kept
    return Cost(peak + sum(curve_bytes(widened * c.runs, steps) for c in todo), units=sum(c.units for c in todo))


def predicted_time(depth: int, s: float, u0: float, uf: float, gap: float) -> float:
    """Gradient-flow time from u₀ to u_f (0 when u₀ is already within the gap; inf where float64 cannot resolve it)."""
    if abs(s - u0) <= gap:
        return 0.0
    try:
        return closed_forms.learning_time(depth, s, u0, uf)
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.inf  # u_f rounds to s, or an extreme s: no finite prediction


def _architecture(r: DeepLinearRun) -> tuple[str, int]:
    return (r.variant, r.depth)


def _lr(r: DeepLinearRun) -> float:
    return r.lr


def _label(architecture: Hashable) -> str:
    variant, depth = typing.cast(tuple[str, int], architecture)
    return f"{variant} L={depth}"


def run_chunk(config: Config, chunk: Chunk, device: str = "cpu",
              progress: Progress | None = None) -> ChunkResult[DeepLinearRun]:
    """One (variant, depth) × the chunk's seeds × learning rates as one batch, then the rates the widening rule
    asks for (`rate_search.widen`), each batch from the same start; each replicate's data (and, for the plain
    stack, its orthogonal factors) from its own streams."""
    t_start = time.perf_counter()
    dtype = torch.float64
    d, s, budget, base = config.width, config.target_scale, config.budget, config.replicates.seed
    variant, L = _architectures(config)[chunk.part]
    plain = variant == "plain"
    X = torch.stack([data_with_covariance(torch.eye(d, dtype=dtype), config.samples, replicate_generator(base, r))
                     for r in chunk.seeds])  # (S, N, d), XᵀX/N = I
    gap = math.sqrt(2 * budget.eps / d)
    inits = ("balanced" if plain else "zero-branch",)
    spec = BlockSpec(block="linear", variant=variant, depth=L, width=d)
    u0 = config.plain_u0 if plain else 1.0
    if plain:
        W = torch.cat([balanced_linear(1, L, d, u0 ** (1.0 / L), init_generator(base, chunk, r), dtype)
                       for r in chunk.seeds])  # (S, L, d, d)
    else:
        W = torch.zeros((len(chunk.seeds), L, d, d), dtype=dtype)  # A_l = 0: the residual chain starts at u₀ = 1
    uf = s - math.copysign(gap, s - u0)
    t_pred = predicted_time(L, s, u0, uf, gap)
    batches: list[tuple[RunGrid[float], TrainResult]] = []

    def train_rates(rates: tuple[float, ...], max_steps: int) -> list[DeepLinearRun]:
        grid = RunGrid(len(chunk.seeds), inits, rates, first_seed=chunk.first_seed)
        x = grid.per_seed(X)  # (R, N, d)
        steps = StepProgress(progress, max_steps)
        res = train_on(device, spec, {"W": grid.per_seed(W)}, x, s * x, OptimizerSpec("gd"),
                       grid.per_setting(rates, dtype), torch.zeros(grid.size, dtype=dtype), max_steps, budget.eps,
                       chunk_generator(base, chunk), progress=steps)
        steps.finish()
        batches.append((grid, res))
        first = chunk.first_run + sum(b.size for b, _ in batches[:-1])
        out = []
        for j, (point, outcome) in enumerate(zip(grid.points(), outcomes(res), strict=True)):
            lr, k = point.setting, outcome.steps_to_converge
            pred = t_pred / lr if math.isfinite(t_pred) else None
            out.append(DeepLinearRun(
                variant=variant, depth=L, width=d, init=point.init, u0=u0, target_scale=s, eps=budget.eps,
                max_steps=max_steps, u_final=uf, predicted_time=finite_or_none(t_pred), seed=point.seed,
                lr=lr, predicted_steps=pred, measured_time=None if k is None else k * lr,
                relative_error=(k - pred) / pred if k is not None and pred else None,
                dimensionless_step=lr * L * max(s, u0) ** (2 - 2 / L), outcome=outcome, run=first + j,
            ))
        return out

    records, _ = widen(train_rates, config.lrs, budget.max_steps, _architecture, _lr, config.rate_search, _label)
    return chunk_result(chunk, records, {f"{variant} L={L}": merged_curves(batches)}, t_start)


def merge(config: Config, parts: Sequence[ChunkResult[DeepLinearRun]]) -> Result:
    merged_records, curves = merged(chunks(config), parts)
    records = [dataclasses.replace(r, run=i) for i, r in enumerate(merged_records)]  # unique after widening
    grids = searched_grids(records, config.lrs, lambda r: _label(_architecture(r)), _lr)
    groups = group_summaries(records, lambda r: Group(r.variant, r.depth, r.lr),
                             np.random.default_rng(config.replicates.seed))
    ranked = mark_best_lr(groups, lambda g: (g.variant, g.depth), lambda g: g.lr)
    predictions = {Group(r.variant, r.depth, r.lr): Prediction(r.predicted_steps, r.predicted_time) for r in records}
    summaries = tuple(PredictedSummary(row.group, row.steps, row.best_lr, row.best_lr_at_grid_edge, row.grid_limited,
                                       predictions[row.group]) for row in ranked)  # the prediction beside the median
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=summaries,
                            checks=(_flow_check(records, config),), curves=curves, grids=grids)


def _flow_check(records: Sequence[DeepLinearRun], config: Config) -> CrossCheck:
    small = [r for r in records if r.dimensionless_step <= config.check_max_step]
    judged = [r for r in small
              if r.predicted_steps is not None and r.predicted_steps > 0 and r.outcome.steps_to_converge != 0
              and r.predicted_steps * (1 + FLOW_TOLERANCE) <= r.max_steps]
    bad = [r for r in judged if r.outcome.status is not RunStatus.CONVERGED
           or r.relative_error is None or abs(r.relative_error) > FLOW_TOLERANCE]
    by_lr: dict[float, float] = {}
    for r in records:
        if r.relative_error is not None:
            by_lr[r.lr] = max(by_lr.get(r.lr, 0.0), abs(r.relative_error))
    return CrossCheck(
        name="deep-linear-flow-time",
        description="GD steps × η match the gradient-flow learning time within 2% for small η "
                    "(dimensionless step η·L·max(s, u₀)^{2−2/L} ≤ check_max_step)",
        examined=len(judged), mismatches=len(bad),
        details={"tolerance_relative": FLOW_TOLERANCE, "runs_checked": len(judged),
                 "max_relative_error": max((abs(r.relative_error) for r in judged if r.relative_error is not None),
                                           default=None),
                 "max_relative_error_by_lr": {f"{k:g}": v for k, v in sorted(by_lr.items())},
                 "discretisation": "forward Euler on the balanced chain: k*η − t = O(η)"},
        excluded=len(small) - len(judged),
        excluded_reason="small-step runs decided at step 0 (u₀ within ε of s), without a finite prediction, or "
                        "predicted (with the 2%) beyond the budget",
    )


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots import loss_curves, time_vs_depth

    return {
        "deep-linear-time-vs-depth": time_vs_depth(result.summaries, "GD on deep linear stacks (best η per depth)",
                                                   lambda g: g.depth, lambda g: g.variant,
                                                   prediction=lambda r: r.prediction.predicted_steps),
        "deep-linear-loss": loss_curves(result.curves, "deep linear: loss curves", legend_title="lr"),
    }
