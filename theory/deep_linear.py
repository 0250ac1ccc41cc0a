r"""Deep linear chains under gradient flow: end-to-end dynamics and learning times (C11, C12).

Conventions (CONTRIBUTING.md), converted explicitly to each paper's:

- **Chain.** A scalar chain of N ≥ 1 weights (one eigen-mode of a whitened deep linear net), end-to-end
  u = w_N ⋯ w_1, loss ½(s − u)² with target strength s.  Plain: w_i trained, small init; residual:
  w_i = 1 + a_i with the branches a_i trained and a_i(0) = 0.
- **Balanced.** All w_i equal (w_i(0) equal, and gradient flow keeps them equal), w > 0, so u = w^N > 0.
- **Time.** Gradient flow dθ/dt = −∇L(θ) in continuous time t = kη, the limit of GD with step η
  (so divide a time by η for a number of steps).  Saxe et al. write τ dθ/dt = −∇L with τ = 1/η and t in
  steps: their t/τ is our t.  Their N_l counts layers of *units*; our N = N_l − 1 counts weights.

End-to-end ODE (derived and proved in `theory.deep_linear_theorems`):

    du/dt = N u^{2 − 2/N} (s − u)          (u > 0)

- Saxe, McClelland & Ganguli, *Exact solutions to the nonlinear dynamics of learning in deep linear neural
  networks*, ICLR 2014: Eq. (10) τ du/dt = 2u(s − u) (N = 2), Eq. (15)
  τ du/dt = (N_l − 1) u^{2−2/(N_l−1)} (s − u); Eq. (11) the two-layer time
  t = (τ/2s) ln[u_f(s − u₀)/(u₀(s − u_f))]; Eq. (12) the two-layer trajectory.
- Arora, Cohen & Hazan, *On the Optimization of Deep Networks: Implicit Acceleration by
  Overparameterization*, ICML 2018: scalar end-to-end dynamics ẇ = −N |w|^{2−2/N} L′(w), here L′(u) = u − s.

Learning time from u₀ to u_f (u_f between u₀ and s):  t = ∫_{u₀}^{u_f} du / (N u^{2−2/N} (s − u)).
"""

from __future__ import annotations

import math

from scipy import integrate

QUAD_RELATIVE_TOLERANCE = 1e-12  # scipy.integrate.quad epsrel for the smooth remainder of the integral


def end_to_end_rate(depth: int, u: float, s: float) -> float:
    """du/dt = N |u|^{2 − 2/N} (s − u) for the balanced depth-N scalar chain (Arora et al. 2018; Saxe et al.
    2014, Eq. 15 with τ = 1 and N = N_l − 1).  Loss ½(s − u)², time t = kη."""
    _check_depth(depth)
    return depth * abs(u) ** (2.0 - 2.0 / depth) * (s - u)


def learning_time(depth: int, s: float, u0: float, uf: float) -> float:
    """Gradient-flow time t (t = kη: divide by η for steps) for u to go from u0 to uf in the balanced
    depth-N chain with loss ½(s − u)².

    Exact closed forms for N = 1…4 (`antiderivative`), numeric quadrature (`learning_time_quadrature`) of
    the general integral ∫ du / (N u^{2−2/N}(s − u)) for N ≥ 5.  uf must lie between u0 and s (the flow
    moves u monotonically toward s); uf = s gives inf (reached only asymptotically).  For N ≥ 2 the chain
    is balanced with w > 0, so s, u0, uf > 0 are required.  The residual chain started at zero branch
    weights is the case u0 = 1 (see `residual_learning_time`).
    """
    _check_depth(depth)
    _check_interval(depth, s, u0, uf)
    if uf == u0:
        return 0.0
    if uf == s:
        return math.inf
    if depth <= 4:
        return antiderivative(depth, s, uf) - antiderivative(depth, s, u0)
    return learning_time_quadrature(depth, s, u0, uf)


def residual_learning_time(depth: int, s: float, uf: float) -> float:
    """Time for the residual chain w_i = 1 + a_i, a_i(0) = 0 (so u(0) = 1), to reach uf: it follows the same
    ODE as the plain chain (Arora et al. 2018), so this is `learning_time(depth, s, 1, uf)`."""
    return learning_time(depth, s, 1.0, uf)


