"""Float evaluators of the closed forms near the identity, lambdified from `theory.identity_init` and
`theory.hardt_ma`, and the numerics built on them (root finding for a decay time).

Conventions as in those modules: scalar modes of whitened linear chains, losses with a ½, time t = kη.

- `branch_trajectory`: u(t) of a balanced linear branch of N weights driven to F = 0 (loss ½u²):
  u₀e^{−t} for N = 1, (u₀^{−p} + Npt)^{−1/p} with p = 2 − 2/N for N ≥ 2 (theorem `identity-init.branch-decay`;
  Arora, Cohen & Hazan, ICML 2018, the balanced end-to-end dynamics with target 0);
- `negative_mode_floor`: ½Σ_{λ_i < 0} λ_i², the loss a residual chain of depth ≥ 2 from the identity keeps for
  ever on a symmetric target with eigenvalues λ_i and whitened inputs (theorem `identity-init.negative-mode-floor`;
  Bartlett, Helmbold & Long, ICML 2018);
- `hardt_ma_bound`: Hardt & Ma, *Identity Matters in Deep Learning*, ICLR 2017, Eq. (2.3): the lower bound on
  ‖∇f(A)‖²_F, corrected 4ℓ(1 − τ)^{2(ℓ−1)}σ_min(Σ)(f − C_opt) (proved in `hardt-ma.gradient-lower-bound-small`)
  or as printed 4ℓ(1 − τ)^{ℓ−1}σ_min(Σ)²(f − C_opt) (false).  f carries no ½ (their convention).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy as sp
from numpy.typing import NDArray
from scipy import optimize

from theory import hardt_ma as hm
from theory import identity_init as ii

FloatArray = NDArray[np.float64]

_branch_1 = sp.lambdify((ii.u0, ii.t), ii.BRANCH_TRAJECTORY_1, "math")
_branch = sp.lambdify((ii.m, ii.u0, ii.t), ii.BRANCH_TRAJECTORY, "math")  # depth N = m + 2
_floor = sp.lambdify((ii.lam,), ii.NEGATIVE_MODE_FLOOR, "math")
_exponent = sp.lambdify((ii.N,), ii.BRANCH_LOSS_EXPONENT, "math")
_printed = sp.lambdify((hm.ell, hm.tau, hm.sigma_min, hm.gap), hm.EQ_2_3_PRINTED, "numpy")
_corrected = sp.lambdify((hm.ell, hm.tau, hm.sigma_min, hm.gap), hm.EQ_2_3_CORRECTED, "numpy")


def branch_trajectory(depth: int, u0: float, t: float) -> float:
    """u(t) of a balanced linear branch of `depth` weights from u(0) = u0 > 0 toward F = 0 (loss ½u², t = kη)."""
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth}")
    if not (u0 > 0 and t >= 0):
        raise ValueError("need u0 > 0 and t ≥ 0")
    return float(_branch_1(u0, t)) if depth == 1 else float(_branch(depth - 2, u0, t))


def branch_time(depth: int, u0: float, uf: float) -> float:
    """The time t at which the branch's u(t) falls to uf (0 < uf ≤ u0): the root of u(t) = uf (monotone)."""
    if not 0 < uf <= u0:
        raise ValueError(f"need 0 < uf ≤ u0, got uf = {uf}, u0 = {u0}")
    if uf == u0:
        return 0.0
    hi = 1.0
    while branch_trajectory(depth, u0, hi) > uf:
        hi *= 2.0
        if hi > 1e300:
            return math.inf
    root: float = optimize.brentq(lambda s: branch_trajectory(depth, u0, s) - uf, 0.0, hi, xtol=1e-14, rtol=1e-14)
    return float(root)


def branch_loss_exponent(depth: int) -> float:
    """The exponent e of the branch's loss ½u² ∝ t^{−e} as t → ∞: N/(N − 1) for N ≥ 2 (N = 1: geometric, inf)."""
    return math.inf if depth == 1 else float(_exponent(depth))


def negative_mode_floor(eigenvalues: Sequence[float]) -> float:
    """½Σ_{λ_i < 0} λ_i²: the loss floor of a residual chain (depth ≥ 2) from the identity on a symmetric target."""
    return float(sum(_floor(lam) for lam in eigenvalues if lam < 0))


def hardt_ma_bound(depth: int, radius: float, sigma_min: FloatArray | float, suboptimality: FloatArray | float,
                   printed: bool = False) -> FloatArray:
    """Hardt & Ma 2017 Eq. (2.3), the lower bound on ‖∇f‖²_F: corrected (default) or as printed (false);
    elementwise over arrays of σ_min(Σ) and f − C_opt."""
    fn = _printed if printed else _corrected
    return np.asarray(fn(depth, radius, np.asarray(sigma_min, dtype=np.float64),
                         np.asarray(suboptimality, dtype=np.float64)), dtype=np.float64)
