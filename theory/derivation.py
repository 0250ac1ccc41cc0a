"""Checked derivations: statements, assumptions, steps, and `verify`.

A `Derivation` is a theorem with named assumptions and ordered steps.  Each
step relates two expressions and says why; `verify` checks every step with the
ladder of DESIGN.md and returns, per step, the status, the method that decided
it and the time it took:

- **proved**: an exact method (`theory.ladder`) reduced the difference to 0, or
  decided the sign from the declared assumptions;
- **checked**: exact methods could not decide, but the identity held at seeded
  random points / on explicit 2×2 and 3×3 matrices (`theory.sampling`);
- **failed**: a counterexample was found, or nothing could decide it.

A derivation is proved only if every step is proved.  Every step whose sides
are matrix expressions, and every matrix gradient, is *also* evaluated on
explicit 2×2 and 3×3 instances: a mismatch there fails the step even if the
symbolic rung said "zero" (SymPy can silently return 0 for the derivative of a
sum of traces; REFERENCES.md, "Known tool pitfalls").

Steps are independent statements (each states both sides), so a derivation
reads like a paper's chain of equalities without hidden state.
"""

from __future__ import annotations

import enum
import random
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from theory import ladder, sampling


class Status(enum.StrEnum):
    PROVED = "proved"
    CHECKED = "checked"
    FAILED = "failed"


@dataclass(frozen=True)
class Assumption:
    """A named assumption of a derivation.

    Symbol assumptions (positive, real, ...) live on the symbols themselves;
    an `Assumption` records them for the reader and adds what symbols cannot
    carry: exact rewrites it licenses (`facts`, e.g. ``{σ(0): 0}`` or
    ``{Σᵀ: Σ}``) and how matrix symbols are sampled (`matrix_kinds`, e.g.
    ``{Σ: "spd"}`` for Σ ≻ 0).
    """

    name: str  # short label, e.g. "Σ ≻ 0"
    statement: str  # one sentence for the reader
    facts: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)  # rewrites it licenses
    matrix_kinds: Mapping[sp.MatrixSymbol, str] = field(default_factory=dict)  # sampling kinds


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

    wrt: sp.MatrixSymbol = field(default_factory=lambda: sp.MatrixSymbol("W", 1, 1))

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
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
    rng = random.Random(ctx.seed)
    for size in sampling.EXPLICIT_SIZES:
        for k in range(sampling.INSTANCES_PER_SIZE):
            dims = {d: sp.Integer(size) for d in sampling.dimension_symbols([step.lhs, step.rhs, step.wrt])}
            shape = tuple(int(sp.sympify(s).subs(dims)) for s in step.wrt.shape)
            entries = sp.Matrix(*shape, lambda i, j: sp.Symbol(f"w_{i}{j}", real=True))
            point, _ = sampling.instance(
                [step.lhs, step.rhs], rng, size, 1 if k % 2 else -1,
                ctx.matrix_kinds, ctx.facts, keep_symbolic=[step.wrt], evaluate=False,
            )
            point[step.wrt] = entries  # the variable of differentiation: explicit symbolic entries
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
            at = f"at {_short(point)}: lhs = {_short(a)}, rhs = {_short(b)}"
            return Outcome(Status.FAILED, "counterexample", at)
        if verdict is None:
            at = f"could not evaluate at {_short(point)}: {_short(a)} vs {_short(b)}"
            return Outcome(Status.FAILED, "undecided", at)
    return Outcome(Status.CHECKED, label)


