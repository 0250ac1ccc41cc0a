"""Checked derivations: a formal statement, assumptions, steps, and `verify`.

A `Derivation` is a theorem: a statement in words for the reader, a **formal
statement** (`proves`: a conjunction of `Formula`s, over the symbols' declared
domains, for the `instance` stated if it is shown only for one), named
assumptions and ordered steps.  `verify` checks every step (`theory.core.check`)
and then that the formal statement follows from the steps
(`theory.core.statement`):

- **proved**: every step was certified by an exact engine (SymPy's exact rungs, or
  z3 for polynomial/rational real arithmetic) with no engine disagreeing and no
  numeric counterexample, and the formal statement follows from the steps;
- **checked**: as proved, except that some step held only numerically (seeded
  exact/ball-arithmetic evaluation, explicit matrices): evidence, never a proof;
- **failed**: a step has a counterexample or could not be decided, or the formal
  statement does not follow from the steps, or the assumptions cannot be realised.

Before any step may use an assumption's facts, the facts are validated
(`theory.core.facts`): each must be realised by the declared sampling kinds, or be
a definition.  Prose that no step checks belongs in `remarks`, which documents show
visibly as not part of what is proved.

Determinism: each step is checked with SymPy's assumption-handler order seeded
from the derivation id and step index, so that a status does not change between
runs (see `hfx.theorems` for independence from ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import dataclasses
import enum
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.core import facts as fact_checks
from theory.core.check import Context, Outcome, check_equal, check_step, rationalised
from theory.core.statement import Support, establish
from theory.core.steps import (
    Equal,
    Equivalent,
    Formula,
    Inequality,
    MatrixGradient,
    Status,
    Step,
    Substitute,
    matrix_gradient,
    merged_clash,
    name_clash,
    short,
    symbol_names,
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
    "Formula",
    "FormulaRecord",
    "Inequality",
    "MatrixGradient",
    "Outcome",
    "Status",
    "Step",
    "StepRecord",
    "StepResult",
    "Substitute",
    "Support",
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

    def __post_init__(self) -> None:
        facts = {sp.sympify(k): sp.sympify(v) for k, v in dict(self.facts).items()}
        for key, value in facts.items():
            fact_checks.check_key(key, value)
        object.__setattr__(self, "facts", facts)


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
    claims: tuple[str, ...]  # claim ids from docs/claims.md, e.g. ("C10",)
    statement: str  # the theorem in words, for the reader
    steps: tuple[Step, ...]
    assumptions: tuple[Assumption, ...] = ()
    references: tuple[str, ...] = ()  # full citations for what the steps cite
    conclusion: str = ""  # what the verdict means for the note's claim
    # how this theorem bears on each of its claims when proved: "supports" (the default for a claim
    # not listed), "qualifies" (true only under conditions the conclusion states) or "refutes"
    bearing: Mapping[str, str] = field(default_factory=dict)
    # the formal statement: a conjunction of formulas (or steps, standing for their formulas), each of which
    # `verify` checks to follow from one step or a chain of consecutive steps
    proves: tuple[Formula | Step, ...] = ()
    instance: str = ""  # e.g. "n = 2" when the statement is shown only for that instance (then in title, etc.)
    remarks: tuple[str, ...] = ()  # prose that no step checks: shown as remarks, not part of what is proved

    def __post_init__(self) -> None:
        unknown = {c: b for c, b in self.bearing.items() if c not in self.claims or b not in BEARINGS}
        if unknown:
            raise ValueError(f"{self.id}: bearing {unknown} must name its own claims with one of {BEARINGS}")
        object.__setattr__(self, "bearing", {c: Bearing(b) for c, b in self.bearing.items()})
        object.__setattr__(self, "steps", tuple(self.steps))
        for i, step in enumerate(self.steps, start=1):
            if not isinstance(step, Step):
                raise TypeError(f"{self.id}: step {i} is a {type(step).__name__}, not a Step (Equal, Substitute, …)")
        object.__setattr__(self, "proves", tuple(self.proves))
        for item in self.proves:
            if not isinstance(item, (Formula, Step)):
                raise TypeError(f"{self.id}: `proves` holds Formulas or Steps, not {type(item).__name__}")
        object.__setattr__(self, "remarks", tuple(self.remarks))
        clash = self._name_clash()
        if clash:
            raise ValueError(f"{self.id}: {clash}")
        if self.instance:
            missing = [n for n in ("title", "statement", "conclusion") if self.instance not in getattr(self, n)]
            if missing:
                raise ValueError(
                    f"{self.id}: shown only for the instance {self.instance!r}, which its {', '.join(missing)} "
                    "must say"
                )

    def _name_clash(self) -> str | None:
        """Two different symbols with one name where a reader (or a fact's rewrite) would take them for one.

        Checked within each step and each formula of the statement, and between the assumptions' facts and
        kinds (which apply to every step) and everything else.  Two *steps* may each use a local parameter of
        the same name with different domains (a case split: q > 0 in one step, q ≥ 0 in another, each stated in
        its reason): each step is checked on its own, and the statement matches symbols exactly.
        """
        facts: list[object] = []
        for a in self.assumptions:
            facts += [*a.facts.keys(), *a.facts.values(), *a.matrix_kinds.keys()]
        fact_names, clash = symbol_names(facts)
        if clash:
            return f"the assumptions: {clash}"
        for i, step in enumerate(self.steps, start=1):
            clash = merged_clash(fact_names, step.names())
            if clash:
                return f"step {i} and the assumptions: {clash}"
        for i, item in enumerate(self.proves, start=1):
            if isinstance(item, Step):
                continue  # a step's own formula: its symbols were checked above
            clash = merged_clash(fact_names, symbol_names((item.lhs, item.rhs, *(e for p in item.at for e in p)))[0])
            clash = clash or name_clash((item.lhs, item.rhs, *(e for pair in item.at for e in pair)))
            if clash:
                return f"formula {i} of the statement: {clash}"
        return None

    def bearing_on(self, claim: str) -> Bearing:
        return Bearing(self.bearing.get(claim, Bearing.SUPPORTS))

    def formulas(self) -> tuple[Formula, ...]:
        """The formal statement, as formulas."""
        return tuple(item.formula() if isinstance(item, Step) else item for item in self.proves)

    def facts(self) -> tuple[dict[sp.Basic, sp.Basic], dict[sp.MatrixSymbol, str], str | None]:
        """All assumptions' facts and matrix kinds, and why they cannot be used together (None if they can)."""
        exact = [{rationalised(k): rationalised(v) for k, v in a.facts.items()} for a in self.assumptions]
        merged, contradiction = fact_checks.merge(exact)  # (a Float is the rational it holds, as in a step)
        kinds: dict[sp.MatrixSymbol, str] = {}
        for a in self.assumptions:
            for m, kind in a.matrix_kinds.items():
                if m in kinds and kinds[m] != kind:
                    contradiction = contradiction or f"contradictory kinds for {m}: {kinds[m]} and {kind}"
                kinds[m] = kind
        return merged, kinds, contradiction

    def context(self, index: int, refusal: str | None = None) -> Context:
        merged, kinds, _ = self.facts()
        return Context(facts=merged, matrix_kinds=kinds, seed=zlib.crc32(f"{self.id}#{index}".encode()),
                       refusal=refusal)


@dataclass(frozen=True)
class StepResult:
    index: int  # 1-based position in the derivation
    step: Step
    status: Status
    method: str
    seconds: float
    detail: str = ""
    engines: tuple[str, ...] = ()  # exact engines that certified it ("sympy", "z3")
    cross_checks: tuple[str, ...] = ()  # the other checks performed, and their results


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
    engines: tuple[str, ...] = ()  # exact engines that certified it ("sympy", "z3")
    cross_checks: tuple[str, ...] = ()  # the other checks performed, and their results


@dataclass(frozen=True)
class FormulaRecord:
    """One formula of the formal statement, and the steps it follows from."""

    formula: str  # printed
    established: bool
    steps: tuple[int, ...]  # 1-based step indices (empty: not established)
    how: str


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
    proves: tuple[FormulaRecord, ...] = ()  # the formal statement, formula by formula
    instance: str = ""  # the instance the statement is shown for ("" = in general)
    remarks: tuple[str, ...] = ()  # prose not checked by any step
    refusal: str = ""  # why the statement or the assumptions made the derivation fail ("" if they did not)


@dataclass(frozen=True)
class DerivationResult:
    derivation: Derivation
    steps: tuple[StepResult, ...]
    seconds: float
    supports: tuple[Support, ...] = ()  # how each formula of the formal statement follows from the steps
    refusal: str = ""  # why the assumptions cannot be used ("" if they can)

    def __repr__(self) -> str:
        count = len(self.steps)
        return f"<DerivationResult {self.derivation.id}: {self.status.value}, {count} step{'' if count == 1 else 's'}>"

    def _repr_html_(self) -> str:
        """Jupyter: the steps with status badges (`theory.core.display`)."""
        from theory.core.display import html

        return html(self)

    def _repr_latex_(self) -> str:
        """Jupyter (and nbconvert to LaTeX): the steps as one display, each with its status."""
        from theory.core.display import latex

        return latex(self)

    @property
    def statement_established(self) -> bool:
        """Whether every formula of the formal statement follows from the steps (vacuous without one)."""
        return all(s.established for s in self.supports)

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.steps}
        if Status.FAILED in statuses or not self.steps or self.refusal or not self.statement_established:
            return Status.FAILED
        return Status.CHECKED if Status.CHECKED in statuses else Status.PROVED

    def report(self) -> str:
        """Human-readable account of every step that is not proved, and of an unestablished statement."""
        d = self.derivation
        claims = f" ({', '.join(d.claims)})" if d.claims else ""
        lines = [f"{d.id}{claims}: {self.status.value}"]
        if not self.steps:
            lines.append("  no steps: nothing was shown")
        if self.refusal:
            lines.append(f"  assumptions refused: {self.refusal}")
        for support in self.supports:
            if not support.established:
                lines.append(f"  statement not established: {short(support.formula.text(), 300)}: {support.how}")
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
        unestablished = [s for s in self.supports if not s.established]
        refusal = self.refusal or (
            f"the formal statement does not follow from the steps: {unestablished[0].formula.text()}"
            if unestablished else ""
        )
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
                    engines=r.engines,
                    cross_checks=r.cross_checks,
                )
                for r in self.steps
            ),
            proves=tuple(
                FormulaRecord(formula=s.formula.text(), established=s.established, steps=s.steps, how=s.how)
                for s in self.supports
            ),
            instance=d.instance,
            remarks=d.remarks,
            refusal=refusal,
        )


