"""Concrete sums, products and integrals at an instance, independently of SymPy's symbolic conventions.

**Empty sums and products.**  SymPy follows Karr's convention for reversed limits,
``Σ_{i=a}^{b} f(i) = −Σ_{i=b+1}^{a−1} f(i)`` when b < a (Karr, "Summation in finite terms",
J. ACM 28 (1981), Eq. (1.4)), so that ``Σ_{i=1}^{m} 1 = m`` holds for *every* integer m, and
``Π_{i=1}^{m} 2 = 2^m`` likewise.  The usual convention, which the project's statements mean, is
that a sum over an empty range (b < a) is 0 and a product over one is 1.  `usual_sums` rewrites
every sum and product whose limits are concrete numbers by the usual convention before SymPy
evaluates it; an outer range whose inner limits depend on it is unrolled (up to `UNROLL` terms).

**Definite integrals** with concrete limits and an integrand in the integration variable alone
are evaluated by quadrature (mpmath's tanh–sinh `quad` on the lambdified integrand), never by
SymPy's integrator, and split at the integrand's critical points inside the interval
(`theory.core.critical`: kinks, jumps of floor/ceiling/frac at every integer crossing,
singularities of tan, …): the numeric rung then contradicts a wrong antiderivative instead of
sharing it with the exact rung.  The value is a Float whose precision is what the
quadrature's error estimate, and its agreement with a second quadrature at half the precision,
support (never more than `QUAD_DIGITS` − 5 digits): numeric evidence, never a proof.
Over several variables (a box with concrete bounds), the variables the integrand does not depend on give
their interval's length, a product of one-variable factors is integrated factor by factor, and otherwise two
or three variables are integrated at once (mpmath's product rule, no split): SymPy's
integrator was confirmed by itself there (∫₀¹∫₀^π atan(tan x) dx dy = −π²/2 was proved; it is 0).
An integral whose quadrature does not converge is left to SymPy (as before).
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from theory.core import critical

UNROLL = 200  # an outer range of at most this many terms is unrolled when inner limits depend on it
QUAD_DIGITS = 30  # working precision of the quadrature
MIN_DIGITS = 3  # below this many correct digits (by the error estimate) the quadrature is not used
MAX_BREAKPOINTS = 64  # critical points at which one integral is split, at most
STEP_GRID = 257  # points at which the argument of floor/ceiling/frac is sampled to find its integer crossings


# ---- sums and products ----------------------------------------------------------------------------------------


def usual_sums(expr: sp.Basic) -> sp.Basic:
    """`expr` with every concrete sum or product over an empty range replaced by 0 or 1 (module docstring)."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum, sp.Product):
        return expr
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr.rows, expr.cols, [usual_sums(e) for e in expr])
    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)) and _outer_concrete(e), _usual)


CONVERGENCE_SECONDS = 2.0  # CPU seconds for SymPy's convergence tests of one infinite sum or product


