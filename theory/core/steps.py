"""The kinds of step a derivation is made of, and how each is checked.

Each step relates two expressions and says why; `Step.check` runs the ladder
of DESIGN.md on it (`theory.core.ladder` for the exact rungs, `theory.core.sampling` for
numeric evidence and explicit matrices) and returns an `Outcome`:

- `Equal`: lhs = rhs;
- `Equivalent`: equations a = b ⟺ c = d, their differences agreeing up to a nonzero factor;
- `Substitute`: setting parameters in lhs gives rhs (premise ⇒ conclusion);
- `MatrixGradient`: ∂f/∂W = rhs, differentiated term by term and always
  cross-checked entry by entry on explicit 2×2 and 3×3 matrices;
- `Inequality`: lhs <, ≤, >, ≥ rhs, from the symbols' assumptions, else sampled.

A step whose sides are matrix expressions is always also evaluated on explicit
2×2 and 3×3 instances: a mismatch there fails it even if a symbolic rung said
"zero" (SymPy can silently return 0 for the derivative of a sum of traces;
REFERENCES.md, "Known tool pitfalls").
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from theory.core import ladder, sampling


class Status(enum.StrEnum):
    PROVED = "proved"
    CHECKED = "checked"
    FAILED = "failed"


@dataclass(frozen=True)
class Context:
    """What a step may use: the derivation's facts and sampling kinds, and a seed."""

    facts: Mapping[sp.Basic, sp.Basic]
    matrix_kinds: Mapping[sp.MatrixSymbol, str]
    seed: int

    def apply(self, expr: sp.Basic) -> sp.Basic:
        """Evaluate unevaluated operations and apply the declared facts."""
        out = expr.doit() if hasattr(expr, "doit") else expr
        if self.facts:
            out = out.subs(dict(self.facts))
            out = out.doit() if hasattr(out, "doit") else out
        return out


@dataclass(frozen=True)
class Outcome:
    status: Status
    method: str  # what decided it, e.g. "expand" or "numeric (12 points)"
    detail: str = ""  # counterexample or reason, when not proved


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

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        """The two expressions whose difference must vanish."""
        return self.lhs, self.rhs

    def check(self, ctx: Context) -> Outcome:
        lhs, rhs = (ctx.apply(e) for e in self.sides())
        return check_equal(lhs, rhs, ctx)


def Equal(lhs: sp.Basic, rhs: sp.Basic, reason: str, citation: str = "") -> Step:
    """An equality step, `lhs = rhs`."""
    return Step(lhs=lhs, rhs=rhs, reason=reason, citation=citation)


@dataclass(frozen=True)
class Equivalent(Step):
    """Equations `lhs` ⟺ `rhs` (both `sp.Eq`, or matrix pairs), because their
    differences agree up to a nonzero `factor`: a − b = factor · (c − d)."""

    factor: sp.Expr = sp.S.One
    relation: str = "⟺"

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        a, b = _eq_sides(self.lhs)
        c, d = _eq_sides(self.rhs)
        return a - b, self.factor * (c - d)

    def check(self, ctx: Context) -> Outcome:
        if self.factor.is_zero is not False:
            return Outcome(Status.FAILED, "factor", f"factor {self.factor} is not provably nonzero")
        return super().check(ctx)


@dataclass(frozen=True)
class Substitute(Step):
    """Setting `subs` in `lhs` gives `rhs`: the premise ⇒ the conclusion."""

    subs: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    relation: str = "⇒"

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        return _subs(self.lhs, self.subs), self.rhs


