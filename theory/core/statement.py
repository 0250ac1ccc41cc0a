"""What a proof covers: checking that a derivation's formal statement follows from its steps.

A derivation's formal statement (`Derivation.proves`) is a conjunction of
`Formula`s.  Each formula must be established by the steps, structurally (no
CAS is trusted here; sides are compared as built):

- **a step**: the formula is the step's own formula (`Step.formula()`), or its mirror
  (b = a for a = b; b > a for a < b); or
- **a chain**: consecutive steps s_i, …, s_j (equalities, inequalities or
  equivalences) with s_i's left side the formula's left side, each next step's left
  side the previous step's right side, and s_j's right side the formula's right
  side (a ``calc`` block).  The relations compose: = with ≤ gives ≤, any < makes it
  <, ≤ and ≥ never mix, ⟺ composes only with ⟺; the composed relation must imply
  the formula's (< implies ≤; = implies ≤ and ≥).

The formula is then as certain as the weakest step it rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from theory.core.steps import Equivalent, Formula, Inequality, MatrixGradient, Step, Substitute, same_tree

_UP, _DOWN = ("≤", "<"), ("≥", ">")
_MIRROR = {"=": "=", "<": ">", ">": "<", "≤": "≥", "≥": "≤", "⟺": "⟺"}


@dataclass(frozen=True)
class Support:
    """How one formula of the statement is established."""

    formula: Formula
    steps: tuple[int, ...]  # 1-based indices of the steps it rests on (empty: not established)
    how: str  # "step 3", "chain of steps 2–5", or why it is not established

    @property
    def established(self) -> bool:
        return bool(self.steps)


def _same(a: object, b: object) -> bool:
    return same_tree(a, b)


def _same_formula(f: Formula, g: Formula) -> bool:
    if len(f.at) != len(g.at) or not all(
        same_tree(k1, k2) and same_tree(v1, v2) for (k1, v1), (k2, v2) in zip(f.at, g.at, strict=True)
    ):
        return False
    if f.relation == g.relation and _same(f.lhs, g.lhs) and _same(f.rhs, g.rhs):
        return True
    return _MIRROR.get(g.relation) == f.relation and _same(f.lhs, g.rhs) and _same(f.rhs, g.lhs)


def _compose(a: str, b: str) -> str | None:
    if a == "=":
        return b
    if b == "=":
        return a
    if a == "⟺" or b == "⟺":
        return "⟺" if a == b else None
    for direction in (_UP, _DOWN):
        if a in direction and b in direction:
            return direction[1] if direction[1] in (a, b) else direction[0]
    return None


def _implies(have: str, want: str) -> bool:
    if have == want:
        return True
    return (have, want) in {("<", "≤"), (">", "≥"), ("=", "≤"), ("=", "≥")}


def _chainable(step: Step) -> bool:
    if isinstance(step, (Substitute, MatrixGradient)):
        return False
    return isinstance(step, (Inequality, Equivalent)) or type(step) is Step


def establish(formula: Formula, steps: Sequence[Step]) -> Support:
    """How `formula` follows from `steps` (see module docstring)."""
    formulas = [s.formula() for s in steps]
    for i, f in enumerate(formulas, start=1):
        if _same_formula(formula, f):
            return Support(formula, (i,), f"step {i}")
    if formula.at:
        return Support(formula, (), "no step sets these values and states this formula")
    for start in range(len(steps)):
        for reverse in (False, True):
            support = _chain_from(formula, steps, formulas, start, reverse)
            if support is not None:
                return support
    return Support(formula, (), "no step, and no chain of consecutive steps, goes from its left side to its right side")


def _chain_from(formula: Formula, steps: Sequence[Step], formulas: list[Formula], start: int,
                reverse: bool) -> Support | None:
    """A chain starting at `start`; with `reverse`, read the formula mirrored (rhs … lhs)."""
    target_l, target_r = (formula.rhs, formula.lhs) if reverse else (formula.lhs, formula.rhs)
    want = _MIRROR.get(formula.relation, "") if reverse else formula.relation
    if not want or not _chainable(steps[start]) or not _same(formulas[start].lhs, target_l):
        return None
    relation = "="
    for j in range(start, len(steps)):
        f = formulas[j]
        if j > start and (not _chainable(steps[j]) or not _same(f.lhs, formulas[j - 1].rhs)):
            return None
        composed = _compose(relation, f.relation)
        if composed is None:
            return None
        relation = composed
        if _same(f.rhs, target_r) and _implies(relation, want):
            indices = tuple(range(start + 1, j + 2))
            how = f"step {start + 1}" if len(indices) == 1 else f"chain of steps {start + 1}–{j + 1}"
            return Support(formula, indices, how)
    return None
