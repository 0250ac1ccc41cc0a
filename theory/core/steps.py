"""The kinds of step a derivation is made of, and how each is checked.

Each step relates two expressions and says why:

- `Equal`: lhs = rhs;
- `Equivalent`: equations a = b ⟺ c = d, their differences agreeing up to a factor
  that is finite and nonzero everywhere on the domain: a − b = factor · (c − d);
- `Substitute`: setting parameters in lhs gives rhs (premise ⇒ conclusion); every
  value must satisfy its symbol's assumptions;
- `MatrixGradient`: ∂f/∂W = rhs, differentiated term by term and always
  cross-checked entry by entry on explicit matrices;
- `Inequality`: lhs <, ≤, >, ≥ rhs (scalars).

A step whose two sides are identical as built checked nothing (SymPy evaluated
it at construction): building one is an error.  Build such steps unevaluated
(`Derivative`, `Subs`, `Integral`, `UnevaluatedExpr`, `evaluate=False`) so that
the checker does the work the document shows.

How a step is checked (`theory.core.check`): the exact rungs (`theory.core.ladder`)
and, where the step is polynomial or rational real arithmetic, z3
(`theory.core.smt`) try to certify it; the numeric rung (`theory.core.sampling`,
`theory.core.numbers`) *always* runs as well, on the sides as built, and a
counterexample fails the step whatever the exact rungs said.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp


class Status(enum.StrEnum):
    PROVED = "proved"
    CHECKED = "checked"
    FAILED = "failed"


RELATIONS = ("=", "<", "≤", ">", "≥", "⟺", "⇒")
INEQUALITIES = ("<", "≤", ">", "≥")


@dataclass(frozen=True)
class Formula:
    """A relation a derivation establishes: ``lhs relation rhs`` (at the substitution `at`, if any).

    `Derivation.proves` is a conjunction of formulas; `verify` checks that each is
    the formula of one step, or the composition of a chain of consecutive steps
    (each step's left side the previous step's right side, as in a ``calc`` block).
    """

    lhs: sp.Basic
    relation: str
    rhs: sp.Basic
    at: tuple[tuple[sp.Basic, sp.Basic], ...] = ()  # a Substitute's premise, as (symbol, value) pairs

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, got {self.relation!r}")
        object.__setattr__(self, "lhs", _sympify(self.lhs))
        object.__setattr__(self, "rhs", _sympify(self.rhs))

    def text(self) -> str:
        premise = f"at {', '.join(f'{k} = {v}' for k, v in self.at)}: " if self.at else ""
        return f"{premise}{_plain(self.lhs)} {self.relation} {_plain(self.rhs)}"


@dataclass(frozen=True)
class Step:
    """`lhs  relation  rhs`, because `reason` (citing `citation` where one applies)."""

    lhs: sp.Basic
    rhs: sp.Basic
    reason: str
    citation: str = ""
    relation: str = "="

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", _sympify(self.lhs))
        object.__setattr__(self, "rhs", _sympify(self.rhs))
        if self.hollow():
            raise ValueError(
                f"hollow step ({self.reason!r}): both sides are identical as built ({short(self.lhs, 120)}), so "
                "nothing would be checked; SymPy evaluated it at construction. Build it unevaluated "
                "(Derivative, Subs, Integral, UnevaluatedExpr, evaluate=False)"
            )

    def hollow(self) -> bool:
        """Both sides identical as built: the step would check nothing."""
        return _same(self.lhs, self.rhs)

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        """The two expressions whose difference must vanish, as built (a Substitute's values put in)."""
        return self.lhs, self.rhs

    def formula(self) -> Formula:
        """What this step establishes."""
        return Formula(self.lhs, "=", self.rhs)


def Equal(lhs: sp.Basic, rhs: sp.Basic, reason: str, citation: str = "") -> Step:
    """An equality step, `lhs = rhs`."""
    return Step(lhs=lhs, rhs=rhs, reason=reason, citation=citation)


@dataclass(frozen=True)
class Equivalent(Step):
    """Equations `lhs` ⟺ `rhs` (both `sp.Eq`, or matrix pairs), because their
    differences agree up to a `factor` that is finite and nonzero on the whole
    domain: a − b = factor · (c − d)."""

    factor: sp.Expr = sp.S.One
    relation: str = "⟺"

    def hollow(self) -> bool:
        return _same(self.lhs, self.rhs) and self.factor == 1

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        a, b = eq_sides(self.lhs)
        c, d = eq_sides(self.rhs)
        return a - b, self.factor * (c - d)

    def formula(self) -> Formula:
        return Formula(self.lhs, "⟺", self.rhs)


@dataclass(frozen=True)
class Substitute(Step):
    """Setting `subs` in `lhs` gives `rhs`: the premise ⇒ the conclusion.

    Each value must satisfy its symbol's assumptions (a positive symbol cannot be
    set to 0: that is a limit, state it as a `Limit`)."""

    subs: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    relation: str = "⇒"

    def __post_init__(self) -> None:
        object.__setattr__(self, "subs", {_sympify(k): _sympify(v) for k, v in dict(self.subs).items()})
        super().__post_init__()

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        return (self.lhs.subs(dict(self.subs)) if self.subs else self.lhs), self.rhs

    def formula(self) -> Formula:
        return Formula(self.lhs, "=", self.rhs, at=tuple(self.subs.items()))


@dataclass(frozen=True)
class MatrixGradient(Step):
    """∂`lhs`/∂`wrt` = `rhs` for a scalar `lhs` and a matrix symbol `wrt`.

    Differentiated term by term (never a sum of traces at once) and always
    cross-checked entry by entry on explicit matrices.
    """

    wrt: sp.MatrixSymbol | None = None  # required: the matrix to differentiate by

    def __post_init__(self) -> None:
        if not isinstance(self.wrt, sp.MatrixSymbol):
            raise TypeError("MatrixGradient needs wrt=<the MatrixSymbol to differentiate by>")
        super().__post_init__()

    def hollow(self) -> bool:
        return False

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        assert self.wrt is not None
        return matrix_gradient(self.lhs, self.wrt), self.rhs

    def formula(self) -> Formula:
        return Formula(sp.Derivative(self.lhs, self.wrt), "=", self.rhs)


@dataclass(frozen=True)
class Inequality(Step):
    """`lhs relation rhs` with relation one of <, ≤, >, ≥ (scalars)."""

    relation: str = "<"

    def __post_init__(self) -> None:
        if self.relation not in INEQUALITIES:
            raise ValueError(f"an Inequality's relation must be one of {INEQUALITIES}, got {self.relation!r}")
        super().__post_init__()

    def formula(self) -> Formula:
        return Formula(self.lhs, self.relation, self.rhs)


def _sympify(obj: object) -> object:
    if isinstance(obj, (sp.Basic, sp.MatrixBase, tuple)):
        return obj
    return sp.sympify(obj)


def same_tree(a: object, b: object) -> bool:
    """Structural identity, variable names included.

    Not `==`: SymPy 1.14's `Subs` equality identifies some different substitutions (see
    `theory.core.check.subs_evaluated`), so two expressions are the same only if their full trees are.
    """
    if a is b:
        return True
    if isinstance(a, (sp.Basic, sp.MatrixBase)) and isinstance(b, (sp.Basic, sp.MatrixBase)):
        return sp.srepr(a) == sp.srepr(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


_same = same_tree


def _plain(e: object) -> str:
    return sp.sstr(e) if isinstance(e, sp.Basic) else str(e)


def eq_sides(eq: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """The two sides of an equation (`sp.Eq` or a pair)."""
    if isinstance(eq, sp.Equality):
        return eq.lhs, eq.rhs
    if isinstance(eq, tuple) and len(eq) == 2:
        return eq
    raise TypeError(f"expected an equation, got {eq!r}")


def matrix_gradient(f: sp.Expr, wrt: sp.MatrixSymbol) -> sp.Basic:
    """∂f/∂W for scalar f, one additive term at a time (see module docstring)."""
    expanded = sp.expand(f.doit() if hasattr(f, "doit") else f)
    terms: list[sp.Basic] = []
    for term in sp.Add.make_args(expanded):
        if isinstance(term, sp.Trace):
            inner = sp.expand(term.arg)
            terms.extend(sp.Trace(t) for t in sp.Add.make_args(inner))
        else:
            terms.append(term)
    grads = [sp.diff(t, wrt) for t in terms]
    return sp.MatAdd(*grads).doit() if len(grads) > 1 else grads[0]


def short(obj: object, limit: int = 300) -> str:
    """`obj` printed on one line, cut to `limit` characters."""
    text = " ".join(str(obj).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
