"""Checked derivations: statements, assumptions, steps, and `verify`.

A `Derivation` is a theorem with named assumptions and ordered steps.  Each
step relates two expressions and says why; `verify` checks every step with the
ladder of DESIGN.md and returns, per step, the status, the method that decided
it and the time it took:

- **proved**: an exact method (`theory.core.ladder`) reduced the difference to 0, or
  decided the sign from the declared assumptions;
- **checked**: exact methods could not decide, but the identity held at seeded
  random points / on explicit 2×2 and 3×3 matrices (`theory.core.sampling`);
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
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from theory.core.steps import (
    Context,
    Equal,
    Equivalent,
    Inequality,
    MatrixGradient,
    Outcome,
    Status,
    Step,
    Substitute,
    check_equal,
    check_step,
    matrix_gradient,
    short,
)

__all__ = [
    "BEARINGS",
    "Assumption",
    "Bearing",
    "Context",
    "Derivation",
    "DerivationResult",
    "Equal",
    "Equivalent",
    "Inequality",
    "MatrixGradient",
    "Outcome",
    "Status",
    "Step",
    "StepRecord",
    "StepResult",
    "Substitute",
    "TheoremRecord",
    "check_equal",
    "check_step",
    "matrix_gradient",
    "verify",
]


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


class Bearing(enum.StrEnum):
    """How a proved theorem bears on a claim of the note."""

    SUPPORTS = "supports"
    QUALIFIES = "qualifies"  # true only under the conditions the conclusion states
    REFUTES = "refutes"


BEARINGS = tuple(b.value for b in Bearing)


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
        object.__setattr__(self, "bearing", {c: Bearing(b) for c, b in self.bearing.items()})

    def bearing_on(self, claim: str) -> Bearing:
        return Bearing(self.bearing.get(claim, Bearing.SUPPORTS))

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
class StepRecord:
    """One checked step as plain data (strings and numbers), for the audit, tables and files."""

    index: int  # 1-based position in the derivation
    status: Status
    method: str  # what decided it
    seconds: float
    reason: str
    relation: str
    lhs: str  # the side as built, printed by `sympy.sstr`
    rhs: str
    detail: str  # counterexample or reason, when not proved


@dataclass(frozen=True)
class TheoremRecord:
    """A verified derivation as plain data: what crosses from `theory` to `hfx` (and between processes)."""

    id: str
    title: str
    claims: tuple[str, ...]
    status: Status
    seconds: float
    statement: str
    conclusion: str
    bearing: Mapping[str, Bearing]  # on every claim in `claims`
    steps: tuple[StepRecord, ...]


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
            lines.append(f"    lhs: {short(r.step.lhs, 400)}")
            lines.append(f"    {r.step.relation} rhs: {short(r.step.rhs, 400)}")
            if r.detail:
                lines.append(f"    {r.detail}")
        return "\n".join(lines)

    def record(self) -> TheoremRecord:
        """This result as plain data (`TheoremRecord`)."""
        d = self.derivation
        return TheoremRecord(
            id=d.id,
            title=d.title,
            claims=tuple(d.claims),
            status=self.status,
            seconds=self.seconds,
            statement=d.statement,
            conclusion=d.conclusion,
            bearing={c: d.bearing_on(c) for c in d.claims},
            steps=tuple(
                StepRecord(
                    index=r.index,
                    status=r.status,
                    method=r.method,
                    seconds=r.seconds,
                    reason=r.step.reason,
                    relation=r.step.relation,
                    lhs=sp.sstr(r.step.lhs),
                    rhs=sp.sstr(r.step.rhs),
                    detail=r.detail,
                )
                for r in self.steps
            ),
        )


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
