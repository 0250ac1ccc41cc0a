"""Where a step's sides are defined: domain conditions as proof obligations, and SymPy's signs tested at zeros.

A side such as ``1/(x − 5/7)`` or ``√(x − 3)`` is defined (or real) only under a
condition on its symbols.  No exact engine may *assume* that condition: a step
whose side is undefined somewhere on the declared domain is not proved there
(``(x − 5/7)·1/(x − 5/7) = 1`` fails at x = 5/7, ``x + √(x − 3) ≥ 3`` at x = 0).
`conditions` lists them, each ``g ≠ 0``, ``g ≥ 0`` or ``g > 0``:

- every base of a power with a negative (or possibly negative) exponent: ``g ≠ 0``;
- ``log g``: ``g ≠ 0``; for a real value also ``g > 0``;
- for a real value: the base of a fractional power ``g ≥ 0`` (SymPy's principal branch
  makes ``(−8)^{1/3}`` complex), ``asin g``/``acos g``: ``1 ∓ g ≥ 0``, ``acosh g``:
  ``g − 1 ≥ 0``, ``atanh g``: ``1 ∓ g > 0``; ``tan g``, ``sec g``: ``cos g ≠ 0``, ``cot g``,
  ``csc g``: ``sin g ≠ 0``.

`decide` settles one condition from the symbols' assumptions alone: z3 (where the
condition is polynomial/rational, `theory.core.smt`), or SymPy's assumption system
*confirmed at the zeros* — SymPy's ``is_positive``/``is_zero`` are not trusted alone:
``atan((m − 100)²).is_positive`` is True for an integer m (asin, acos and atan declare
their value irrational for a rational argument, hence nonzero, although it is 0 at
argument 0 (acos: 1)), yet it is 0 at m = 100.  `critical_points` gives the exact
points where such a sub-expression can vanish: the real roots of every polynomial
argument of a function (equal to 0, 1 or −1) and of every base of a negative or
fractional power, integers next to them for an integer symbol, and a z3 model for a
polynomial in several symbols.  `refute` evaluates a step there, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr

from theory.core import numbers, sampling, smt

MAX_DEGREE = 8  # polynomials of higher degree are not solved for their zeros
MAX_CANDIDATES = 12  # sub-expressions solved for their zeros, per call
FILLERS = 3  # values tried for the symbols a violating point leaves free
PROBE_RLIMIT = 400_000  # z3's budget for one zero of a polynomial in several symbols
_BINDERS = (sp.Sum, sp.Product, sp.Integral, sp.Limit, sp.Lambda, sp.Piecewise)
_REAL_NAMES = {"≥": "is_nonnegative", ">": "is_positive"}

Point = dict[sp.Symbol, sp.Basic]
Evaluator = Callable[[sp.Basic, Mapping[sp.Symbol, sp.Basic]], "sp.Basic | None"]  # a side at an exact point


@dataclass(frozen=True)
class Condition:
    """``expr relation 0`` (relation ``≠``, ``≥`` or ``>``), needed for `why`."""

    expr: sp.Expr
    relation: str
    why: str

    def text(self) -> str:
        return f"{self.expr} {self.relation} 0 ({self.why})"


@dataclass(frozen=True)
class Decision:
    status: str  # "proved", "violated" or "unknown"
    how: str = ""
    point: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()  # where a violated condition fails


def conditions(expr: sp.Basic, real: bool) -> list[Condition]:
    """The conditions under which `expr` is defined (with `real`: defined and real), innermost first."""
    out: list[Condition] = []
    if not isinstance(expr, sp.Expr) or isinstance(expr, MatrixExpr) or expr.atoms(sp.MatrixSymbol):
        return out
    _collect(expr, real, out)
    unique: dict[tuple[sp.Basic, str], Condition] = {}
    for c in (split for whole in out for split in _split(whole)):
        if c.expr.free_symbols or _holds(c.expr, c.relation) is not True:
            unique.setdefault((c.expr, c.relation), c)
    return list(unique.values())


def _split(c: Condition) -> list[Condition]:
    """``p/q ≠ 0`` as one condition per irreducible factor of p and of q (exact; it makes shared ones visible)."""
    if c.relation != "≠":
        return [c]
    try:
        numerator, denominator = sp.together(c.expr).as_numer_denom()
        factors = [f for part in (numerator, denominator) for f, _ in sp.factor_list(part)[1]]
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        return [c]
    return [Condition(f, "≠", c.why) for f in factors if f.free_symbols] or [c]


def _collect(e: sp.Basic, real: bool, out: list[Condition]) -> None:
    inner: list[Condition] = []
    if isinstance(e, (sp.Sum, sp.Product, sp.Integral, sp.Limit)):  # the conditions of its body free of bound variables
        _collect(e.args[0], real, inner)
        bound = {e.args[1]} if isinstance(e, sp.Limit) else set(e.variables)
        out += [c for c in inner if not (c.expr.free_symbols & bound)]
        return
    if isinstance(e, _BINDERS) or not isinstance(e, sp.Expr) or isinstance(e, AppliedUndef):
        return
    if isinstance(e, sp.Subs):  # the conditions of the body, at the point
        _collect(e.expr, real, inner)
        point = dict(zip(e.variables, e.point, strict=True))
        for c in inner:
            out.append(Condition(c.expr.xreplace(point), c.relation, c.why))
        return
    if isinstance(e, sp.Derivative):  # the body near the point (conditions on the variables), and the derivative
        inner = []
        _collect(e.expr, real, inner)
        variables = set(e.variables)
        out += [c for c in inner if c.expr.free_symbols & variables]
        if not e.atoms(AppliedUndef):
            try:
                evaluated = e.doit()
            except (ValueError, TypeError, NotImplementedError):
                return
            if not evaluated.has(sp.Derivative):
                _collect(evaluated, real, out)
        return
    for a in e.args:
        _collect(a, real, out)
    is_real = real and all(a.is_extended_real for a in e.args)
    if isinstance(e, sp.Pow):
        base, exp = e.args
        if exp.is_integer:
            if exp.is_nonnegative is not True:
                out.append(Condition(base, "≠", f"the base of {e}"))
        else:
            if exp.is_positive is not True:
                out.append(Condition(base, "≠", f"the base of {e}"))
            if is_real:
                out.append(Condition(base, "≥" if exp.is_positive else ">", f"the base of {e} (a real value)"))
    elif isinstance(e, sp.log):
        out.append(Condition(e.args[0], "≠", f"the argument of {e}"))
        if is_real:
            out.append(Condition(e.args[0], ">", f"the argument of {e} (a real value)"))
    elif isinstance(e, (sp.asin, sp.acos)) and is_real:
        out += [Condition(1 - e.args[0], "≥", f"{e} is real"), Condition(1 + e.args[0], "≥", f"{e} is real")]
    elif isinstance(e, sp.acosh) and is_real:
        out.append(Condition(e.args[0] - 1, "≥", f"{e} is real"))
    elif isinstance(e, sp.atanh):
        strict = ">" if is_real else "≠"
        out += [Condition(1 - e.args[0], strict, f"{e} is defined"),
                Condition(1 + e.args[0], strict, f"{e} is defined")]
    elif isinstance(e, (sp.tan, sp.sec)):
        out.append(Condition(sp.cos(e.args[0]), "≠", f"{e} is defined"))
    elif isinstance(e, (sp.cot, sp.csc)):
        out.append(Condition(sp.sin(e.args[0]), "≠", f"{e} is defined"))
    elif isinstance(e, (sp.coth, sp.csch)):
        out.append(Condition(e.args[0], "≠", f"{e} is defined"))


def decide(c: Condition, apply: Callable[[sp.Basic], sp.Basic] | None = None) -> Decision:
    """Prove `c` from the symbols' assumptions, or find a point violating it, or neither."""
    g = c.expr
    for point in critical_points([g], own_zeros=True):
        if _holds(value_at(g, point), c.relation) is False:
            return Decision("violated", f"{c.text()} fails at {_show(point)}", tuple(point.items()))
    if _real_symbols(g) and smt.applicable(g, sp.S.Zero):
        result = smt.decide(g, c.relation, sp.S.Zero)
        if result.verdict is smt.SmtVerdict.CERTIFIED:
            return Decision("proved", "z3")
        if result.verdict is smt.SmtVerdict.COUNTEREXAMPLE and result.point:
            return Decision("violated", f"{c.text()} fails: {result.detail}", result.point)
    candidates = [g]
    if apply is not None:
        try:
            candidates.append(apply(g))
        except Exception:  # a time-out or a SymPy failure: the condition as built stands alone
            pass
    from theory.core.ladder import limits_fired  # (ladder imports this module)

    for candidate in candidates:
        before = limits_fired()
        if _assumed(candidate, c.relation) and refute_sign(candidate, c.relation) is None \
                and limits_fired() == before:  # a confirmation that a CPU-time limit cut short confirms nothing
            return Decision("proved", "assumptions, confirmed at the zeros of its sub-expressions")
    return Decision("unknown", f"could not prove {c.text()}")


