"""trainable-depth: the depth at which deep stacks stop training, plain vs residual vs ReZero vs Fixup (C13).

Fixup (Zhang, Dauphin, Ma, ICLR 2019) and ReZero (Bachlechner et al. 2020, arXiv:2003.04887) report training
networks of 10,000 layers without normalisation.  Here stacks of L blocks (`numerics.models`: linear F = Wx, or
two-layer F = W₂σ(W₁x)) learn a map near the identity — a symmetric positive-definite Φ with eigenvalues evenly
in [0.5, 1.5] for linear blocks (exactly representable; Bartlett, Helmbold, Long, ICML 2018, learn it from the
identity), x + δ tanh(Bx) for two-layer blocks — with full-batch gradient descent, loss ½·mean‖H(x) − y‖².
Variants (every branch weight Xavier-initialised unless the variant's paper says otherwise):

* ``plain``     H = F(x): the product of L random layers;
* ``residual``  H = x + F(x) with the same standard initialisation (the residual structure alone);
* ``rezero``    H = x + αF(x), α₀ = 0;
* ``fixup``     H = x + F(x), the last layer of each branch at 0 (for linear blocks: W₀ = 0, the identity).

A run *trains* when its loss falls below ε within the step budget.  Every block of a residual stack at the
identity receives the same gradient, so the end-to-end map moves L times as fast as one block: the rates are
η = c/L for c in `rate_constants` (the same grid of c at every depth).  Per (variant, depth), the best c is the
one of smallest Kaplan–Meier median steps (`best_lr`, with `best_lr_at_grid_edge`); the variant *trains at
depth L* when at least half its runs at the best c converged.  `trainable_depths(result)` gives, per variant,
the depths at which it trains and the first depth at which it stops.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics.experiments.blocks import MAX_DEPTH, MAX_SCALE, Budget, Replicates, Training
from numerics.experiments.chunks import Part, chunk_result, merged, plan
from numerics.experiments.contract import Chunk, ChunkResult, Cost, ExperimentResult, Progress
from numerics.experiments.grid import RunGrid
from numerics.experiments.params import ConfigBase, at_least, nested, param, positive
from numerics.experiments.rate_search import mark_best_lr
from numerics.experiments.records import RankedSummary, group_summaries
from numerics.experiments.tasks import Task, TaskRun, task_cost, task_data, task_runs, train_grid
from numerics.models import ACTIVATIONS, BlockSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "trainable-depth"
DESCRIPTION = "the depth at which plain, residual, ReZero and Fixup stacks stop training (up to 10,000 layers; C13)"
VARIANTS = ("plain", "residual", "rezero", "fixup")
LOCAL_POOL = False  # one batched tensor program per chunk: a local run trains the chunks in this process


@dataclass(frozen=True)
class Config(ConfigBase):
    block: str = param("linear", "linear: F = Wx (target Φ ≻ 0); mlp: F = W₂σ(W₁x) (target x + δ tanh(Bx))",
                       choices=("linear", "mlp"))
    activation: str = param("tanh", "σ of mlp branches", choices=ACTIVATIONS)
    variants: tuple[str, ...] = param(VARIANTS, "stack variants", choices=VARIANTS)
    depths: tuple[int, ...] = param((1, 3, 10, 30, 100, 1000, 10_000), "L: blocks per stack",
                                    interval=at_least(1, MAX_DEPTH))
    rate_constants: tuple[float, ...] = param((0.03, 0.1, 0.3, 1.0, 3.0), "c: learning rates η = c/L",
                                              interval=positive(MAX_SCALE))
    width: int = param(4, "d: features", interval=at_least(1, 256))
    hidden: int = param(8, "m: hidden width of mlp branches", interval=at_least(1, 256))
    samples: int = param(32, "N: training samples", interval=at_least(1, 100_000))
    budget: Budget = nested(Budget(eps=1e-3, max_steps=300))  # criterion: the data loss
    replicates: Replicates = nested(Replicates(seeds=3))

    def task(self) -> Task:
        target = "linear-pd" if self.block == "linear" else "near-identity"
        return Task(target=target, width=self.width, hidden=self.hidden, samples=self.samples, inits=("xavier",))

    def training(self) -> Training:
        return Training(optimizer="gd", lrs=self.rate_constants)


class Group(NamedTuple):
    variant: str
    depth: int
    rate_constant: float  # c = η·L


Result = ExperimentResult[Config, TaskRun, RankedSummary[Group]]


def _spec(config: Config, variant: str, depth: int) -> BlockSpec:
    return BlockSpec(block=config.block, variant=variant, depth=depth, width=config.width, hidden=config.hidden,
                     activation=config.activation)


def _specs(config: Config) -> list[BlockSpec]:
    return [_spec(config, v, L) for L in config.depths for v in config.variants]


def _parts(config: Config) -> list[Part]:
    """One part per (depth, variant), depths outer: seeds × the grid of c, one batch per seed block."""
    return [Part(f"{spec.variant} L={spec.depth}", (VARIANTS.index(spec.variant), spec.depth),
                 len(config.rate_constants), config.budget.max_steps) for spec in _specs(config)]


def chunks(config: Config) -> tuple[Chunk, ...]:
    return plan(_parts(config), config.replicates)


def cost(config: Config) -> Cost:
    return task_cost(_specs(config), chunks(config), config.samples, config.training(), config.budget, kept=0)


def run_chunk(config: Config, chunk: Chunk, device: str = "cpu",
              progress: Progress | None = None) -> ChunkResult[TaskRun]:
    """One (variant, depth) × the chunk's seeds × rates η = c/L, as one batch."""
    t_start = time.perf_counter()
    task = config.task()
    spec = _specs(config)[chunk.part]
    grid = RunGrid(len(chunk.seeds), task.inits, tuple(c / spec.depth for c in config.rate_constants),
                   first_seed=chunk.first_seed)
    base = BlockSpec(block=config.block, width=config.width, hidden=config.hidden)
    x, y = task_data(base, task, chunk.seeds, config.replicates.seed, torch.float64)
    training = replace(config.training(), lrs=grid.settings)
    res = train_grid(spec, grid, task, training, config.budget, x, y, chunk, config.replicates.seed, device,
                     progress)
    records = task_runs(NAME, spec, task.target, training, config.budget, grid, res, chunk.first_run,
                        lambda init: None)
    return chunk_result(chunk, records, {}, t_start)


