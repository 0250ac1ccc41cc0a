"""Derivatives at kinks: refuse SymPy's conventions where a derivative does not exist.

SymPy differentiates |x| to sign(x) and max(0, x) to Heaviside(x), and evaluates
sign(0) = 0 and Heaviside(0) = ½.  At the kink those are conventions, not
derivatives: |x| has no derivative at 0.  A step that evaluates a derivative of a
function with kinks or jumps (`Abs`, `Max`, `Min`, `Heaviside`, `sign`, `floor`, `ceiling`,
`frac`, `Mod`, `arg`, `atan2`, `KroneckerDelta`, `Piecewise`, `DiracDelta`, and `re`, `im`, `conjugate`, which are not
complex-differentiable off the real line) at a concrete point is accepted only if both
one-sided difference quotients there have the same finite limit, and SymPy's value
equals it; otherwise the derivative does not exist (or SymPy's convention is not
the derivative) and the step fails.

The one-sided limits are computed exactly (`sympy.limit` from each side, under a
CPU-time limit), and a finite one is kept only if the quotient's values approaching
the point settle on it (`theory.core.approach`).  Where SymPy cannot take them, or
the values disagree, the check refuses the step: a derivative whose existence cannot
be shown is not accepted.
"""

from __future__ import annotations

import sympy as sp

from theory.core import approach
from theory.core.ladder import Timeout, time_limit
from theory.core.numbers import compare

KINKED: tuple[type, ...] = (
    sp.Abs,
    sp.Max,
    sp.Min,
    sp.Heaviside,
    sp.sign,
    sp.floor,
    sp.ceiling,
    sp.frac,
    sp.Piecewise,
    sp.DiracDelta,
    sp.Mod,
    sp.arg,
    sp.re,
    sp.im,
    sp.conjugate,
    sp.atan2,
    sp.KroneckerDelta,
)
LIMIT_SECONDS = 2.0  # CPU seconds for each one-sided limit


def has_kinks(expr: sp.Basic) -> bool:
    return bool(expr.has(*KINKED))


def derivative_at_kink(expr: sp.Basic) -> str | None:
    """A reason to refuse `expr`, if it evaluates a derivative where the derivative does not exist."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Subs):
        return None
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Subs) and isinstance(node.expr, sp.Derivative) and has_kinks(node.expr.expr):
            point = dict(zip(node.variables, node.point, strict=True))
            if all(v.is_number for v in point.values()):
                problem = _one_sided_check(node, point)
                if problem:
                    return problem
    return None


def _at_a_kink(g: sp.Basic, point: dict[sp.Basic, sp.Basic]) -> bool:
    """Whether some kinked function in `g` sits exactly at its kink at `point` (undecidable counts as yes).

    Away from every kink the function is smooth near the point, so SymPy's derivative is the derivative.
    """
    for node in sp.preorder_traversal(g):
        if not isinstance(node, KINKED):
            continue
        try:
            if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta)):
                if _vanishes(node.args[0], point):
                    return True
            elif isinstance(node, sp.arg):  # jumps at 0 on the real line; not differentiable off it
                value = node.args[0].subs(point)
                if _vanishes(value, {}) or value.is_extended_real is not True:
                    return True
            elif isinstance(node, (sp.re, sp.im, sp.conjugate)):  # smooth only where the argument stays real
                value = node.args[0].subs(point)
                if value.is_extended_real is not True:
                    return True
            elif isinstance(node, sp.Mod):
                value = (node.args[0] / node.args[1]).subs(point)
                if not value.is_number or value.is_integer is not False:
                    return True
            elif isinstance(node, (sp.Max, sp.Min)):
                values = [a.subs(point) for a in node.args]
                if any(_vanishes(u - v, {}) for j, u in enumerate(values) for v in values[j + 1:]):
                    return True
            elif isinstance(node, (sp.floor, sp.ceiling, sp.frac)):
                value = node.args[0].subs(point)
                if not value.is_number or value.is_integer is not False:
                    return True
            elif isinstance(node, sp.Piecewise):
                for _, condition in node.args:
                    if isinstance(condition, sp.core.relational.Relational):
                        if _vanishes(condition.lhs - condition.rhs, point):
                            return True
                    elif condition not in (sp.true, sp.false):
                        return True
            else:
                return True  # a kinked function without a rule here: check it at the point
        except (TypeError, ValueError):
            return True
    return False


def _vanishes(expr: sp.Basic, point: dict[sp.Basic, sp.Basic]) -> bool:
    """Whether `expr` is 0 at `point` (or that cannot be ruled out)."""
    value = expr.subs(point) if point else expr
    if not value.is_number:
        return True
    return compare(value, 0).verdict in ("equal", "agree", "undecided")


def _one_sided_check(node: sp.Subs, point: dict[sp.Basic, sp.Basic]) -> str | None:
    derivative: sp.Derivative = node.expr
    g: sp.Basic = derivative.expr
    if not _at_a_kink(g, point):
        return None
    common: sp.Basic | None = None
    for variable, count in derivative.variable_count:
        for _ in range(int(count)):
            if variable not in point:
                return None  # not evaluated at a point in this variable
            a = point[variable]
            others = {s: v for s, v in point.items() if s != variable}
            g_at = g.subs(others)
            if g_at.free_symbols - {variable}:
                return f"cannot check the derivative of {g} at the kink: other symbols remain"
            h = sp.Dummy("h", positive=True)
            at_a = g_at.subs(variable, a)
            right = _limit((g_at.subs(variable, a + h) - at_a) / h, h)
            left = _limit((at_a - g_at.subs(variable, a - h)) / h, h)
            where = f"d/d{variable} of {g_at} at {variable} = {a}"
            if left is None or right is None:
                return f"{where}: the one-sided difference quotients could not be computed, so the derivative " \
                       "is not shown to exist"
            if not (left.is_finite and right.is_finite):
                return f"{where} does not exist: one-sided difference quotients tend to {left} and {right}"
            if compare(left, right).verdict not in ("equal", "agree"):
                return f"{where} does not exist: the one-sided difference quotients tend to {left} and {right}"
            common = right
            g = sp.diff(g, variable)
    if common is not None:
        sympy_value = node.doit()
        if sympy_value.has(sp.nan, sp.zoo) or compare(sympy_value, common).differs:
            return f"SymPy's value {sympy_value} of {derivative} at {point} is a convention, not the derivative " \
                   f"({common})"
    return None


def _limit(quotient: sp.Basic, h: sp.Dummy) -> sp.Basic | None:
    """lim_{h→0+} of a difference quotient, by SymPy, kept only if the quotient's values approaching 0 settle on
    it (`theory.core.approach`): SymPy's `limit` decides a jump at the point, not beside it (the right quotient of
    ReLU written as Piecewise((0, exp(x) <= 1), (x, True)) at 0 came out 0, not 1)."""
    try:
        with time_limit(LIMIT_SECONDS):
            value = sp.limit(quotient, h, 0, "+")
            if value.has(sp.Limit, sp.nan) or (not value.is_number and value not in (sp.oo, -sp.oo, sp.zoo)):
                return None
            if value.is_finite:
                near = approach.approached(sp.Limit(quotient, h, 0, "+"))
                if compare(value, near).verdict not in ("equal", "agree"):
                    return None
    except (Timeout, NotImplementedError, ValueError, TypeError):  # (approach.Unsettled is a ValueError)
        return None
    return value
