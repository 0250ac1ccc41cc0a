"""Deciding whether two symbol-free values differ: exactly, or with certified ball arithmetic.

The numeric rung of the ladder substitutes exact rational points into a step and
must then decide whether the two sides differ there.  No tolerance is involved:

1. both values rational (or Gaussian rational) → compared exactly;
2. otherwise the difference is enclosed in a complex *ball* with Arb (python-flint's
   `acb`: rigorous interval arithmetic with error bounds), at increasing precision:
   a ball that excludes 0 is a **certified** difference; a ball that keeps
   containing 0 with radius below 2^-(bits-16) at the highest precision means the
   values agree to that precision (evidence, never a proof);
3. an expression Arb cannot evaluate (a function it lacks) falls back to SymPy's
   adaptive-precision `evalf` at growing precision; a difference found that way is
   reported as *not certified* (it still fails the step: failing is the safe side).

`undefined(v)` says whether a value is undefined (nan, zoo, an unevaluated
division by zero): the callers decide what an undefined side means.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from flint import acb, arb, ctx

PRECISIONS = (128, 512, 2048)  # bits of Arb working precision, tried in turn (agreement must hold at two)
AGREE_SLACK_BITS = 16  # a ball of radius < 2^-(bits - slack) (relative) around 0 counts as agreement
EVALF_DIGITS = (30, 120, 480)  # fallback: SymPy evalf digits, tried in turn


class Verdict(enum.StrEnum):
    EQUAL = "equal"  # exactly equal (rational arithmetic)
    AGREE = "agree"  # agree to the working precision (numeric evidence)
    DIFFER = "differ"  # certified different (exact or ball arithmetic)
    DIFFER_UNCERTIFIED = "differ (uncertified)"  # different by adaptive evalf only
    UNDECIDED = "undecided"  # could not be decided


@dataclass(frozen=True)
class Comparison:
    verdict: Verdict
    how: str  # "exact", "arb 128 bits", "evalf 30 digits", ...
    difference: str = ""  # the difference (enclosure or value), printed

    @property
    def differs(self) -> bool:
        return self.verdict in (Verdict.DIFFER, Verdict.DIFFER_UNCERTIFIED)


def entry_pairs(a: sp.Basic, b: sp.Basic) -> list[tuple[sp.Basic, sp.Basic]] | None:
    """The pairs of entries to compare: two scalars, or two explicit matrices of one shape (a scalar 0 stands
    for a zero matrix); None when the shapes cannot match."""
    a_matrix, b_matrix = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
    if not a_matrix and not b_matrix:
        return [(a, b)]
    if a_matrix and b_matrix:
        return list(zip(a, b, strict=True)) if a.shape == b.shape else None
    matrix, other = (a, b) if a_matrix else (b, a)
    if other != 0:
        return None
    zero = sp.zeros(*matrix.shape)
    return list(zip(a if a_matrix else zero, b if b_matrix else zero, strict=True))


def undefined(value: sp.Basic) -> bool:
    """nan, zoo, or any undefined part (e.g. 1/0 inside a sum)."""
    if isinstance(value, sp.MatrixBase):
        return any(undefined(v) for v in value)
    return bool(value.has(sp.nan, sp.zoo)) or value is sp.nan


def compare(a: sp.Basic, b: sp.Basic) -> Comparison:
    """Decide whether the symbol-free scalars `a` and `b` differ (see module docstring)."""
    a, b = sp.sympify(a), sp.sympify(b)
    if a == b:
        return Comparison(Verdict.EQUAL, "structural")
    if _exact(a) and _exact(b):
        diff = sp.expand(a - b)
        return Comparison(Verdict.EQUAL if diff == 0 else Verdict.DIFFER, "exact", str(diff))
    if a.has(sp.oo, -sp.oo) or b.has(sp.oo, -sp.oo):
        # signed infinities: equal only if identical (oo vs -oo, or oo vs a number, differ)
        same = a.is_infinite and b.is_infinite and (a.is_extended_positive == b.is_extended_positive) is True
        return Comparison(Verdict.EQUAL if same else Verdict.DIFFER, "exact (infinities)", f"{a} vs {b}")
    diff = a - b
    floats = _approximate(a) + _approximate(b)  # (not diff's: 0.5 − 1/2 cancels to nothing)
    float_bits = min((int(f._prec) for f in floats), default=None)  # approximate inputs limit what can agree
    resolution = _resolution(floats)  # ... and what can differ: nothing below their last bit
    scale_seen = False
    for bits in PRECISIONS:
        ball = _ball(diff, bits)
        if ball is None:
            return _evalf_compare(a, b)
        sides = [_ball(v, bits) for v in (a, b)]
        scale = max([1.0, *(_upper(v) for v in sides if v is not None and v.is_finite())])
        agree_bits = bits - AGREE_SLACK_BITS if float_bits is None else min(bits, float_bits) - 2 * AGREE_SLACK_BITS
        small = ball.is_finite() and _upper(ball) < scale * 2.0 ** -agree_bits
        if not ball.contains(0) and not (ball.is_finite() and _upper(ball) < resolution):
            # (a difference below what an approximate input resolves is no difference: a 25-digit quadrature
            # 0.5000… against 1/2 − e^(−10⁴)/2 agrees, it does not refute)
            return Comparison(Verdict.DIFFER, f"arb {bits} bits", str(ball))
        if small and (scale_seen or float_bits is not None):
            how = f"arb {bits} bits" + ("" if float_bits is None else f" (inputs of {float_bits}-bit precision)")
            return Comparison(Verdict.AGREE, how, str(ball))
        scale_seen = scale_seen or small  # agreement must survive one more, higher precision
    return Comparison(Verdict.UNDECIDED, f"arb {PRECISIONS[-1]} bits", "the enclosure never separated from 0")


def sign(value: sp.Basic) -> int | None:
    """The certified sign (−1, 0, 1) of a real number, or None if it cannot be decided (or is not real)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return int(sp.sign(value))
    if value in (sp.oo, -sp.oo):
        return 1 if value is sp.oo else -1
    floats = _approximate(value)
    resolution = _resolution(floats)
    for bits in PRECISIONS:
        ball = _ball(value, bits)
        if ball is None:
            break
        if not ball.imag.is_zero():
            if not ball.imag.contains(0):
                return None  # not real
            continue
        if ball.is_exact() and ball.real.is_zero() and not floats:
            return 0  # an exact enclosure {0}: the value is 0
        if floats and float(ball.real.abs_upper()) < resolution:
            return None
        if ball.real > 0:
            return 1
        if ball.real < 0:
            return -1
    else:
        return None
    try:  # Arb cannot evaluate it: SymPy's adaptive evalf, decided only if clearly away from 0
        approx = sp.N(value, EVALF_DIGITS[1])
    except (TypeError, ValueError):
        return None
    if not approx.is_real or not approx.is_number:
        return None
    if abs(approx) > sp.Float(10) ** (-(EVALF_DIGITS[1] // 2)):
        return 1 if approx > 0 else -1
    return None


def _approximate(v: sp.Basic) -> list[sp.Float]:
    """The nonzero Floats in `v`: approximate values, each as precise as its mantissa.  A Float 0 (a quadrature
    "zero within its error") carries no relative precision and is taken as the exact 0, as before."""
    return [f for f in v.atoms(sp.Float) if f != 0] if isinstance(v, sp.Basic) else []


def _resolution(floats: list[sp.Float]) -> float:
    """The smallest magnitude an approximate input (a quadrature's or a series' Float) resolves: 0 without one."""
    if not floats:
        return 0.0
    return max([1.0, *(abs(float(f)) for f in floats)]) * 2.0 ** -(min(int(f._prec) for f in floats) - 1)


def difference_sign(a: sp.Basic, b: sp.Basic) -> int | None:
    """The certified sign of a − b, or None; like `sign`, but a Float in `a` or `b` limits what is resolved even
    where SymPy cancels it on subtraction (0.5000… (25 digits) − 1/2 is 0, and the Float is gone)."""
    a, b = sp.sympify(a), sp.sympify(b)
    floats = _approximate(a) + _approximate(b)
    value = a - b
    s = sign(value)
    if not floats or s is None:
        return s
    if s == 0 and not _approximate(value):
        return None  # exactly 0 only because the approximate input was rounded to an exact-looking value
    ball = _ball(value, PRECISIONS[0])
    if ball is None or not ball.is_finite() or float(ball.abs_upper()) < _resolution(floats):
        return None
    return s


def _exact(v: sp.Basic) -> bool:
    """A rational number: exact arithmetic decides it."""
    return bool(v.is_Rational)


def _upper(ball: acb) -> float:
    return float(ball.abs_upper())


def _evalf_compare(a: sp.Basic, b: sp.Basic) -> Comparison:
    previous: sp.Basic | None = None
    for digits in EVALF_DIGITS:
        try:
            value = sp.N(a - b, digits)
            scale = 1 + abs(sp.N(a, digits)) + abs(sp.N(b, digits))
        except (TypeError, ValueError, ZeroDivisionError, RecursionError):  # (evalf of d/dx floor(x) at ½ recursed)
            return Comparison(Verdict.UNDECIDED, f"evalf {digits} digits", "not evaluable")
        if not value.is_number or value.has(sp.nan, sp.zoo):
            return Comparison(Verdict.UNDECIDED, f"evalf {digits} digits", str(value))
        size = abs(value)
        if size == 0 or size < sp.Float(10) ** (-(digits - 5)) * scale:
            if digits == EVALF_DIGITS[-1]:
                return Comparison(Verdict.AGREE, f"evalf {digits} digits (not certified)", str(value))
            previous = value
            continue
        if previous is not None or digits == EVALF_DIGITS[-1]:
            return Comparison(Verdict.DIFFER_UNCERTIFIED, f"evalf {digits} digits (not certified)", str(value))
        previous = value
    return Comparison(Verdict.UNDECIDED, "evalf", str(previous))


# ---- SymPy → Arb ---------------------------------------------------------------------------------------------

_UNARY: dict[type, Callable[[acb], acb]] = {
    sp.exp: acb.exp,
    sp.log: acb.log,
    sp.sin: acb.sin,
    sp.cos: acb.cos,
    sp.tan: acb.tan,
    sp.cot: acb.cot,
    sp.sec: acb.sec,
    sp.csc: acb.csc,
    sp.asin: acb.asin,
    sp.acos: acb.acos,
    sp.atan: acb.atan,
    sp.sinh: acb.sinh,
    sp.cosh: acb.cosh,
    sp.tanh: acb.tanh,
    sp.coth: acb.coth,
    sp.asinh: acb.asinh,
    sp.acosh: acb.acosh,
    sp.atanh: acb.atanh,
    sp.erf: acb.erf,
    sp.erfc: acb.erfc,
    sp.gamma: acb.gamma,
    sp.loggamma: acb.lgamma,
    sp.conjugate: acb.conjugate,
}


class _Unsupported(Exception):
    pass


def _ball(expr: sp.Basic, bits: int) -> acb | None:
    """An Arb enclosure of the number `expr` at `bits` of precision, or None if unsupported."""
    old = ctx.prec
    ctx.prec = bits
    try:
        return _to_acb(expr)
    except (_Unsupported, ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None
    finally:
        ctx.prec = old


def _to_acb(e: sp.Basic) -> acb:
    if isinstance(e, sp.UnevaluatedExpr):  # a value too large for exact arithmetic (`theory.core.cost`)
        return _to_acb(e.args[0])
    if e.is_Integer:
        return acb(int(e))
    if e.is_Rational:
        return acb(int(e.p)) / acb(int(e.q))
    if e.is_Float:
        # a Float is approximate: its ball gets a radius of a few units in its last place (it never
        # carries more than its binary precision, and SymPy's evalf does not bound its error rigorously)
        mid = arb(str(e))
        return acb(mid + arb(0, abs(float(e)) * 2.0 ** (-(int(e._prec) - 8)) + 2.0 ** -1000))
    if e is sp.pi:
        return acb(arb.pi())
    if e is sp.E:
        return acb(arb(1).exp())
    if e is sp.I:
        return acb(0, 1)
    if e is sp.EulerGamma:
        return acb(arb.const_euler())
    if isinstance(e, sp.Add):
        total = acb(0)
        for arg in e.args:
            total += _to_acb(arg)
        return total
    if isinstance(e, sp.Mul):
        product = acb(1)
        for arg in e.args:
            product *= _to_acb(arg)
        return product
    if isinstance(e, sp.Pow):
        base, exp = e.args
        if exp.is_Integer:
            b = _to_acb(base)
            k = int(exp)
            if k < 0 and b.contains(0):
                raise _Unsupported("division by a ball containing 0")
            return b ** k
        if exp == sp.S.Half:
            return _to_acb(base).sqrt()
        b = _to_acb(base)
        return (_to_acb(exp) * b.log()).exp() if not b.contains(0) else _zero_base(b, exp)
    if isinstance(e, sp.Abs):
        return acb(abs(_to_acb(e.args[0])))
    if isinstance(e, sp.re):
        return acb(_to_acb(e.args[0]).real)
    if isinstance(e, sp.im):
        return acb(_to_acb(e.args[0]).imag)
    if isinstance(e, (sp.Max, sp.Min)):
        return _extremum(e)
    if isinstance(e, sp.sign):
        return _sign(_to_acb(e.args[0]))
    if isinstance(e, sp.Heaviside):
        return _heaviside(e)
    if isinstance(e, sp.factorial):
        return (_to_acb(e.args[0]) + 1).gamma()
    if isinstance(e, sp.atan2):
        y, x = (_real(_to_acb(a)) for a in e.args)
        return acb(arb.atan2(y, x))
    if isinstance(e, sp.LambertW) and len(e.args) == 1:
        return _to_acb(e.args[0]).lambertw()
    fn = _UNARY.get(type(e))
    if fn is not None and len(e.args) == 1:
        return fn(_to_acb(e.args[0]))
    raise _Unsupported(type(e).__name__)


def _real(z: acb) -> arb:
    if not z.imag.is_zero():
        raise _Unsupported("a real function of a value not known to be real")
    return z.real


def _zero_base(b: acb, exp: sp.Basic) -> acb:
    # 0**p for p > 0 is 0; a ball around 0 with a non-integer exponent is not decidable here
    if b.is_exact() and b.is_zero() and exp.is_positive:
        return acb(0)
    raise _Unsupported("power of a ball containing 0")


def _sign(z: acb) -> acb:
    x = _real(z)
    if x > 0:
        return acb(1)
    if x < 0:
        return acb(-1)
    if x.is_exact() and x.is_zero():
        return acb(0)
    raise _Unsupported("sign of a ball containing 0")


def _heaviside(e: sp.Heaviside) -> acb:
    x = _real(_to_acb(e.args[0]))
    if x > 0:
        return acb(1)
    if x < 0:
        return acb(0)
    if x.is_exact() and x.is_zero():
        h0 = e.args[1] if len(e.args) > 1 else sp.S.Half
        return _to_acb(h0)
    raise _Unsupported("Heaviside of a ball containing 0")


def _extremum(e: sp.Basic) -> acb:
    values = [_real(_to_acb(a)) for a in e.args]
    best = values[0]
    for v in values[1:]:
        bigger = v > best if isinstance(e, sp.Max) else v < best
        smaller = v <= best if isinstance(e, sp.Max) else v >= best
        if bigger:
            best = v
        elif not smaller:
            raise _Unsupported("overlapping balls in Max/Min")
    return acb(best)
