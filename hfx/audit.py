"""The claim audit: a verdict for every claim, derived from its evidence.

Verdicts (docs/claims.md) are never typed in; they follow from the evidence
by these rules, applied in order:

1. **refuted** — a piece of evidence that *refutes* the claim is established
   (a proved theorem, or a confirmed measurement that is not grid-limited);
2. **qualified** — a piece of evidence that *qualifies* it is established: the
   claim holds only under the conditions that evidence states;
3. **proved** — every piece of supporting evidence is a proved theorem;
4. **confirmed** — the supporting evidence is established and includes a
   measurement (which is never called a proof);
5. **unsettled** — otherwise: no evidence yet, or evidence that is only
   numerically checked, or failed, or grid-limited. The audit says which.

A measurement is **grid-limited** when it compares architectures at their best learning rates and some best
rate is still at an edge of its (widened) grid (`numerics.experiments.rate_search`): a faster rate may lie
beyond it, so the comparison is about the grid.  Grid-limited evidence is never established, whatever its rule
found.

Each verdict's reason is one sentence, the finding that decided it, carried by the evidence (`Evidence.why`):
of the deciding evidence (the established refuting, qualifying or supporting pieces, by the rule that applied)
the most specific theorem (fewest claims, then registry order) and the most specific measurement (fewest claims,
then the order of `hfx.evidence`) each contribute their
`why`.  A theorem's `why` is the first sentence of its conclusion (`theorem_why`).

A failed derivation is reported under its claim and makes `hfx verify` exit 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hfx.claims import CLAIMS, Claim
from theory.core.derivation import Bearing, Status, TheoremRecord
from theory.core.printing.prose_unicode import readable


class EvidenceKind(StrEnum):
    THEOREM = "theorem"  # a verified derivation
    EXPERIMENT = "experiment"  # a measurement


class ExperimentStatus(StrEnum):
    """What a measurement established, by its rule (hfx.evidence)."""

    CONFIRMED = "confirmed"  # the rule's condition holds: established evidence
    NOT_REPRODUCED = "not reproduced"  # it does not (or there was nothing to compare): not established
    NOT_MEASURED = "not measured"  # this run did not measure it (e.g. only `hfx verify --full` does): not established


class Verdict(StrEnum):
    """A claim's verdict, by the rules of the module docstring, in their order."""

    REFUTED = "refuted"
    QUALIFIED = "qualified"
    PROVED = "proved"
    CONFIRMED = "confirmed"
    UNSETTLED = "unsettled"


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    id: str  # theorem or experiment id
    title: str  # one line
    status: Status | ExperimentStatus  # a theorem's proved/checked/failed, or a measurement's status
    bearing: Bearing  # supports / qualifies / refutes
    finding: str  # what it shows for this claim (the theorem's conclusion, or the measured numbers)
    why: str = ""  # one sentence: the condition or finding it establishes (a verdict's reason quotes it)
    grid_limited: bool = False  # a best-rate comparison whose best rate is at an edge of its grid: never established
    claims: int = 1  # how many claims it bears on (a theorem made for one claim is the most specific)

    @property
    def established(self) -> bool:
        return self.status in (Status.PROVED, ExperimentStatus.CONFIRMED) and not self.grid_limited

    @property
    def sentence(self) -> str:
        """`why`, else the first sentence of its finding (a finding, not a file name), else its title."""
        return self.why or first_sentence(self.finding) or self.title


@dataclass(frozen=True)
class ClaimVerdict:
    claim: Claim
    verdict: Verdict
    reason: str  # one sentence: the finding that decided it (`because`), or why nothing is established
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.claim.id,
            "section": self.claim.section,
            "claim": self.claim.text,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "evidence": [
                {"kind": e.kind.value, "id": e.id, "title": e.title, "status": e.status.value,
                 "bearing": e.bearing.value, "established": e.established, "grid_limited": e.grid_limited,
                 "why": e.sentence, "finding": e.finding}
                for e in self.evidence
            ],
        }


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph (up to a full stop followed by a capital or an opening bracket)."""
    text = " ".join(text.split())
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", text, maxsplit=1)
    return parts[0] if parts else ""


def theorem_why(record: TheoremRecord) -> str:
    """A theorem's finding in one sentence: the first sentence of its conclusion (else of its statement)."""
    return first_sentence(record.conclusion or record.statement)


