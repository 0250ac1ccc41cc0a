"""deep-stack: time to converge vs depth for deep stacks of blocks, plain vs residual.

A stack of L blocks (linear, or two-layer W₂σ(W₁x)) with plain H = F, residual H = x + F
(He et al., CVPR 2016, Eq. (1)), ReZero/SkipInit (α₀ = 0) or Fixup initialisation (numerics/models.py),
learns a target (default: the near-identity map x + δ tanh(Bx), which a zero-branch residual stack does
*not* fit at initialisation).  Loss ½·mean‖H(x) − y‖²; converged when it is < ε.  Every (variant, depth)
runs over a learning-rate grid and the comparison uses each one's best rate (smallest Kaplan–Meier
median steps; `best_lr` in the summaries).  No closed form is known for these nonlinear stacks, so no
record carries a prediction (deep-linear holds the linear, closed-form case).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from numerics.experiments._common import (
    ExperimentResult,
    Progress,
    check_choices,
    check_positive,
    config_to_json,
    group_summaries,
    mark_best_lr,
    param,
    run_records,
)
from numerics.experiments._tasks import DENSE_TARGETS, make_task, run_grid
from numerics.models import ACTIVATIONS, VARIANTS, BlockSpec
from numerics.train import DECAY_MODES, OPTIMIZERS, OptimizerSpec

NAME = "deep-stack"
DESCRIPTION = "time to converge vs depth of stacked blocks (linear or two-layer), plain vs residual variants"
INITS = ("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity")


@dataclass(frozen=True)
class Config:
    block: str = param("mlp", "linear: F = Wx; mlp: F = W₂σ(W₁x)", choices=("linear", "mlp"))
    activation: str = param("tanh", "σ of mlp branches", choices=ACTIVATIONS)
    depths: tuple[int, ...] = param((1, 2, 4, 8, 16), "L: numbers of blocks")
    variants: tuple[str, ...] = param(("plain", "residual", "rezero"), "block variants", choices=VARIANTS)
    target: str = param("near-identity", "the map to learn", choices=DENSE_TARGETS)
    delta: float = param(0.5, "δ of the near-identity target x + δ tanh(Bx)")
    width: int = param(4, "d: features")
    hidden: int = param(8, "m: hidden width of mlp branches")
    inits: tuple[str, ...] = param(("xavier",), "initialisations, batched together (variants override as their "
                                   "papers say)", choices=INITS)
    init_scale: float = param(1.0, "multiplier of the initialisation")
    optimizer: str = param("adam", "optimiser", choices=OPTIMIZERS)
    batch_size: int = param(16, "minibatch size (sgd only)")
    weight_decay: float = param(0.0, "λ")
    decay_mode: str = param("l2", "l2: (λ/2)‖θ‖² in the loss; decoupled: θ ← θ − ηλθ", choices=DECAY_MODES)
    lrs: tuple[float, ...] = param((0.003, 0.01, 0.03), "learning-rate grid per (variant, depth)")
    eps: float = param(1e-3, "ε: converged when the data loss < ε")
    max_steps: int = param(400, "budget of steps per run")
    samples: int = param(32, "N: training samples")
    dtype: str = param("float64", "floating-point type of the runs", choices=("float32", "float64"))
    seeds: int = param(4, "independent seeds (data, target and initialisation)")
    seed: int = param(0, "base seed of the torch.Generator")

    def __post_init__(self) -> None:
        check_choices(self)
        check_positive(self, ("depths", "width", "hidden", "init_scale", "lrs", "eps", "samples", "seeds",
                              "batch_size"))
        check_positive(self, ("delta", "weight_decay", "max_steps"), strict=False)


def work_units(config: Config) -> int:
    """Batches `run` performs (one progress unit each)."""
    return len(config.variants) * len(config.depths)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> ExperimentResult:
    t_start = time.perf_counter()
    dtype = getattr(torch, config.dtype)
    opt = OptimizerSpec(config.optimizer, batch_size=config.batch_size, decay_mode=config.decay_mode)
    base = BlockSpec(block=config.block, width=config.width, hidden=config.hidden)
    x, y = make_task(base, config.target, config.seeds, config.samples, config.delta, generator, dtype)
    records: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    for variant in config.variants:
        for L in config.depths:
            spec = BlockSpec(block=config.block, variant=variant, depth=L, width=config.width, hidden=config.hidden,
                             activation=config.activation)
            res, seed_of, init_of, lr = run_grid(spec, config.inits, config.init_scale, opt, config.lrs,
                                                 config.weight_decay, x, y, config.max_steps, config.eps, generator)
            records += run_records(
                res,
                {
                    "experiment": NAME, "block": config.block, "activation": config.activation, "variant": variant,
                    "depth": L, "width": config.width, "hidden": config.hidden,
                    "target": config.target, "optimizer": config.optimizer, "weight_decay": config.weight_decay,
                    "decay_mode": config.decay_mode,
                    "criterion": "loss", "eps": config.eps, "max_steps": config.max_steps,
                    "predicted_steps": None,
                },
                {"seed": seed_of, "init": init_of, "lr": lr},
            )
            if L == max(config.depths) or L == min(config.depths):
                curves[f"{variant} L={L}"] = {"steps": res.recorded_steps, "loss": res.loss_curve, "lr": lr}
            if progress is not None:
                progress(1)
    for i, rec in enumerate(records):
        rec["run"] = i
    summaries = group_summaries(records, ("variant", "init", "depth", "lr"), np.random.default_rng(config.seed))
    mark_best_lr(summaries, ("variant", "init", "depth"))
    return ExperimentResult(
        name=NAME, config=config_to_json(config), records=records, summaries=summaries, checks=[], curves=curves,
        seconds=time.perf_counter() - t_start, work_units=work_units(config),
    )


def figures(result: ExperimentResult) -> dict[str, Any]:
    from numerics.plots import loss_curves, time_vs_depth

    c = result.config
    return {
        "deep-stack-time-vs-depth": time_vs_depth(
            result.summaries, f"{c['block']} blocks ({c['activation']}), {c['target']}, {c['optimizer']}, best η"
        ),
        "deep-stack-loss": loss_curves(result.curves, "deep stacks: loss curves (shallowest and deepest)",
                                       label_key="lr"),
    }
