"""Initial parameters of R runs, generated on the CPU from an explicit generator, then moved to `device`.

Generating on the CPU keeps a seed's draws the same whatever the device the runs train on.
"""

from __future__ import annotations

import math

import torch

from numerics.blocks.spec import INITS, BlockSpec, Params


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of one layer with shape (out, in[, k, k])."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _identity_like(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """I (padded with zeros when not square); for a kernel, the centred delta on matching channels."""
    out = torch.zeros(shape, dtype=dtype)
    n = min(shape[0], shape[1])
    idx = torch.arange(n)
    if len(shape) == 2:
        out[idx, idx] = 1.0
    else:
        c = shape[2] // 2
        out[idx, idx, c, c] = 1.0
    return out


def orthogonal(R: int, L: int, shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Haar-random (semi-)orthogonal matrices, (R, L, *shape): QR with the sign of diag(R) fixed."""
    rows, cols = shape[0], math.prod(shape[1:])
    big, small = max(rows, cols), min(rows, cols)
    Z = torch.randn((R, L, big, small), generator=g, dtype=dtype)
    Q, Rm = torch.linalg.qr(Z)  # Q: (R, L, big, small)
    Q = Q * torch.sign(torch.diagonal(Rm, dim1=-2, dim2=-1)).unsqueeze(-2)
    if rows < cols:
        Q = Q.transpose(-2, -1)
    return Q.reshape((R, L, *shape))


def init_weight(
    init: str, R: int, L: int, shape: tuple[int, ...], scale: float, g: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    """Initial weights (R, L, *shape) for one layer position of every block (on the CPU).

    zero: 0.  gaussian: N(0, scale²).  xavier: N(0, scale²·2/(fan_in+fan_out)) (Glorot & Bengio 2010,
    Eq. (16), normal form).  kaiming: N(0, scale²·2/fan_in) (He et al. 2015, Eq. (10)).  orthogonal:
    scale·Q, Q Haar-orthogonal (Saxe et al. 2014, §3).  identity: scale·I (centred delta for kernels).
    """
    fan_in, fan_out = _fans(shape)
    if init == "zero":
        return torch.zeros((R, L, *shape), dtype=dtype)
    if init in ("gaussian", "xavier", "kaiming"):
        std = scale * {
            "gaussian": 1.0,
            "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
            "kaiming": math.sqrt(2.0 / fan_in),
        }[init]
        return std * torch.randn((R, L, *shape), generator=g, dtype=dtype)
    if init == "orthogonal":
        return scale * orthogonal(R, L, shape, g, dtype)
    if init == "identity":
        return scale * _identity_like(shape, dtype).expand((R, L, *shape)).clone()
    raise ValueError(f"init {init!r} is not a per-layer initialisation (one of {INITS[:-1]})")


def balanced_linear(R: int, L: int, d: int, scale: float, g: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Balanced deep-linear initialisation W_l = c O_l O_{l−1}ᵀ, O_0 = O_L = I, other O_l Haar-random.

    Balanced means W_{l+1}ᵀ W_{l+1} = W_l W_lᵀ (= c² I here), the condition under which the
    end-to-end map follows the closed dynamics of Arora, Cohen, Hazan, *On the Optimization of
    Deep Networks*, ICML 2018, Eq. (6); the product is W_L⋯W_1 = c^L I.  Returns (R, L, d, d).
    """
    eye = torch.eye(d, dtype=dtype).expand(R, 1, d, d)
    inner = orthogonal(R, L - 1, (d, d), g, dtype) if L > 1 else torch.empty((R, 0, d, d), dtype=dtype)
    Q = torch.cat([eye, inner, eye], dim=1)  # (R, L+1, d, d): O_0, …, O_L
    return scale * Q[:, 1:] @ Q[:, :-1].transpose(-2, -1)


def init_params(
    spec: BlockSpec,
    R: int,
    init: str,
    scale: float,
    g: torch.Generator,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Params:
    """Initial parameters of R runs.  `init` applies to the plain weights or the residual branch.

    Variants override it where their paper says so: rezero/skipinit add α = 0 (branch weights still
    from `init`); fixup zeroes the last layer of each branch and scales the others by L^{−1/(2m−2)}.
    Drawn on the CPU from `g` (a CPU generator), then moved to `device` (default: the CPU).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    shapes = spec.weight_shapes()
    params: Params = {}
    if init == "balanced":
        if spec.block != "linear":
            raise ValueError("balanced initialisation is defined for deep linear stacks only")
        params["W"] = balanced_linear(R, spec.depth, spec.width, scale, g, dtype)
    else:
        for name, shape in shapes.items():
            params[name] = init_weight(init, R, spec.depth, shape[1:], scale, g, dtype)
    if spec.variant == "fixup":
        names = list(shapes)
        params[names[-1]] = torch.zeros_like(params[names[-1]])  # last layer of each branch at 0
        m = len(names)
        if m > 1:
            factor = spec.depth ** (-1.0 / (2 * m - 2))
            for name in names[:-1]:
                params[name] = params[name] * factor
    if spec.scaled:
        params["alpha"] = torch.zeros((R, spec.depth), dtype=dtype)  # (R, L), α₀ = 0
    return {k: v.to(device) for k, v in params.items()} if device is not None else params
