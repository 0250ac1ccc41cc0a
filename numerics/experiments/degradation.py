"""degradation: plain vs residual networks of increasing depth, trained to a plateau at their best rate (C1–C3, C13).

He et al. 2016 (*Deep Residual Learning for Image Recognition*, CVPR 2016) report on CIFAR-10 that a 56-layer
*plain* net has higher *training* error than a 20-layer one while residual nets do not degrade (Fig. 1, Fig. 6),
that residual layers respond less than plain ones (Fig. 7), and the test error of residual nets against depth
(Table 6); He et al. 2016b (*Identity Mappings in Deep Residual Networks*, ECCV 2016, Table 1) compare
shortcuts.  This experiment measures the same things (`numerics.degradation`): on the 8×8 digits that ship with
scikit-learn (anywhere), or on CIFAR-10 from its python batches (`--set data=cifar10 --set data_dir=PATH`), with
a fully connected net (`mlp`) or He et al.'s CIFAR architecture (`cnn`: 6n + 2 layers, 16/32/64 filters, batch
norm, identity shortcuts), with and without batch normalisation (`norms`; without it, residual branches start as
Fixup prescribes by default, `branch_init`, since Kaiming-initialised ones diverge: `numerics.degradation.nets`).

A fair comparison (what a reviewer asks for):

* every *arm* (model, plain/residual, depth, normalisation, shortcut) runs the same seeds at every rate of its
  learning-rate grid, widened per arm until the best rate is interior (`numerics.degradation.rates`; a best rate
  left at an edge is flagged grid-limited); the arm is reported at its best rate;
* every run trains until its training loss has plateaued, with one division of the rate by 10 at the first
  plateau (`numerics.degradation.plateau`), or to the epoch budget, which is then reported;
* errors are given as mean over seeds with a 95% Student-t interval and n (`numerics.degradation.summary`).

Runs: a *job* is one arm at some rates for all seeds, trained as one batch (`train_job`, a pure function of the
job and the configuration: any executor can run it); round 0 runs every arm's initial grid, each later round
the rates the widening asks for, until no arm asks for more.  `deep_depth` (e.g. 1202, He et al.'s deepest)
adds plain and residual arms with batch norm at that depth on the fixed grid `deep_lrs` (no widening: they
show whether such a net trains at all).  Seeds vary initialisation and minibatch order; the digits' split is
fixed.  Typed findings for the audit and the published-vs-measured table: `numerics.degradation.findings`.
"""

from __future__ import annotations

import functools
import os
import signal
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

import torch

from numerics.degradation import data as datasets
from numerics.degradation import findings
from numerics.degradation.findings import PatternCheck
from numerics.degradation.fit import FitRun, Schedule, fit
from numerics.degradation.nets import (
    ARCHITECTURES,
    BRANCH_INITS,
    MODELS,
    NORMS,
    SHORTCUTS,
    NetSpec,
    depth_problem,
)
from numerics.degradation.plateau import PlateauRule
from numerics.degradation.rates import GridDecision, RatePolicy, decide, score
from numerics.degradation.summary import loss_median, median_or_none, seed_interval
from numerics.experiments.blocks import MAX_DEPTH, MAX_RATE, MAX_SAMPLES, MAX_WIDTH, Replicates
from numerics.experiments.contract import Cost, ExperimentResult, Progress
from numerics.experiments.params import ConfigBase, Interval, at_least, nested, param, positive

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "degradation"
DESCRIPTION = ("plain vs residual nets (MLP or He et al.'s CIFAR ResNet) of increasing depth, with and without "
               "batch norm, at each one's best rate, trained to a plateau: train/test error, curves, layer "
               "responses, shortcut variants (C1–C3, C13)")
MAX_EPOCHS = 10_000
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_WIDTH = {"mlp": 64, "cnn": 16}  # cnn: He et al. §4.2