def verify(derivation: Derivation) -> DerivationResult:
    """Check the assumptions, every step, and the formal statement; see the module docstring."""
    start = time.perf_counter()
    _empty_caches()
    facts, kinds, refusal = derivation.facts()
    weak: tuple[fact_checks.Weak, ...] = ()
    if refusal is None:
        refusal, weak = fact_checks.audit(facts, kinds, seed=zlib.crc32(f"{derivation.id}#facts".encode()))
    results = []
    for i, step in enumerate(derivation.steps, start=1):
        t0 = time.perf_counter()
        outcome = _weakened(check_step(step, derivation.context(i, refusal)), step, weak)
        results.append(
            StepResult(i, step, outcome.status, outcome.method, time.perf_counter() - t0, outcome.detail,
                       outcome.engines, outcome.cross_checks)
        )
    supports = tuple(establish(f, derivation.steps) for f in derivation.formulas())
    return DerivationResult(derivation, tuple(results), time.perf_counter() - start, supports, refusal or "")


def _empty_caches() -> None:
    """Empty SymPy's cache and the checks' own, so that a derivation's work (and what a CPU-time limit cuts short
    in it) does not depend on what this process verified before: in a pool, which derivations share a worker
    changes from run to run.  (About 9 % more time for all of hfx's derivations in one process.)"""
    from sympy.core.cache import clear_cache

    from theory.core import check, critical

    clear_cache()
    critical._zeros.cache_clear()
    check._smooth_derivatives_of.cache_clear()


def _weakened(outcome: Outcome, step: Step, weak: Sequence[fact_checks.Weak]) -> Outcome:
    """A proved step that mentions the symbols of a fact only numerically supported is only *checked*."""
    if outcome.status is not Status.PROVED or not weak:
        return outcome
    names: set[sp.Basic] = set()
    for e in step.expressions():
        if isinstance(e, sp.MatrixBase):
            e = sp.ImmutableMatrix(e)
        if isinstance(e, sp.Basic):
            names |= set(e.free_symbols) | set(e.atoms(sp.MatrixSymbol)) | {a.func for a in e.atoms(AppliedUndef)}
    resting = [w for w in weak if w.symbols() & names]
    if not resting:
        return outcome
    return dataclasses.replace(outcome, status=Status.CHECKED, detail="; ".join(w.why for w in resting),
                               engines=outcome.engines)


def established_by(formulas: Sequence[Formula], steps: Sequence[Step]) -> tuple[Support, ...]:
    """How each formula follows from the steps (`theory.core.statement.establish`)."""
    return tuple(establish(f, steps) for f in formulas)
