"""The fused engine's independent reference: each run written plainly, differentiated by autograd.

Shared by tests/test_fused.py and tests/test_fused_isa.py.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from numerics.models import BlockSpec, init_params

# float64: a few layers of products of small matrices, summed in a different order than autograd's
FLOAT64_ROUNDING = 1e-12
# float32: the same in single precision; relative to the size of the numbers (≤ ~10 here)
FLOAT32_ROUNDING = 2e-5


def act(name: str, z: torch.Tensor) -> torch.Tensor:
    return {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu}[name](z)


def one_run(spec: BlockSpec, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """One run written plainly: p[name] is (L, …) for that run; x (N, d)."""
    h = x
    for layer in range(spec.depth):
        if spec.block == "linear":
            f = h @ p["W"][layer].T
        else:
            f = act(spec.activation, h @ p["W1"][layer].T) @ p["W2"][layer].T
        if spec.scaled:
            f = p["alpha"][layer] * f
        h = h + f if spec.residual else f
    return h


def problem(spec: BlockSpec, R: int, N: int, seed: int, dtype: torch.dtype
            ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """R runs: Xavier weights (α random, not 0), x and y standard normal, (R, N, d), from `seed`."""
    g = torch.Generator().manual_seed(seed)
    params = init_params(spec, R, "xavier", 1.0, g, dtype)
    if spec.scaled:  # α₀ = 0 would hide the branch
        params["alpha"] = torch.randn(params["alpha"].shape, generator=g, dtype=dtype)
    x = torch.randn((R, N, spec.width), generator=g, dtype=dtype)
    y = torch.randn((R, N, spec.width), generator=g, dtype=dtype)
    return params, x, y


def autograd_per_run(spec: BlockSpec, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, r: int
                     ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run r's loss (1/2N)Σ‖H(x) − y‖² and its gradients by autograd through `one_run`."""
    leaves = {k: v[r].clone().requires_grad_(True) for k, v in params.items()}
    loss = 0.5 * (one_run(spec, leaves, x[r]) - y[r]).pow(2).sum(-1).mean()
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return loss.detach(), dict(zip(leaves, grads, strict=True))
