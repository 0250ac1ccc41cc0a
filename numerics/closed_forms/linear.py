"""Float evaluators of one linear block's closed forms (GD rates, ridge fixed point, exact step counts) and of
weight decay, lambdified from `theory.linear_block`, `theory.weight_decay` and `theory.dynamics`.

Conventions (CONTRIBUTING.md): loss ½tr((M − I)Σ(M − I)ᵀ) + (λ/2)‖θ‖²_F with θ = M (plain) or θ = M − I
(residual); GD with step η counts steps k; converged means ‖M_k − M*‖_F < ε (strict).  Sources: Goh, *Why
Momentum Really Works*, Distill 2017 (per-mode factor 1 − η(σ + λ), stability η < 2/(σ_max + λ)); Hastie,
Tibshirani & Friedman, *ESL* 2009, Eq. (3.44)/(3.47) (ridge minimiser Σ(Σ + λI)⁻¹); Loshchilov & Hutter, ICLR 2019,
Eq. (1) ((1 − ηλ)^k under decay alone).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp
from numpy.typing import NDArray

from theory import dynamics as dyn
from theory import linear_block as lb
from theory import weight_decay as wd

FloatArray = NDArray[np.float64]
Eigenvalues = Sequence[float] | FloatArray  # eigenvalues σ_i of Σ

_MAX_DOUBLINGS = 200  # 2**200 steps: far beyond any float64-resolvable decay; the step search stops there

_mode_rate = sp.lambdify((lb.eta, lb.sigma, lb.lam), lb.MODE_RATE, "numpy")
_stability_limit = sp.lambdify((lb.sigma, lb.lam), lb.STABILITY_LIMIT, "math")
_ridge = sp.lambdify((wd.sigma, wd.lam), wd.RIDGE_SHRINKAGE, "numpy")
_decay = sp.lambdify((wd.eta, wd.lam, wd.k), wd.DECAY_FACTOR, "numpy")
_flow_decay = sp.lambdify((wd.lam, wd.t), wd.FLOW_DECAY_FACTOR, "mpmath")
_energy = sp.lambdify((dyn.c, dyn.q_any, dyn.k_int), dyn.MODE_ENERGY, "math")
_crossing = sp.lambdify((dyn.c, dyn.eps, dyn.q_rate), dyn.CROSSING, "math")


def mode_rates(sigma_eigs: Eigenvalues, eta: float, lam: float) -> FloatArray:
    """r_i = 1 − η(σ_i + λ), the per-mode factors of GD on the identity task (plain and residual alike)."""
    return np.asarray(_mode_rate(eta, np.asarray(sigma_eigs, dtype=np.float64), lam), dtype=np.float64)


def mode_rate_powers(sigma: float, eta: float, lam: float, steps: Sequence[int] | NDArray[np.int64]) -> FloatArray:
    """r^k = (1 − η(σ + λ))^k at each k of `steps`: one eigen-mode's error factor after k GD steps (signed;
    ±inf where it overflows)."""
    with np.errstate(over="ignore"):
        return np.asarray(mode_rates([sigma], eta, lam)[0] ** np.asarray(steps, dtype=np.float64), dtype=np.float64)


def stability_limit(sigma_eigs: Eigenvalues, lam: float) -> float:
    """2/(σ_max + λ): GD converges from every start iff 0 < η < this (at the limit the top mode has r = −1)."""
    top = max(float(s) for s in sigma_eigs)
    if top + lam <= 0:
        raise ValueError("need σ_max + λ > 0")
    return float(_stability_limit(top, lam))


def ridge_shrinkage(sigma_eigs: Eigenvalues, lam: float | FloatArray) -> FloatArray:
    """σ_i/(σ_i + λ): the eigenvalues of the plain block's minimiser W* = Σ(Σ + λI)⁻¹ (ESL Eq. 3.47); λ may be
    an array of the same length (one λ per σ)."""
    sig, lam_arr = np.asarray(sigma_eigs, dtype=np.float64), np.asarray(lam, dtype=np.float64)
    if np.any(lam_arr < 0) or np.any(sig <= 0):
        raise ValueError("need λ ≥ 0 and Σ ≻ 0 (all eigenvalues positive)")
    return np.asarray(_ridge(sig, lam_arr), dtype=np.float64)


def ridge_distance(sigma_eigs: Eigenvalues, lam: float, norm: str = "fro") -> float:
    """‖I − W*‖ with W* = Σ(Σ + λI)⁻¹: Frobenius ("fro") or spectral ("spectral") norm of 1 − σ_i/(σ_i + λ)."""
    gaps = 1.0 - ridge_shrinkage(sigma_eigs, lam)
    if norm == "fro":
        return float(np.sqrt(np.sum(gaps * gaps)))
    if norm == "spectral":
        return float(gaps.max(initial=0.0))
    raise ValueError(f"norm must be 'fro' or 'spectral', got {norm!r}")


def _eigh(Sigma: FloatArray) -> tuple[FloatArray, FloatArray]:
    Sigma = np.asarray(Sigma, dtype=np.float64)
    if not np.allclose(Sigma, Sigma.T):
        raise ValueError("Σ must be symmetric")
    sigma, Q = np.linalg.eigh(Sigma)  # (n,), (n, n)
    return sigma, Q


def fixed_point(Sigma: FloatArray, lam: float, residual: bool) -> FloatArray:
    """M* that GD converges to: I (residual: decay on the branch A = M − I) or Σ(Σ + λI)⁻¹ (plain), built as
    Q diag(σ_i/(σ_i + λ)) Qᵀ from Σ = Q diag(σ_i) Qᵀ."""
    n = np.asarray(Sigma).shape[0]
    if residual:
        return np.eye(n)
    sigma, Q = _eigh(Sigma)
    return np.asarray((Q * ridge_shrinkage(sigma, lam)) @ Q.T, dtype=np.float64)


def _mode_energies(M0: FloatArray, Sigma: FloatArray, lam: float, residual: bool) -> tuple[FloatArray, FloatArray]:
    """Eigenvalues σ_i of Σ and c_i = ‖(M_0 − M*) q_i‖², the error's energy along eigenvector q_i."""
    sigma, Q = _eigh(Sigma)
    E0 = np.asarray(M0, dtype=np.float64) - fixed_point(Sigma, lam, residual)  # (n, n)
    return sigma, np.sum((E0 @ Q) ** 2, axis=0)