def antiderivative(depth: int, s: float, u: float) -> float:
    """G_N(u) with dG_N/du = 1/(N u^{2−2/N}(s − u)), for N = 1…4 (u ≠ s; u > 0 for N ≥ 2).

    N = 1: −ln|s − u|.
    N = 2: (1/2s) ln(u/|s − u|)  — Saxe et al. 2014, Eq. (11), with τ = 1.
    N = 3: with z = u^{1/3}, c = s^{1/3}:
           −1/(c³z) + [ln(z² + cz + c²) − 2 ln|z − c| − 2√3 atan((2z + c)/(√3 c))]/(6c⁴).
    N = 4: with z = u^{1/2}:  ½[−1/(sz) + ln((√s + z)/|√s − z|)/(2 s^{3/2})].
    Each is proved by differentiation in `theory.deep_linear_theorems`.
    """
    if depth == 1:
        return -math.log(abs(s - u))
    if depth == 2:
        return math.log(u / abs(s - u)) / (2.0 * s)
    if depth == 3:
        z, c = u ** (1.0 / 3.0), s ** (1.0 / 3.0)
        logs = math.log(z * z + c * z + c * c) - 2.0 * math.log(abs(z - c))
        angle = 2.0 * math.sqrt(3.0) * math.atan((2.0 * z + c) / (math.sqrt(3.0) * c))
        return -1.0 / (c**3 * z) + (logs - angle) / (6.0 * c**4)
    if depth == 4:
        z, r = math.sqrt(u), math.sqrt(s)
        return 0.5 * (-1.0 / (s * z) + math.log((r + z) / abs(r - z)) / (2.0 * s * r))
    raise ValueError(f"closed-form antiderivative only for depth 1…4, got {depth}")


def learning_time_quadrature(depth: int, s: float, u0: float, uf: float) -> float:
    """The general integral t = ∫_{u0}^{uf} du / (N u^{2−2/N}(s − u)) for N ≥ 3, by quadrature.

    Split exactly (p = 2/N − 1 < 0):  1/(N u^{2−2/N}(s − u)) = u^{p−1}/(Ns) + s^{p−1}/(N(s − u)) + h(u),
    h(u) = (u^p − s^p)/(Ns(s − u)).  The first two integrate in closed form; h is bounded at u = s
    (removable singularity) and integrably singular (like u^p) at 0, so `scipy.integrate.quad` handles it.
    """
    _check_depth(depth)
    if depth < 3:
        raise ValueError("quadrature form is for depth ≥ 3 (depth 1, 2 have elementary closed forms)")
    _check_interval(depth, s, u0, uf)
    if uf == s:
        return math.inf
    n = float(depth)
    p = 2.0 / n - 1.0
    power_part = (uf**p - u0**p) / (n * s * p)
    log_part = s ** (p - 1.0) / n * math.log(abs(s - u0) / abs(s - uf))

    def h(u: float) -> float:
        # (u^p − s^p)/(Ns(s − u)), with u^p − s^p = s^p expm1(p log1p((u − s)/s)) to avoid cancellation
        if u == s:
            return -p * s ** (p - 1.0) / (n * s)
        return s**p * math.expm1(p * math.log1p((u - s) / s)) / (n * s * (s - u))

    smooth, _ = integrate.quad(h, u0, uf, epsabs=0.0, epsrel=QUAD_RELATIVE_TOLERANCE, limit=200)
    return power_part + log_part + smooth


def small_init_time_leading(depth: int, s: float, u0: float) -> float:
    """Leading term of learning_time(depth, s, u0, uf) as u0 → 0⁺ (uf fixed in (0, s)):

    N = 1: ln(s/(s − uf)) stays finite (no divergence);  N = 2: ln(1/u0)/(2s) (logarithmic, Saxe et al. 2014
    Eq. 11);  N ≥ 3: u0^{−(N−2)/N}/(s(N − 2)) (a power of 1/u0).  The difference to the exact time stays
    bounded as u0 → 0 (proved in `theory.deep_linear_theorems` for N = 2, 3, 4).
    """
    _check_depth(depth)
    if depth == 1:
        return 0.0
    if depth == 2:
        return math.log(1.0 / u0) / (2.0 * s)
    return u0 ** (-(depth - 2.0) / depth) / (s * (depth - 2.0))


def _check_depth(depth: int) -> None:
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth}")


def _check_interval(depth: int, s: float, u0: float, uf: float) -> None:
    if depth >= 2 and not (s > 0 and u0 > 0 and uf > 0):
        raise ValueError("balanced chains of depth ≥ 2 need s, u0, uf > 0")
    lo, hi = min(u0, s), max(u0, s)
    if u0 == s and uf != s:
        raise ValueError("u0 = s is a fixed point: no other uf is reached")
    if not (lo <= uf <= hi):
        raise ValueError(f"uf = {uf} is not between u0 = {u0} and s = {s}: the flow never reaches it")
