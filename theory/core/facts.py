"""Validating the facts an `Assumption` licenses, before any step may use them.

A fact ``key = value`` lets the exact rungs rewrite `key` to `value`.  An
unchecked fact can prove anything (a key that is the number 0 rewrites every
literal 0; σ(0) = 0 together with σ(0) = 1 gives 0 = 1), so every fact must be
*realised* by the numeric instances the derivation declares, or it is refused:

- a **key** must be an expression, not a number (`check_key`, at construction: a
  key like ReLU(0) has already evaluated to 0), and must differ from its value;
- a **definition** (the key is a symbol or matrix symbol, absent from its value,
  e.g. Σ = RRᵀ) is realised by computing the symbol from the others; definitions
  must not be circular, and a defined matrix must have the kind declared for it;
- any other fact (Σᵀ = Σ, QᵀQ = I, σ(0) = 0) must hold *exactly* at every sampled
  instance of the declared matrix kinds and function stand-ins;
- facts that cannot all be realised at once (no stand-in satisfies them, or one
  key with two values) are contradictory.

`validate` returns the reason a set of facts is refused, or None.  The numeric
and explicit-matrix rungs then evaluate steps *before* rewriting, at instances that
realise every fact, so a step never rests on a fact that was not checked.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import sympy as sp

from theory.core import numbers, sampling

FACT_INSTANCES = 6  # instances at which each fact must hold exactly


def check_key(key: sp.Basic, value: sp.Basic) -> None:
    """ValueError for a fact that can never be sound: a numeric key, or key equal to value."""
    if not isinstance(key, sp.Basic):
        raise ValueError(f"a fact's key must be a SymPy expression, got {key!r}")
    if key.is_number or isinstance(key, sp.MatrixBase):
        raise ValueError(
            f"a fact's key must not be a number (got {key}): it evaluated at construction, and rewriting it "
            "would rewrite every occurrence of that number"
        )
    if key == value:
        raise ValueError(f"the fact {key} = {value} states nothing")


def merge(assumption_facts: Sequence[Mapping[sp.Basic, sp.Basic]]) -> tuple[dict[sp.Basic, sp.Basic], str | None]:
    """All facts as one mapping, and a contradiction if one key is given two different values."""
    merged: dict[sp.Basic, sp.Basic] = {}
    for facts in assumption_facts:
        for key, value in facts.items():
            if key in merged and merged[key] != value:
                return merged, f"contradictory assumptions: {key} = {merged[key]} and {key} = {value}"
            merged[key] = value
    return merged, None


def validate(
    facts: Mapping[sp.Basic, sp.Basic], matrix_kinds: Mapping[sp.MatrixSymbol, str], seed: int
) -> str | None:
    """Why these facts cannot be used (see module docstring), or None if each is realised."""
    for kind in matrix_kinds.values():
        if kind not in sampling.MATRIX_KINDS:
            return f"unknown matrix kind {kind!r}; known: {', '.join(sampling.MATRIX_KINDS)}"
    if not facts:
        return None
    rng = random.Random(seed)
    defined = sampling.definitions(facts)
    others = {k: v for k, v in facts.items() if k not in defined}
    exprs = [e for kv in facts.items() for e in kv if isinstance(e, sp.Basic)]
    try:
        for instance in sampling.instances(exprs, rng, FACT_INSTANCES, matrix_kinds, facts):
            for key, value in others.items():
                problem = _mismatch(key, value, instance)
                if problem:
                    return problem
            for key in defined:
                declared = matrix_kinds.get(key) if isinstance(key, sp.MatrixSymbol) else None
                if declared and not _has_kind(instance.point[key], declared):
                    return f"the definition {key} = {defined[key]} contradicts its declared kind {declared!r}"
    except sampling.NoInstance as exc:
        return f"the assumptions cannot all hold at once: {exc}"
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        return f"the assumptions could not be realised by sampling: {exc}"
    return None


def _mismatch(key: sp.Basic, value: sp.Basic, instance: sampling.Instance) -> str | None:
    k = sampling.substitute(key, instance.point)
    v = sampling.substitute(value, instance.point)
    pairs = numbers.entry_pairs(k, v)
    if pairs is None:
        return f"the fact {key} = {value} compares values of different shapes"
    for a, b in pairs:
        if numbers.undefined(a) or numbers.undefined(b) or numbers.compare(a, b).verdict not in ("equal", "agree"):
            return (
                f"the fact {key} = {value} is not realised by the declared kinds and stand-ins "
                f"(at {instance.describe()[:300]}: {a} ≠ {b}); declare a matrix kind that realises it, "
                "or state it as a definition"
            )
    return None


def _has_kind(m: sp.Basic, kind: str) -> bool:
    if not isinstance(m, sp.MatrixBase):
        return False
    if kind == "general":
        return True
    if kind in ("symmetric", "spd"):
        if m != m.T:
            return False
        return kind == "symmetric" or all(m[:i, :i].det() > 0 for i in range(1, m.rows + 1))
    if kind == "orthogonal":
        return m * m.T == sp.eye(m.rows)
    if kind == "diagonal":
        return m.is_diagonal()
    if kind == "skew":
        return m == -m.T
    return False
