"""degradation: plain vs residual networks of increasing depth on real data, train and test error (C1–C3, C13).

He et al. 2016 (*Deep Residual Learning for Image Recognition*, CVPR 2016, Fig. 1 and Fig. 6) report that on
CIFAR-10 a 56-layer *plain* net has higher *training* error than a 20-layer one, while residual nets do not
degrade.  hfx cannot download CIFAR-10, so this experiment asks the same question on real data that ships
with scikit-learn: the 8×8 digits (`numerics.classifiers`: MLPs with BN, SGD with momentum 0.9 and weight decay
1e-4 as He et al. §4.2, cross-entropy, a fixed number of epochs).  It tests whether the *phenomenon* appears,
not He et al.'s numbers.  Errors are classification error rates in [0, 1]; gradient norms are measured at
initialisation on one full training batch, per trunk layer (C3).

The grid is architectures × depths × learning rates × seeds; every run is one process of a pool (one thread
each).  Run i of a replicate is seeded with `seed + i` (its initialisation and batch order); the train/test
split is fixed (`DATA_SEED`), so seeds vary only the training.  The `generator` argument of `run` is not used:
per-run seeds keep a run's numbers the same whichever worker trains it.  Summaries give, per architecture, depth
and rate, the median and range over seeds; the best rate per (architecture, depth) is the one with the smallest
median training error (`best_lr`; with one rate, that rate).  Extension points: `model` (a CNN on image data)
and `norm` (normalisation on or off: `--set norm=batch,none` sweeps it).
"""

from __future__ import annotations

import functools
import os
import signal
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics.classifiers import ARCHITECTURES, NORMS, TRAIN_SIZE, Measurement, Recipe, load_digits_split, train_one
from numerics.experiments.blocks import MAX_DEPTH, MAX_WIDTH, Replicates
from numerics.experiments.contract import Cost, ExperimentResult, Progress
from numerics.experiments.params import ConfigBase, Interval, at_least, nested, param, positive

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "degradation"
DESCRIPTION = "plain vs residual MLPs of increasing depth on the scikit-learn digits: train and test error (C1–C3)"
DATA_SEED = 0  # the train/test split is fixed, so seeds vary only initialisation and batch order
MAX_EPOCHS = 10_000


@dataclass(frozen=True)
class Config(ConfigBase):
    model: str = param("mlp", "network family (mlp: fully connected, 64 → w → … → 10)", choices=("mlp",))
    architectures: tuple[str, ...] = param(
        ARCHITECTURES, "plain: relu(BN(Wh)); residual: relu(h + BN(W₂ relu(BN(W₁h))))", choices=ARCHITECTURES)
    depths: tuple[int, ...] = param((20, 56, 110), "weight layers per network (even, ≥ 4; He et al. count them so)",
                                    interval=at_least(4, MAX_DEPTH))
    width: int = param(64, "hidden width", interval=at_least(1, MAX_WIDTH))
    epochs: int = param(30, "passes over the training set", interval=at_least(1, MAX_EPOCHS))
    lrs: tuple[float, ...] = param((0.05,), "SGD learning rates (the best per architecture and depth is flagged)",
                                   interval=positive(10.0))
    momentum: float = param(0.9, "SGD momentum (He et al. 2016, §4.2)", interval=Interval(0.0, 1.0, high_open=True))
    weight_decay: float = param(1e-4, "L2 weight decay (He et al. 2016, §4.2)", interval=at_least(0, 1.0))
    batch_size: int = param(128, "minibatch size (full batches only)", interval=at_least(1, TRAIN_SIZE))
    norm: str = param("batch", "batch: BN after every trunk layer (He et al.); none: no normalisation",
                      choices=NORMS)
    replicates: Replicates = nested(Replicates(seeds=3))

    def check(self) -> None:
        odd = [d for d in self.depths if d % 2]
        if odd:
            raise ValueError(f"depths must be even (residual blocks hold two layers), got {odd[0]}")
        if self.norm == "batch" and self.batch_size < 2:
            raise ValueError(f"batch_size must be ≥ 2 with norm=batch (batch statistics need two samples), "
                             f"got {self.batch_size}")

    def recipe(self, lr: float) -> Recipe:
        return Recipe(width=self.width, epochs=self.epochs, learning_rate=lr, momentum=self.momentum,
                      weight_decay=self.weight_decay, batch_size=self.batch_size, norm=self.norm)


@dataclass(frozen=True, kw_only=True)
class DegradationRun:
    """One trained network."""

    architecture: str  # plain or residual
    depth: int  # weight layers
    seed: int  # replicate index (its torch seed is the base seed + this)
    measurement: Measurement  # errors, loss, gradient norms at initialisation, seconds
    lr: float


class Group(NamedTuple):
    architecture: str
    depth: int
    lr: float


@dataclass(frozen=True)
class ErrorSummary:
    """Median and range over seeds of one (architecture, depth, rate)."""

    group: Group
    n: int
    train_error_median: float
    train_error_min: float
    train_error_max: float
    test_error_median: float
    test_error_min: float
    test_error_max: float
    best_lr: bool  # the smallest median training error of its (architecture, depth)


Result = ExperimentResult[Config, DegradationRun, ErrorSummary]


