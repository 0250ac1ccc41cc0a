"""Adversarial points: where a false step can hide on a set of measure zero.

Random samples never land exactly on x = 5/7, so ``Heaviside(x − 5/7) = [x > 5/7]``,
``floor(x − 5/7) + floor(5/7 − x) = −1`` or ``cosh(x − 5/7) > 1`` would pass any number of them,
and ``atan((m − 17)²) > 0`` for an integer m would pass or fail by the luck of whether 17 was
drawn.  The numeric rung therefore also evaluates every step at points derived from the
expressions themselves (deterministic for a given step and seed):

- the **critical expressions** of a step: the argument of every function (Abs, sign, floor,
  ceiling, frac, Heaviside, arg, log, atan, …, and the denominators cos/sin of tan, cot, sec,
  csc), for floor, ceiling, frac and Mod also the argument minus 1, the pairwise differences of
  Max/Min arguments, ``lhs − rhs`` of every relation (Piecewise conditions), every base raised to
  a negative or a non-integer power (denominators, sqrt), ``upper − lower + 1`` of a sum or
  product and ``upper − lower`` of an integral, every sum in one symbol, and each side itself;
- their **real zeros** in one symbol at a time, the other symbols at one random value each:
  exactly where SymPy finds them (`Poly.real_roots`, or `solveset` within a count of calls and returns;
  a periodic solution set is cut to [−12, 12]), numerically otherwise (sign changes on a grid,
  refined by bisection);
- for an integer symbol the integers at and next to each zero; for any other symbol the zero
  itself (when it satisfies the symbol's assumptions) and rational points 10⁻⁶ beside it.

The number of points is bounded (`MAX_POINTS`, exact zeros first), and so is the work of finding them: at most
`MAX_SEARCHES` zero searches per step and the whole grid for each, counts rather than CPU time, so that the points
of a step do not depend on the speed or the load of the machine (a budget of 0.15 CPU seconds per step cut the
search short in 34 of the 239 point searches of hfx's own derivations, after 4 to 49 zero searches, wherever the
time ran out).  CPU-time limits remain only as safety nets (`SCAN_SECONDS` for one grid scan, `SOLVE_SECONDS` for
one exact solution, which is bounded by a count of calls and returns, `SOLVE_CALLS`); a limit that fires is counted
(`ladder.note_limit`), so that no proof rests on a search it cut short.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational
from sympy.matrices.expressions import MatrixExpr

from theory.core.ladder import Timeout, time_limit

MAX_POINTS = 10  # adversarial instances per step, at most (exact zeros first, then the points beside them)
MAX_EXPENSIVE = 4  # … for a step with a limit, an integral or an infinite sum (solved afresh at each point)
MAX_EXPRESSIONS = 24  # critical expressions examined per step (the simplest first)
MAX_ZEROS = 4  # zeros kept per critical expression and symbol (those nearest to 0)
MAX_SEARCHES = 24  # zero searches (a critical expression in one symbol) per step, the simplest expressions first
SOLVE_CALLS = 500_000  # calls and returns one exact solution may make (`ladder.time_limit`; then the grid)
SOLVE_SECONDS = 8.0  # CPU seconds for one exact solution: a safety net (SOLVE_CALLS take 0.1-2 s)
SCAN_SECONDS = 2.0  # CPU seconds for one scan of the grid: a safety net (scans took at most 0.15 s)
MAX_DEGREE = 12  # polynomials up to this degree are solved exactly
BESIDE = sp.Rational(1, 10**6)  # distance of the points beside a zero
PERIODIC_WINDOW = sp.Interval(-12, 12)  # a periodic solution set is cut to this window
GRID = tuple(sp.Rational(k, 4) for k in range(-48, 49)) + tuple(
    s * sp.Integer(10) ** e for e in range(2, 13) for s in (-1, 1)
)  # numeric search for zeros: sign changes between neighbours on this grid (sorted below)
_GRID_SORTED = tuple(sorted(GRID))

_SINGULAR_DENOMINATOR: dict[type, Callable[[sp.Basic], sp.Basic]] = {
    sp.tan: sp.cos, sp.sec: sp.cos, sp.cot: sp.sin, sp.csc: sp.sin,
    sp.tanh: lambda a: sp.cosh(a), sp.coth: sp.sinh, sp.sech: sp.cosh, sp.csch: sp.sinh,
}
_STEPPED = (sp.floor, sp.ceiling, sp.frac)
_BINDERS = (sp.Derivative, sp.Integral, sp.Sum, sp.Product, sp.Limit, sp.Subs, sp.Lambda)  # solved inside only


def critical_expressions(exprs: Sequence[sp.Basic], sampled: set[sp.Symbol]) -> list[sp.Expr]:
    """The critical expressions of `exprs` (module docstring) in the `sampled` symbols, simplest first."""
    found: dict[sp.Expr, int] = {}

    def add(e: sp.Basic, priority: int) -> None:
        if not isinstance(e, sp.Expr) or isinstance(e, MatrixExpr) or e.is_number:
            return
        if not e.free_symbols or not e.free_symbols <= sampled or e.has(AppliedUndef, sp.MatrixSymbol, *_BINDERS):
            return
        if e not in found or found[e] > priority:
            found[e] = priority

    for expr in exprs:
        if not isinstance(expr, sp.Basic):
            continue
        add(expr, 3)
        for node in sp.preorder_traversal(expr):
            _visit(node, add)
    ordered = sorted(found, key=lambda e: (found[e], sp.count_ops(e), sp.default_sort_key(e)))
    return ordered[:MAX_EXPRESSIONS]


def _visit(node: sp.Basic, add: Callable[[sp.Basic, int], None]) -> None:
    if isinstance(node, (sp.Max, sp.Min)):
        for j, u in enumerate(node.args):
            for v in node.args[j + 1:]:
                add(u - v, 0)
    elif isinstance(node, Relational):
        if isinstance(node.lhs, sp.Expr) and isinstance(node.rhs, sp.Expr):
            add(node.lhs - node.rhs, 0)
    elif isinstance(node, sp.Mod):
        add(node.args[0], 0)
        add(node.args[0] - node.args[1], 0)
    elif isinstance(node, (sp.Sum, sp.Product)):
        for limit in node.limits:
            if len(limit) == 3:
                add(limit[2] - limit[1] + 1, 0)
    elif isinstance(node, sp.Integral):
        for limit in node.limits:
            if len(limit) == 3:
                add(limit[2] - limit[1], 1)
    elif isinstance(node, sp.Pow):
        if not (node.exp.is_Integer and node.exp > 0):
            add(node.base, 0)
    elif isinstance(node, sp.Add):
        add(node, 2)
    elif isinstance(node, sp.Function) and not isinstance(node, AppliedUndef):
        for a in node.args:
            add(a, 0 if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside, sp.arg, *_STEPPED)) else 1)
        if isinstance(node, _STEPPED):
            add(node.args[0] - 1, 0)
        denominator = _SINGULAR_DENOMINATOR.get(type(node))
        if denominator is not None:
            add(denominator(node.args[0]), 1)


def zeros(expr: sp.Expr, symbol: sp.Symbol, window: sp.Interval | None = None,
          keep: int = MAX_ZEROS) -> tuple[list[sp.Basic], list[sp.Rational]]:
    """Real zeros of the univariate `expr` (in `window`, if given): (exact ones, rational approximations of the
    others), at most `keep` of each, those nearest to 0 first."""
    exact, approx, complete = _zeros(expr, symbol, window)
    if not complete:  # (cached: the limit that cut the search short fired once, the first time)
        from theory.core.ladder import note_limit

        note_limit()
    if window is not None:
        exact = [v for v in exact if _inside(v, window)]
        approx = [v for v in approx if _inside(v, window)]
    return _nearest(exact, keep), _nearest(approx, keep)


def _inside(v: sp.Basic, window: sp.Interval) -> bool:
    try:
        return bool(window.contains(v) is sp.true)
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=4096)
def _zeros(expr: sp.Expr, symbol: sp.Symbol,
           window: sp.Interval | None) -> tuple[list[sp.Basic], list[sp.Rational], bool]:
    real = sp.Dummy("r", real=True)
    e = expr.xreplace({symbol: real})
    try:
        with time_limit(SOLVE_SECONDS, calls=SOLVE_CALLS):
            numerator = sp.together(e).as_numer_denom()
            exact: list[sp.Basic] = []
            approx: list[sp.Rational] = []
            for part in numerator:
                ex, ap = _part_zeros(part, real, window)
                exact += ex
                approx += ap
    except Timeout:  # (incomplete: a proof must not be confirmed by this search)
        return [], _numeric_zeros(e, real), False
    except Exception:  # a failure of SymPy here (NoConvergence, an integer too long to print, …): the grid still
        return [], _numeric_zeros(e, real), True  # looks (no points at all hid the kinks of a derivative)
    return exact, approx, True


def _part_zeros(e: sp.Expr, real: sp.Dummy, window: sp.Interval | None) -> tuple[list[sp.Basic], list[sp.Rational]]:
    if e.is_number:
        return [], []
    if e.is_polynomial(real):
        poly = sp.Poly(e, real)
        if poly.degree() <= 0:
            return [], []
        if poly.degree() == 1:
            a, b = poly.all_coeffs()
            return [sp.simplify(-b / a)], []
        if poly.domain.is_QQ or poly.domain.is_ZZ:
            if poly.degree() <= MAX_DEGREE:
                roots = poly.real_roots()
                return ([r for r in roots if not isinstance(r, sp.CRootOf)],
                        [_rational(r) for r in roots if isinstance(r, sp.CRootOf)])
        roots = [r for r in poly.nroots(n=30) if abs(sp.im(r)) < 1e-20]
        return [], [_rational(sp.re(r)) for r in roots]
    solutions = sp.solveset(e, real, sp.S.Reals)
    if not isinstance(solutions, sp.FiniteSet):
        solutions = solutions.intersect(window if window is not None and window.measure < 100 else PERIODIC_WINDOW)
    if isinstance(solutions, sp.FiniteSet):
        values = [v for v in solutions if v.is_real]
        simple = [v for v in values if sp.count_ops(v) <= 12]
        return simple, [_rational(v) for v in values if v not in simple]
    return [], _numeric_zeros(e, real)


def _rational(v: sp.Basic) -> sp.Rational:
    return sp.Rational(str(sp.N(v, 30)))


def _numeric_zeros(e: sp.Expr, real: sp.Dummy) -> list[sp.Rational]:
    """Sign changes of `e` between neighbouring grid points, refined by bisection (never certified)."""
    try:
        f = sp.lambdify(real, e, modules="mpmath")
    except Exception:  # a printer that cannot print it: no numeric zeros
        return []
    found: list[sp.Rational] = []
    try:
        with mpmath.workdps(30), time_limit(SCAN_SECONDS):
            previous: tuple[sp.Rational, int] | None = None
            for point in _GRID_SORTED:
                s = _sign_at(f, point)
                if s is not None and previous is not None and s != previous[1]:
                    found.append(_bisect(f, previous[0], point, previous[1]))
                if s is not None:
                    previous = (point, s)
    except Timeout:  # (counted by the limit: what was found is used, and no proof rests on the search)
        pass
    return _nearest(found)


def _sign_at(f: Callable[[object], object], point: sp.Rational) -> int | None:
    try:
        value = f(mpmath.mpf(point.p) / point.q)
    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
        return None
    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
        return None
    return 0 if value == 0 else (1 if value > 0 else -1)


def _bisect(f: Callable[[object], object], a: sp.Rational, b: sp.Rational, sign_a: int) -> sp.Rational:
    if sign_a == 0:
        return a
    for _ in range(60):
        mid = (a + b) / 2
        s = _sign_at(f, mid)
        if s == 0 or s is None:
            return mid
        a, b = (mid, b) if s == sign_a else (a, mid)
    return sp.Rational(str(sp.N((a + b) / 2, 30)))


def _nearest(values: list[sp.Basic], keep: int = MAX_ZEROS) -> list[sp.Basic]:
    unique = list(dict.fromkeys(values))
    try:
        unique.sort(key=lambda v: (abs(float(sp.N(v))), sp.default_sort_key(v)))
    except (TypeError, ValueError):
        unique.sort(key=sp.default_sort_key)
    return unique[:keep]


def candidates(value: sp.Basic, symbol: sp.Symbol, exact: bool) -> list[sp.Basic]:
    """The values to try for `symbol` at a zero `value`: the integers at and next to it for an integer
    symbol; otherwise the zero itself (if `exact`) and rational points `BESIDE` it on either side."""
    try:
        approx = value if value.is_Rational else _rational(value)
    except (TypeError, ValueError):
        return []
    if symbol.is_integer:
        low, high = sp.floor(approx), sp.ceiling(approx)
        return list(dict.fromkeys([low, high, low - 1, high + 1]))
    if exact:
        return [value]
    return [approx, approx - BESIDE, approx + BESIDE]


def points(
    exprs: Sequence[sp.Basic],
    sampled: Sequence[sp.Symbol],
    base: dict[sp.Symbol, sp.Basic],
    accept: Callable[[sp.Basic, sp.Symbol], bool],
    limit: int,
) -> list[dict[sp.Symbol, sp.Basic]]:
    """Up to `limit` assignments ``{symbol: value, other symbols: their `base` value}`` at the zeros of the
    critical expressions of `exprs` (module docstring); `accept` says whether a value suits a symbol."""
    critical = critical_expressions(exprs, set(sampled))
    first: list[dict[sp.Symbol, sp.Basic]] = []
    beside: list[dict[sp.Symbol, sp.Basic]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    searches = [(expr, symbol) for expr in critical for symbol in sorted(expr.free_symbols, key=str)]
    for expr, symbol in searches[:MAX_SEARCHES]:
        others = {s: v for s, v in base.items() if s != symbol}
        try:
            univariate = expr.xreplace(others)
            exact, approx = zeros(univariate, symbol)
        except Exception:  # root finding only adds points: a failure here adds none
            continue
        for zero, is_exact in [(z, True) for z in exact] + [(z, False) for z in approx]:
            values = candidates(zero, symbol, is_exact)
            for j, value in enumerate(values):
                if not _real_number(value) or not accept(value, symbol):
                    continue
                point = {**base, symbol: value}
                key = tuple(sorted((str(s), sp.srepr(v)) for s, v in point.items()))
                if key in seen:
                    continue
                seen.add(key)
                (first if j == 0 or (symbol.is_integer and j < 2) else beside).append(point)
    chosen = first + beside
    return chosen[:limit]


def _real_number(value: sp.Basic) -> bool:
    return bool(isinstance(value, sp.Expr) and value.is_number and value.is_real and value.is_finite)


def base_point(symbols: Sequence[sp.Symbol], draw: Callable[[sp.Symbol], sp.Basic]) -> dict[sp.Symbol, sp.Basic]:
    """One value per symbol (the other symbols' values while one symbol is set to a zero)."""
    return {s: draw(s) for s in symbols}
