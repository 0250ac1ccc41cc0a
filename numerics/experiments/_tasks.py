"""Data, targets and the seeds × initialisations × learning-rates batch shared by the nonlinear experiments."""

from __future__ import annotations

import math

import torch

from numerics.models import BlockSpec, apply_target, init_params, linear_target
from numerics.train import OptimizerSpec, TrainResult, train

DENSE_TARGETS = ("identity", "near-identity", "linear-pd", "linear-indefinite")
CONV_TARGETS = ("identity", "near-identity")


def make_task(
    spec: BlockSpec, target: str, seeds: int, samples: int, delta: float, g: torch.Generator, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs x ~ N(0, I) and targets y per seed: (S, N, d) or (S, N, c, s, s) for conv.

    near-identity: y = x + δ tanh(Bx), B with N(0, 1/d) entries (for images, B mixes channels at every
    pixel).  linear-pd / linear-indefinite: y = Φx with eigenvalues evenly in [0.5, 1.5] (the smallest
    negated for indefinite; Bartlett, Helmbold, Long, ICML 2018).
    """
    d = spec.width
    if spec.block == "conv":
        if target not in CONV_TARGETS:
            raise ValueError(f"conv blocks support targets {CONV_TARGETS}, got {target!r}")
        x = torch.randn((seeds, samples, d, spec.image_size, spec.image_size), generator=g, dtype=dtype)
        if target == "identity":
            return x, x.clone()
        B = torch.randn((seeds, 1, 1, d, d), generator=g, dtype=dtype) / math.sqrt(d)
        xc = x.permute(0, 1, 3, 4, 2)  # (S, N, s, s, c): channels last for the per-pixel mixing
        yc = apply_target("near-identity", xc, delta, B=B)
        return x, yc.permute(0, 1, 4, 2, 3).contiguous()
    x = torch.randn((seeds, samples, d), generator=g, dtype=dtype)
    if target == "near-identity":
        B = torch.randn((seeds, d, d), generator=g, dtype=dtype) / math.sqrt(d)
        return x, apply_target(target, x, delta, B=B)
    if target in ("linear-pd", "linear-indefinite"):
        Phi = torch.stack([linear_target(target, d, g, dtype, 0.5, 1.5) for _ in range(seeds)])  # (S, d, d)
        return x, apply_target(target, x, Phi=Phi)
    return x, apply_target(target, x)


def run_grid(
    spec: BlockSpec,
    inits: tuple[str, ...],
    init_scale: float,
    opt: OptimizerSpec,
    lrs: tuple[float, ...],
    weight_decay: float,
    x: torch.Tensor,
    y: torch.Tensor,
    max_steps: int,
    eps: float,
    g: torch.Generator,
    record_every: int = 1,
) -> tuple[TrainResult, list[int], list[str], list[float]]:
    """Seeds × initialisations × learning rates of one architecture as one batch.

    Run r has seed r // (I·E), initialisation inits[(r // E) % I] and rate lrs[r % E]; every rate starts
    from the same parameters for a given seed and initialisation.  Returns the result and, per run,
    its seed, initialisation and learning rate.
    """
    S, n_init, E = x.shape[0], len(inits), len(lrs)
    R = S * n_init * E
    r = torch.arange(R)
    seed_of, init_of = r // (n_init * E), (r // E) % n_init
    per_init = [init_params(spec, S, init, init_scale, g, x.dtype) for init in inits]  # per init: {name: (S, …)}
    p0 = {k: torch.stack([p[k] for p in per_init], dim=1)[seed_of, init_of] for k in per_init[0]}  # (R, …)
    lr = torch.tensor(lrs, dtype=x.dtype).repeat(S * n_init)  # (R,)
    lam = torch.full((R,), weight_decay, dtype=x.dtype)
    res = train(spec, p0, x[seed_of], y[seed_of], opt, lr, lam, max_steps, eps, g, record_every=record_every)
    return res, [int(v) for v in seed_of], [inits[int(i)] for i in init_of], [float(v) for v in lr]