class Job(NamedTuple):
    architecture: str
    depth: int
    lr: float
    replicate: int


def jobs(config: Config) -> list[Job]:
    """Every run, in record order: seeds, then depths, then rates, then architectures."""
    return [Job(a, d, lr, s) for s in range(config.replicates.seeds) for d in config.depths for lr in config.lrs
            for a in config.architectures]


def cost(config: Config) -> Cost:
    """Per worker: the network, its gradient and momentum (float32), activations of a batch, the data."""
    widest = max(config.depths) * config.width
    per_worker = 4 * (4 * widest * config.width + 8 * max(config.batch_size, TRAIN_SIZE) * widest) + 50_000_000
    return Cost(2 * workers(config) * per_worker, units=len(jobs(config)), unit="run")


def workers(config: Config) -> int:
    """Processes for the pool: one per core, no more than there are runs."""
    return max(1, min(len(jobs(config)), os.cpu_count() or 1))


def init_worker() -> None:
    """Set up a pool process: Ctrl-C is the parent's to handle; one thread (one process per core instead)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)


def train_job(job: Job, config: Config) -> Measurement:
    """Train and measure the network of one job (a pure function of its arguments: any worker gives the same)."""
    data = load_digits_split(np.random.default_rng(DATA_SEED))
    return train_one(job.architecture, job.depth, config.recipe(job.lr), config.replicates.seed + job.replicate, data)


Mapper = Callable[[Callable[[Job], Measurement], list[Job]], Iterable[Measurement]]  # an ordered map, e.g. a pool's


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> Result:
    """Every (architecture, depth, rate, seed) of `config`, over the machine's cores (see the module docstring)."""
    with ProcessPoolExecutor(max_workers=workers(config), initializer=init_worker) as pool:
        return run_with(config, lambda fn, todo: pool.map(fn, todo), progress)


def run_with(config: Config, mapper: Mapper, progress: Progress | None = None) -> Result:
    """As `run`, with the runs mapped by `mapper` (in order): the runner chooses the pool."""
    t_start = time.perf_counter()
    todo = jobs(config)
    records: list[DegradationRun] = []
    for job, m in zip(todo, mapper(functools.partial(train_job, config=config), todo), strict=True):
        records.append(DegradationRun(architecture=job.architecture, depth=job.depth, seed=job.replicate,
                                      measurement=m, lr=job.lr))
        if progress is not None:
            progress(1)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=summarize(records),
                            seconds=time.perf_counter() - t_start)


def summarize(records: Sequence[DegradationRun]) -> tuple[ErrorSummary, ...]:
    """Per (architecture, depth, rate), in first-seen order: median and range of the errors over seeds."""
    groups: dict[Group, list[Measurement]] = {}
    for r in records:
        groups.setdefault(Group(r.architecture, r.depth, r.lr), []).append(r.measurement)
    medians = {g: statistics.median(m.train_error for m in ms) for g, ms in groups.items()}
    best: dict[tuple[str, int], Group] = {}
    for g in groups:  # the first rate of smallest median training error wins ties
        key = (g.architecture, g.depth)
        if key not in best or medians[g] < medians[best[key]]:
            best[key] = g
    out = []
    for g, ms in groups.items():
        train, test = [m.train_error for m in ms], [m.test_error for m in ms]
        out.append(ErrorSummary(g, len(ms), statistics.median(train), min(train), max(train),
                                statistics.median(test), min(test), max(test), best[(g.architecture, g.depth)] == g))
    return tuple(out)


def best_runs(result: Result) -> list[DegradationRun]:
    """The runs at each (architecture, depth)'s best learning rate."""
    chosen = {s.group for s in result.summaries if s.best_lr}
    return [r for r in result.records if Group(r.architecture, r.depth, r.lr) in chosen]


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots import Band, error_vs_depth

    chosen = [s for s in result.summaries if s.best_lr]
    runs = best_runs(result)
    bands: dict[str, dict[str, Band]] = {"train": {}, "test": {}}
    for arch in dict.fromkeys(s.group.architecture for s in chosen):
        rows = sorted((s for s in chosen if s.group.architecture == arch), key=lambda s: s.group.depth)
        mine = [r for r in runs if r.architecture == arch]
        depth = np.array([s.group.depth for s in rows], dtype=float)
        seen = np.array([r.depth for r in mine], dtype=float)
        bands["train"][arch] = Band(depth, np.array([s.train_error_median for s in rows]),
                                    np.array([s.train_error_min for s in rows]),
                                    np.array([s.train_error_max for s in rows]),
                                    seen, np.array([r.measurement.train_error for r in mine]))
        bands["test"][arch] = Band(depth, np.array([s.test_error_median for s in rows]),
                                   np.array([s.test_error_min for s in rows]),
                                   np.array([s.test_error_max for s in rows]),
                                   seen, np.array([r.measurement.test_error for r in mine]))
    c = result.config
    title = (f"{c.model.upper()} on sklearn digits, width {c.width}, {c.epochs} epochs, norm={c.norm} "
             f"(median and range over {c.replicates.seeds} seeds)")
    return {"degradation-error-vs-depth": error_vs_depth(bands, title)}
