"""The learning tasks of the non-linear experiments (inputs and targets), and their batched training."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from numerics.experiments.blocks import MAX_SAMPLES, MAX_SCALE, MAX_WIDTH, Budget, Training
from numerics.experiments.chunks import chunk_generator, init_generator, replicate_generator
from numerics.experiments.contract import Chunk, Cost, Curves, Progress
from numerics.experiments.devices import train_on
from numerics.experiments.grid import RunGrid, StepProgress
from numerics.experiments.params import ConfigBase, at_least, param, positive
from numerics.experiments.rate_search import RateSearch, widen
from numerics.experiments.records import Outcome, outcomes
from numerics.experiments.resources import batch_bytes, curve_bytes
from numerics.models import BlockSpec, apply_target, linear_target
from numerics.train import OptimizerSpec, TrainResult

DENSE_TARGETS = ("identity", "near-identity", "linear-pd", "linear-indefinite")
CONV_TARGETS = ("identity", "near-identity")
INITS = ("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity")


@dataclass(frozen=True)
class Task(ConfigBase):
    """What the non-linear experiments learn, from what data, with which branch sizes and initialisations."""

    target: str = param("identity", "the map to learn (conv blocks: identity or near-identity)",
                        choices=DENSE_TARGETS)
    delta: float = param(0.5, "δ of the near-identity target x + δ tanh(Bx)", interval=at_least(0, MAX_SCALE))
    width: int = param(4, "d: features (channels for conv blocks)", interval=at_least(1, MAX_WIDTH))
    hidden: int = param(8, "m: hidden width of two-layer branches (hidden channels for conv)",
                        interval=at_least(1, MAX_WIDTH))
    samples: int = param(64, "N: training samples", interval=at_least(1, MAX_SAMPLES))
    inits: tuple[str, ...] = param(("xavier",), "initialisations, batched together (variants override as their "
                                   "papers say)", choices=INITS)
    init_scale: float = param(1.0, "multiplier of the initialisation", interval=positive(MAX_SCALE))


def make_task(
    spec: BlockSpec, target: str, seeds: int, samples: int, delta: float, g: torch.Generator, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs x ~ N(0, I) and targets y per seed: (S, N, d) or (S, N, c, s, s) for conv.

    near-identity: y = x + δ tanh(Bx), B with N(0, 1/d) entries (for images, B mixes channels at every
    pixel).  linear-pd / linear-indefinite: y = Φx with eigenvalues evenly in [0.5, 1.5] (the smallest
    negated for indefinite; Bartlett, Helmbold, Long, ICML 2018).
    """
    d = spec.width
    if spec.block == "conv":
        if target not in CONV_TARGETS:
            raise ValueError(f"conv blocks support targets {CONV_TARGETS}, got {target!r}")
        x = torch.randn((seeds, samples, d, spec.image_size, spec.image_size), generator=g, dtype=dtype)
        if target == "identity":
            return x, x.clone()
        B = torch.randn((seeds, 1, 1, d, d), generator=g, dtype=dtype) / math.sqrt(d)
        xc = x.permute(0, 1, 3, 4, 2)  # (S, N, s, s, c): channels last for the per-pixel mixing
        yc = apply_target("near-identity", xc, delta, B=B)
        return x, yc.permute(0, 1, 4, 2, 3).contiguous()
    x = torch.randn((seeds, samples, d), generator=g, dtype=dtype)
    if target == "near-identity":
        B = torch.randn((seeds, d, d), generator=g, dtype=dtype) / math.sqrt(d)
        return x, apply_target(target, x, delta, B=B)
    if target in ("linear-pd", "linear-indefinite"):
        Phi = torch.stack([linear_target(target, d, g, dtype, 0.5, 1.5) for _ in range(seeds)])  # (S, d, d)
        return x, apply_target(target, x, Phi=Phi)
    return x, apply_target(target, x)


