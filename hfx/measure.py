"""The runner of the experiments: pools, progress and seeds, around pure experiment code.

`run_experiment` runs one configuration as `hfx run` does: seeded from its base seed, on the caller's torch
threads, the degradation study's jobs over a pool of processes (`hfx.pool.worker_pool`: workers ignore Ctrl-C
and die with this process; one process in this one on a CUDA device).  `run_audited(tier)` runs what `hfx
verify` audits, on one torch thread each, reporting progress with the time left on stderr: the convergence
experiments on their defaults (so `hfx run NAME` gives the same numbers), and the degradation study and the
trainable-depth stacks at the size of the tier (`TIERS`): `quick` and `default` are reduced grids that fit the
time budget of `hfx verify` (a minute, three minutes on two cores, everything included); `full` is the study a
reviewer asks for (every depth from 8 to 110 at width 64, shortcut variants, a 1,202-layer net, He et al.'s
CIFAR ResNet on the digits, stacks of 10,000 layers).  Each result's configuration is recorded with it, and
REPORT.md says which tier measured it.  Pure rules turn the results into evidence (`hfx.evidence`).

The batched experiments run chunk by chunk (`hfx.execute`): in this process, or on the Dask cluster of `hfx
verify --workers N` / `--scheduler ADDRESS` (a `Backend`).  The degradation study runs round by round (its rounds
depend on their results), each round's jobs on that cluster too, or over the local pool (`hfx.degradation_jobs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import torch

from hfx.evidence import AUDITED, Measurements
from hfx.execute import Backend, Job, execute, execute_all, is_chunked
from hfx.progress import report, say
from numerics.experiments import (
    AnyResult,
    Experiment,
    Progress,
    Study,
    branch_norms,
    branch_rate,
    deep_linear,
    deep_stack,
    degradation,
    hardt_ma,
    identity_init,
    linear_block,
    nonlinear_block,
    trainable_depth,
    weight_decay,
)
from numerics.experiments.contract import replicates
from numerics.experiments.params import ConfigBase, Value, replace_flat

TIERS = ("quick", "default", "full")
# the degradation study per tier (overrides of `hfx run degradation`'s defaults); full also runs CNN_FULL
DEGRADATION: dict[str, dict[str, Value]] = {
    "quick": {"depths": (20, 56), "width": 16, "lrs": (0.0316, 0.1), "widen": 0, "epochs": 12,
              "plateau_window": 4, "plateau_tolerance": 0.02, "lr_drops": 0},
    "default": {"depths": (20, 56), "width": 16, "widen": 1, "epochs": 30, "plateau_window": 5,
                "plateau_tolerance": 0.02},  # (width 64, 60 epochs, widen 2 decides C1-C3 but takes 150-170 s)
    "full": {"shortcuts": ("identity", "scale", "gate", "dropout"), "deep_depth": 1202,
             "deep_lrs": (0.001, 0.00316, 0.01)},  # a width-16 probe: residual-1202 trains at 0.01, diverges at 0.1
}
CNN_FULL: dict[str, Value] = {"model": "cnn", "depths": (8, 20, 56), "epochs": 60}
TRAINABLE_DEPTH: dict[str, dict[str, Value]] = {
    "quick": {"depths": (1, 10, 100), "rate_constants": (0.1, 0.3, 1.0)},
    "default": {"depths": (1, 3, 10, 30, 100)},
    "full": {},
}


def run_degradation(config: degradation.Config, progress: Progress | None = None,
                    backend: Backend | None = None) -> degradation.Result:
    """The degradation study: its jobs on `backend`'s Dask cluster if it has a client, else over a pool of
    processes, one per core (in this process on CUDA): `hfx.degradation_jobs`."""
    from hfx.degradation_jobs import run_study

    return run_study(config, progress, backend.client if backend is not None else None)


def run_experiment(module: Experiment, config: ConfigBase, progress: Progress | None = None,
                   backend: Backend | None = None) -> AnyResult:
    """One configuration of an experiment, as `hfx run` computes it: a batched experiment chunk by chunk
    (`hfx.execute`, on `backend`), a whole study seeded from its base seed."""
    if is_chunked(module):
        return execute(Job(module, config), backend or Backend(), progress)
    if isinstance(config, degradation.Config):
        return run_degradation(config, progress)
    return cast("Study", module).run(config, _generator(config), progress)


def tier_configs(tier: str) -> tuple[degradation.Config, degradation.Config | None, trainable_depth.Config]:
    """The degradation study (MLP), its CNN counterpart (full only) and the trainable-depth stacks of a tier."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    mlp = replace_flat(degradation.Config(), DEGRADATION[tier])
    cnn = replace_flat(degradation.Config(), CNN_FULL) if tier == "full" else None
    return mlp, cnn, replace_flat(trainable_depth.Config(), TRAINABLE_DEPTH[tier])