@dataclass(frozen=True)
class Config(ConfigBase):
    model: str = param("mlp", "mlp: fully connected D → w → … → 10; cnn: He et al.'s CIFAR ResNet (6n + 2 layers)",
                       choices=MODELS)
    data: str = param("digits", "digits: sklearn's 8×8 digits; cifar10: the CIFAR-10 python batches in data_dir",
                      choices=datasets.DATASETS)
    data_dir: str = param("", "folder of the CIFAR-10 python batches (data=cifar10; nothing is downloaded)",
                            path=True)
    train_samples: int = param(0, "training images used (0: all)", interval=at_least(0, MAX_SAMPLES))
    architectures: tuple[str, ...] = param(ARCHITECTURES, "plain: relu(BN(Wh)); residual: "
                                           "relu(h + BN(W₂ relu(BN(W₁h))))", choices=ARCHITECTURES)
    depths: tuple[int, ...] = param((8, 14, 20, 32, 44, 56, 110), "weight layers (cnn: 6n + 2; mlp: even, ≥ 4)",
                                    interval=at_least(4, MAX_DEPTH))
    width: int = param(0, "hidden width (mlp) or first-stage filters (cnn); 0: 64 for mlp, 16 for cnn",
                       interval=at_least(0, MAX_WIDTH))
    norms: tuple[str, ...] = param(NORMS, "batch: BN after every layer (He et al.); none: no normalisation",
                                   choices=NORMS)
    branch_init: str = param("fixup", "residual branches without normalisation: fixup (last layer 0, the other "
                             "scaled by P^-1/2; Zhang et al. 2019) or kaiming (as with BN: diverges past a few "
                             "blocks)", choices=BRANCH_INITS)
    shortcuts: tuple[str, ...] = param(("identity",), "shortcuts of residual nets at shortcut_depth (He et al. 2016b "
                                       "Table 1): identity, scale (×0.5), gate, dropout", choices=SHORTCUTS)
    shortcut_depth: int = param(56, "depth of the shortcut variants", interval=at_least(4, MAX_DEPTH))
    deep_depth: int = param(0, "a very deep plain and residual net with BN on deep_lrs (0: none; e.g. 1202)",
                            interval=at_least(0, MAX_DEPTH))
    deep_lrs: tuple[float, ...] = param((0.01, 0.1), "learning rates of the very deep nets (not widened)",
                                        interval=positive(MAX_RATE))
    lrs: tuple[float, ...] = param((0.01, 0.0316, 0.1), "initial learning-rate grid of every arm (widened until "
                                   "its best rate is interior)", interval=positive(MAX_RATE))
    widen: int = param(3, "rates added per side of the grid at most (factor √10 each)", interval=at_least(0, 20))
    epochs: int = param(100, "epoch budget per run (a run stops when its loss has plateaued)",
                        interval=at_least(1, MAX_EPOCHS))
    plateau_window: int = param(10, "K: the loss has plateaued when its best value improved by less than "
                                "plateau_tolerance over the last K epochs", interval=at_least(1, MAX_EPOCHS))
    plateau_tolerance: float = param(0.01, "δ: relative improvement of the best loss over K epochs",
                                     interval=Interval(0.0, 1.0, high_open=True))
    lr_drops: int = param(1, "divisions of the rate by 10 at a plateau before a run ends", interval=at_least(0, 10))
    momentum: float = param(0.9, "SGD momentum (He et al. 2016, §4.2)", interval=Interval(0.0, 1.0, high_open=True))
    weight_decay: float = param(1e-4, "L2 weight decay (He et al. 2016, §4.2)", interval=at_least(0, 1.0))
    batch_size: int = param(128, "minibatch size (full batches only)", interval=at_least(1, MAX_SAMPLES))
    device: str = param("auto", "auto: cuda when torch sees a CUDA device, else cpu", choices=DEVICES)
    replicates: Replicates = nested(Replicates(seeds=3))

    def check(self) -> None:
        for d in (*self.depths, *((self.shortcut_depth,) if self.variant_shortcuts else ()),
                  *((self.deep_depth,) if self.deep_depth else ())):
            problem = depth_problem(self.model, d)
            if problem:
                raise ValueError(problem.replace("mlp depth must be even", "depths must be even"))
        if "batch" in self.norms and self.batch_size < 2:
            raise ValueError(f"batch_size must be ≥ 2 with norm=batch (batch statistics need two samples), "
                             f"got {self.batch_size}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device=cuda, but torch sees no CUDA device (use device=auto or cpu)")
        if self.data == "digits" and self.data_dir:
            raise ValueError("data_dir is for data=cifar10 (the digits ship with scikit-learn)")
        train = self.dataset().y_train.numel()  # loads and validates the files (DataError: one line)
        if self.batch_size > train:
            raise ValueError(f"batch_size must be in [1, {train}] (the training images), got {self.batch_size}")

    @property
    def variant_shortcuts(self) -> tuple[str, ...]:
        return tuple(s for s in self.shortcuts if s != "identity") if "residual" in self.architectures else ()

    @property
    def net_width(self) -> int:
        return self.width or DEFAULT_WIDTH[self.model]

    def dataset(self) -> datasets.Dataset:
        return _dataset(self.data, self.data_dir, self.train_samples)

    def schedule(self) -> Schedule:
        return Schedule(batch_size=self.batch_size, momentum=self.momentum, weight_decay=self.weight_decay,
                        max_epochs=self.epochs, lr_drops=self.lr_drops,
                        plateau=PlateauRule(window=self.plateau_window, tolerance=self.plateau_tolerance))

    def policy(self) -> RatePolicy:
        return RatePolicy(max_widenings=self.widen, max_rate=MAX_RATE)


