"""Data and targets: inputs with an exact covariance, symmetric matrices with a given spectrum, target maps.

Random draws come from an explicit CPU generator; tensors are created on the device of their inputs.
"""

from __future__ import annotations

import math

import torch

from numerics.blocks.init import orthogonal
from numerics.blocks.spec import TARGETS


def data_with_covariance(Sigma: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """Rows x_j (n, d) whose empirical covariance XᵀX/n equals Σ exactly (up to rounding).

    X = √n Q Σ^{1/2} with Q (n, d) having orthonormal columns, so XᵀX/n = Σ^{1/2} QᵀQ Σ^{1/2} = Σ;
    then gradient descent on the sample loss is gradient descent on the population loss ½tr((M−I)Σ(M−I)ᵀ).
    Q is drawn on the CPU from `g` and moved to Σ's device.
    """
    d = Sigma.shape[0]
    if n < d:
        raise ValueError(f"need n ≥ d samples for an exact covariance, got n={n}, d={d}")
    Q, _ = torch.linalg.qr(torch.randn((n, d), generator=g, dtype=Sigma.dtype))
    evals, evecs = torch.linalg.eigh(Sigma)
    root = evecs @ torch.diag(evals.clamp_min(0).sqrt()) @ evecs.T
    return math.sqrt(n) * Q.to(Sigma.device) @ root


def spectrum_matrix(eigs: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A symmetric matrix V diag(eigs) Vᵀ with a Haar-random orthogonal V: (d, d), on eigs' device."""
    V = orthogonal(1, 1, (len(eigs), len(eigs)), g, eigs.dtype)[0, 0].to(eigs.device)
    return V @ torch.diag(eigs) @ V.T


def linear_target(kind: str, d: int, g: torch.Generator, dtype: torch.dtype, low: float, high: float) -> torch.Tensor:
    """A target map Φ (d, d): linear-pd has eigenvalues evenly in [low, high] (low > 0);
    linear-indefinite is the same with its smallest eigenvalue replaced by −low (one negative eigenvalue,
    the case Bartlett, Helmbold, Long, ICML 2018, Thm 1/§5 show is never learnt from identity init)."""
    eigs = torch.linspace(low, high, d, dtype=dtype)
    if kind == "linear-indefinite":
        eigs[0] = -low
    elif kind != "linear-pd":
        raise ValueError(f"not a linear target: {kind!r}")
    return spectrum_matrix(eigs, g)


def apply_target(kind: str, x: torch.Tensor, delta: float = 0.1, B: torch.Tensor | None = None,
                 Phi: torch.Tensor | None = None) -> torch.Tensor:
    """Targets y for inputs x (…, N, d): identity x; near-identity x + δ tanh(Bx); linear Φx."""
    if kind == "identity":
        return x.clone()
    if kind == "near-identity":
        if B is None:
            raise ValueError("near-identity needs B")
        return x + delta * torch.tanh(x @ B.transpose(-2, -1))
    if kind in ("linear-pd", "linear-indefinite"):
        if Phi is None:
            raise ValueError("a linear target needs Φ")
        return x @ Phi.transpose(-2, -1)
    raise ValueError(f"target must be one of {TARGETS}, got {kind!r}")