def theorem_evidence(records: Sequence[TheoremRecord]) -> dict[str, list[Evidence]]:
    """Evidence per claim id from verified theorems."""
    by_claim: dict[str, list[Evidence]] = {}
    for r in records:
        for c in r.claims:
            by_claim.setdefault(c, []).append(
                Evidence(
                    kind=EvidenceKind.THEOREM,
                    id=r.id,
                    title=readable(r.title),  # prose as Unicode text: REPORT.md, claims.json and the terminal
                    status=r.status,
                    bearing=r.bearing.get(c, Bearing.SUPPORTS),
                    finding=_scoped(readable(r.conclusion or r.statement), readable(r.instance)),
                    why=_scoped(readable(theorem_why(r)).rstrip("."), readable(r.instance)) + ".",
                    claims=len(r.claims),
                )
            )
    return by_claim


def _scoped(finding: str, instance: str) -> str:
    """A theorem shown only for an instance says so in the audit too."""
    if not instance or f"shown for {instance}" in finding:
        return finding
    return f"{finding} (shown for {instance} only)"


def because(deciding: Sequence[Evidence]) -> str:
    """One sentence from the deciding evidence: the most specific theorem's `why`, then the most specific
    measurement's (fewest claims; the first of equals)."""
    theorems = sorted((e for e in deciding if e.kind is EvidenceKind.THEOREM), key=lambda e: e.claims)
    measured = sorted((e for e in deciding if e.kind is EvidenceKind.EXPERIMENT), key=lambda e: e.claims)
    parts = [e.sentence.rstrip(". ") for e in (theorems[:1] + measured[:1])]
    return _sentence("; measured: ".join(parts) if len(parts) == 2 else (parts[0] if parts else ""))


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def decide(claim: Claim, evidence: Sequence[Evidence]) -> ClaimVerdict:
    """Apply the rules of the module docstring."""
    ev = tuple(evidence)
    refuting = [e for e in ev if e.bearing is Bearing.REFUTES and e.established]
    qualifying = [e for e in ev if e.bearing is Bearing.QUALIFIES and e.established]
    supporting = [e for e in ev if e.bearing is Bearing.SUPPORTS]
    if refuting:
        return ClaimVerdict(claim, Verdict.REFUTED, because(refuting), ev)
    if qualifying:
        return ClaimVerdict(claim, Verdict.QUALIFIED, because(qualifying), ev)
    if supporting and all(e.kind is EvidenceKind.THEOREM and e.status is Status.PROVED for e in supporting):
        return ClaimVerdict(claim, Verdict.PROVED, because(supporting), ev)
    if supporting and all(e.established for e in supporting):
        return ClaimVerdict(claim, Verdict.CONFIRMED, because(supporting), ev)
    if not ev:
        return ClaimVerdict(claim, Verdict.UNSETTLED, "No evidence in hfx yet.", ev)
    weak = [e for e in ev if not e.established]
    return ClaimVerdict(claim, Verdict.UNSETTLED, _sentence("not established: " + "; ".join(
        f"{e.id} {_weakness(e)}" for e in weak[:3]) + (f" (and {len(weak) - 3} more)" if len(weak) > 3 else "")), ev)


def _weakness(e: Evidence) -> str:
    """Why a piece of evidence is not established, in words."""
    if e.grid_limited:
        return "is grid-limited (a best learning rate is still at an edge of its widened grid)"
    if e.status is Status.CHECKED:
        return "was only checked numerically"
    if e.status is Status.FAILED:
        return "failed"
    return f"did not reproduce it ({e.sentence.rstrip('.')})"


def audit(
    theorem_records: Sequence[TheoremRecord],
    experiment_evidence: Mapping[str, Sequence[Evidence]] | None = None,
) -> list[ClaimVerdict]:
    by_claim = theorem_evidence(theorem_records)
    for claim_id, items in (experiment_evidence or {}).items():
        by_claim.setdefault(claim_id, []).extend(items)
    return [decide(c, by_claim.get(c.id, [])) for c in CLAIMS]


def report_markdown(verdicts: Sequence[ClaimVerdict], theorem_table_text: str, header: str) -> str:
    """REPORT.md: the verdict table, then each claim with its evidence."""
    lines = ["# hfx claim audit", "", header, "", "| claim | the note says | verdict | why |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.claim.id} ({v.claim.section}) | {v.claim.text} | **{v.verdict.value}** | {v.reason} |")
    lines += ["", "## Evidence per claim", ""]
    for v in verdicts:
        lines.append(f"### {v.claim.id} — {v.verdict.value}")
        lines.append("")
        lines.append(f"> {v.claim.text}")
        lines.append("")
        if not v.evidence:
            lines.append("No evidence in hfx yet.")
        for e in v.evidence:
            limited = ", grid-limited" if e.grid_limited else ""
            lines.append(f"- {e.kind.value} `{e.id}` ({e.status.value}{limited}, {e.bearing.value}): {e.sentence}")
            if e.finding and e.finding != e.sentence:
                lines.append(f"  - {e.finding}")
        lines.append("")
    lines += ["## Theorems", "", "```", theorem_table_text, "```", ""]
    return "\n".join(lines)
