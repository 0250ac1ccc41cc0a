"""Float evaluators of the deep linear chains' closed forms, and the numerics built on them (quadrature of the
general learning time, root finding for the trajectory), lambdified from `theory.learning_time` and
`theory.deep_linear`.

Conventions: a balanced scalar chain u = w^N with loss ½(s − u)² under gradient flow, time t = kη; its learning
time from u₀ to u_f is ∫ du/(N u^{2−2/N}(s − u)) (Saxe, McClelland & Ganguli, ICLR 2014, Eq. (11) for N = 2;
Arora, Cohen & Hazan, ICML 2018, the end-to-end ODE).  The theorems write ln(s − u); its derivative is that of
ln|s − u|, so the float forms take the logarithm of the absolute value (`_absolute_logs`), which covers starts on
either side of s.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Callable
from typing import Any

import sympy as sp
from scipy import integrate, optimize

from theory import deep_linear as dl
from theory import learning_time as lt

QUAD_RELATIVE_TOLERANCE = 1e-12  # scipy.integrate.quad epsrel for the smooth remainder of the split integral


def _absolute_logs(expr: sp.Expr) -> sp.Expr:
    """ln x → ln|x|: the same derivative, defined on both sides of a pole."""
    return expr.replace(sp.log, lambda arg: sp.log(sp.Abs(arg)))


_antiderivatives: dict[int, Callable[[float, float], float]] = {
    1: sp.lambdify((lt.s, lt.u), _absolute_logs(lt.G1), "math"),
    2: sp.lambdify((lt.s, lt.u), _absolute_logs(lt.G2), "math"),
    4: sp.lambdify((lt.s, lt.u), _absolute_logs(lt.G4), "math"),
}
_g3 = sp.lambdify((lt.z, lt.c), _absolute_logs(lt.G3_z), "math")  # in z = u^{1/3}, c = s^{1/3}
_power_part = sp.lambdify((lt.u, lt.s, lt.N), lt.POWER_PART, "math")
_lead = sp.lambdify((lt.u0, lt.s, lt.N), lt.SMALL_INIT_LEAD, "math")
_lead_2 = sp.lambdify((lt.u0, lt.s), lt.SMALL_INIT_LEAD_2, "math")
_rate = sp.lambdify((dl.N_, dl.u_, dl.s_), dl.RATE, "math")
_saxe = sp.lambdify((dl.s_, dl.u0_, dl.t_), dl.saxe_two_layer_trajectory(), "mpmath")  # no overflow of e^{2st}


def check_depth(depth: int) -> None:
    if int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth}")


def check_interval(depth: int, s: float, u0: float, uf: float) -> None:
    """ValueError unless the flow from u0 reaches uf (between u0 and s; positive values for depth ≥ 2)."""
    if not all(math.isfinite(v) for v in (s, u0, uf)):
        raise ValueError("s, u0 and uf must be finite")
    if depth >= 2 and not (s > 0 and u0 > 0 and uf > 0):
        raise ValueError("balanced chains of depth ≥ 2 need s, u0, uf > 0")
    if u0 == s and uf != s:
        raise ValueError("u0 = s is a fixed point: no other uf is reached")
    if not (min(u0, s) <= uf <= max(u0, s)):
        raise ValueError(f"uf = {uf} is not between u0 = {u0} and s = {s}: the flow never reaches it")


def end_to_end_rate(depth: int, u: float, s: float) -> float:
    """du/dt = N u^{2 − 2/N}(s − u) of the balanced depth-N chain (u > 0 for N ≥ 2; loss ½(s − u)², t = kη)."""
    check_depth(depth)
    if depth >= 2 and u < 0:
        raise ValueError("a balanced chain of depth ≥ 2 has u = w^N ≥ 0")
    return float(_rate(depth, u, s))


def antiderivative(depth: int, s: float, u: float) -> float:
    """G_N(u) with dG_N/du = 1/(N u^{2−2/N}(s − u)), N = 1…4 (theorem `learning-time.closed-forms`)."""
    if depth == 3:
        return float(_g3(u ** (1.0 / 3.0), s ** (1.0 / 3.0)))
    if depth in _antiderivatives:
        return float(_antiderivatives[depth](s, u))
    raise ValueError(f"closed-form antiderivative only for depth 1…4, got {depth}")


def learning_time(depth: int, s: float, u0: float, uf: float) -> float:
    """Gradient-flow time t (= kη) for u to go from u0 to uf in the balanced depth-N chain, loss ½(s − u)².

    G_N(u_f) − G_N(u₀) for N ≤ 4, the split quadrature for N ≥ 5; uf = s gives inf (reached only
    asymptotically).  The residual chain from zero branch weights is u0 = 1 (`residual_learning_time`).
    """
    check_depth(depth)
    check_interval(depth, s, u0, uf)
    if uf == u0:
        return 0.0
    if uf == s:
        return math.inf
    if depth <= 4:
        return antiderivative(depth, s, uf) - antiderivative(depth, s, u0)
    return learning_time_quadrature(depth, s, u0, uf)


def learning_time_quadrature(depth: int, s: float, u0: float, uf: float) -> float:
    """t = ∫_{u0}^{uf} du/(N u^{2−2/N}(s − u)) for N ≥ 3, split as in `learning-time.closed-forms` (p = 2/N − 1):

    1/(N u^{2−2/N}(s − u)) = u^{p−1}/(Ns) + s^{p−1}/(N(s − u)) + h(u),  h(u) = (u^p − s^p)/(Ns(s − u)).

    The first term integrates to `POWER_PART` (lambdified), the second to −s^{p−1} ln|s − u|/N; h is bounded
    at u = s and integrably singular (like u^p) at 0, which u = y^N makes smooth for `scipy.integrate.quad`.
    """
    check_depth(depth)
    if depth < 3:
        raise ValueError("quadrature form is for depth ≥ 3 (depth 1, 2 have elementary closed forms)")
    check_interval(depth, s, u0, uf)
    if uf == s:
        return math.inf
    n = float(depth)
    p = 2.0 / n - 1.0
    power_part = float(_power_part(uf, s, depth)) - float(_power_part(u0, s, depth))
    log_part = s ** (p - 1.0) / n * math.log(abs(s - u0) / abs(s - uf))
    log_s = math.log(s)

    def h_y(y: float) -> float:
        # h(u) du = y(1 − (u/s)^{−p})/(s(s − u)) dy with u = y^N; in ℓ = ln(u/s): y expm1(−pℓ)/(s² expm1(ℓ))
        ell = n * math.log(y) - log_s
        if ell == 0.0:
            return -p * y / (s * s)
        return y * math.expm1(-p * ell) / (s * s * math.expm1(ell))

    smooth, _ = integrate.quad(h_y, u0 ** (1.0 / n), uf ** (1.0 / n), epsabs=0.0, epsrel=QUAD_RELATIVE_TOLERANCE,
                               limit=200)
    return power_part + log_part + smooth


@functools.cache
def _deep_density() -> Callable[[float, float], float]:
    """lim_{N→∞} N/(N u^{2−2/N}(s − u)) = 1/(u²(s − u)): the limit of N times the learning-time density
    (`learning-time.small-init-divergence`), taken by SymPy from theory's `integrand`, not typed."""
    limit = sp.limit(lt.N * lt.integrand(lt.N), lt.N, sp.oo)
    return typing.cast(Callable[[float, float], float], sp.lambdify((lt.u, lt.s), limit, "math"))


