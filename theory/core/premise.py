"""Whether a `Substitute`'s premise can hold at all: a premise no point satisfies proves anything.

``Substitute(lhs, rhs, subs={key: value})`` shows "at key = value: lhs ⇒ rhs".  When the key is a symbol,
its value must satisfy the symbol's assumptions (`theory.core.check`).  When the key is an *expression*
(x², sin x, x² + y²), the premise says that the expression takes the value somewhere; if it never does on
the symbols' declared domain — x² = −1 for a real x, exp(x) = 0, sin x = 2 — the implication is vacuously
true and "at x² = −1: x⁴ = 1" would be proved although nothing was shown.  Such a premise is refused:

- the key's sign known from the symbols' assumptions (SymPy: x² ≥ 0, exp(x) > 0) against the value's,
  and a real key against a value that is not real;
- z3 (`theory.core.smt`): ``key ≠ value`` certified for every admissible point (polynomial/rational keys);
- the range of a key in one real symbol (`sympy.calculus.util.function_range`, under a CPU-time limit):
  a value outside it (|sin x| ≤ 1); for several symbols, interval arithmetic over sin, cos, tanh and atan
  (sin x · cos y = 2).

Each test only refuses (it never certifies anything), and each is exact: a premise that none of them
refutes is accepted as before.

A premise is also read *through the derivation's facts* (`contradicts_facts`): with the definition y = x², the
premise y = −4 is x² = −4, vacuous like any other; with y = eˣ, y = 0 is eˣ = 0; with f(0) = 1, f(0) = 0 is 1 = 0;
and the other premises of the same step hold at once (with y = x², "at x = 1, y = 2" is 1 = 2).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.core.function import AppliedUndef, FunctionClass
from sympy.matrices.expressions import MatrixExpr

from theory.core import numbers, smt
from theory.core.ladder import Timeout, time_limit

RANGE_SECONDS = 2.0  # CPU seconds for the range of a key in one symbol

_SIGNS = (("positive", "> 0"), ("nonnegative", "≥ 0"), ("negative", "< 0"), ("nonpositive", "≤ 0"))


def unsatisfiable(key: sp.Basic, value: sp.Basic) -> str | None:
    """Why ``key = value`` holds at no point of the declared domain (the premise is vacuous), or None.

    A symbol is any value of its domain, except where its value holds the symbol itself: "at x = x + 1" is the
    equation x = x + 1, which no x solves (the step checks lhs with x ↦ x + 1, which implies the step at every x
    that solves the premise: sound, but vacuous when none does); it is tested as x − (x + 1) = 0."""
    if isinstance(key, sp.Symbol) and isinstance(value, sp.Expr) and not isinstance(value, MatrixExpr) \
            and key in value.free_symbols:
        problem = unsatisfiable(key - value, sp.S.Zero)
        return f"the premise {key} = {value} (an equation in {key}): {problem}" if problem else None
    if isinstance(key, (sp.Symbol, FunctionClass, MatrixExpr, sp.MatrixBase)) or not isinstance(key, sp.Expr):
        return None
    if not isinstance(value, sp.Expr) or isinstance(value, MatrixExpr):
        return None
    vacuous = f"the premise {key} = {value} holds nowhere on the declared domain, so the step would be vacuous"
    if key.is_extended_real and value.is_number and value.is_extended_real is False:
        return f"{vacuous}: {key} is real and {value} is not"
    for name, shown in _SIGNS:
        if getattr(key, f"is_{name}") is True and getattr(value, f"is_{name}") is False and value.is_number:
            return f"{vacuous}: {key} {shown} for every admissible value, and {value} is not"
    if all(s.is_extended_real for s in key.free_symbols | value.free_symbols) and smt.applicable(key, value):
        result = smt.decide(key, "≠", value)
        if result.verdict is smt.SmtVerdict.CERTIFIED:
            return f"{vacuous}: z3 proves {key} ≠ {value} wherever the assumptions hold"
    if value.is_number and value.is_extended_real:
        attained = value_range(key)
        if attained is not None and attained.contains(value) is sp.S.false:
            return f"{vacuous}: {key} takes only values in {attained}"
        enclosure = _enclosure(key)
        if enclosure is not None and (value < enclosure.min or value > enclosure.max) is sp.S.true:
            return f"{vacuous}: {key} takes only values in [{enclosure.min}, {enclosure.max}]"
    return None


FACT_ROUNDS = 5  # rewrites by the facts (a definition may use another defined symbol: y = x², u = y + 1)


def contradicts_facts(key: sp.Basic, value: sp.Basic, premises: Mapping[sp.Basic, sp.Basic],
                      facts: Mapping[sp.Basic, sp.Basic]) -> str | None:
    """Why ``key = value`` cannot hold together with the derivation's `facts` and the step's other `premises`.

    The key is rewritten by the facts (definitions y = x², and facts such as f(0) = 1) and the other premises'
    symbol values are put in; the rewritten premise is then refused like any other (`unsatisfiable`), or
    compared exactly when both sides are numbers.  Only refuses; never certifies."""
    key, value = sp.sympify(key), sp.sympify(value)
    if isinstance(key, FunctionClass):
        return _function_contradicts(key, value, facts)
    if not facts or not isinstance(key, sp.Expr) or isinstance(key, MatrixExpr) or not isinstance(value, sp.Expr):
        return None
    others = {k: v for k, v in premises.items() if k != key and isinstance(k, sp.Symbol)}
    rewritten: sp.Basic = key
    try:
        for _ in range(FACT_ROUNDS):
            step = rewritten.xreplace(dict(facts))
            step = step.subs(others) if others else step
            if step == rewritten:
                break
            rewritten = step
    except (TypeError, ValueError, AttributeError):
        return None
    if rewritten == key or not isinstance(rewritten, sp.Expr) or isinstance(rewritten, MatrixExpr):
        return None
    through = f"the premise {key} = {value}, with the assumptions' facts, is {rewritten} = {value}"
    if rewritten.is_number and value.is_number:
        if numbers.compare(rewritten, value).verdict is numbers.Verdict.DIFFER:
            return f"{through}, which is false: the step would be vacuous"
        return None
    problem = unsatisfiable(rewritten, value)
    return f"{through}; {problem}" if problem else None


def _function_contradicts(f: FunctionClass, value: sp.Basic, facts: Mapping[sp.Basic, sp.Basic]) -> str | None:
    """Why setting the function `f` to `value` (σ = tanh, f = Lambda(x, x)) contradicts a fact about f at a number
    (f(0) = 1): the value there, compared exactly."""
    if not callable(value):
        return None
    for fact_key, fact_value in facts.items():
        if not (isinstance(fact_key, AppliedUndef) and fact_key.func == f and all(a.is_number for a in fact_key.args)):
            continue
        try:
            at = sp.sympify(value(*fact_key.args))
        except (TypeError, ValueError, AttributeError):
            continue
        if isinstance(at, sp.Expr) and at.is_number and isinstance(fact_value, sp.Expr) and fact_value.is_number \
                and numbers.compare(at, fact_value).verdict is numbers.Verdict.DIFFER:
            return (f"the premise {f} = {value} gives {fact_key} = {at}, but the assumptions' facts say {fact_key} = "
                    f"{fact_value}: the step would be vacuous")
    return None


_BOUNDED = {sp.sin: (-1, 1), sp.cos: (-1, 1), sp.tanh: (-1, 1), sp.atan: (-sp.pi / 2, sp.pi / 2)}


def _enclosure(key: sp.Expr) -> sp.AccumBounds | None:
    """Interval arithmetic over the bounded functions of real arguments in `key` (sin, cos, tanh, atan: each
    replaced by its range, independently — a superset of the values), if nothing else is left."""
    replaced: dict[sp.Basic, sp.Basic] = {}
    for node in key.atoms(sp.Function):
        bounds = _BOUNDED.get(type(node))
        if bounds is not None and node.args[0].is_extended_real:
            replaced[node] = sp.AccumBounds(*bounds)
    if not replaced:
        return None
    try:
        with time_limit(RANGE_SECONDS):
            enclosure = key.xreplace(replaced)
    except (Timeout, TypeError, ValueError, NotImplementedError):
        return None
    if not isinstance(enclosure, sp.AccumBounds) or enclosure.free_symbols:
        return None
    return enclosure


def value_range(expr: sp.Basic) -> sp.Set | None:
    """The set of values of `expr` in one real symbol over the reals (a superset of its values on the symbol's
    domain), or None (several symbols, or SymPy cannot find it within `RANGE_SECONDS`)."""
    symbols = expr.free_symbols if isinstance(expr, sp.Expr) else set()
    if len(symbols) != 1:
        return None
    (s,) = symbols
    if not s.is_extended_real:
        return None
    try:
        with time_limit(RANGE_SECONDS):
            from sympy.calculus.util import function_range

            return function_range(expr, s, sp.S.Reals)
    except (Timeout, NotImplementedError, ValueError, TypeError, AttributeError):
        return None


def bounded_away_from_zero(expr: sp.Basic) -> bool:
    """Whether the values of `expr` (one real symbol) lie in a bounded interval without 0: then `expr` is
    finite and nonzero everywhere (2 + sin x, 1 + x²/(1 + x²))."""
    attained = value_range(expr)
    return (isinstance(attained, sp.Interval) and attained.inf.is_finite is True and attained.sup.is_finite is True
            and attained.contains(0) is sp.S.false)