def _error_sq(k: int, q: Sequence[float], c: Sequence[float]) -> float:
    """‖E_k‖²_F = Σ_i c_i q_i^k (theory.dynamics.MODE_ENERGY per mode); inf on overflow."""
    terms = []
    for qi, ci in zip(q, c, strict=True):
        if ci == 0.0:
            continue
        try:
            terms.append(float(_energy(ci, qi, k)))
        except OverflowError:
            return math.inf
    return math.fsum(terms)


def linear_gd_iterate(k: int, M0: FloatArray, Sigma: FloatArray, eta: float, lam: float, residual: bool) -> FloatArray:
    """M_k = M* + (M_0 − M*) Q diag(r_i^k) Qᵀ, the exact k-th GD iterate (theorem `linear-block.gd-iterate`)."""
    if k < 0:
        raise ValueError(f"step count must be nonnegative, got {k}")
    sigma, Q = _eigh(Sigma)
    M_star = fixed_point(Sigma, lam, residual)
    with np.errstate(over="ignore"):
        powers = mode_rates(sigma, eta, lam) ** k  # (n,)
    return np.asarray(M_star + ((np.asarray(M0, dtype=np.float64) - M_star) @ Q * powers) @ Q.T, dtype=np.float64)


def linear_gd_error_sq(k: int, M0: FloatArray, Sigma: FloatArray, eta: float, lam: float, residual: bool) -> float:
    """‖M_k − M*‖²_F after k GD steps: Σ_i r_i^{2k} c_i (theory.linear_block, `gd-iterate`)."""
    sigma, c = _mode_energies(M0, Sigma, lam, residual)
    return _error_sq(k, [float(r * r) for r in mode_rates(sigma, eta, lam)], [float(v) for v in c])


