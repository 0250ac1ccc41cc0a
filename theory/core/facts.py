"""Validating the facts an `Assumption` licenses, before any step may use them.

A fact ``key = value`` lets the exact rungs rewrite `key` to `value`.  An
unchecked fact can prove anything (a key that is the number 0 rewrites every
literal 0; σ(0) = 0 together with σ(0) = 1 gives 0 = 1), so every fact must be
*realised* by the numeric instances the derivation declares, or it is refused:

- a **key** must be an expression, not a number (`check_key`, at construction: a
  key like ReLU(0) has already evaluated to 0), and must differ from its value;
- a **definition** (the key is a symbol or matrix symbol, absent from its value,
  e.g. Σ = RRᵀ) is realised by computing the symbol from the others; definitions
  must not be circular, a defined matrix must have the kind declared for it and
  its symbol's shape, and a defined scalar must satisfy its symbol's own
  assumptions (y = −1 − x² for a positive y is refused): SymPy's assumptions or
  z3 prove it, or a sampled instance refutes it (refused), or neither (the
  definition holds only numerically: see *weak* below);
- a **premise** restricts what the sampling draws, and must hold *exactly* at every
  sampled instance: a fact about an undefined function at a number (σ(0) = 0,
  which filters the stand-ins), or a property of matrices with a declared kind and
  no other free scalar than dimensions (Σᵀ = Σ for "spd", QᵀQ = I for "orthogonal");
- any other fact is a **lemma**: a claim about the symbols' declared domains, which
  no sampling restricts (floor(t/3000) = 0 for t > 0), so it is *checked like a
  step* (`theory.core.check`), with only the definitions and premises as facts.
  A lemma that fails refuses the assumptions; one that holds only numerically is
  *weak*;
- facts that cannot all be realised at once (no stand-in satisfies them, or one
  key with two values) are contradictory.

`audit` returns the reason a set of facts is refused (or None) and the weak facts;
`verify` downgrades every step that would be proved and mentions a weak fact's
symbols to *checked*, since what it rests on is only numeric evidence.  The numeric
and explicit-matrix rungs evaluate steps *before* rewriting, at instances that
realise every fact, so a step never rests on a fact that was not checked.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.core import numbers, sampling, smt

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


@dataclass(frozen=True)
class Weak:
    """A fact that only the numeric rung supports: steps that mention its symbols are at most *checked*."""

    key: sp.Basic
    value: sp.Basic
    why: str

    def symbols(self) -> set[sp.Basic]:
        return _names_of(self.key)


def validate(
    facts: Mapping[sp.Basic, sp.Basic], matrix_kinds: Mapping[sp.MatrixSymbol, str], seed: int
) -> str | None:
    """Why these facts cannot be used (see module docstring), or None if each is realised."""
    return audit(facts, matrix_kinds, seed)[0]


def audit(
    facts: Mapping[sp.Basic, sp.Basic], matrix_kinds: Mapping[sp.MatrixSymbol, str], seed: int
) -> tuple[str | None, tuple[Weak, ...]]:
    """Why these facts cannot be used (or None), and the facts only numerically supported (module docstring)."""
    for kind in matrix_kinds.values():
        if kind not in sampling.MATRIX_KINDS:
            return f"unknown matrix kind {kind!r}; known: {', '.join(sampling.MATRIX_KINDS)}", ()
    if not facts:
        return None, ()
    rng = random.Random(seed)
    defined = sampling.definitions(facts)
    others = {k: v for k, v in facts.items() if k not in defined}
    lemmas = {k: v for k, v in others.items() if not _premise(k, v, matrix_kinds)}
    weak: list[Weak] = []
    unproved: dict[sp.Symbol, str] = {}
    for key, value in defined.items():
        if isinstance(key, sp.Symbol):
            problem = _definition_assumptions(key, value)
            if problem is not None and problem.startswith("refuted"):
                return f"the definition {key} = {value} contradicts the assumptions on {key}: {problem}", ()
            if problem is not None:
                unproved[key] = problem
    exprs = [e for kv in facts.items() for e in kv if isinstance(e, sp.Basic)]
    try:
        for instance in sampling.instances(exprs, rng, FACT_INSTANCES, matrix_kinds, facts):
            for key, value in others.items():
                problem = _mismatch(key, value, instance)
                if problem:
                    return problem, ()
            for key in defined:
                problem = _definition_mismatch(key, defined[key], instance.point, matrix_kinds)
                if problem:
                    return f"{problem} (at {instance.describe()[:300]})", ()
    except sampling.NoInstance as exc:
        return f"the assumptions cannot all hold at once: {exc}", ()
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        return f"the assumptions could not be realised by sampling: {exc}", ()
    weak += [Weak(k, defined[k], f"the definition {k} = {defined[k]} satisfies the assumptions on {k} only "
                  f"numerically ({why})") for k, why in unproved.items()]
    for i, (key, value) in enumerate(sorted(lemmas.items(), key=lambda kv: sp.srepr(kv[0]))):
        refusal, weak_lemma = _check_lemma(key, value, {k: v for k, v in facts.items() if k not in lemmas},
                                           matrix_kinds, seed + 1 + i)
        if refusal:
            return refusal, ()
        if weak_lemma:
            weak.append(weak_lemma)
    return None, tuple(weak)


def _premise(key: sp.Basic, value: sp.Basic, matrix_kinds: Mapping[sp.MatrixSymbol, str]) -> bool:
    """A fact that restricts what the sampling draws (module docstring), rather than a lemma."""
    if isinstance(key, AppliedUndef) and all(a.is_number for a in key.args):
        return True
    exprs = [e for e in (key, value) if isinstance(e, sp.Basic)]
    kinded = any(m in matrix_kinds for e in exprs for m in e.atoms(sp.MatrixSymbol))
    dims = sampling.dimension_symbols(exprs)
    scalars = {s for e in exprs for s in e.free_symbols if isinstance(s, sp.Symbol)} - dims
    return kinded and not scalars and not any(e.atoms(AppliedUndef) for e in exprs)


def _check_lemma(key: sp.Basic, value: sp.Basic, premises: Mapping[sp.Basic, sp.Basic],
                 matrix_kinds: Mapping[sp.MatrixSymbol, str], seed: int) -> tuple[str | None, Weak | None]:
    from theory.core.check import Context, check_equal
    from theory.core.steps import Status

    why = ("a fact must define a new symbol, restrict a function or a declared matrix kind, or follow from the "
           "symbols' own assumptions")
    outcome = check_equal(key, value, Context(facts=premises, matrix_kinds=matrix_kinds, seed=seed))
    if outcome.status is Status.FAILED:
        return (f"the fact {key} = {value} does not follow from the declared assumptions ({why}): "
                f"{outcome.method}: {outcome.detail[:300]}"), None
    if outcome.status is Status.CHECKED:
        return None, Weak(key, value, f"the fact {key} = {value} holds only numerically ({outcome.method})")
    return None, None


_SIGNS = {"positive": ">", "nonnegative": "≥", "negative": "<", "nonpositive": "≤"}


def _definition_assumptions(symbol: sp.Symbol, value: sp.Basic) -> str | None:
    """None if the definition `symbol = value` provably satisfies `symbol`'s assumptions; "refuted: …" if SymPy
    refutes one; otherwise which ones are not proved (the samples decide then)."""
    if not isinstance(value, sp.Expr) or isinstance(value, sp.MatrixExpr):
        return f"refuted: {symbol} is a scalar, its definition is not ({type(value).__name__})"
    wanted = {f: e for f, e in symbol.assumptions0.items() if f != "commutative"}
    known: dict[str, bool] = {}
    for fact in wanted:
        got = getattr(value, f"is_{fact}", None)
        if got is not None:
            known[fact] = bool(got)
    for fact, sign in _SIGNS.items():
        if wanted.get(fact) is True and fact not in known:
            result = smt.decide(value, sign, sp.S.Zero)
            if result.verdict is smt.SmtVerdict.CERTIFIED:
                known[fact] = True
            elif result.verdict is smt.SmtVerdict.COUNTEREXAMPLE:
                return f"refuted: {fact}: {result.detail[:200]}"
    try:  # what the proved facts imply (positive ⇒ nonzero, nonnegative, …), by SymPy's assumption rules
        probe = sp.Dummy(**known)
    except Exception:  # inconsistent: cannot happen for facts of one value, but never a pass
        return f"refuted: the facts {known} of {value} are inconsistent"
    unproved = []
    for fact, expected in sorted(wanted.items()):
        got = getattr(probe, f"is_{fact}", None)
        if got is None:
            unproved.append(fact)
        elif got is not expected:
            return f"refuted: {fact} is {expected} for {symbol} but {got} for {value}"
    return f"{', '.join(unproved)} not proved" if unproved else None


def _definition_mismatch(key: sp.Basic, definition: sp.Basic, point: Mapping[sp.Basic, sp.Basic],
                         matrix_kinds: Mapping[sp.MatrixSymbol, str]) -> str | None:
    """Why a realised definition contradicts its symbol (kind, shape, assumptions), or None."""
    realised = point[key]
    if isinstance(realised, sp.UnevaluatedExpr):  # too large for exact arithmetic: its sign by Arb, if it has one
        return _huge_definition_mismatch(key, definition, realised)
    if isinstance(key, sp.MatrixSymbol):
        if not isinstance(realised, sp.MatrixBase):
            return f"the definition {key} = {definition} gives a scalar to a matrix"
        shape = tuple(sp.sympify(d).xreplace(dict(point)) for d in key.shape)
        if shape != tuple(realised.shape):
            return f"the definition {key} = {definition} has shape {realised.shape}, but {key} is {shape[0]}×{shape[1]}"
        declared = matrix_kinds.get(key)
        if declared and not _has_kind(realised, declared):
            return f"the definition {key} = {definition} contradicts its declared kind {declared!r}"
        return None
    if isinstance(realised, sp.MatrixBase):
        return f"the definition {key} = {definition} gives a matrix to a scalar"
    if isinstance(key, sp.Symbol) and realised.is_number and not sampling.satisfies(realised, key):
        return (f"the definition {key} = {definition} contradicts the assumptions on {key} "
                f"({_shown(key)}): it is {realised}")
    return None


def _huge_definition_mismatch(key: sp.Basic, definition: sp.Basic, realised: sp.Basic) -> str | None:
    """A realised value too large for exact arithmetic (`theory.core.cost`): refuted only by a certified sign."""
    if not isinstance(key, sp.Symbol):
        return None
    sign = numbers.sign(realised)
    wanted = {"positive": sign is not None and sign > 0, "negative": sign is not None and sign < 0,
              "nonnegative": sign is not None and sign >= 0, "nonpositive": sign is not None and sign <= 0}
    for fact, holds in wanted.items():
        if key.assumptions0.get(fact) is True and sign is not None and not holds:
            return f"the definition {key} = {definition} contradicts the assumptions on {key} ({_shown(key)})"
    return None


def _shown(symbol: sp.Symbol) -> str:
    shown = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "integer", "real")
    return ", ".join(k for k, v in sorted(symbol.assumptions0.items()) if v and k in shown)


def _names_of(e: sp.Basic) -> set[sp.Basic]:
    out: set[sp.Basic] = set(e.free_symbols) | set(e.atoms(sp.MatrixSymbol))
    out |= {a.func for a in e.atoms(AppliedUndef)}
    return out


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
    if kind == "invertible":
        return m.rows == m.cols and m.det() != 0
    return False