@dataclass(frozen=True)
class MatrixGradient(Step):
    """∂`lhs`/∂`wrt` = `rhs` for a scalar `lhs` and a matrix symbol `wrt`.

    Differentiated term by term (never a sum of traces at once) and always
    cross-checked entry by entry on explicit 2×2 and 3×3 matrices.
    """

    wrt: sp.MatrixSymbol | None = None  # required: the matrix to differentiate by

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.wrt, sp.MatrixSymbol):
            raise TypeError("MatrixGradient needs wrt=<the MatrixSymbol to differentiate by>")

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        assert self.wrt is not None
        return matrix_gradient(self.lhs, self.wrt), self.rhs

    def check(self, ctx: Context) -> Outcome:
        symbolic, claimed = self.sides()
        exact = ladder.prove_zero(ctx.apply(symbolic) - ctx.apply(claimed))
        explicit = _explicit_gradient_mismatch(self, ctx)
        if explicit is not None:
            return Outcome(Status.FAILED, "explicit 2×2/3×3 gradient", explicit)
        if exact is not None:
            return Outcome(Status.PROVED, f"{exact}; explicit 2×2, 3×3 agree")
        return Outcome(
            Status.CHECKED,
            "explicit 2×2, 3×3 only",
            "symbolic matrix calculus could not reduce the difference to 0",
        )


@dataclass(frozen=True)
class Inequality(Step):
    """`lhs relation rhs` with relation one of <, ≤, >, ≥ (scalars)."""

    relation: str = "<"

    def check(self, ctx: Context) -> Outcome:
        lhs, rhs = (ctx.apply(e) for e in self.sides())
        gap, sign = {
            "<": (rhs - lhs, "positive"),
            "≤": (rhs - lhs, "nonnegative"),
            ">": (lhs - rhs, "positive"),
            "≥": (lhs - rhs, "nonnegative"),
        }[self.relation]
        method = ladder.prove_sign(gap, sign)
        if method is not None:
            return Outcome(Status.PROVED, method)
        rng = random.Random(ctx.seed)
        for k in range(sampling.INEQUALITY_POINTS):
            point, (g,) = sampling.instance(
                [gap], rng, 2, 1 if k % 2 else -1, ctx.matrix_kinds, ctx.facts, spread=True
            )
            value = sp.N(g, sampling.DIGITS)
            if not value.is_number:
                return Outcome(Status.FAILED, "undecided", f"cannot evaluate {g}")
            if (value <= 0) if sign == "positive" else (value < 0):
                return Outcome(Status.FAILED, "counterexample", f"at {point}: gap {value}")
        return Outcome(Status.CHECKED, f"numeric ({sampling.INEQUALITY_POINTS} points)")


def _sympify(obj: object) -> object:
    if isinstance(obj, (sp.Basic, sp.MatrixBase, tuple)):
        return obj
    return sp.sympify(obj)