def linear_gd_steps(
    M0: FloatArray, Sigma: FloatArray, eta: float, lam: float, eps: float, residual: bool
) -> int | None:
    """Smallest k ≥ 0 with ‖M_k − M*‖_F < ε under GD on ½ tr((M − I)Σ(M − I)ᵀ) + (λ/2)‖θ‖²_F; None if never.

    θ = M (plain) or θ = A = M − I (residual).  With q_i = r_i² and c_i = ‖(M_0 − M*) q_i‖², f(k) = Σ_i c_i q_i^k
    is convex in k, and nonincreasing when every active q_i ≤ 1 (theorem `dynamics.exact-step-count`):

    - f(0) < ε² ⇒ 0 (the first hitting time, even if the iteration diverges later);
    - some active q_i > 1: f decreases, then increases for ever; the least k with f(k) < ε² lies before the
      turn (bisection on the monotone f(k + 1) − f(k)), or there is none;
    - all q_i ≤ 1: f decreases to Σ_{q_i = 1} c_i (stuck modes); None if that is ≥ ε², else exponential then
      binary search on the monotone predicate f(k) < ε².

    The search is exact over the integers; f is evaluated in float64.
    """
    if not (eps > 0 and eta > 0 and lam >= 0):
        raise ValueError("need ε > 0, η > 0, λ ≥ 0")
    sigma, c_arr = _mode_energies(M0, Sigma, lam, residual)
    c = [float(v) for v in c_arr]
    q = [float(r * r) for r in mode_rates(sigma, eta, lam)]
    target = eps * eps

    def f(k: int) -> float:
        return _error_sq(k, q, c)

    if f(0) < target:
        return 0
    if any(qi > 1.0 and ci > 0.0 for qi, ci in zip(q, c, strict=True)):
        turn = first_true(lambda k: f(k + 1) >= f(k))  # convex: where f stops decreasing
        if turn is None or f(turn) >= target:
            return None
        return first_true(lambda k: f(k) < target, upper=turn)
    if math.fsum(ci for qi, ci in zip(q, c, strict=True) if qi == 1.0) >= target:
        return None
    return first_true(lambda k: f(k) < target)


def first_true(pred: Callable[[int], bool], upper: int | None = None) -> int | None:
    """Least integer k ≥ 0 with pred(k) for a monotone predicate (False…False True…True); None if none ≤ upper
    (or below 2^200 when no upper bound is given)."""
    hi = upper
    if hi is None:
        hi = 1
        for _ in range(_MAX_DOUBLINGS):
            if pred(hi):
                break
            hi *= 2
        else:
            return None
    if not pred(hi):
        return None
    lo = -1  # pred(−1) is False by convention, pred(hi) True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if pred(mid) else (mid, hi)
    return hi


def single_mode_steps(c: float, r: float, eps: float) -> int | None:
    """Least k ≥ 0 with c r^{2k} < ε²: 0 if c < ε², else ⌊x⌋ + 1 with x = ln(ε²/c)/ln r² when |r| < 1; None if
    |r| ≥ 1.  (Goh's ⌈x⌉ is one step short when x is an integer: `dynamics.exact-step-count`.)

    x is rounded in float64; where it lands within rounding of an integer (c r^{2k} = ε² up to the last bit) ⌊x⌋ + 1
    can be one step off, so the candidate is settled by evaluating c r^{2k} itself (`MODE_ENERGY`, as
    `linear_gd_steps` does): the result is the least k at which that evaluation is below ε²."""
    target = eps * eps
    if c < target:
        return 0
    if r == 0.0:
        return 1
    if abs(r) >= 1.0:
        return None
    q = r * r

    def below(k: int) -> bool:
        return _error_sq(k, [q], [c]) < target

    k = math.floor(_crossing(c, eps, q)) + 1
    while k > 1 and below(k - 1):  # c q^k decreases in k: step down while the step before is already below
        k -= 1
    while not below(k):
        k += 1
    return k


# --- weight decay ----------------------------------------------------------------------------------------------


def decay_factors(eta: float, lam: float, steps: Sequence[int] | NDArray[np.int64]) -> FloatArray:
    """(1 − ηλ)^k at each k of `steps`, signed (negative when 1 − ηλ < 0 and k is odd); ±inf where it overflows."""
    with np.errstate(over="ignore"):
        return np.asarray(_decay(eta, lam, np.asarray(steps, dtype=np.float64)), dtype=np.float64)


def decay_factor(eta: float, lam: float, k: int) -> float:
    """(1 − ηλ)^k: the factor by which k GD steps on (λ/2)‖W‖² alone scale W₀ (±inf on overflow)."""
    if k < 0:
        raise ValueError(f"step count must be nonnegative, got {k}")
    return float(decay_factors(eta, lam, [k])[0])


def flow_decay_factor(lam: float, t: float) -> float:
    """e^{−λt}: gradient flow on (λ/2)‖W‖² alone, at time t = kη."""
    return float(_flow_decay(lam, t))