def run_audited(tier: str = "default", progress: bool = True, backend: Backend | None = None) -> Measurements:
    """Every audited experiment: the convergence experiments on their defaults, the degradation study and the
    trainable-depth stacks at the size of `tier` (module docstring)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mlp, cnn, stacks = tier_configs(tier)
        say(f"hfx verify: measuring degradation ({tier} settings: MLPs on the scikit-learn digits"
            + (", and He et al.'s CIFAR ResNet" if cnn else "") + ")")
        deg = run_degradation(mlp, _bar(degradation.cost(mlp).units, "degradation runs", progress), backend)
        deg_cnn = run_degradation(cnn, _bar(degradation.cost(cnn).units, "CNN degradation runs", progress),
                                  backend) \
            if cnn is not None else None
        names = AUDITED[1:]
        say(f"hfx verify: running the experiments {', '.join(names)} (defaults of `hfx run`; trainable-depth "
            f"at {tier} settings)")
        convergence = [linear_block, weight_decay, deep_linear, nonlinear_block, deep_stack]
        jobs = [Job(m, m.Config()) for m in convergence]
        units = sum(m.cost(m.Config()).units for m in convergence)
        started, steps, total, shown = time.monotonic(), [0], [units], [0.0]

        def stepped(n: int) -> None:  # called after every optimisation step: redrawn at most twice a second
            steps[0] += n
            if steps[0] >= total[0]:  # units is an estimate that a widened rate grid exceeds: raise it by a tenth
                total[0] = steps[0] + max(1, steps[0] // 10)
            now = time.monotonic()
            if progress and now - shown[0] >= 0.5:
                shown[0] = now
                report(steps[0], total[0], "experiment steps", started)

        lb, wd, dl, nb, ds = execute_all(jobs, backend or Backend(), stepped)
        if progress:  # the finished line gives the steps actually taken
            report(steps[0], steps[0], "experiment steps", started)
        td = execute(Job(trainable_depth, stacks), backend or Backend(), None)
        # what GD does near the identity (C8, C9, C12), on their defaults: studies, run here in order
        bn = run_experiment(branch_norms, branch_norms.Config())
        br = run_experiment(branch_rate, branch_rate.Config())
        ii = run_experiment(identity_init, identity_init.Config())
        hm = run_experiment(hardt_ma, hardt_ma.Config())
    finally:
        torch.set_num_threads(before)
    return Measurements(degradation=deg, linear_block=cast(linear_block.Result, lb),
                        weight_decay=cast(weight_decay.Result, wd), deep_linear=cast(deep_linear.Result, dl),
                        nonlinear_block=cast(nonlinear_block.Result, nb), deep_stack=cast(deep_stack.Result, ds),
                        trainable_depth=cast(trainable_depth.Result, td), degradation_cnn=deg_cnn,
                        branch_norms=cast(branch_norms.Result, bn), branch_rate=cast(branch_rate.Result, br),
                        identity_init=cast(identity_init.Result, ii), hardt_ma=cast(hardt_ma.Result, hm))


def _bar(total: int, what: str, progress: bool) -> Callable[[int], None]:
    started, done = time.monotonic(), [0]

    def ran(n: int) -> None:
        done[0] += n
        if progress:
            report(done[0], total, what, started)

    return ran


def _generator(config: ConfigBase) -> torch.Generator:
    return torch.Generator().manual_seed(replicates(config).seed)