@functools.lru_cache(maxsize=4)
def _dataset(name: str, data_dir: str, train_samples: int) -> datasets.Dataset:
    return datasets.load(name, data_dir, train_samples)


def resolve_device(device: str) -> str:
    """auto → cuda when torch sees a CUDA device, else cpu."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Arm(NamedTuple):
    """One architecture of the study (what a row of its tables and a line of its figures is)."""

    model: str
    architecture: str
    depth: int
    norm: str
    shortcut: str


@dataclass(frozen=True, kw_only=True)
class DegradationRun:
    """One trained network: its arm, data, widening round, and what it measured."""

    model: str
    architecture: str
    depth: int
    norm: str
    shortcut: str
    width: int
    data: str
    round: int  # 0: the initial grid; k: the k-th widening (or the deep nets' fixed grid, round 0)
    deep: bool  # a very deep net on the fixed grid deep_lrs (not widened)
    fit: FitRun  # seed, lr, status, errors, curves, gradient norms, layer responses

    @property
    def arm(self) -> Arm:
        return Arm(self.model, self.architecture, self.depth, self.norm, self.shortcut)


@dataclass(frozen=True)
class DegradationSummary:
    """One arm at one learning rate: errors over seeds (mean, 95% t-interval, range), and its grid."""

    model: str
    architecture: str
    depth: int
    norm: str
    shortcut: str
    lr: float
    best_lr: bool  # the arm's best rate (smallest mean training error, then median loss)
    grid_edge: str | None  # on the best row: "low"/"high" if the best rate is at that edge of the final grid
    grid_limited: bool  # on the best row: still at an edge after widening (never establishes a verdict)
    rates_tried: int  # rates in the arm's final grid
    deep: bool
    n: int
    n_diverged: int
    n_plateaued: int  # runs whose loss plateaued (the rest hit the epoch budget or diverged)
    epochs_median: float
    train_error_mean: float
    train_error_low: float
    train_error_high: float
    train_error_min: float
    train_error_max: float
    test_error_mean: float
    test_error_low: float
    test_error_high: float
    test_error_min: float
    test_error_max: float
    train_loss_median: float | None  # diverged runs count as +∞ (`summary.loss_median`); None: +∞
    grad_ratio_median: float | None  # ‖∂L/∂W‖ first / last trunk layer at initialisation, median over seeds
    response_median: float | None  # median over layers of the seed-mean layer-response std


Result = ExperimentResult[Config, DegradationRun, DegradationSummary]


class Job(NamedTuple):
    spec: NetSpec
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    round: int
    deep: bool


def arms(config: Config) -> list[tuple[NetSpec, bool]]:
    """Every (architecture, deep?) of the study, in record order: norms, then depths, then architectures, then
    the shortcut variants, then the very deep nets."""
    shape = config.dataset().image_shape
    w = config.net_width

    def spec(arch: str, depth: int, norm: str, shortcut: str = "identity") -> NetSpec:
        init = config.branch_init if arch == "residual" and norm == "none" else "kaiming"
        return NetSpec(config.model, arch, depth, w, norm, shortcut, shape, branch_init=init)

    out = [(spec(a, d, n), False) for n in config.norms for d in config.depths for a in config.architectures]
    for n in config.norms:
        if config.variant_shortcuts and config.shortcut_depth not in config.depths:
            out.append((spec("residual", config.shortcut_depth, n), False))
        out += [(spec("residual", config.shortcut_depth, n, s), False) for s in config.variant_shortcuts]
    if config.deep_depth:
        out += [(spec(a, config.deep_depth, "batch"), True) for a in config.architectures]
    return out


def initial_jobs(config: Config) -> list[Job]:
    seeds = tuple(range(config.replicates.seeds))
    return [Job(s, config.deep_lrs if deep else config.lrs, seeds, 0, deep) for s, deep in arms(config)]


def train_job(job: Job, config: Config) -> tuple[FitRun, ...]:
    """Train one job (a pure function of its arguments: any worker, any executor gives the same runs)."""
    return tuple(fit(job.spec, config.dataset(), job.lrs, job.seeds, config.schedule(), config.replicates.seed,
                     resolve_device(config.device)))


def cost(config: Config) -> Cost:
    """Per worker: parameters and momentum, and the activations of the largest batch (float32); runs as units."""
    jobs = initial_jobs(config)
    c, h, w = config.dataset().image_shape
    width = config.net_width

    def per_job(job: Job) -> int:
        runs = len(job.lrs) * len(job.seeds)
        if config.model == "mlp":
            params, act = c * h * w * width + job.spec.depth * width * width, job.spec.depth * width
        else:
            params = 9 * job.spec.depth * (4 * width) ** 2
            act = job.spec.depth * width * h * w
        return 4 * runs * (4 * params + 8 * config.batch_size * act) + 8 * 4 * runs * 512 * max(act, c * h * w)

    peak = max(per_job(j) for j in jobs)
    units = sum(len(j.lrs) * len(j.seeds) for j in jobs)
    return Cost(workers(config) * peak + 200_000_000, units=units, unit="run")


def workers(config: Config) -> int:
    """Processes for a local pool: one per core (one on a CUDA device), no more than the first round's jobs."""
    if resolve_device(config.device) == "cuda":
        return 1
    return max(1, min(len(initial_jobs(config)), os.cpu_count() or 1))