def diverges(e: sp.Sum | sp.Product) -> bool:
    """Whether the infinite sum Σ aₖ or product Π pₖ `e` (one index) provably diverges; a product that tends to 0
    diverges too (Π(1 − 1/k)).  False when this cannot be shown within `CONVERGENCE_SECONDS` of CPU time.

    Two tests, both exact: the term test (|aₖ| ↛ 0, |pₖ| ↛ 1: Σ(−1)ᵏ, Π 2), and SymPy's convergence tests, trusted
    only for terms of one sign (aₖ ≥ 0, or pₖ − 1 ≥ 0, or ≤ 0) — for terms of changing sign they are wrong
    (SymPy 1.14 says Σ sin(k)/k diverges; it converges to (π − 1)/2, Dirichlet's test)."""
    from theory.core.ladder import Timeout, time_limit  # (ladder imports the modules that import this one)

    if len(e.limits) != 1 or len(e.limits[0]) != 3:
        return False
    k, a, b = e.limits[0]
    if not (a.is_finite and b is sp.oo):
        return False
    term = e.function - 1 if isinstance(e, sp.Product) else e.function
    index = sp.Dummy("k", integer=True, positive=True)
    shifted = term.xreplace({k: index + a - 1})  # the terms from the lower bound on, over k = 1, 2, …
    try:
        with time_limit(CONVERGENCE_SECONDS):
            size = sp.limit(sp.Abs(shifted), index, sp.oo)
            if size.is_extended_real and size.is_zero is False:  # (an AccumBounds or a Limit left: unknown)
                return True
            if not (shifted.is_nonnegative or shifted.is_nonpositive):
                return False
            return e.is_convergent() is sp.S.false
    except (Timeout, NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        return False


def _bounds_concrete(limit: tuple[sp.Basic, ...]) -> bool:
    return len(limit) == 3 and bool(limit[1].is_number) and bool(limit[2].is_number)


def _outer_concrete(e: sp.Basic) -> bool:
    return _bounds_concrete(tuple(e.limits[-1]))


def _empty(limit: tuple[sp.Basic, ...]) -> bool:
    _, a, b = limit
    return bool((b - a).is_negative)


def _usual(e: sp.Sum | sp.Product) -> sp.Basic:
    identity = sp.S.Zero if isinstance(e, sp.Sum) else sp.S.One
    limits = [tuple(limit) for limit in e.limits]
    if all(_bounds_concrete(limit) for limit in limits):
        if any(_empty(limit) for limit in limits):
            return identity
        if not _inner_depends(e.function, {limit[0] for limit in limits}):
            return e
    variable, a, b = limits[-1]
    if _empty(limits[-1]):
        return identity
    count = b - a + 1
    if not (count.is_Integer and int(count) <= UNROLL and all(x.is_finite for x in (a, b))):
        return e  # cannot be unrolled: left to SymPy
    inner = e.func(e.function, *limits[:-1]) if len(limits) > 1 else e.function
    terms = [usual_sums(inner.xreplace({variable: a + j})) for j in range(int(count))]
    return sp.Add(*terms) if isinstance(e, sp.Sum) else sp.Mul(*terms)


def _inner_depends(function: sp.Basic, variables: set[sp.Basic]) -> bool:
    """Whether a sum or product inside `function` has limits that depend on the bound `variables`."""
    for node in sp.preorder_traversal(function):
        if isinstance(node, (sp.Sum, sp.Product)):
            for limit in node.limits:
                if any(bound.has(*variables) for bound in limit[1:]):
                    return True
    return False


# ---- integrals --------------------------------------------------------------------------------------------------


def numeric_integrals(expr: sp.Basic) -> sp.Basic:
    """`expr` with every concrete one-dimensional definite integral evaluated by quadrature (module docstring)."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Integral):
        return expr
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr.rows, expr.cols, [numeric_integrals(e) for e in expr])
    return expr.replace(_quadrable, _quadrature)


def _quadrable(e: sp.Basic) -> bool:
    if not isinstance(e, sp.Integral) or not e.limits or any(len(limit) != 3 for limit in e.limits):
        return False
    variables = {limit[0] for limit in e.limits}
    return bool(all(a.is_number and b.is_number for _, a, b in e.limits) and e.function.free_symbols <= variables
                and not e.function.has(sp.Integral, sp.Sum, sp.Product, sp.Limit, sp.Derivative))


MAX_DIMENSIONS = 3  # mpmath's quad integrates over at most three variables at once


def _quadrature(e: sp.Integral) -> sp.Basic:
    """A concrete definite integral (`_quadrable`) by quadrature, or `e` itself where the quadrature fails.

    Over several variables (SymPy writes ∫∫ f dx dy, nested or not, as one Integral with several limits) the
    variables the integrand does not depend on contribute their interval's length; one variable left is
    integrated as below (split at critical points), a product of factors each in one variable factor by factor,
    and otherwise two or three variables at once by mpmath's product rule (no split)."""
    if len(e.limits) > 1:
        length, kept = sp.S.One, []
        for variable, a, b in e.limits:
            if e.function.has(variable):
                kept.append((variable, a, b))
            else:
                length *= b - a
        if not kept:
            return length * e.function
        if len(kept) == 1:
            inner = _quadrature(sp.Integral(e.function, kept[0]))
            return e if isinstance(inner, sp.Integral) else length * inner
        separate = _separated(e.function, kept)
        if separate is not None:  # f(x)·g(y)·…: each factor over its own variable, split at its critical points
            values = [_quadrature(sp.Integral(factor, limit)) for factor, limit in separate]
            if any(isinstance(v, sp.Integral) for v in values):
                return e
            product = sp.Mul(*values)  # to the digits of its least precise factor (SymPy keeps the most precise's)
            floats = set().union(*(v.atoms(sp.Float) for v in values))
            if floats:
                product = sp.N(product, min(mpmath.libmp.prec_to_dps(f._prec) for f in floats))
            return length * product
        if len(kept) > MAX_DIMENSIONS:
            return e
        try:
            f = sp.lambdify([limit[0] for limit in kept], e.function, modules="mpmath")
        except Exception:  # SymPy evaluates it, as before
            return e
        inner = _by_quadrature(f, [[a, b] for _, a, b in kept], QUAD_DIGITS // 2)  # (a box: fewer digits, faster)
        return e if inner is None else length * inner
    variable, a, b = e.limits[0]
    if a == b:
        return sp.S.Zero
    sign = 1
    if (b - a).is_negative:
        a, b, sign = b, a, -1
    try:
        f = sp.lambdify(variable, e.function, modules="mpmath")
        cuts = breakpoints(e.function, variable, a, b)
    except Exception:  # any failure of the quadrature: SymPy evaluates it, as before
        return e
    value = _by_quadrature(f, [[a, *cuts, b]], QUAD_DIGITS)
    return e if value is None else sign * value


def _by_quadrature(f: object, ranges: list[list[sp.Basic]], dps: int) -> sp.Basic | None:
    """∫ f over `ranges` (one list of nodes per variable, the first innermost: mpmath's `quad`) at `dps` digits,
    as a Float of the digits its error estimate and a second quadrature at half the precision support (at most
    dps − 5); exactly 0 when it is zero within an error below 10^(−dps/2); None where the quadrature fails or does
    not converge (a divergent integral's value depends on the precision)."""
    try:
        with mpmath.workdps(dps):
            nodes = [[_mp(v) for v in r] for r in ranges]
            value, error = mpmath.quad(f, *nodes, error=True)
        with mpmath.workdps(dps // 2):
            lower = mpmath.quad(f, *nodes)
        with mpmath.workdps(dps):
            error = max(error, abs(value - lower))
    except Exception:  # any failure of the quadrature: SymPy evaluates it, as before
        return None
    if not (mpmath.isfinite(value) and mpmath.isfinite(error)):
        return None
    error = max(error, mpmath.mpf(10) ** -dps * max(1, abs(value)))
    if abs(value) <= error * 10**MIN_DIGITS:
        return sp.Float(0) if error < mpmath.mpf(10) ** -(dps // 2) else None  # zero within the error
    digits = min(dps - 5, math.floor(mpmath.log10(abs(value) / error)) - 2)
    if digits < MIN_DIGITS:
        return None
    if isinstance(value, mpmath.mpc):
        return sp.Float(value.real, digits) + sp.I * sp.Float(value.imag, digits)
    return sp.Float(value, digits)


def _separated(function: sp.Basic, limits: list[tuple[sp.Basic, sp.Basic, sp.Basic]]
               ) -> list[tuple[sp.Basic, tuple[sp.Basic, sp.Basic, sp.Basic]]] | None:
    """`function` as a product of one factor per limit's variable (each in that variable alone), or None."""
    factors: dict[sp.Basic, sp.Basic] = {limit[0]: sp.S.One for limit in limits}
    constant = sp.S.One
    for factor in sp.Mul.make_args(sp.expand_power_base(function, force=False)):
        inside = [v for v in factors if factor.has(v)]
        if len(inside) > 1:
            return None
        if inside:
            factors[inside[0]] *= factor
        else:
            constant *= factor
    first = limits[0][0]
    factors[first] *= constant
    return [(factors[limit[0]], limit) for limit in limits]


def _mp(v: sp.Basic) -> mpmath.mpf:
    if v is sp.oo:
        return mpmath.inf
    if v is sp.S.NegativeInfinity:
        return -mpmath.inf
    return mpmath.mpmathify(str(sp.N(v, QUAD_DIGITS + 5)))


def breakpoints(function: sp.Basic, variable: sp.Symbol, a: sp.Basic, b: sp.Basic) -> list[sp.Basic]:
    """Critical points of `function` strictly inside (a, b), sorted: where quadrature must split."""
    a, b = sp.sympify(a), sp.sympify(b)
    window = sp.Interval(a, b)
    found: list[sp.Basic] = []
    for expr in critical.critical_expressions([function], {variable}):
        exact, approx = critical.zeros(expr, variable, window, keep=MAX_BREAKPOINTS)
        found += exact + approx
    for node in sp.preorder_traversal(function):
        if isinstance(node, (sp.floor, sp.ceiling, sp.frac, sp.Mod)):
            found += _integer_crossings(node, variable, a, b)
    inside = []
    for v in dict.fromkeys(found):
        try:
            if (v - a).is_positive and (b - v).is_positive:
                inside.append(v)
        except TypeError:
            continue
    inside.sort(key=lambda v: float(sp.N(v)))
    return inside[:MAX_BREAKPOINTS]


def _integer_crossings(node: sp.Basic, variable: sp.Symbol, a: sp.Basic, b: sp.Basic) -> list[sp.Basic]:
    """Where the argument of a stepped function crosses an integer inside [a, b] (bounded in number)."""
    g = node.args[0] / node.args[1] if isinstance(node, sp.Mod) else node.args[0]
    if not g.has(variable) or not (a.is_finite and b.is_finite):
        return []
    try:
        gf = sp.lambdify(variable, g, modules="mpmath")
        lo, hi = _mp(a), _mp(b)
        values = [gf(lo + (hi - lo) * k / (STEP_GRID - 1)) for k in range(STEP_GRID)]
        low, high = int(mpmath.floor(min(values))), int(mpmath.ceil(max(values)))
    except Exception:  # not evaluable on the interval: no crossings found
        return []
    if high - low > MAX_BREAKPOINTS:
        return []
    window = sp.Interval(a, b)
    found: list[sp.Basic] = []
    for k in range(low, high + 1):
        exact, approx = critical.zeros(g - k, variable, window, keep=MAX_BREAKPOINTS)
        found += exact + approx
    return found