def merge(config: Config, parts: Sequence[ChunkResult[TaskRun]]) -> Result:
    records, _ = merged(chunks(config), parts)
    groups = group_summaries(records, lambda r: Group(r.variant, r.depth, round(r.lr * r.depth, 12)),
                             np.random.default_rng(config.replicates.seed))
    summaries = mark_best_lr(groups, lambda g: (g.variant, g.depth), lambda g: g.rate_constant)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=tuple(summaries))


@dataclass(frozen=True)
class TrainableDepth:
    """Where one variant trains (the accessor for the audit and the published-vs-measured table)."""

    variant: str
    trains_at: tuple[int, ...]  # depths at which ≥ half the runs at the best rate converged
    fails_at: tuple[int, ...]  # depths at which fewer did
    first_failure: int | None  # the smallest depth at which it stops training (None: trains at every depth)
    deepest_trained: int | None
    converged: tuple[tuple[int, int, int], ...]  # (depth, converged runs, runs) at the best rate
    grid_edge: tuple[int, ...]  # depths whose best rate is at the edge of the grid of c


def trainable_depths(result: Result) -> tuple[TrainableDepth, ...]:
    out = []
    for variant in result.config.variants:
        rows = sorted((s for s in result.summaries if s.best_lr and s.group.variant == variant),
                      key=lambda s: s.group.depth)
        ok = tuple(s.group.depth for s in rows if 2 * s.steps.n_converged >= s.steps.n)
        bad = tuple(s.group.depth for s in rows if 2 * s.steps.n_converged < s.steps.n)
        out.append(TrainableDepth(variant, ok, bad, min(bad) if bad else None, max(ok) if ok else None,
                                  tuple((s.group.depth, s.steps.n_converged, s.steps.n) for s in rows),
                                  tuple(s.group.depth for s in rows if s.best_lr_at_grid_edge)))
    return tuple(out)


def figures(result: Result) -> dict[str, Figure]:
    from numerics.degradation.figures import trainable_depth_figure

    fig, _ = trainable_depth_figure(result)
    return {"trainable-depth": fig}


def figure_data(result: Result) -> dict[str, list[dict[str, object]]]:
    """The rows the figure draws (written as CSV beside it)."""
    from numerics.degradation.figures import trainable_depth_figure

    _, rows = trainable_depth_figure(result)
    return {"trainable-depth": rows}