@dataclass(frozen=True)
class Obligations:
    """The domain of a step: `failure` (a point where a side is undefined or not real), or `unproved`."""

    failure: str = ""
    unproved: str = ""


def obligations(lhs: sp.Basic, relation: str, rhs: sp.Basic, apply: Callable[[sp.Basic], sp.Basic] | None = None,
                evaluate: Evaluator | None = None) -> Obligations:
    """Every condition under which the sides are defined (real, for an inequality), decided.

    An equality claims ``lhs = rhs`` where either side is defined: a condition both
    sides carry (the same expression) restricts the step's domain and needs no proof
    (``(N − 2)/(N − 2)³ = 1/(N − 2)²``); one carried by one side only must be proved.
    An inequality compares real numbers: every condition must be proved.  A violating
    point fails the step only where it makes one side undefined (not real) and, for
    an equality, leaves the other defined.
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    real = relation != "="
    left, right = conditions(lhs, real), conditions(rhs, real)
    if real:
        required = left + [c for c in right if _key(c) not in {_key(d) for d in left}]
    else:
        shared = {_key(c) for c in left} & {_key(c) for c in right}
        required = [c for c in left if _key(c) not in shared and not _excused(c, right, apply)]
        required += [c for c in right if _key(c) not in shared and not _excused(c, left, apply)]
    unproved = ""
    for c in required:
        d = decide(c, apply)
        if d.status == "violated":
            for choice in range(FILLERS):  # the other symbols at a few admissible values
                point = dict(d.point)
                symbols = lhs.free_symbols | rhs.free_symbols
                point.update({s: _filler(s, choice) for s in symbols if s not in point})
                a, b = (evaluate or value_at)(lhs, point), (evaluate or value_at)(rhs, point)
                bad_a = a is not None and _undefined(a, real)
                bad_b = b is not None and _undefined(b, real)
                if (real and (bad_a or bad_b)) or (bad_a != bad_b and a is not None and b is not None):
                    return Obligations(failure=f"{d.how}; at {_show(point)}: lhs = {a}, rhs = {b}")
        if d.status != "proved":
            unproved = unproved or d.how
    return Obligations(unproved=unproved)


EXCUSE_SECONDS = 1.0  # CPU seconds to simplify one ratio of conditions (`_excused`)


def _excused(c: Condition, other: Sequence[Condition], apply: Callable[[sp.Basic], sp.Basic] | None) -> bool:
    """Whether the other side of an equality is undefined wherever ``c`` fails: ``c: g ≠ 0`` and the other side
    needs ``g' ≠ 0`` with g' = h·g, h defined wherever the symbols' assumptions hold (its own conditions proved).
    E.g. s − u ≠ 0 on one side, √s − √u ≠ 0 on the other: h = 1/(√s + √u).  Then both sides are undefined at
    g = 0, as for a shared condition."""
    if c.relation != "≠":
        return False
    from theory.core.ladder import time_limit  # (ladder imports this module)

    for d in other:
        if d.relation != "≠" or not (d.expr.free_symbols & c.expr.free_symbols):
            continue
        ratio = d.expr / c.expr
        for rewrite in (sp.cancel, lambda r: sp.cancel(sp.radsimp(r)), lambda r: 1 / sp.cancel(sp.radsimp(1 / r)),
                        sp.simplify):
            try:
                with time_limit(EXCUSE_SECONDS):
                    h = rewrite(ratio)
            except Exception:  # a timeout or a SymPy failure: this form does not excuse
                continue
            if h.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not h.free_symbols <= ratio.free_symbols:
                continue
            if all(decide(e, apply).status == "proved" for e in conditions(h, False)):
                return True
    return False


def _key(c: Condition) -> tuple[str, sp.Basic]:
    g = sp.expand(c.expr)
    if c.relation == "≠":
        g = min(g, sp.expand(-g), key=sp.default_sort_key)
    return c.relation, g


def _assumed(g: sp.Basic, relation: str) -> bool:
    if relation == "≠":
        return bool(g.is_zero is False)
    return bool(getattr(g, _REAL_NAMES[relation]) is True)


def refute_sign(g: sp.Basic, relation: str) -> str | None:
    """A point (from `critical_points`) where ``g relation 0`` fails, as text; None if none was found."""
    for point in critical_points([g]):
        if _holds(value_at(g, point), relation) is False:
            return f"at {_show(point)}: {g} = {value_at(g, point)}, not {relation} 0"
    return None


def refute(lhs: sp.Basic, relation: str, rhs: sp.Basic, evaluate: Evaluator | None = None) -> str | None:
    """A critical point where ``lhs relation rhs`` fails (or one side only is undefined), as text."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    for point in critical_points([lhs, rhs]):
        a, b = (evaluate or value_at)(lhs, point), (evaluate or value_at)(rhs, point)
        if a is None or b is None:
            continue
        bad_a, bad_b = _undefined(a, relation != "="), _undefined(b, relation != "=")
        if bad_a and bad_b:
            continue
        if bad_a or bad_b:
            side = "lhs" if bad_a else "rhs"
            return f"at {_show(point)}: the {side} is {a if bad_a else b}, not a {'real ' if relation != '=' else ''}" \
                   f"number, while the other side is {b if bad_a else a}"
        if relation == "=":
            comparison = numbers.compare(a, b)
            if comparison.differs:
                return (f"at {_show(point)}: lhs = {a}, rhs = {b}; difference {comparison.difference} by "
                        f"{comparison.how}")
        elif _holds(a - b, {"<": "<", "≤": "≤", ">": ">", "≥": "≥"}[relation]) is False:
            return f"at {_show(point)}: lhs = {a}, rhs = {b}, not lhs {relation} rhs"
    return None


