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
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics.experiments.blocks import MAX_DEPTH, Budget, Replicates, Training
from numerics.experiments.contract import Cost, Curves, ExperimentResult, Progress
from numerics.experiments.grid import RunGrid
from numerics.experiments.params import ConfigBase, at_least, nested, param
from numerics.experiments.rate_search import RateSearch, SearchedGrid, mark_best_lr
from numerics.experiments.records import RankedSummary, group_summaries
from numerics.experiments.tasks import Task, TaskRun, make_task, task_cost, train_searched
from numerics.models import ACTIVATIONS, VARIANTS, BlockSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "deep-stack"
DESCRIPTION = "time to converge vs depth of stacked blocks (linear or two-layer), plain vs residual variants"


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


def _grid(config: Config) -> RunGrid[float]:
    return RunGrid(config.replicates.seeds, config.task.inits, config.training.lrs)


def cost(config: Config) -> Cost:
    return task_cost(_specs(config), _grid(config).size, config.task.samples, config.training, config.budget,
                     kept=2 * len(config.variants), widenings=config.rate_search.lr_max_widenings)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> Result:
    t_start = time.perf_counter()
    dtype = getattr(torch, config.training.dtype)
    grid = _grid(config)
    base = BlockSpec(block=config.block, width=config.task.width, hidden=config.task.hidden)
    x, y = make_task(base, config.task.target, grid.seeds, config.task.samples, config.task.delta, generator, dtype)
    records: list[TaskRun] = []
    curves: dict[str, Curves] = {}
    grids: list[SearchedGrid] = []
    for spec in _specs(config):
        label = f"{spec.variant} L={spec.depth}"
        new, panel, searched = train_searched(
            NAME, spec, grid, config.task, config.training, config.budget, config.rate_search, x, y, generator,
            len(records), lambda init: None, label, progress)
        records += new
        grids += searched
        if spec.depth in (max(config.depths), min(config.depths)):
            curves[label] = panel
    groups = group_summaries(records, lambda r: Group(r.variant, r.init, r.depth, r.lr),
                                np.random.default_rng(config.replicates.seed))
    summaries = mark_best_lr(groups, lambda g: (g.variant, g.init, g.depth), lambda g: g.lr)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=tuple(summaries),
                            curves=curves, seconds=time.perf_counter() - t_start, grids=tuple(grids))


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots import loss_curves, time_vs_depth

    c = result.config
    title = f"{c.block} blocks ({c.activation}), {c.task.target}, {c.training.optimizer}, best η"
    return {
        "deep-stack-time-vs-depth": time_vs_depth(
            result.summaries, title, lambda g: g.depth,
            (lambda g: f"{g.variant} / {g.init}") if len(c.task.inits) > 1 else (lambda g: g.variant)),
        "deep-stack-loss": loss_curves(result.curves, "deep stacks: loss curves (shallowest and deepest)",
                                       legend_title="lr"),
    }
