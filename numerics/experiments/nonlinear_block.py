"""nonlinear-block: one two-layer (or convolutional) block learning the identity or a near-identity map.

H = W₂σ(W₁x) (plain) or x + W₂σ(W₁x) (residual; He et al., CVPR 2016, Eq. (1)), plus ReZero,
SkipInit and Fixup (see numerics/models.py for the citations), σ ∈ {ReLU, tanh, GELU}; or the
convolutional analogue K₂⋆σ(K₁⋆x) on c×s×s images.  Loss: ½·mean‖H(x) − y‖² (+ (λ/2)‖θ‖² under L2).
Converged: the data loss < ε.  Each architecture is run over a learning-rate grid, widened until its best
rate (smallest Kaplan–Meier median steps) is interior (`rate_search`); the best rate is flagged in the
summaries (`best_lr`), and one still at an edge of the widened grid is `grid_limited`.

Prediction (exact, no fitting): when the target is the identity and the branch output is identically
0 at initialisation (ReZero/SkipInit α₀ = 0, Fixup's zero last layer, or a zero-initialised residual
branch) then H(x) = x, the loss is 0 < ε at step 0, and predicted_steps = 0.  No closed form is known
for the other configurations; they carry no prediction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics.experiments.blocks import Budget, Replicates, Training
from numerics.experiments.chunks import Part, chunk_result, merged, plan
from numerics.experiments.contract import Chunk, ChunkResult, Cost, CrossCheck, ExperimentResult, Progress
from numerics.experiments.grid import RunGrid
from numerics.experiments.params import ConfigBase, at_least, nested, param
from numerics.experiments.rate_search import RateSearch, mark_best_lr, searched_grids
from numerics.experiments.records import RankedSummary, RunStatus, group_summaries
from numerics.experiments.tasks import (
    CONV_TARGETS,
    Task,
    TaskRun,
    renumbered,
    task_cost,
    task_data,
    train_searched,
)
from numerics.models import ACTIVATIONS, VARIANTS, BlockSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "nonlinear-block"
DESCRIPTION = "one two-layer or conv block (plain, residual, ReZero, SkipInit, Fixup) learning the identity"
LOCAL_POOL = False  # one batched tensor program per chunk: a local run trains the chunks in this process
MAX_IMAGE = 256  # side of the c×s×s images of conv blocks


@dataclass(frozen=True)
class Config(ConfigBase):
    block: str = param("mlp", "mlp: W₂σ(W₁x); conv: K₂⋆σ(K₁⋆x) on images", choices=("mlp", "conv"))
    activations: tuple[str, ...] = param(ACTIVATIONS, "σ of the branch", choices=ACTIVATIONS)
    variants: tuple[str, ...] = param(VARIANTS, "block variants", choices=VARIANTS)
    task: Task = nested(Task())
    image_size: int = param(4, "s: images are c×s×s (conv)", interval=at_least(1, MAX_IMAGE))
    training: Training = nested(Training())
    rate_search: RateSearch = nested(RateSearch())
    budget: Budget = nested(Budget(eps=1e-3, max_steps=1000))  # criterion: the data loss
    replicates: Replicates = nested(Replicates(seeds=4))

    def check(self) -> None:
        if self.block == "conv" and self.task.target not in CONV_TARGETS:
            raise ValueError(f"conv blocks support targets identity and near-identity, got {self.task.target!r}")


class Group(NamedTuple):
    activation: str
    variant: str
    init: str
    lr: float


Result = ExperimentResult[Config, TaskRun, RankedSummary[Group]]


def branch_zero_at_init(variant: str, init: str) -> bool:
    """Whether F ≡ 0 at initialisation, so H(x) = x exactly (ReZero/SkipInit α₀ = 0, Fixup, zero branch)."""
    return variant in ("rezero", "skipinit", "fixup") or (variant == "residual" and init == "zero")


def _specs(config: Config) -> list[BlockSpec]:
    return [BlockSpec(block=config.block, variant=variant, depth=1, width=config.task.width, hidden=config.task.hidden,
                      activation=act, image_size=config.image_size)
            for act in config.activations for variant in config.variants]


def _parts(config: Config) -> list[Part]:
    per_seed = len(config.task.inits) * len(config.training.lrs)
    return [Part(f"{spec.activation} {spec.variant}",
                 (ACTIVATIONS.index(spec.activation), VARIANTS.index(spec.variant)), per_seed, config.budget.max_steps)
            for spec in _specs(config)]


def chunks(config: Config) -> tuple[Chunk, ...]:
    return plan(_parts(config), config.replicates)


def cost(config: Config) -> Cost:
    todo = chunks(config)
    return task_cost(_specs(config), todo, config.task.samples, config.training, config.budget,
                     kept=sum(c.runs for c in todo), widenings=config.rate_search.lr_max_widenings)


def run_chunk(config: Config, chunk: Chunk, device: str = "cpu",
              progress: Progress | None = None) -> ChunkResult[TaskRun]:
    """One architecture (activation, variant) × the chunk's seeds × inits × learning rates, as one batch."""
    t_start = time.perf_counter()
    dtype = getattr(torch, config.training.dtype)
    task = config.task
    spec = _specs(config)[chunk.part]
    grid = RunGrid(len(chunk.seeds), task.inits, config.training.lrs, first_seed=chunk.first_seed)
    base = BlockSpec(block=config.block, width=task.width, hidden=task.hidden, image_size=config.image_size)
    x, y = task_data(base, task, chunk.seeds, config.replicates.seed, dtype)

    def predicted(init: str) -> int | None:
        return 0 if task.target == "identity" and branch_zero_at_init(spec.variant, init) else None

    label = f"{spec.activation} {spec.variant}"
    records, panel = train_searched(NAME, spec, grid, task, config.training, config.budget, config.rate_search, x,
                                    y, chunk, config.replicates.seed, device, predicted, label, progress)
    return chunk_result(chunk, records, {label: panel}, t_start)


def merge(config: Config, parts: Sequence[ChunkResult[TaskRun]]) -> Result:
    merged_records, curves = merged(chunks(config), parts)
    records = renumbered(merged_records)
    grids = searched_grids(records, config.training.lrs, lambda r: f"{r.activation} {r.variant} {r.init}",
                           lambda r: r.lr)
    groups = group_summaries(records, lambda r: Group(r.activation, r.variant, r.init, r.lr),
                             np.random.default_rng(config.replicates.seed))
    summaries = mark_best_lr(groups, lambda g: (g.activation, g.variant, g.init), lambda g: g.lr)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=tuple(summaries),
                            checks=_checks(records), curves=curves, grids=grids)


def _checks(records: Sequence[TaskRun]) -> tuple[CrossCheck, ...]:
    pred = [r for r in records if r.predicted_steps is not None]
    if not pred:
        return ()  # no closed form applies to this configuration: nothing to check
    bad = [r for r in pred
           if r.outcome.status is not RunStatus.CONVERGED or r.outcome.steps_to_converge != r.predicted_steps]
    return (CrossCheck(
        name="zero-branch-starts-at-identity",
        description="a branch that is 0 at initialisation fits the identity target at step 0",
        examined=len(pred), mismatches=len(bad), details={"runs_with_prediction": len(pred)},
    ),)


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots import best_lr_bars, loss_curves

    return {
        "nonlinear-block-loss": loss_curves(result.curves, "one block: loss curves", legend_title="lr",
                                            optimizer=result.config.training.optimizer),
        "nonlinear-block-steps": best_lr_bars(
            result.summaries, lambda g: f"{g.activation} {g.variant} {g.init}", lambda g: g.lr,
            "steps to converge at each architecture's best η"),
    }
