r"""Gradient descent on one linear block fitting the identity: exact iterates, rates and step counts (C11, C12).

Conventions (CONTRIBUTING.md), stated once and used by every function and theorem here:

- **Loss.** Identity task with input covariance Σ = XXᵀ/N ≻ 0 (the *mean* over samples, with a ½):
  L(M) = ½ tr((M − I) Σ (M − I)ᵀ) for the block's end-to-end map M.
- **Blocks.** Plain H = Wx: M = W, trainable θ = W.  Residual H = x + Ax: M = I + A, trainable θ = A
  (the branch; the shortcut is not trained).
- **Weight decay.** L2 in the loss, + (λ/2)‖θ‖²_F on the trainable weights, λ ≥ 0.
- **Time.** Gradient descent counts steps k = 0, 1, 2, … with step size η: θ_{k+1} = θ_k − η ∇L(θ_k).
- **Convergence.** ‖M_k − M*‖_F < ε (strict); a step count is the smallest such k ≥ 0.

Results (derived and proved in `theory.linear_block` and, for the step count, below; cited):

- The gradient is (M − I)Σ + λW (plain) and AΣ + λA (residual); the error E = M − M* obeys
  E_{k+1} = E_k (I − η(Σ + λI)) in *both* parameterisations, with M* = Σ(Σ + λI)⁻¹ (plain; the ridge
  solution, Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed. 2009, §3.4.1,
  Eq. 3.47) or M* = I (residual, decay on the branch).
- With Σ = Q diag(σ_i) Qᵀ, E_k Q = E_0 Q diag(r_i^k) with r_i = 1 − η(σ_i + λ), so
  ‖E_k‖²_F = Σ_i r_i^{2k} c_i,  c_i = ‖E_0 q_i‖²  (GD on a quadratic multiplies each eigen-component of the
  error by (1 − ηλ_i) per step: Goh, *Why Momentum Really Works*, Distill 2017; here the Hessian
  eigenvalues are λ_i = σ_i + λ).
- GD converges from every start iff 0 < η < 2/(σ_max + λ) (Goh 2017: 0 < ηλ_i < 2 for all i).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp
from numpy.typing import NDArray

from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Formula, Inequality, Substitute

FloatMatrix = NDArray[np.float64]
Eigenvalues = Sequence[float] | NDArray[np.float64]  # eigenvalues σ_i of Σ

_MAX_DOUBLINGS = 200  # 2**200 steps: far beyond any float64-resolvable decay; the search stops there


def linear_block_rates(sigma_eigs: Eigenvalues, eta: float, lam: float) -> list[float]:
    """Per-mode contraction factors r_i = 1 − η(σ_i + λ) of GD on the identity task.

    The same factors hold for the plain (θ = W = M) and the residual (θ = A = M − I) block: both losses
    have the Hessian "right-multiply by Σ + λI" (Goh 2017, GD on a quadratic; λ_i = σ_i + λ).
    `sigma_eigs` are the eigenvalues of Σ, `eta` the step size η, `lam` the L2 coefficient λ of (λ/2)‖θ‖²_F.
    """
    return [1.0 - eta * (float(s) + lam) for s in sigma_eigs]


def stability_limit(sigma_eigs: Eigenvalues, lam: float) -> float:
    """2/(σ_max + λ): GD on the identity task converges from every start iff 0 < η < this (Goh 2017).

    At η = 2/(σ_max + λ) the top mode has r = −1 and oscillates with constant amplitude.
    """
    top = max(float(s) for s in sigma_eigs) + lam
    if top <= 0:
        raise ValueError("need σ_max + λ > 0")
    return 2.0 / top


def linear_block_fixed_point(Sigma: FloatMatrix, lam: float, residual: bool) -> FloatMatrix:
    """The end-to-end map M* that GD converges to (when it converges).

    Plain (decay on W = M): M* = Σ(Σ + λI)⁻¹, the ridge solution (ESL 2009 §3.4.1, Eq. 3.44/3.47), biased
    away from I when λ > 0.  Residual (decay on the branch A, M = I + A): M* = I exactly (A* = 0).
    `Sigma` is the n×n input covariance (symmetric, ≻ 0 when λ = 0).
    """
    Sigma = np.asarray(Sigma, dtype=np.float64)
    n = Sigma.shape[0]
    if residual:
        return np.eye(n)
    # Σ(Σ + λI)⁻¹ without forming an inverse
    return np.asarray(np.linalg.solve((Sigma + lam * np.eye(n)).T, Sigma.T).T, dtype=np.float64)


def _mode_weights(M0: FloatMatrix, Sigma: FloatMatrix, lam: float, residual: bool) -> tuple[FloatMatrix, FloatMatrix]:
    """Eigenvalues σ_i of Σ and c_i = ‖(M_0 − M*) q_i‖² (the error's energy along eigenvector q_i)."""
    Sigma = np.asarray(Sigma, dtype=np.float64)
    if not np.allclose(Sigma, Sigma.T):
        raise ValueError("Σ must be symmetric")
    sigma, Q = np.linalg.eigh(Sigma)  # (n,), (n, n)
    E0 = np.asarray(M0, dtype=np.float64) - linear_block_fixed_point(Sigma, lam, residual)  # (n, n)
    c = np.sum((E0 @ Q) ** 2, axis=0)  # (n,) column energies of E_0 Q
    return sigma, c


def _error_sq(k: int, q: Sequence[float], c: Sequence[float]) -> float:
    """‖E_k‖²_F = Σ_i c_i q_i^k with q_i = r_i² (inf on overflow)."""
    total = []
    for qi, ci in zip(q, c, strict=True):
        if ci == 0.0:
            continue
        try:
            total.append(ci * math.pow(qi, k))
        except OverflowError:
            return math.inf
    return math.fsum(total)


def linear_gd_iterate(
    k: int, M0: FloatMatrix, Sigma: FloatMatrix, eta: float, lam: float, residual: bool
) -> FloatMatrix:
    """M_k = M* + (M_0 − M*) Q diag(r_i^k) Qᵀ: the exact k-th GD iterate (theorem `linear-block.gd-iterate`)."""
    if k < 0:
        raise ValueError(f"step count must be nonnegative, got {k}")
    Sigma = np.asarray(Sigma, dtype=np.float64)
    sigma, Q = np.linalg.eigh(Sigma)
    M_star = linear_block_fixed_point(Sigma, lam, residual)
    powers = np.array([r**k for r in linear_block_rates(sigma, eta, lam)])  # (n,)
    out: FloatMatrix = M_star + ((np.asarray(M0, dtype=np.float64) - M_star) @ Q * powers) @ Q.T
    return out


def linear_gd_error_sq(
    k: int, M0: FloatMatrix, Sigma: FloatMatrix, eta: float, lam: float, residual: bool
) -> float:
    """‖M_k − M*‖²_F after k GD steps, from the per-mode closed form Σ_i r_i^{2k} c_i (module docstring)."""
    sigma, c = _mode_weights(M0, Sigma, lam, residual)
    q = [r * r for r in linear_block_rates(sigma, eta, lam)]
    return _error_sq(k, q, list(c))


def linear_gd_steps(
    M0: FloatMatrix, Sigma: FloatMatrix, eta: float, lam: float, eps: float, residual: bool
) -> int | None:
    """Smallest k ≥ 0 with ‖M_k − M*‖_F < ε under GD on ½ tr((M − I)Σ(M − I)ᵀ) + (λ/2)‖θ‖²_F.

    θ = M (plain) or θ = A = M − I (residual); M* from `linear_block_fixed_point`.  Exact per-mode handling,
    not a bound: with q_i = r_i² and c_i = ‖(M_0 − M*) q_i‖², f(k) = ‖E_k‖²_F = Σ_i c_i q_i^k is a sum of
    geometric sequences, hence *convex* in k, and nonincreasing when every active q_i ≤ 1.  So:

    - f(0) < ε² ⇒ 0 (the first hitting time, even if the iteration diverges later);
    - some active q_i > 1 (divergent mode): f decreases, then increases for ever; the least k with f(k) < ε²
      lies before the turn (found by bisection on the monotone f(k+1) − f(k)), or there is none (None);
    - all q_i ≤ 1: f decreases to f(∞) = Σ_{q_i = 1} c_i (stuck modes, r_i = −1 at η(σ_i + λ) = 2); None if
      f(∞) ≥ ε², else the least k by exponential then binary search on the monotone predicate f(k) < ε².

    For one active mode this is k* = ⌊ln(ε²/c)/ln r²⌋ + 1 (the strict inequality: not the ceiling, which is
    one step short when the ratio is an integer); see `single_mode_steps`.  Evaluation is in float64; the
    search itself is exact over the integers.
    """
    if eps <= 0 or eta <= 0 or lam < 0:
        raise ValueError("need ε > 0, η > 0, λ ≥ 0")
    sigma, c_arr = _mode_weights(M0, Sigma, lam, residual)
    c = [float(v) for v in c_arr]
    q = [r * r for r in linear_block_rates(sigma, eta, lam)]
    target = eps * eps

    def f(k: int) -> float:
        return _error_sq(k, q, c)

    if f(0) < target:
        return 0
    if any(qi > 1.0 and ci > 0.0 for qi, ci in zip(q, c, strict=True)):
        # convex: first k where f stops decreasing
        turn = _first_true(lambda k: f(k + 1) >= f(k))
        if turn is None or f(turn) >= target:
            return None
        return _first_true(lambda k: f(k) < target, upper=turn)
    floor = math.fsum(ci for qi, ci in zip(q, c, strict=True) if qi == 1.0)
    if floor >= target:
        return None
    return _first_true(lambda k: f(k) < target)


def _first_true(pred: Callable[[int], bool], upper: int | None = None) -> int | None:
    """Least integer k ≥ 0 with pred(k) for a monotone predicate (False…False True…True)."""
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
    lo = -1  # pred(lo) is False by convention (k = −1), pred(hi) True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def single_mode_steps(c: float, r: float, eps: float) -> int | None:
    """Least k ≥ 0 with c r^{2k} < ε² for one mode: 0 if c < ε², else ⌊ln(ε²/c)/ln r²⌋ + 1 when |r| < 1.

    Goh 2017 gives ⌈ln(ε/‖e₀‖)/ln r⌉; with the strict "<" of this project the least integer strictly above
    x = ln(ε²/c)/ln r² is ⌊x⌋ + 1, which differs from ⌈x⌉ exactly when x is an integer.  None if |r| ≥ 1.
    """
    if c < eps * eps:
        return 0
    if r == 0.0:
        return 1
    if abs(r) >= 1.0:
        return None
    x = math.log(eps * eps / c) / math.log(r * r)
    return math.floor(x) + 1


GOH_2017 = "Goh, Why Momentum Really Works, Distill 2017 (doi:10.23915/distill.00006)"

c, eps, p = sp.symbols("c epsilon p", positive=True)  # c = ‖E_0 q‖² of one mode, ε, and q = r² = 1/(1 + p)
v_ = sp.Symbol("v", nonnegative=True)  # q = r² = 1/(1 + v) ∈ (0, 1]: a contracting or stuck mode
kappa = sp.Symbol("k", real=True)  # a step count, taken real for the threshold argument
theta = sp.Symbol("theta", positive=True)  # k − x > 0
theta0 = sp.Symbol("theta", nonnegative=True)  # x − k ≥ 0
k_int = sp.Symbol("k", integer=True, nonnegative=True)  # step index
q_any = sp.Symbol("q", nonnegative=True)  # q = r² ≥ 0 of a mode, any size (divergent modes too)
r_mode = sp.Symbol("r", real=True)  # per-mode factor r = 1 − η(σ + λ)


@theorem
def exact_step_count() -> Derivation:
    # c q^k < ε²  ⟺  k > x = ln(ε²/c)/ln q  (0 < q < 1)  ⇒  k* = ⌊x⌋ + 1; Σ_i c_i q_i^k is convex in k
    q_mode = 1 / (1 + p)
    x = sp.log(eps**2 / c) / sp.log(q_mode)
    gap = sp.log(eps**2) - sp.log(c * q_mode**kappa)  # ln ε² − ln(c q^k): > 0 iff c q^k < ε²
    q_mono = 1 / (1 + v_)
    steps = (
        Equal(sp.Subs(c * q_mode**kappa, kappa, x), eps**2,
              "at k = x the mode's error energy is exactly ε²: at an integer x, Goh's ⌈x⌉ = x leaves the error at "
              "ε², not below it"),
        Equal(gap, (kappa - x) * sp.log(1 + p), "ln ε² − ln(c q^k) is linear in k with slope ln(1/q) = ln(1 + p)"),
        Equal(sp.Subs(gap, kappa, x + theta), theta * sp.log(1 + p), "at k = x + θ, θ > 0"),
        Inequality(theta * sp.log(1 + p), sp.S.Zero, "> 0: c q^k < ε² (strictly below) for every k > x",
                   relation=">"),
        Equal(sp.Subs(gap, kappa, x - theta0), -theta0 * sp.log(1 + p), "at k = x − θ, θ ≥ 0"),
        Inequality(-theta0 * sp.log(1 + p), sp.S.Zero, "≤ 0: c q^k ≥ ε² (not yet converged) for every k ≤ x",
                   relation="≤"),
        Equal(sp.log(eps / sp.sqrt(c)) / sp.log(sp.sqrt(q_mode)), x,
              "Goh's ratio ln(ε/‖e_0‖)/ln|r| (‖e_0‖ = √c, |r| = √q) is the same x", GOH_2017),
        Equal(c * q_mono**k_int - c * q_mono ** (k_int + 1), c * q_mono**k_int * (1 - q_mono),
              "one term of f(k) − f(k + 1), for a mode with 0 < q = 1/(1 + v) ≤ 1"),
        Inequality(c * q_mono**k_int * (1 - q_mono), sp.S.Zero,
                   "≥ 0: each contracting or stuck term does not grow", relation="≥"),
        Equal(c * q_any**k_int - 2 * c * q_any ** (k_int + 1) + c * q_any ** (k_int + 2),
              c * q_any**k_int * (1 - q_any) ** 2, "second difference of one geometric term"),
        Inequality(c * q_any**k_int * (1 - q_any) ** 2, sp.S.Zero, "≥ 0 for every q ≥ 0: f is convex in k",
                   relation="≥"),
        Substitute(r_mode**2, sp.S.One, "a mode with η(σ + λ) = 2 has r = −1: its energy never decays",
                   subs={r_mode: -1}),
    )
    return Derivation(
        id="dynamics.exact-step-count",
        title="Exact number of GD steps to bring ‖W_k − W*‖_F below ε, per mode and for the sum of modes",
        claims=("C11", "C12"),
        statement=(
            "One mode with error energy c = ‖E_0 q‖² ≥ ε² and q = r² = 1/(1 + p) ∈ (0, 1): c q^x = ε² at "
            "x = ln(ε²/c)/ln q, ln ε² − ln(c q^k) = (k − x) ln(1 + p), so c q^k < ε² for every k > x and "
            "c q^k ≥ ε² for every k ≤ x; x is Goh's ratio ln(ε/‖e_0‖)/ln|r|.  Per term of f(k) = Σ_i c_i q_i^k: "
            "c q^k − c q^{k+1} = c q^k (1 − q) ≥ 0 when 0 < q ≤ 1, and the second difference "
            "c q^k (1 − q)² ≥ 0 for any q ≥ 0."
        ),
        steps=steps,
        references=(GOH_2017,),
        conclusion=(
            "`linear_gd_steps` computes the exact least k (not a bound): monotone bisection when every mode "
            "contracts, the convex turn when one diverges, None when the stuck/divergent energy stays ≥ ε²."
        ),
        proves=(
            steps[0],
            steps[1],
            Formula(sp.Subs(gap, kappa, x + theta), ">", sp.S.Zero),
            Formula(sp.Subs(gap, kappa, x - theta0), "≤", sp.S.Zero),
            steps[6],
            Formula(c * q_mono**k_int - c * q_mono ** (k_int + 1), "≥", sp.S.Zero),
            Formula(c * q_any**k_int - 2 * c * q_any ** (k_int + 1) + c * q_any ** (k_int + 2), "≥", sp.S.Zero),
            steps[11],
        ),
        remarks=(
            "The least integer k > x is ⌊x⌋ + 1 (the definition of ⌊·⌋); it differs from Goh's ⌈x⌉ exactly when x "
            "is an integer, where the error is exactly ε² (the first formula).  No step checks ⌊·⌋ or ⌈·⌉.",
            "Summing the per-term formulas over the modes gives f(k) − f(k + 1) ≥ 0 when every q_i ≤ 1 (a mode with "
            "q = 0 contributes nothing after k = 0) and a nonnegative second difference of f for any q_i ≥ 0.",
        ),
    )
