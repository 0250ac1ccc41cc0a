"""deep-stack: time to converge vs depth for deep stacks of blocks, plain vs residual.

A stack of L blocks (linear, or two-layer W₂σ(W₁x)) with plain H = F, residual H = x + F
(He et al., CVPR 2016, Eq. (1)), ReZero/SkipInit (α₀ = 0) or Fixup initialisation (numerics/models.py),
learns a target (default: the near-identity map x + δ tanh(Bx), which a zero-branch residual stack does
*not* fit at initialisation).  Loss ½·mean‖H(x) − y‖²; converged when it is < ε.  Every (variant, depth)
runs over a learning-rate grid, widened until its best rate is interior (`rate_search`), and the comparison
uses each one's best rate (smallest Kaplan–Meier median steps; `best_lr` in the summaries; `grid_limited` where
the widened grid still has it at an edge).  No closed form is known for these nonlinear stacks, so no
record carries a prediction (deep-linear holds the linear, closed-form case).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics.experiments.blocks import MAX_DEPTH, Budget, Replicates, Training
from numerics.experiments.chunks import Part, chunk_result, merged, plan
from numerics.experiments.contract import Chunk, ChunkResult, Cost, ExperimentResult, Progress
from numerics.experiments.grid import RunGrid
from numerics.experiments.params import ConfigBase, at_least, nested, param
from numerics.experiments.rate_search import RateSearch, mark_best_lr, searched_grids
from numerics.experiments.records import RankedSummary, group_summaries
from numerics.experiments.tasks import (
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

NAME = "deep-stack"
DESCRIPTION = "time to converge vs depth of stacked blocks (linear or two-layer), plain vs residual variants"
LOCAL_POOL = False  # one batched tensor program per chunk: a local run trains the chunks in this process


@dataclass(frozen=True)
class Config(ConfigBase):
    block: str = param("mlp", "linear: F = Wx; mlp: F = W₂σ(W₁x)", choices=("linear", "mlp"))
    activation: str = param("tanh", "σ of mlp branches", choices=ACTIVATIONS)
    depths: tuple[int, ...] = param((1, 2, 4, 8, 16), "L: numbers of blocks", interval=at_least(1, MAX_DEPTH))
    variants: tuple[str, ...] = param(("plain", "residual", "rezero"), "block variants", choices=VARIANTS)
    task: Task = nested(Task(target="near-identity", samples=32))
    training: Training = nested(Training())
    rate_search: RateSearch = nested(RateSearch())
    budget: Budget = nested(Budget(eps=1e-3, max_steps=400))  # criterion: the data loss
    replicates: Replicates = nested(Replicates(seeds=4))


class Group(NamedTuple):
    variant: str
    init: str
    depth: int
    lr: float


Result = ExperimentResult[Config, TaskRun, RankedSummary[Group]]


def _specs(config: Config) -> list[BlockSpec]:
    return [BlockSpec(block=config.block, variant=variant, depth=L, width=config.task.width, hidden=config.task.hidden,
                      activation=config.activation)
            for variant in config.variants for L in config.depths]


def _parts(config: Config) -> list[Part]:
    per_seed = len(config.task.inits) * len(config.training.lrs)
    return [Part(f"{spec.variant} L={spec.depth}", (VARIANTS.index(spec.variant), spec.depth), per_seed,
                 config.budget.max_steps) for spec in _specs(config)]


def chunks(config: Config) -> tuple[Chunk, ...]:
    return plan(_parts(config), config.replicates)


def _plotted(config: Config, spec: BlockSpec) -> bool:
    return spec.depth in (max(config.depths), min(config.depths))  # the figure's panels: shallowest and deepest


def cost(config: Config) -> Cost:
    todo, specs = chunks(config), _specs(config)
    kept = sum(c.runs for c in todo if _plotted(config, specs[c.part]))
    return task_cost(specs, todo, config.task.samples, config.training, config.budget, kept=kept,
                     widenings=config.rate_search.lr_max_widenings)


def run_chunk(config: Config, chunk: Chunk, device: str = "cpu",
              progress: Progress | None = None) -> ChunkResult[TaskRun]:
    """One architecture (variant, depth) × the chunk's seeds × inits × learning rates, as one batch."""
    t_start = time.perf_counter()
    dtype = getattr(torch, config.training.dtype)
    spec = _specs(config)[chunk.part]
    grid = RunGrid(len(chunk.seeds), config.task.inits, config.training.lrs, first_seed=chunk.first_seed)
    base = BlockSpec(block=config.block, width=config.task.width, hidden=config.task.hidden)
    x, y = task_data(base, config.task, chunk.seeds, config.replicates.seed, dtype)
    label = f"{spec.variant} L={spec.depth}"
    records, panel = train_searched(NAME, spec, grid, config.task, config.training, config.budget,
                                    config.rate_search, x, y, chunk, config.replicates.seed, device,
                                    lambda init: None, label, progress)
    curves = {label: panel} if _plotted(config, spec) else {}
    return chunk_result(chunk, records, curves, t_start)


def merge(config: Config, parts: Sequence[ChunkResult[TaskRun]]) -> Result:
    merged_records, curves = merged(chunks(config), parts)
    records = renumbered(merged_records)
    grids = searched_grids(records, config.training.lrs, lambda r: f"{r.variant} L={r.depth} {r.init}", lambda r: r.lr)
    groups = group_summaries(records, lambda r: Group(r.variant, r.init, r.depth, r.lr),
                             np.random.default_rng(config.replicates.seed))
    summaries = mark_best_lr(groups, lambda g: (g.variant, g.init, g.depth), lambda g: g.lr)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=tuple(summaries),
                            curves=curves, grids=grids)


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots import loss_curves, time_vs_depth

    c = result.config
    title = f"{c.block} blocks ({c.activation}), {c.task.target}, {c.training.optimizer}, best η"
    return {
        "deep-stack-time-vs-depth": time_vs_depth(
            result.summaries, title, lambda g: g.depth,
            (lambda g: f"{g.variant} / {g.init}") if len(c.task.inits) > 1 else (lambda g: g.variant)),
        "deep-stack-loss": loss_curves(result.curves, "deep stacks: loss curves (shallowest and deepest)",
                                       legend_title="lr", optimizer=c.training.optimizer),
    }