def task_data(spec: BlockSpec, task: Task, seeds: range, base_seed: int,
              dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """`make_task` for the replicates `seeds`, each from its own stream (`chunks.replicate_generator`): the same
    data for every architecture and whatever the chunk.  (S, N, …) each."""
    per_seed = [make_task(spec, task.target, 1, task.samples, task.delta, replicate_generator(base_seed, s), dtype)
                for s in seeds]
    return torch.cat([x for x, _ in per_seed]), torch.cat([y for _, y in per_seed])


def train_grid(
    spec: BlockSpec,
    grid: RunGrid[float],
    task: Task,
    training: Training,
    budget: Budget,
    x: torch.Tensor,
    y: torch.Tensor,
    chunk: Chunk,
    base_seed: int,
    device: str = "cpu",
    progress: Progress | None = None,
) -> TrainResult:
    """One architecture's seeds × initialisations × learning rates (`grid.settings`) as one batch: one chunk.

    x, y: (S, N, …) per seed.  Every rate starts from the same parameters for a given seed and initialisation
    (drawn from the replicate's stream of this part, `chunks.init_generator`, afresh for every call: a batch of
    other rates for the same chunk starts from the same points).
    """
    gens = [init_generator(base_seed, chunk, s) for s in chunk.seeds]
    p0 = grid.initial_params(spec, task.init_scale, gens, x.dtype)  # (R, …)
    R = grid.size
    lr = grid.per_setting(grid.settings, x.dtype)  # (R,)
    lam = torch.full((R,), training.weight_decay, dtype=x.dtype)
    opt = OptimizerSpec(training.optimizer, batch_size=training.batch_size, decay_mode=training.decay_mode)
    steps = StepProgress(progress, budget.max_steps)
    res = train_on(device, spec, p0, grid.per_seed(x), grid.per_seed(y), opt, lr, lam, budget.max_steps, budget.eps,
                   chunk_generator(base_seed, chunk), progress=steps)
    steps.finish()
    return res


@dataclass(frozen=True, kw_only=True)
class TaskRun:
    """One run of nonlinear-block or deep-stack: its architecture and training, and what happened."""

    experiment: str  # nonlinear-block or deep-stack
    block: str  # linear, mlp or conv
    activation: str
    variant: str
    depth: int
    width: int
    hidden: int
    target: str
    optimizer: str
    weight_decay: float
    decay_mode: str
    dtype: str  # float64 or float32: the precision the run trained in (a float32 run's counts can differ)
    criterion: str = "loss"  # the data loss ½·mean‖H(x) − y‖²
    eps: float
    max_steps: int
    seed: int
    init: str
    lr: float
    predicted_steps: int | None  # 0 where the branch is 0 at initialisation and the target is I; None otherwise
    outcome: Outcome
    run: int


def task_runs(
    experiment: str, spec: BlockSpec, target: str, training: Training, budget: Budget, grid: RunGrid[float],
    result: TrainResult, first_run: int, predicted: Callable[[str], int | None],
) -> list[TaskRun]:
    """The records of one trained grid; `predicted(init)` gives theory's step count for an initialisation."""
    return [
        TaskRun(experiment=experiment, block=spec.block, activation=spec.activation, variant=spec.variant,
                depth=spec.depth, width=spec.width, hidden=spec.hidden, target=target, optimizer=training.optimizer,
                weight_decay=training.weight_decay, decay_mode=training.decay_mode, dtype=training.dtype,
                eps=budget.eps, max_steps=budget.max_steps, seed=point.seed, init=point.init, lr=point.setting,
                predicted_steps=predicted(point.init), outcome=outcome, run=first_run + j)
        for j, (point, outcome) in enumerate(zip(grid.points(), outcomes(result), strict=True))
    ]


def task_cost(specs: list[BlockSpec], chunks: Sequence[Chunk], samples: int, training: Training, budget: Budget,
              kept: int, widenings: int = 0) -> Cost:
    """Memory of the largest chunk's batch plus `kept` runs' loss curves (with up to `widenings` more batches per
    chunk, `rate_search`, never larger than the first: the worst case), and Σ max_steps over the planned grid's
    chunks (the progress total; a widened rate adds steps beyond it)."""
    runs = max(c.runs for c in chunks)
    peak = max(batch_bytes(spec, runs, samples, budget.max_steps, training.dtype, training.optimizer)
               for spec in specs)
    return Cost(peak + curve_bytes((1 + widenings) * kept, budget.max_steps), units=sum(c.units for c in chunks))


def train_searched(
    name: str, spec: BlockSpec, grid: RunGrid[float], task: Task, training: Training, budget: Budget,
    search: RateSearch, x: torch.Tensor, y: torch.Tensor, chunk: Chunk, base_seed: int, device: str,
    predicted: Callable[[str], int | None], label: str, progress: Progress | None = None,
) -> tuple[list[TaskRun], Curves]:
    """`train_grid` over `grid.settings` for one chunk, then widened per initialisation until its best rate is
    interior (`rate_search.widen`; every added rate starts from the same (seed, init) draw).  The search is
    decided on the chunk's own seeds (by default a chunk holds every seed of an architecture: `chunk_seeds`).
    Returns the records (numbered from `chunk.first_run`; `renumbered` makes them unique after a merge) and the
    loss curves of every rate (one column per run)."""
    batches: list[tuple[RunGrid[float], TrainResult]] = []

    def train_rates(rates: tuple[float, ...], steps: int) -> list[TaskRun]:
        sub = RunGrid(grid.seeds, grid.inits, rates, first_seed=chunk.first_seed)
        own = dataclasses.replace(budget, max_steps=steps)
        res = train_grid(spec, sub, task, training, own, x, y, chunk, base_seed, device, progress)
        batches.append((sub, res))
        done = chunk.first_run + sum(b.size for b, _ in batches[:-1])
        return task_runs(name, spec, task.target, training, own, sub, res, done, predicted)

    records, _ = widen(train_rates, grid.settings, budget.max_steps, lambda r: r.init, lambda r: r.lr, search,
                       lambda init: f"{label} {init}")
    return records, merged_curves(batches)


def merged_curves(batches: list[tuple[RunGrid[float], TrainResult]]) -> Curves:
    """The loss curves of several batches side by side (NaN where a batch stopped earlier), labelled by rate."""
    longest = max(batches, key=lambda b: len(b[1].recorded_steps))[1].recorded_steps
    columns, labels = [], []
    for sub, res in batches:
        pad = np.full((len(longest), res.loss_curve.shape[1]), np.nan)
        pad[: len(res.recorded_steps)] = res.loss_curve
        columns.append(pad)
        labels += [f"{p.setting:g}" for p in sub.points()]
    return Curves(longest, np.concatenate(columns, axis=1), tuple(labels))


def renumbered(records: Sequence[TaskRun]) -> list[TaskRun]:
    """The merged records numbered 0, 1, … in run order (a chunk's widened rates add runs beyond its planned
    range, so the numbers a chunk gave overlap the next chunk's)."""
    return [dataclasses.replace(r, run=i) for i, r in enumerate(records)]