def _undefined(v: sp.Basic, real: bool) -> bool:
    return numbers.undefined(v) or (real and nonreal(v))


def nonreal(v: sp.Basic) -> bool:
    """Certified not real: the imaginary part is provably nonzero."""
    try:
        s = numbers.sign(sp.im(v))
    except (TypeError, ValueError, AttributeError):
        return False
    return s is not None and s != 0


def _holds(v: sp.Basic | None, relation: str) -> bool | None:
    if v is None:
        return None
    if numbers.undefined(v) or v in (sp.oo, -sp.oo):
        return False
    if relation == "≠" and nonreal(v):
        return True
    if relation != "≠" and nonreal(v):
        return False
    s = numbers.sign(v)
    if s is None:
        return None
    return {"≠": s != 0, "≥": s >= 0, ">": s > 0, "≤": s <= 0, "<": s < 0}[relation]


def value_at(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Basic]) -> sp.Basic | None:
    """`expr` at an exact point (None if SymPy cannot evaluate it within `VALUE_SECONDS` of CPU time)."""
    from theory.core.ladder import Timeout, time_limit  # (ladder imports this module)

    try:
        with time_limit(VALUE_SECONDS):
            return sampling.substitute(expr, point)
    except (ValueError, TypeError, ZeroDivisionError, AttributeError, NotImplementedError, RecursionError, Timeout):
        return None