def _eq_sides(eq: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    if isinstance(eq, sp.Equality):
        return eq.lhs, eq.rhs
    if isinstance(eq, tuple) and len(eq) == 2:
        return eq
    raise TypeError(f"expected an equation, got {eq!r}")


def _subs(expr: sp.Basic, subs: Mapping[sp.Basic, sp.Basic]) -> sp.Basic:
    return expr.subs(dict(subs)) if subs else expr


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


def _explicit_gradient_mismatch(step: MatrixGradient, ctx: Context) -> str | None:
    assert step.wrt is not None
    wrt = step.wrt
    rng = random.Random(ctx.seed)
    for size in sampling.EXPLICIT_SIZES:
        for k in range(sampling.INSTANCES_PER_SIZE):
            dims = {d: sp.Integer(size) for d in sampling.dimension_symbols([step.lhs, step.rhs, wrt])}
            shape = tuple(int(sp.sympify(s).subs(dims)) for s in wrt.shape)
            entries = sp.Matrix(*shape, lambda i, j: sp.Symbol(f"w_{i}{j}", real=True))
            point, _ = sampling.instance(
                [step.lhs, step.rhs], rng, size, 1 if k % 2 else -1,
                ctx.matrix_kinds, ctx.facts, keep_symbolic=[wrt], evaluate=False,
            )
            point[wrt] = entries  # the variable of differentiation: explicit symbolic entries
            f_val = ctx.apply(sampling.substitute(step.lhs, point))
            claimed = ctx.apply(sampling.substitute(step.rhs, point))
            if isinstance(f_val, sp.MatrixBase):
                f_val = f_val[0, 0]
            grad = sp.Matrix(*shape, [sp.diff(f_val, w) for w in entries])
            claimed_m = sp.Matrix(claimed) if isinstance(claimed, sp.MatrixBase) else (
                sp.zeros(*shape) if claimed == 0 else None
            )
            if claimed_m is None or claimed_m.shape != grad.shape:
                return f"{size}×{size}: claimed gradient has the wrong shape: {claimed}"
            diff = (grad - claimed_m).applyfunc(sp.expand)
            if any(e != 0 for e in diff):
                return f"{size}×{size} instance: entrywise gradient {grad.tolist()} ≠ claimed {claimed_m.tolist()}"
    return None


def check_equal(lhs: sp.Basic, rhs: sp.Basic, ctx: Context) -> Outcome:
    """The ladder for an equality: exact rungs, then numeric evidence."""
    if lhs == rhs and not (has_matrices := _has_matrices(lhs, rhs)):
        return Outcome(Status.PROVED, "structural")
    try:
        diff = lhs - rhs
    except (TypeError, ValueError) as exc:  # e.g. shape mismatch
        return Outcome(Status.FAILED, "structural", f"sides cannot be compared: {exc}")
    exact = ladder.prove_zero(diff)
    has_matrices = _has_matrices(lhs, rhs)
    if exact is not None and not has_matrices:
        return Outcome(Status.PROVED, exact)
    evidence = _numeric_evidence(lhs, rhs, ctx, has_matrices)
    if evidence.status is Status.FAILED:
        return evidence
    if exact is not None:
        return Outcome(Status.PROVED, f"{exact}; {evidence.method} agree")
    return Outcome(Status.CHECKED, evidence.method, "no exact method reduced the difference to 0")


def _has_matrices(lhs: sp.Basic, rhs: sp.Basic) -> bool:
    kinds = (MatrixExpr, sp.MatrixBase)
    if isinstance(lhs, kinds) or isinstance(rhs, kinds):
        return True
    return bool(lhs.atoms(sp.MatrixSymbol) | rhs.atoms(sp.MatrixSymbol))


def _numeric_evidence(lhs: sp.Basic, rhs: sp.Basic, ctx: Context, has_matrices: bool) -> Outcome:
    rng = random.Random(ctx.seed)
    if has_matrices:
        plan = [(size, k) for size in sampling.EXPLICIT_SIZES for k in range(sampling.INSTANCES_PER_SIZE)]
        label = "explicit 2×2, 3×3"
    else:
        plan = [(2, k) for k in range(sampling.NUMERIC_POINTS)]
        label = f"numeric ({sampling.NUMERIC_POINTS} points)"
    for size, k in plan:
        try:
            point, (a, b) = sampling.instance([lhs, rhs], rng, size, 1 if k % 2 else -1, ctx.matrix_kinds, ctx.facts)
            a, b = ctx.apply(a), ctx.apply(b)
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            return Outcome(Status.FAILED, "undecided", f"no evaluable instance: {exc}")
        verdict = sampling.differs(a, b)
        if verdict is True:
            at = f"at {short(point)}: lhs = {short(a)}, rhs = {short(b)}"
            return Outcome(Status.FAILED, "counterexample", at)
        if verdict is None:
            at = f"could not evaluate at {short(point)}: {short(a)} vs {short(b)}"
            return Outcome(Status.FAILED, "undecided", at)
    return Outcome(Status.CHECKED, label)


def short(obj: object, limit: int = 300) -> str:
    """`obj` printed on one line, cut to `limit` characters."""
    text = " ".join(str(obj).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_step(step: Step, ctx: Context) -> Outcome:
    """Check one step; any exception is an undecided (failed) step, never a pass."""
    try:
        return step.check(ctx)
    except Exception as exc:  # a crash in SymPy must fail the step, visibly
        return Outcome(Status.FAILED, "error", f"{type(exc).__name__}: {exc}")