def init_worker() -> None:
    """Set up a pool process: Ctrl-C is the parent's to handle; one thread (one process per core instead)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)


Mapper = Callable[[Callable[[Job], tuple[FitRun, ...]], list[Job]], Iterable[tuple[FitRun, ...]]]


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> Result:
    """Every round in this process (`hfx` runs the jobs over a pool: `run_with`).  `generator` is not used:
    every stream is derived from the base seed (`numerics.degradation.fit.seed_generator`)."""
    return run_with(config, lambda fn, todo: map(fn, todo), progress)


def run_with(config: Config, mapper: Mapper, progress: Progress | None = None) -> Result:
    """Round 0, then the widening rounds (module docstring), each round's jobs mapped by `mapper` in order."""
    t_start = time.perf_counter()
    policy = config.policy()
    todo = initial_jobs(config)
    specs = {arm_of(j.spec): j.spec for j in todo if not j.deep}
    budget = sum(len(j.lrs) * len(j.seeds) for j in todo)
    done = 0
    records: list[DegradationRun] = []
    while todo:
        for job, runs in zip(todo, mapper(functools.partial(train_job, config=config), todo), strict=True):
            s = job.spec
            records += [DegradationRun(model=s.model, architecture=s.architecture, depth=s.depth, norm=s.norm,
                                       shortcut=s.shortcut, width=s.width, data=config.data, round=job.round,
                                       deep=job.deep, fit=r) for r in runs]
            if progress is not None and done < budget:
                step = min(len(runs), budget - done)
                done += step
                progress(step)
        next_round = todo[0].round + 1
        todo = [Job(specs[arm], d.next_rates, tuple(range(config.replicates.seeds)), next_round, False)
                for arm, d in grid_decisions(records, config.lrs, policy).items() if d.next_rates]
    if progress is not None and done < budget:
        progress(budget - done)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=summarize(records, config),
                            seconds=time.perf_counter() - t_start)


