"""H(x) and the loss of R stacks as plain batched tensor operations, differentiated by autograd.

This is the reference engine: any block (linear, mlp, conv), any device, any floating dtype, and the
slow twin against which the fused CPU engine (`fused.py`) is tested.  Shapes: dense x (R, N, d) →
(R, N, d), one batched matmul per product; conv x (R, N, c, s, s), the R runs as groups of one
grouped convolution.  σ is `torch.tanh`, `torch.relu` or the exact (erf) GELU.

Depth: `segment` S < L checkpoints the stack (torch.utils.checkpoint, non-reentrant): only every S-th
block's input is kept and the segment is recomputed in the backward pass, so activation memory is
O(L/S + S) blocks instead of O(L).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from numerics.blocks.spec import BlockSpec, Params


def activation(name: str, z: torch.Tensor) -> torch.Tensor:
    """σ(z): relu, tanh (`torch.tanh`) or the exact GELU z·Φ(z)."""
    if name == "relu":
        return torch.relu(z)
    if name == "tanh":
        return torch.tanh(z)
    return F.gelu(z)


def _dense_block(spec: BlockSpec, h: torch.Tensor, w: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """One dense block of every run: h (R, N, d); w: W (R, d, d) or (W₁ (R, m, d), W₂ (R, d, m)), then α (R,)."""
    if spec.block == "mlp":
        f = activation(spec.activation, h @ w[0].transpose(-2, -1)) @ w[1].transpose(-2, -1)
    else:
        f = h @ w[0].transpose(-2, -1)
    if spec.scaled:
        f = w[-1].view(-1, 1, 1) * f
    return h + f if spec.residual else f


def _conv_block(spec: BlockSpec, h: torch.Tensor, w: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """One conv block in the grouped layout h: (N, R·c, s, s); w: K₁ (R, m, c, k, k), K₂ (R, c, m, k, k)[, α (R,)]."""
    R, k, pad = w[0].shape[0], spec.kernel_size, spec.kernel_size // 2
    K1 = w[0].reshape(R * spec.hidden, spec.width, k, k)  # (R·m, c, k, k)
    K2 = w[1].reshape(R * spec.width, spec.hidden, k, k)  # (R·c, m, k, k)
    z = F.conv2d(h, K1, padding=pad, groups=R)  # (N, R·m, s, s)
    f = F.conv2d(activation(spec.activation, z), K2, padding=pad, groups=R)
    if spec.scaled:
        f = w[-1].repeat_interleave(spec.width).view(1, -1, 1, 1) * f  # α per run
    return h + f if spec.residual else f


def _names(spec: BlockSpec) -> tuple[str, ...]:
    weights = {"linear": ("W",), "mlp": ("W1", "W2"), "conv": ("K1", "K2")}[spec.block]
    return weights + (("alpha",) if spec.scaled else ())


def forward(spec: BlockSpec, params: Params, x: torch.Tensor, segment: int | None = None) -> torch.Tensor:
    """H(x) of every run.  Dense: x (R, N, d) → (R, N, d).  Conv: x (R, N, c, s, s) → same shape.

    `segment`: checkpoint every `segment` blocks (None: keep every activation).
    """
    # unbind once: indexing [:, layer] on a tensor that needs a gradient would make autograd allocate and fill
    # a full (R, L, …) gradient per layer (O(L²) memory traffic); unbind's backward is one stack
    per_layer = [params[name].unbind(1) for name in _names(spec)]
    block = _conv_block if spec.block == "conv" else _dense_block
    if spec.block == "conv":
        R, N = x.shape[0], x.shape[1]
        h = x.transpose(0, 1).reshape(N, R * spec.width, spec.image_size, spec.image_size)  # (N, R·c, s, s)
    else:
        h = x

    def run(h: torch.Tensor, lo: int, hi: int, *w: torch.Tensor) -> torch.Tensor:
        n = len(per_layer)
        for i in range(hi - lo):
            h = block(spec, h, w[i * n:(i + 1) * n])
        return h

    S = spec.depth if segment is None else max(1, segment)
    for lo in range(0, spec.depth, S):
        hi = min(lo + S, spec.depth)
        w = [p[layer] for layer in range(lo, hi) for p in per_layer]
        if S < spec.depth and torch.is_grad_enabled():
            h = checkpoint(run, h, lo, hi, *w, use_reentrant=False)
        else:
            h = run(h, lo, hi, *w)
    if spec.block == "conv":
        R, N = x.shape[0], x.shape[1]
        return h.reshape(N, R, spec.width, spec.image_size, spec.image_size).transpose(0, 1)
    return h


def half_mean_sq(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(1/2N) Σ_j ‖out_j − y_j‖² per run: out, y (R, N, …) → (R,)."""
    diff = out - y
    return 0.5 * diff.flatten(2).pow(2).sum(-1).mean(-1)


def loss_per_run(spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor,
                 segment: int | None = None) -> torch.Tensor:
    """L = (1/2N) Σ_j ‖H(x_j) − y_j‖² for each run: (R,)."""
    return half_mean_sq(forward(spec, params, x, segment), y)


def end_to_end(spec: BlockSpec, params: Params) -> torch.Tensor:
    """The end-to-end linear map M = H_L ⋯ H_1 of a linear stack, (R, d, d); H_l = W_l, I + W_l or I + α_l W_l."""
    if spec.block != "linear":
        raise ValueError("end_to_end is defined for linear blocks only")
    W = params["W"]  # (R, L, d, d)
    R, d = W.shape[0], spec.width
    eye = torch.eye(d, dtype=W.dtype, device=W.device)
    M = eye.expand(R, d, d)
    for layer in range(spec.depth):
        Wl = W[:, layer]
        if spec.scaled:
            Wl = params["alpha"][:, layer].view(R, 1, 1) * Wl
        H = eye + Wl if spec.residual else Wl
        M = H @ M
    return M
