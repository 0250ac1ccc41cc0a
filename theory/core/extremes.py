"""Counterexamples the seeded instances cannot reach: far out, next to a jump, at a maximum.

The numeric rung draws magnitudes 10⁻³ … 10³ and special values, so a step false only for t > 10⁷
(t² ≤ 10⁷ t), for n ≥ 12 367 (Σ_{k=1}^{n} 1/k ≤ 10), within 10⁻³⁰ of a jump (frac x < 1 − 10⁻³⁰: false just
below every integer) or at a transcendental maximum (sin x ≤ 1 − 10⁻²⁰: false at π/2) comes out *checked*.
For a step not certified by an exact engine, `search` moves one real symbol at a time (the others at an
admissible filler value, as in `theory.core.domain`) to exact points:

- far out: ±10ʲ (j = 1, 2, 3, 4, 5, 6, 9, 12, 18, 30), within the symbol's sign;
- towards 0 for a positive symbol: 10⁻ʲ (j = 4, 8, 16, 30, 60);
- next to a jump of floor, ceiling, frac or Mod (their argument in {−1, 0, 1, 2}, solved for the symbol when it
  is linear): p ± 10⁻ʲ (j = 4, 10, 20, 40, 80);
- the stationary points of each elementary function of the symbol in the step (solveset of its derivative:
  finitely many, or the periodic families at n = 0, ±1), and of the whole difference.

Every point is admissible (`sampling.satisfies`) and exact, and the relation is decided there with certified
arithmetic (`theory.core.numbers`): a violation is a counterexample like any other.  Nothing here certifies a
step; an integer symbol moves only through integers.  The search stops after `SEARCH_SECONDS` of CPU time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.core import numbers, sampling
from theory.core.ladder import Timeout, time_limit

SEARCH_SECONDS = 4.0  # CPU seconds for the whole search of one step
SOLVE_SECONDS = 1.0  # CPU seconds for the stationary points of one function
FAR = (1, 2, 3, 4, 5, 6, 9, 12, 18, 30)
NEAR = (4, 8, 16, 30, 60)
JUMP = (4, 10, 20, 40, 80)
MAX_SYMBOLS = 3
MAX_STATIONARY = 12
_JUMPS = (sp.floor, sp.ceiling, sp.frac)

Evaluator = Callable[[sp.Basic, Mapping[sp.Symbol, sp.Basic]], sp.Basic | None]


def search(lhs: sp.Basic, relation: str, rhs: sp.Basic, evaluate: Evaluator,
           deadline: float | None = None) -> str | None:
    """A point where ``lhs relation rhs`` (relation "=", "<", "≤", ">", "≥") is false, as text; None if none found.

    `evaluate(expr, point)` is the value of `expr` at an exact point (None when it cannot be had); the search
    ends at the CPU-time `deadline` (`time.process_time`; default: `SEARCH_SECONDS` from now)."""
    if not all(isinstance(e, sp.Expr) for e in (lhs, rhs)):
        return None
    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    if not symbols or len(symbols) > MAX_SYMBOLS or not all(isinstance(s, sp.Symbol) and s.is_extended_real
                                                            for s in symbols):
        return None
    if lhs.atoms(AppliedUndef, sp.MatrixSymbol) or rhs.atoms(AppliedUndef, sp.MatrixSymbol):
        return None
    deadline = time.process_time() + SEARCH_SECONDS if deadline is None else deadline
    gap = lhs - rhs
    for s in symbols:
        fillers = {o: sampling.filler(o) for o in symbols if o != s}
        if any(v is None for v in fillers.values()):
            continue
        for value in _points(gap, s, deadline):
            if time.process_time() > deadline:
                return None
            point = {**fillers, s: value}
            try:
                with time_limit(max(deadline - time.process_time(), 0.05)):  # (one point may cost seconds)
                    a, b = evaluate(lhs, point), evaluate(rhs, point)
            except Timeout:
                return None
            if a is None or b is None or numbers.undefined(a) or numbers.undefined(b):
                continue
            if _violated(a, relation, b):
                shown = ", ".join(f"{k} = {v}" for k, v in sorted(point.items(), key=lambda kv: str(kv[0])))
                return f"at {shown}: lhs = {_short(a)}, rhs = {_short(b)}, not lhs {relation} rhs"
    return None


def search_both(raw: tuple[sp.Basic, sp.Basic], evaluated: tuple[sp.Basic, sp.Basic] | None, relation: str,
                evaluate: Evaluator) -> str | None:
    """`search` on the sides as built, then, where they hold a sum, product or integral that SymPy evaluated in
    closed form (Π_{k=1}^{n} (1 + 1/k) = n + 1), on the evaluated sides: a product of 10⁶ terms costs seconds
    at one point, its closed form nothing."""
    binders = (sp.Sum, sp.Product, sp.Integral)
    closed = (evaluated is not None and any(isinstance(e, sp.Basic) and e.has(*binders) for e in raw)
              and all(isinstance(e, sp.Expr) and not e.has(*binders, sp.Limit) for e in evaluated))
    share = SEARCH_SECONDS / 2 if closed else SEARCH_SECONDS  # (both searches together: SEARCH_SECONDS)
    found = search(raw[0], relation, raw[1], evaluate, time.process_time() + share)
    if found or not closed or evaluated is None:
        return found
    deadline = time.process_time() + share
    try:  # (Π_{k=1}^{n} (1 + 1/k) evaluates to RisingFactorial(2, n)/n!: n + 1 costs nothing at n = 10⁶)
        with time_limit(SOLVE_SECONDS):
            evaluated = (sp.gammasimp(evaluated[0]), sp.gammasimp(evaluated[1]))
    except (Timeout, NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        pass
    found = search(evaluated[0], relation, evaluated[1], evaluate, deadline)
    return f"{found} (the sides in the closed form SymPy evaluated them to)" if found else None


def _short(v: sp.Basic) -> str:
    text = str(v)
    return text if len(text) <= 160 else text[:157] + "..."


def _violated(a: sp.Basic, relation: str, b: sp.Basic) -> bool:
    if relation == "=":
        return numbers.compare(a, b).verdict is numbers.Verdict.DIFFER
    try:
        s = numbers.difference_sign(a, b)
    except (TypeError, ValueError, AttributeError):
        return False
    if s is None:
        return False
    return {"<": s >= 0, "≤": s > 0, ">": s <= 0, "≥": s < 0}[relation]


def _points(gap: sp.Expr, s: sp.Symbol, deadline: float) -> Iterator[sp.Basic]:
    seen: set[sp.Basic] = set()

    def admissible(values: list[sp.Basic]) -> Iterator[sp.Basic]:
        for v in values:
            if v not in seen and sampling.satisfies(v, s):
                seen.add(v)
                yield v

    if not s.is_integer:
        yield from admissible(list(_stationary(gap, s, deadline)))
        for p in _jumps(gap, s):
            yield from admissible([p + side * sp.Rational(1, 10**j) for j in JUMP for side in (-1, 1)])
    far = [sp.Integer(10)**j for j in FAR]
    yield from admissible([v for f in far for v in (f, -f)])
    if not s.is_integer:
        yield from admissible([sp.Rational(1, 10**j) for j in NEAR])


def _jumps(gap: sp.Expr, s: sp.Symbol) -> list[sp.Basic]:
    """Where floor, ceiling, frac or Mod of an argument linear in `s` jumps, near the origin."""
    out: list[sp.Basic] = []
    for node in gap.atoms(*_JUMPS, sp.Mod):
        argument = node.args[0] / node.args[1] if isinstance(node, sp.Mod) else node.args[0]
        if s not in argument.free_symbols:
            continue
        try:
            poly = sp.Poly(argument, s)
        except (sp.PolynomialError, sp.GeneratorsNeeded):
            continue
        if poly.degree() != 1 or not all(c.is_Rational for c in poly.all_coeffs()):
            continue
        a, b = poly.all_coeffs()
        out += [(c - b) / a for c in (-1, 0, 1, 2)]
    return out


def _stationary(gap: sp.Expr, s: sp.Symbol, deadline: float) -> Iterator[sp.Basic]:
    """Exact stationary points of `gap` and of each elementary function of `s` in it (a maximum of sin x)."""
    if gap.has(*sampling.BINDERS, sp.Subs, sp.Derivative):
        return
    functions = [gap, *sorted((f for f in gap.atoms(sp.Function) if s in f.free_symbols
                               and not isinstance(f, (*_JUMPS, sp.Mod))), key=sp.default_sort_key)]
    count = 0
    for f in functions[:6]:
        if time.process_time() > deadline:
            return
        try:
            with time_limit(SOLVE_SECONDS):
                derivative = sp.diff(f, s)
                found = sp.solveset(derivative, s, sp.S.Reals)
                values = list(_members(found))
                if isinstance(found, sp.ConditionSet) or (isinstance(found, sp.Union) and found.has(sp.ConditionSet)):
                    values += _factor_roots(derivative, s)  # d/dt tᵗ = tᵗ(log t + 1): solveset gives up on it whole
        except (Timeout, NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
            continue
        for v in values:
            if count >= MAX_STATIONARY:
                return
            count += 1
            yield v


def _factor_roots(expr: sp.Expr, s: sp.Symbol) -> list[sp.Basic]:
    """Real roots of each factor of `expr` in `s` solved alone (a product is zero where a factor is)."""
    out: list[sp.Basic] = []
    factors = sp.Mul.make_args(sp.factor_terms(expr))
    if len(factors) < 2:
        return out
    for factor in factors:
        base = factor.base if isinstance(factor, sp.Pow) and factor.exp.is_positive else factor
        if s in base.free_symbols:
            out += [v for v in _members(sp.solveset(base, s, sp.S.Reals)) if v not in out]
    return out


def _members(found: sp.Set) -> Iterator[sp.Basic]:
    if isinstance(found, sp.FiniteSet):
        for v in list(found)[:MAX_STATIONARY]:
            if v.is_number and v.is_real:
                yield v
    elif isinstance(found, sp.ImageSet) and len(found.lamda.variables) == 1:
        for n in (0, 1, -1):
            v = found.lamda(n)
            if v.is_number and v.is_real:
                yield v
    elif isinstance(found, sp.Union):
        for part in found.args:
            yield from _members(part)