def arm_of(spec: NetSpec) -> Arm:
    return Arm(spec.model, spec.architecture, spec.depth, spec.norm, spec.shortcut)


def _by_rate(records: Sequence[DegradationRun], deep: bool) -> dict[Arm, dict[float, list[FitRun]]]:
    out: dict[Arm, dict[float, list[FitRun]]] = {}
    for r in records:
        if r.deep == deep:
            out.setdefault(r.arm, {}).setdefault(r.fit.lr, []).append(r.fit)
    return out


def _decide(rates: dict[float, list[FitRun]], initial: Sequence[float], policy: RatePolicy) -> GridDecision:
    return decide([score(lr, [f.train_error for f in fs], [f.train_loss for f in fs]) for lr, fs in rates.items()],
                  initial, policy)


def grid_decisions(records: Sequence[DegradationRun], initial: Sequence[float], policy: RatePolicy,
                   ) -> dict[Arm, GridDecision]:
    """The widening rule's decision for every arm that is not a deep net (`numerics.degradation.rates`)."""
    return {arm: _decide(rates, initial, policy) for arm, rates in _by_rate(records, False).items()}


def summarize(records: Sequence[DegradationRun], config: Config) -> tuple[DegradationSummary, ...]:
    """One row per (arm, rate), arms in first-seen order, rates ascending, the best rate of each arm flagged with
    its grid.  The deep nets' fixed grid is judged by the same rule without widening (an edge is grid-limited)."""
    out = []
    for deep in (False, True):
        initial = config.deep_lrs if deep else config.lrs
        policy = replace(config.policy(), max_widenings=0) if deep else config.policy()
        for arm, rates in _by_rate(records, deep).items():
            d = _decide(rates, initial, policy)
            for lr in sorted(rates):
                out.append(_row(arm, lr, rates[lr], d, deep))
    return tuple(out)


def _row(arm: Arm, lr: float, fs: list[FitRun], d: GridDecision, deep: bool) -> DegradationSummary:
    best = d.best == lr
    train = [1.0 if f.train_error is None else f.train_error for f in fs]
    test = [1.0 if f.test_error is None else f.test_error for f in fs]
    ti, si = seed_interval(train), seed_interval(test)
    ratios = [f.grad_norm_first / f.grad_norm_last for f in fs if f.grad_norm_first is not None and f.grad_norm_last]
    responses = [f.responses for f in fs if f.responses]
    layer_means = [sum(col) / len(col) for col in zip(*responses, strict=True)] if responses else []
    return DegradationSummary(
        model=arm.model, architecture=arm.architecture, depth=arm.depth, norm=arm.norm, shortcut=arm.shortcut,
        lr=lr, best_lr=best, grid_edge=d.edge if best else None, grid_limited=best and d.grid_limited,
        rates_tried=len(d.rates), deep=deep, n=len(fs), n_diverged=sum(f.status == "diverged" for f in fs),
        n_plateaued=sum(f.status == "plateaued" for f in fs),
        epochs_median=float(statistics.median(f.epochs for f in fs)),
        train_error_mean=ti.mean, train_error_low=ti.low, train_error_high=ti.high, train_error_min=ti.min,
        train_error_max=ti.max, test_error_mean=si.mean, test_error_low=si.low, test_error_high=si.high,
        test_error_min=si.min, test_error_max=si.max, train_loss_median=loss_median([f.train_loss for f in fs]),
        grad_ratio_median=median_or_none(ratios), response_median=median_or_none(layer_means))


def figures(result: Result) -> dict[str, Figure]:
    from numerics.degradation.figures import degradation_figures

    return degradation_figures(result)


def figure_data(result: Result) -> dict[str, list[dict[str, object]]]:
    """The rows each figure draws (written as CSV beside it)."""
    from numerics.degradation.figures import figure_rows

    return figure_rows(result)


def published_comparison(result: Result) -> tuple[PatternCheck, ...]:
    """He et al.'s patterns against this result: the accessor for the published-vs-measured table
    (`numerics.degradation.findings.published_comparison`)."""
    return findings.published_comparison(result)
