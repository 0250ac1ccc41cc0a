"""Symbols that can only be whole numbers: matrix dimensions, and the bounds of a finite sum or product.

A step about ``M ∈ ℝ^{d×d}`` speaks of d ∈ {0, 1, 2, …} whatever d was declared as: a dimension is a count.
A symbol declared only ``positive`` (d = ½ is admissible to SymPy, to the sampler and to z3) gave false alarms:
``tr(I_d) ≥ 1`` was refuted by z3 at d = ½.  Likewise the bounds of ``Σ_{k=a}^{b}``/``Π_{k=a}^{b}`` with integer
steps: the sum has b − a + 1 terms, so a bound ``d`` (or ``d ± 3``) next to an integer bound is a count, and
``Σ_{k=1}^{d} 1 = d`` is true for every count d.

`integer_dimensions(step, ctx)` rebuilds the step (and the context's facts and sampling kinds) with each such
symbol replaced by one of the same name that is also ``integer`` (and ``nonnegative``; its other assumptions
kept).  It never weakens what a step must show — it only removes values at which the step has no meaning.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import sympy as sp
from sympy.matrices.expressions import MatrixExpr


def _shape_symbols(e: object) -> set[sp.Symbol]:
    found: set[sp.Symbol] = set()
    if not isinstance(e, sp.Basic):
        return found
    for node in sp.preorder_traversal(e):
        if isinstance(node, MatrixExpr):
            for size in node.shape:
                found |= {s for s in sp.sympify(size).free_symbols if isinstance(s, sp.Symbol)}
    return found


def _count_symbols(e: object) -> set[sp.Symbol]:
    """Symbols that are the bound of a finite Σ/Π (alone, or plus an integer) whose other bound is an integer."""
    found: set[sp.Symbol] = set()
    if not isinstance(e, sp.Basic):
        return found
    for node in sp.preorder_traversal(e):
        if not isinstance(node, (sp.Sum, sp.Product)):
            continue
        for limit in node.limits:
            if len(limit) != 3:
                continue
            _, low, high = limit
            for bound, other in ((low, high), (high, low)):
                symbols = bound.free_symbols
                if len(symbols) == 1 and other.is_integer and other.is_finite:
                    (s,) = symbols
                    if isinstance(s, sp.Symbol) and (bound - s).is_Integer:
                        found.add(s)
    return found


def whole_number_symbols(exprs: Iterable[object]) -> set[sp.Symbol]:
    """The symbols of `exprs` used as a dimension or as a count, that are not already declared integer."""
    found: set[sp.Symbol] = set()
    for e in exprs:
        found |= _shape_symbols(e) | _count_symbols(e)
    return {s for s in found if s.is_integer is not True and s.is_integer is not False and s.is_real is not False}


def as_integer(symbol: sp.Symbol) -> sp.Symbol:
    """`symbol` with ``integer`` and ``nonnegative`` added to its assumptions (same name)."""
    facts = {k: v for k, v in symbol.assumptions0.items() if k in ("positive", "nonzero", "negative", "nonpositive")}
    facts = {k: v for k, v in facts.items() if v}  # keep what was asserted, drop what SymPy derived as False
    if facts.get("negative") or facts.get("nonpositive"):
        return symbol  # a negative "dimension" is not ours to fix: the step fails as it is
    return sp.Symbol(symbol.name, integer=True, nonnegative=True, **facts)


def _replaced(value: object, mapping: Mapping[sp.Symbol, sp.Symbol]) -> object:
    if isinstance(value, dict):
        return {_replaced(k, mapping): _replaced(v, mapping) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_replaced(v, mapping) for v in value)
    if isinstance(value, sp.Basic):
        return value.xreplace(dict(mapping))
    return value


def integer_dimensions(step: object, facts: Mapping[sp.Basic, sp.Basic], kinds: Mapping[sp.MatrixSymbol, str],
                       fields: tuple[str, ...]) -> tuple[object, dict[sp.Basic, sp.Basic], dict[sp.MatrixSymbol, str]]:
    """(step, facts, kinds) with every dimension/count symbol made an integer (module docstring)."""
    values = [getattr(step, name) for name in fields if hasattr(step, name)]
    exprs: list[object] = []
    for v in values:
        exprs += [*v.keys(), *v.values()] if isinstance(v, Mapping) else [v]
    exprs += [*facts.keys(), *facts.values(), *kinds.keys()]
    mapping = {s: as_integer(s) for s in whole_number_symbols(exprs)}
    mapping = {s: t for s, t in mapping.items() if t is not s}
    if not mapping:
        return step, dict(facts), dict(kinds)
    converted = copy.copy(step)
    for name in fields:
        if hasattr(step, name):
            object.__setattr__(converted, name, _replaced(getattr(step, name), mapping))
    new_facts = {_replaced(k, mapping): _replaced(v, mapping) for k, v in facts.items()}
    new_kinds = {_replaced(k, mapping): v for k, v in kinds.items()}
    return converted, new_facts, new_kinds  # type: ignore[return-value]
