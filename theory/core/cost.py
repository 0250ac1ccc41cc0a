"""What exact arithmetic cannot afford: powers whose exact value (or expansion) would not fit in time or memory.

SymPy evaluates a power of a number at once and exactly: ``2**(10**100)`` at the sample x = 2 of
``x**(10**100)``, ``(1 + 10⁻³⁰⁰)**(10**300)``, or ``2**(2**(2**(2**x)))`` at x = 3 would each build an
integer of more bits than the machine has, in one call to GMP that no time limit interrupts, and
``expand((x + 1)**(10**6))`` would build a million terms with huge binomial coefficients.  `verify` must
return with an honest status instead:

- **numeric rung**: a power of a number (not 0 or ±1) whose exponent exceeds `EXACT_POWER_LIMIT` in
  magnitude, or whose exact value would need more than `EXACT_BITS` bits, is not computed exactly: the
  instance is substituted without evaluation (`huge_power` decides on the unevaluated tree, bounding the
  exponent with ball arithmetic) and returned inside an `UnevaluatedExpr`, which `theory.core.numbers`
  decides with certified ball arithmetic (Arb computes b^k for any k in a few squarings at fixed precision);
- **exact rungs**: a side holding such a power of a number (`exact_unaffordable`) is not evaluated
  exactly (`TooLarge`), and the rewrite rungs skip a side holding a power of a sum with an exponent above
  `EXPANSION_LIMIT` (`expansion_unaffordable`): the step is then decided by the other engines, or numerically
  (checked at best), never by a computation that cannot finish.
"""

from __future__ import annotations

import math

import sympy as sp
from flint import ctx

EXACT_POWER_LIMIT = 10**5  # |exponent| above which a power of a number is not computed exactly
EXACT_BITS = 10**7  # … nor one whose exact value would need more bits than this (|k|·log₂|b|)
EXPANSION_LIMIT = 1000  # a power of a sum with a larger integer exponent is never expanded by a rewrite rung


class TooLarge(ValueError):
    """An exact evaluation that cannot be afforded (see module docstring)."""


def _magnitude(e: sp.Basic) -> float | None:
    """An upper bound of |e| (a float, possibly inf), from a ball enclosure; None if it cannot be enclosed."""
    from theory.core.numbers import _ball  # (numbers is a leaf module; imported late to keep this one light)

    if e.is_Rational:
        return float(abs(e)) if abs(e.p) < 2**1000 and e.q < 2**1000 else math.inf
    ball = _ball(e, 64)
    if ball is None or not ball.is_finite():
        return None if ball is None else math.inf
    old = ctx.prec
    try:
        return float(ball.abs_upper())
    except (OverflowError, ValueError):
        return math.inf
    finally:
        ctx.prec = old


def _log2_magnitude(e: sp.Basic) -> float | None:
    from theory.core.numbers import _ball

    if e.is_Rational:
        return float(max(abs(e.p).bit_length(), e.q.bit_length()))
    ball = _ball(e, 64)
    if ball is None or not ball.is_finite():
        return None
    try:
        upper = ball.abs_upper()
        return float(upper.log()) / math.log(2) if upper > 1 else 1.0
    except (OverflowError, ValueError, TypeError):
        return math.inf


def _trivial_base(base: sp.Basic) -> bool:
    """The base is exactly 0, 1 or −1 (decided by an exact ball: Arb returns a zero radius only for exact values)."""
    from theory.core.numbers import _ball

    ball = _ball(base, 64)
    if ball is None or not ball.is_exact():
        return False
    return any(ball == value for value in (0, 1, -1))


def _huge_node(node: sp.Basic) -> bool:
    if not isinstance(node, sp.Pow) or node.free_symbols:
        return False
    base, exp = node.args
    if base in (sp.S.Zero, sp.S.One, sp.S.NegativeOne) or (exp.is_Integer and abs(int(exp)) <= 64):
        return False
    if _trivial_base(base):
        return False  # 0, 1 or −1 to any power is cheap
    size = _magnitude(exp)
    if size is None:
        return False  # cannot be bounded: SymPy evaluates it as before
    if size > EXACT_POWER_LIMIT:
        return True
    bits = _log2_magnitude(base)
    return bits is not None and size * bits > EXACT_BITS


def may_be_huge(expr: sp.Basic) -> bool:
    """Whether `expr` has a power whose exponent is not a small integer (cheap; `huge_power` decides)."""
    if not isinstance(expr, sp.Basic):
        return False
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow):
            exp = node.exp
            if not (exp.is_Integer and abs(int(exp)) <= EXACT_POWER_LIMIT) and not exp.is_Rational:
                return True
            if exp.is_Rational and abs(exp) > EXACT_POWER_LIMIT:
                return True
    return False


def huge_power(expr: sp.Basic) -> bool:
    """Whether the (unevaluated, symbol-free where it matters) `expr` holds a power of a number that exact
    arithmetic cannot afford."""
    if not isinstance(expr, sp.Basic):
        return False
    return any(_huge_node(node) for node in sp.preorder_traversal(expr))


def exact_unaffordable(expr: sp.Basic) -> bool:
    """A side that exact evaluation (`doit`, a `Subs` at its point) would turn into an unaffordable power."""
    if not isinstance(expr, sp.Basic) or not may_be_huge(expr):
        return False
    if huge_power(expr):
        return True
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Subs):
            try:
                with sp.evaluate(False):
                    trial = node.expr.xreplace(dict(zip(node.variables, node.point, strict=True)))
            except (ValueError, TypeError):  # a derivative's variable replaced by an expression: not a power
                continue
            if huge_power(trial):
                return True
    return False


def expansion_unaffordable(expr: sp.Basic) -> bool:
    """A power of a sum with symbols and an integer exponent above `EXPANSION_LIMIT` (expand would explode)."""
    if not isinstance(expr, sp.Basic):
        return False
    for node in sp.preorder_traversal(expr):
        if (isinstance(node, sp.Pow) and node.exp.is_Integer and abs(int(node.exp)) > EXPANSION_LIMIT
                and isinstance(node.base, sp.Add) and node.base.free_symbols):
            return True
    return False