VALUE_SECONDS = 2.0


def _real_symbols(e: sp.Basic) -> bool:
    return all(s.is_extended_real for s in e.free_symbols)


def _show(point: Mapping[sp.Symbol, sp.Basic]) -> str:
    return ", ".join(f"{s} = {v}" for s, v in sorted(point.items(), key=lambda kv: str(kv[0]))) or "every point"


# ---- the zeros of sub-expressions ------------------------------------------------------------------------------


def _candidates(e: sp.Basic) -> Iterator[tuple[sp.Expr, tuple[int, ...]]]:
    if not isinstance(e, sp.Basic) or isinstance(e, (*_BINDERS, sp.Subs, MatrixExpr)):
        return
    if isinstance(e, sp.Function) and not isinstance(e, AppliedUndef):
        for a in e.args:
            yield a, (0, 1, -1)
    if isinstance(e, sp.Pow) and not (e.exp.is_integer and e.exp.is_nonnegative):
        yield e.base, (0,)
    for a in e.args:
        yield from _candidates(a)


def critical_points(exprs: Sequence[sp.Basic], own_zeros: bool = False) -> list[Point]:
    """Exact admissible points where a polynomial sub-expression of `exprs` is 0 (or ±1, inside a function).

    Every symbol of `exprs` gets a value: those the zero does not fix get an admissible
    filler (1, or the first of −1, 2, −2, ½ that their assumptions allow).
    """
    symbols = set().union(*(e.free_symbols for e in exprs if isinstance(e, sp.Basic)))
    if not symbols or not all(isinstance(s, sp.Symbol) and s.is_extended_real for s in symbols):
        return []
    seen: dict[sp.Expr, tuple[int, ...]] = {}
    for e in exprs:
        if own_zeros and isinstance(e, sp.Expr):
            seen.setdefault(e, (0,))
        for c, targets in _candidates(e):
            if isinstance(c, sp.Expr) and c.free_symbols:
                seen.setdefault(c, targets)
    points: list[Point] = []
    for c, targets in list(seen.items())[:MAX_CANDIDATES]:
        for partial in _zeros(c, targets):
            point = {s: partial.get(s, _filler(s)) for s in symbols}
            if all(v is not None for v in point.values()) and point not in points:
                points.append(point)
    return points


