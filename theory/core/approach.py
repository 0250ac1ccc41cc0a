"""Limits of functions that jump, taken numerically by approaching the point: evidence independent of SymPy's `limit`.

SymPy's `limit` evaluates a jump *at* the point instead of beside it: a Piecewise condition, a Heaviside, a
KroneckerDelta or a floor of the limit's variable is decided at x = a, not on the side the limit comes from:

    limit(Piecewise((1, x > 0), (2, True)), x, 0, "+") = 2               (the limit is 1)
    limit(Piecewise((0, x <= 0), (x, True))/x, x, 0, "+") = 0           (the limit is 1: ReLU(x)/x)
    limit(Heaviside(sin(x)), x, pi, "+") = 1/2                           (the limit is 0)

and the numeric rung, which evaluated the same `limit`, agreed with it: false steps were PROVED.
`approached(limit)` evaluates f(a ± h) exactly for h = 2⁻⁴⁰, 2⁻⁷⁰, 2⁻¹⁰⁰ from the limit's side(s), each to
`DIGITS` digits, and keeps the value only if the last two agree (to as many digits as they agree, at least
`MIN_DIGITS`, and both sides alike for a two-sided limit); otherwise the limit is undecided here
(`Unsettled`), which is no evidence either way.  A Float never certifies anything by itself: this is the
numeric rung's value, compared with the claimed one.  Used for a limit at a finite point whose function has a
jump in it (`has_jumps`); other limits are left to SymPy.  The exact rungs do not evaluate such a limit at all
(`theory.core.check`): SymPy's value of it certifies nothing, and refutes nothing either.
"""

from __future__ import annotations

import math

import sympy as sp

from theory.core.cost import TooLarge

# functions that jump (continuous kinks such as Abs, Max, Min are evaluated right at the point by continuity)
JUMPS: tuple[type, ...] = (sp.Piecewise, sp.Heaviside, sp.sign, sp.floor, sp.ceiling, sp.frac, sp.Mod, sp.arg,
                           sp.DiracDelta, sp.KroneckerDelta, sp.atan2)
STEPS = (40, 70, 100)  # h = 2^-k: the last two must agree
DIGITS = 60  # working precision of each evaluation
MIN_DIGITS = 8  # fewer agreeing digits: the values have not settled
MAX_DIGITS = 25  # the value is given to at most this many digits (h = 2^-100 is 30 digits from the point)


class Unsettled(TooLarge):
    """The values near the point did not settle: no value for the limit here (like an evaluation that cannot be
    afforded, no evidence either way)."""


def has_jumps(f: sp.Basic) -> bool:
    """Whether `f` holds a function that may jump, or a condition (where SymPy's `limit` misjudges)."""
    return bool(f.has(*JUMPS)) or bool(f.atoms(sp.core.relational.Relational))


def approachable(e: sp.Basic) -> bool:
    """A limit at a finite number of a function of its variable alone, with a jump in it."""
    if not isinstance(e, sp.Limit):
        return False
    f, x, a, _ = e.args
    return bool(a.is_number and a.is_finite and f.free_symbols <= {x} and has_jumps(f))


def _near(f: sp.Basic, x: sp.Symbol, a: sp.Basic, side: int) -> list[sp.Float]:
    values = []
    for k in STEPS:
        v = sp.N(f.subs(x, a + side * sp.Integer(2) ** -k), DIGITS)
        if not v.is_number or v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or v.is_extended_real is None:
            raise Unsettled(f"{f} is not a finite number at {x} = {a} {'+' if side > 0 else '-'} 2^-{k}")
        values.append(v)
    return values


def limit_of_a_jump(*exprs: object) -> bool:
    """Whether any of `exprs` holds a limit of a function with a jump (whose SymPy value is not to be trusted)."""
    return any(isinstance(e, sp.Basic) and any(has_jumps(limit.args[0]) for limit in e.atoms(sp.Limit))
               for e in exprs)


def _agreeing_digits(u: sp.Float, v: sp.Float) -> int:
    """The digits u and v agree to, less two (relative to max(1, |v|)); MAX_DIGITS where they are equal."""
    gap = abs(sp.N(v - u, DIGITS))
    return MAX_DIGITS if gap == 0 else math.floor(-math.log10(float(gap / max(1, abs(v))))) - 2


def approached(e: sp.Limit) -> sp.Float:
    """The value of the limit `e` from its side(s), numerically (module docstring); `Unsettled` if none."""
    f, x, a, direction = e.args
    sides = {"+": (1,), "-": (-1,), "+-": (1, -1)}.get(str(direction))
    if sides is None:
        raise Unsettled(f"unknown direction {direction}")
    ends = []
    digits = MAX_DIGITS
    for side in sides:
        *_, before, last = _near(f, x, a, side)
        digits = min(digits, _agreeing_digits(before, last))
        ends.append(last)
    if len(ends) == 2:
        digits = min(digits, _agreeing_digits(*ends))
    if digits < MIN_DIGITS:
        raise Unsettled(f"the values of {f} near {x} = {a} did not settle")
    value = ends[0]
    if abs(value) < sp.Float(10) ** -digits:
        return sp.Float(0)
    return sp.Float(value, digits)