def deep_limit_time(s: float, u0: float, uf: float) -> float:
    """lim_{N→∞} N·t_N(u₀ → u_f) = ∫_{u₀}^{u_f} du/(u²(s − u)) (cf. Saxe et al. 2014, Eq. (17)): the depth-scaled
    learning time of a balanced chain in the limit of infinite depth, by quadrature (0 < u₀, u_f < s)."""
    if not (0 < u0 < s and 0 < uf < s):
        raise ValueError("need 0 < u0, uf < s")
    density = _deep_density()
    value, _ = integrate.quad(density, u0, uf, args=(s,), epsabs=0.0, epsrel=QUAD_RELATIVE_TOLERANCE, limit=200)
    return float(value)


def small_init_time_leading(depth: int, s: float, u0: float) -> float:
    """Leading term of the learning time as u0 → 0⁺ (uf fixed in (0, s)): 0 for N = 1 (finite), ln(1/u0)/(2s) for
    N = 2, u0^{−(N−2)/N}/(s(N − 2)) for N ≥ 3 (theorem `learning-time.small-init-divergence`)."""
    check_depth(depth)
    if depth == 1:
        return 0.0
    if depth == 2:
        return float(_lead_2(u0, s))
    return float(_lead(u0, s, depth))


def residual_learning_time(depth: int, s: float, uf: float) -> float:
    """Time for the residual chain w_i = 1 + a_i, a_i(0) = 0 (u(0) = 1), to reach uf: the plain chain's ODE from
    u0 = 1 (theorem `deep-linear.residual-same-ode`)."""
    return learning_time(depth, s, 1.0, uf)


def two_layer_trajectory(s: float, u0: float, t: float) -> float:
    """u(t) = s e^{2st}/(e^{2st} − 1 + s/u₀) for depth 2 (Saxe et al. 2014, Eq. (12), τ = 1, t = kη)."""
    return float(_saxe(s, u0, t))


def chain_trajectory(depth: int, s: float, u0: float, t: float) -> float:
    """u(t) of the balanced depth-N chain from u(0) = u0: the u with learning_time(depth, s, u0, u) = t (bracketing
    root search; the time is monotone in u between u0 and s).  Residual chain: u0 = 1."""
    check_depth(depth)
    if t < 0:
        raise ValueError("t must be nonnegative")
    if t == 0 or u0 == s:
        return u0
    if depth == 2:
        return two_layer_trajectory(s, u0, t)

    def gap(u: float) -> float:
        return learning_time(depth, s, u0, u) - t

    far = s - (s - u0) * 1e-3  # u(t) lies strictly between u0 and s; move the far end toward s until it brackets
    for _ in range(60):
        try:
            if gap(far) > 0:
                break
        except (ZeroDivisionError, ValueError):
            return s  # far is within rounding of s (u^{1/N} rounds to s^{1/N}): u(t) equals s in float64
        far = s - (s - far) * 1e-3
        if far == s:
            return s
    root: Any = optimize.brentq(gap, u0, far, xtol=1e-15, rtol=8.9e-16)
    return float(root)
