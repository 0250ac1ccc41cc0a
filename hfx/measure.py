"""The runner of the experiments: pools, progress and seeds, around pure experiment code.

`run_experiment` runs one configuration as `hfx run` does: seeded from its base seed, on the caller's torch
threads, the degradation study over a pool of processes (`hfx.pool.worker_pool`: workers ignore Ctrl-C and die
with this process).  `run_audited` runs what `hfx verify` audits: each experiment on its defaults (so
`hfx run NAME` gives the same numbers), on one torch thread each (the batched problems are small; the
degradation study runs one process per core), reporting progress with the time left on stderr.  Pure rules
turn the results into evidence (`hfx.evidence`).
"""

from __future__ import annotations

import sys
import time

import torch

from hfx.evidence import AUDITED, Measurements
from hfx.pool import worker_pool
from hfx.progress import report
from numerics.experiments import (
    AnyResult,
    Experiment,
    Progress,
    deep_linear,
    deep_stack,
    degradation,
    linear_block,
    nonlinear_block,
    weight_decay,
)
from numerics.experiments.contract import replicates
from numerics.experiments.params import ConfigBase, Value, replace_flat

QUICK_DEGRADATION: dict[str, Value] = {"depths": (20, 56), "epochs": 20, "seeds": 1}  # `hfx verify --quick`


def run_degradation(config: degradation.Config, progress: Progress | None = None) -> degradation.Result:
    """The degradation study over a pool of processes, one per core."""
    with worker_pool(degradation.workers(config), initializer=degradation.init_worker) as pool:
        return degradation.run_with(config, lambda fn, todo: pool.map(fn, todo), progress)


def run_experiment(module: Experiment, config: ConfigBase, progress: Progress | None = None) -> AnyResult:
    """One configuration of an experiment, seeded from its base seed."""
    if isinstance(config, degradation.Config):
        return run_degradation(config, progress)
    return module.run(config, _generator(config), progress)


def run_audited(quick: bool = False, progress: bool = True) -> Measurements:
    """Every audited experiment on its default configuration (`--quick`: a smaller degradation grid)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = degradation.Config()
        if quick:
            config = replace_flat(config, QUICK_DEGRADATION)
        print("hfx verify: measuring degradation on the scikit-learn digits (plain vs residual MLPs)", file=sys.stderr)
        total, started, done = len(degradation.jobs(config)), time.monotonic(), [0]

        def ran(n: int) -> None:
            done[0] += n
            if progress:
                report(done[0], total, "degradation runs", started)

        deg = run_degradation(config, ran)
        names = AUDITED[1:]
        print(f"hfx verify: running the experiments {', '.join(names)} (defaults of `hfx run`)", file=sys.stderr)
        started = time.monotonic()
        lb = linear_block.run(linear_block.Config(), _generator(linear_block.Config()))
        _report(1, len(names), started, progress)
        wd = weight_decay.run(weight_decay.Config(), _generator(weight_decay.Config()))
        _report(2, len(names), started, progress)
        dl = deep_linear.run(deep_linear.Config(), _generator(deep_linear.Config()))
        _report(3, len(names), started, progress)
        nb = nonlinear_block.run(nonlinear_block.Config(), _generator(nonlinear_block.Config()))
        _report(4, len(names), started, progress)
        ds = deep_stack.run(deep_stack.Config(), _generator(deep_stack.Config()))
        _report(5, len(names), started, progress)
    finally:
        torch.set_num_threads(before)
    return Measurements(deg, lb, wd, dl, nb, ds)


def _generator(config: ConfigBase) -> torch.Generator:
    return torch.Generator().manual_seed(replicates(config).seed)


def _report(done: int, total: int, started: float, progress: bool) -> None:
    if progress:
        report(done, total, "experiments", started)