def _filler(s: sp.Symbol, choice: int = 0) -> sp.Basic | None:
    """The `choice`-th admissible value of 1, −1, 2, −2, ½, 3, −3 (the last one if there are fewer)."""
    allowed = [sp.sympify(v) for v in (1, -1, 2, -2, sp.Rational(1, 2), 3, -3) if sampling.satisfies(sp.sympify(v), s)]
    return allowed[min(choice, len(allowed) - 1)] if allowed else None


def _zeros(c: sp.Expr, targets: tuple[int, ...]) -> Iterator[Point]:
    free = sorted(c.free_symbols, key=str)
    try:
        numerator, denominator = sp.together(c).as_numer_denom()
    except (TypeError, ValueError, sp.PolynomialError):
        return
    if not (numerator.is_polynomial(*free) and denominator.is_polynomial(*free)):
        return
    if len(free) == 1:
        for k in targets:  # c = k where numerator − k·denominator = 0
            yield from ({free[0]: v} for v in _roots(numerator - k * denominator, free[0]))
        return
    if smt.applicable(numerator, sp.S.Zero):  # several symbols: one admissible rational zero, if z3 finds it quickly
        result = smt.decide(numerator, "≠", sp.S.Zero, rlimit=PROBE_RLIMIT)
        if result.verdict is smt.SmtVerdict.COUNTEREXAMPLE and result.point:
            yield dict(result.point)


def _roots(p: sp.Expr, s: sp.Symbol) -> list[sp.Basic]:
    try:
        poly = sp.Poly(sp.expand(p), s)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        return []
    if poly.degree() < 1 or poly.degree() > MAX_DEGREE:
        return []
    found: list[sp.Basic] = []
    try:
        exact = [r for r in sp.roots(poly) if r.is_real]
        for r in exact:
            found.append(r)
        if s.is_integer:  # integers next to every real root
            for r in sp.real_roots(poly):
                approx = float(r.evalf(30))
                found += [sp.Integer(math.floor(approx)), sp.Integer(math.ceil(approx))]
    except (NotImplementedError, sp.PolynomialError, ValueError, TypeError, OverflowError):
        pass
    out: list[sp.Basic] = []
    for v in found:
        if v not in out and sampling.satisfies(v, s):
            out.append(v)
    return out