def _short(obj: object, limit: int = 300) -> str:
    text = " ".join(str(obj).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


BEARINGS = ("supports", "qualifies", "refutes")


@dataclass(frozen=True)
class Derivation:
    """A theorem: statement, assumptions, ordered steps, and sources."""

    id: str  # stable id, e.g. "weight-decay.gd"
    title: str  # one line
    claims: tuple[str, ...]  # claim ids from CLAIMS.md, e.g. ("C10",)
    statement: str  # the theorem in words (with formulae in plain text)
    steps: tuple[Step, ...]
    assumptions: tuple[Assumption, ...] = ()
    references: tuple[str, ...] = ()  # full citations for what the steps cite
    conclusion: str = ""  # what the verdict means for the note's claim
    # how this theorem bears on each of its claims when proved: "supports" (the default for a claim
    # not listed), "qualifies" (true only under conditions the conclusion states) or "refutes"
    bearing: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = {c: b for c, b in self.bearing.items() if c not in self.claims or b not in BEARINGS}
        if unknown:
            raise ValueError(f"{self.id}: bearing {unknown} must name its own claims with one of {BEARINGS}")

    def bearing_on(self, claim: str) -> str:
        return self.bearing.get(claim, "supports")

    def context(self, index: int) -> Context:
        facts: dict[sp.Basic, sp.Basic] = {}
        kinds: dict[sp.MatrixSymbol, str] = {}
        for a in self.assumptions:
            facts.update(a.facts)
            kinds.update(a.matrix_kinds)
        return Context(facts=facts, matrix_kinds=kinds, seed=zlib.crc32(f"{self.id}#{index}".encode()))


@dataclass(frozen=True)
class StepResult:
    index: int  # 1-based position in the derivation
    step: Step
    status: Status
    method: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class DerivationResult:
    derivation: Derivation
    steps: tuple[StepResult, ...]
    seconds: float

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.steps}
        if Status.FAILED in statuses or not self.steps:
            return Status.FAILED
        return Status.CHECKED if Status.CHECKED in statuses else Status.PROVED

    def report(self) -> str:
        """Human-readable account of every step that is not proved."""
        d = self.derivation
        lines = [f"{d.id} ({', '.join(d.claims)}): {self.status.value}"]
        if not self.steps:
            lines.append("  no steps: nothing was shown")
        for r in self.steps:
            if r.status is Status.PROVED:
                continue
            lines.append(f"  step {r.index} {r.status.value} ({r.method}): {r.step.reason}")
            lines.append(f"    lhs: {_short(r.step.lhs, 400)}")
            lines.append(f"    {r.step.relation} rhs: {_short(r.step.rhs, 400)}")
            if r.detail:
                lines.append(f"    {r.detail}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        d = self.derivation
        return {
            "id": d.id,
            "title": d.title,
            "claims": list(d.claims),
            "status": self.status.value,
            "steps": len(self.steps),
            "seconds": round(self.seconds, 3),
            "statement": d.statement,
            "conclusion": d.conclusion,
            "bearing": {c: d.bearing_on(c) for c in d.claims},
            "step_results": [
                {
                    "index": r.index,
                    "status": r.status.value,
                    "method": r.method,
                    "seconds": round(r.seconds, 4),
                    "reason": r.step.reason,
                    "relation": r.step.relation,
                    "lhs": sp.sstr(r.step.lhs),
                    "rhs": sp.sstr(r.step.rhs),
                    "detail": r.detail,
                }
                for r in self.steps
            ],
        }


def check_step(step: Step, ctx: Context) -> Outcome:
    """Check one step; any exception is an undecided (failed) step, never a pass."""
    try:
        return step.check(ctx)
    except Exception as exc:  # a crash in SymPy must fail the step, visibly
        return Outcome(Status.FAILED, "error", f"{type(exc).__name__}: {exc}")


def verify(derivation: Derivation) -> DerivationResult:
    """Check every step of `derivation` with the ladder; see the module docstring."""
    start = time.perf_counter()
    results = []
    for i, step in enumerate(derivation.steps, start=1):
        t0 = time.perf_counter()
        outcome = check_step(step, derivation.context(i))
        results.append(
            StepResult(i, step, outcome.status, outcome.method, time.perf_counter() - t0, outcome.detail)
        )
    return DerivationResult(derivation, tuple(results), time.perf_counter() - start)
