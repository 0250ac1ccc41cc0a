"""nonlinear-block: one two-layer (or convolutional) block learning the identity or a near-identity map.

H = W₂σ(W₁x) (plain) or x + W₂σ(W₁x) (residual; He et al., CVPR 2016, Eq. (1)), plus ReZero,
SkipInit and Fixup (see numerics/models.py for the citations), σ ∈ {ReLU, tanh, GELU}; or the
convolutional analogue K₂⋆σ(K₁⋆x) on c×s×s images.  Loss: ½·mean‖H(x) − y‖² (+ (λ/2)‖θ‖² under L2).
Converged: the data loss < ε.  Each architecture is run over a learning-rate grid; its best rate
(smallest Kaplan–Meier median steps) is flagged in the summaries (`best_lr`).

Prediction (exact, no fitting): when the target is the identity and the branch output is identically
0 at initialisation (ReZero/SkipInit α₀ = 0, Fixup's zero last layer, or a zero-initialised residual
branch) then H(x) = x, the loss is 0 < ε at step 0, and predicted_steps = 0.  No closed form is known
for the other configurations; they carry no prediction.
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
from numerics.train import CONVERGED, DECAY_MODES, OPTIMIZERS, OptimizerSpec

NAME = "nonlinear-block"
DESCRIPTION = "one two-layer or conv block (plain, residual, ReZero, SkipInit, Fixup) learning the identity"
INITS = ("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity")


@dataclass(frozen=True)
class Config:
    block: str = param("mlp", "mlp: W₂σ(W₁x); conv: K₂⋆σ(K₁⋆x) on images", choices=("mlp", "conv"))
    activations: tuple[str, ...] = param(ACTIVATIONS, "σ of the branch", choices=ACTIVATIONS)
    variants: tuple[str, ...] = param(VARIANTS, "block variants", choices=VARIANTS)
    target: str = param("identity", "the map to learn (conv: identity or near-identity)", choices=DENSE_TARGETS)
    delta: float = param(0.5, "δ of the near-identity target x + δ tanh(Bx)")
    width: int = param(4, "d: features (mlp) or channels (conv)")
    hidden: int = param(8, "m: hidden width (mlp) or hidden channels (conv)")
    image_size: int = param(4, "s: images are c×s×s (conv)")
    inits: tuple[str, ...] = param(("xavier",), "initialisations, batched together (variants override as their "
                                   "papers say)", choices=INITS)
    init_scale: float = param(1.0, "multiplier of the initialisation")
    optimizer: str = param("adam", "optimiser", choices=OPTIMIZERS)
    batch_size: int = param(16, "minibatch size (sgd only)")
    weight_decay: float = param(0.0, "λ")
    decay_mode: str = param("l2", "l2: (λ/2)‖θ‖² in the loss; decoupled: θ ← θ − ηλθ", choices=DECAY_MODES)
    lrs: tuple[float, ...] = param((0.003, 0.01, 0.03), "learning-rate grid per architecture")
    eps: float = param(1e-3, "ε: converged when the data loss < ε")
    max_steps: int = param(1000, "budget of steps per run")
    samples: int = param(64, "N: training samples")
    dtype: str = param("float64", "floating-point type of the runs", choices=("float32", "float64"))
    seeds: int = param(4, "independent seeds (data, target and initialisation)")
    seed: int = param(0, "base seed of the torch.Generator")

    def __post_init__(self) -> None:
        check_choices(self)
        check_positive(self, ("width", "hidden", "image_size", "init_scale", "lrs", "eps", "samples", "seeds",
                              "batch_size"))
        check_positive(self, ("delta", "weight_decay", "max_steps"), strict=False)
        if self.block == "conv" and self.target not in ("identity", "near-identity"):
            raise ValueError(f"conv blocks support targets identity and near-identity, got {self.target!r}")


def branch_zero_at_init(variant: str, init: str) -> bool:
    """Whether F ≡ 0 at initialisation, so H(x) = x exactly (ReZero/SkipInit α₀ = 0, Fixup, zero branch)."""
    return variant in ("rezero", "skipinit", "fixup") or (variant == "residual" and init == "zero")


def work_units(config: Config) -> int:
    """Batches `run` performs (one progress unit each)."""
    return len(config.activations) * len(config.variants)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> ExperimentResult:
    t_start = time.perf_counter()
    dtype = getattr(torch, config.dtype)
    opt = OptimizerSpec(config.optimizer, batch_size=config.batch_size, decay_mode=config.decay_mode)
    records: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    base_spec = BlockSpec(block=config.block, width=config.width, hidden=config.hidden,
                          image_size=config.image_size)
    x, y = make_task(base_spec, config.target, config.seeds, config.samples, config.delta, generator, dtype)
    for act in config.activations:
        for variant in config.variants:
            spec = BlockSpec(block=config.block, variant=variant, depth=1, width=config.width,
                             hidden=config.hidden, activation=act, image_size=config.image_size)
            res, seed_of, init_of, lr = run_grid(spec, config.inits, config.init_scale, opt, config.lrs,
                                                 config.weight_decay, x, y, config.max_steps, config.eps, generator)
            records += run_records(
                res,
                {
                    "experiment": NAME, "block": config.block, "activation": act, "variant": variant, "depth": 1,
                    "width": config.width, "hidden": config.hidden, "target": config.target,
                    "optimizer": config.optimizer, "weight_decay": config.weight_decay,
                    "decay_mode": config.decay_mode, "criterion": "loss", "eps": config.eps,
                    "max_steps": config.max_steps,
                },
                {
                    "seed": seed_of, "init": init_of, "lr": lr,
                    "predicted_steps": [0 if config.target == "identity" and branch_zero_at_init(variant, i) else None
                                        for i in init_of],
                },
            )
            curves[f"{act} {variant}"] = {"steps": res.recorded_steps, "loss": res.loss_curve, "lr": lr}
            if progress is not None:
                progress(1)
    for i, rec in enumerate(records):
        rec["run"] = i
    summaries = group_summaries(records, ("activation", "variant", "init", "lr"), np.random.default_rng(config.seed))
    mark_best_lr(summaries, ("activation", "variant", "init"))
    return ExperimentResult(
        name=NAME, config=config_to_json(config), records=records, summaries=summaries, checks=_checks(records),
        curves=curves, seconds=time.perf_counter() - t_start,
        work_units=work_units(config),
    )


def _checks(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pred = [r for r in records if r["predicted_steps"] is not None]
    if not pred:
        return []
    bad = [r for r in pred if r["status"] != CONVERGED or r["steps_to_converge"] != r["predicted_steps"]]
    return [
        {
            "name": "zero-branch-starts-at-identity",
            "description": "a branch that is 0 at initialisation fits the identity target at step 0",
            "passed": not bad,
            "runs_with_prediction": len(pred),
            "mismatches": len(bad),
        }
    ]


def figures(result: ExperimentResult) -> dict[str, Any]:
    from numerics.plots import best_lr_bars, loss_curves

    return {
        "nonlinear-block-loss": loss_curves(result.curves, "one block: loss curves", label_key="lr"),
        "nonlinear-block-steps": best_lr_bars(result.summaries, ("activation", "variant", "init"),
                                              "steps to converge at each architecture's best η"),
    }
