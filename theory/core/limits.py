"""A limit never looks at its point: Piecewise conditions that hold on finitely many points, made explicit.

lim_{x→a} f(x) depends only on f on a punctured neighbourhood of a (or a neighbourhood of ±∞).  On such a
neighbourhood, small enough, a condition ``Eq(p(x), 0)`` for a nonzero polynomial p (finitely many roots) is
false and ``Ne(p(x), 0)`` true.  SymPy's `limit` evaluates them *at* the point instead:

    limit(Piecewise((1, Ne(x, 0)), (0, True)), x, 0) = 0          (the limit is 1)
    limit(Piecewise((5, Eq(x, 2)), (x, True)), x, 2) = 5            (the limit is 2)

so "lim_{x→0} [x ≠ 0] = 0" was proved by SymPy, and z3 and the numeric rung (which evaluate the same limit)
agreed.  `punctured(expr)` rewrites every such condition inside a `Limit` before anything evaluates it; the
rewrite is exact (it changes f only on finitely many points, none of which the limit sees).
"""

from __future__ import annotations

import sympy as sp


def _isolated(condition: sp.Basic, variable: sp.Symbol) -> bool:
    """Whether ``condition`` (Eq/Ne) says p(variable) = 0 for a polynomial p of positive degree with number
    coefficients (which vanishes at finitely many points)."""
    if not isinstance(condition, (sp.Eq, sp.Ne)):
        return False
    try:
        difference = condition.lhs - condition.rhs
        if not isinstance(difference, sp.Expr) or variable not in difference.free_symbols:
            return False
        poly = sp.Poly(difference, variable)
    except (sp.PolynomialError, TypeError, ValueError):
        return False
    return poly.degree() > 0 and all(c.is_number for c in poly.all_coeffs()) and not poly.is_zero


def _off_the_point(function: sp.Basic, variable: sp.Symbol) -> sp.Basic:
    def rewrite(e: sp.Basic) -> sp.Basic:
        return sp.false if isinstance(e, sp.Eq) else sp.true

    return function.replace(lambda e: _isolated(e, variable), rewrite)


def punctured(expr: object) -> object:
    """`expr` with each `Limit`'s function rewritten off its point (module docstring); other values unchanged."""
    if isinstance(expr, dict):
        return {punctured(k): punctured(v) for k, v in expr.items()}
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Limit):
        return expr

    def fix(limit: sp.Limit) -> sp.Basic:
        function, variable, point, direction = limit.args
        new = _off_the_point(function, variable)
        return limit if new == function else sp.Limit(new, variable, point, str(direction))

    return expr.replace(lambda e: isinstance(e, sp.Limit), fix)
