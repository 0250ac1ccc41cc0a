"""The claim audit: a verdict for every claim, derived from its evidence.

Verdicts (docs/claims.md) are never typed in; they follow from the evidence
by these rules, applied in order:

1. **refuted** — a piece of evidence that *refutes* the claim is established
   (a proved theorem, or a confirmed measurement);
2. **qualified** — a piece of evidence that *qualifies* it is established: the
   claim holds only under the conditions that evidence states;
3. **proved** — every piece of supporting evidence is a proved theorem;
4. **confirmed** — the supporting evidence is established and includes a
   measurement (which is never called a proof);
5. **unsettled** — otherwise: no evidence yet, or evidence that is only
   numerically checked, or failed. The audit says which.

A failed derivation is reported under its claim and makes `hfx verify` exit 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hfx.claims import CLAIMS, Claim
from theory.core.derivation import Bearing, Status, TheoremRecord


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

    @property
    def established(self) -> bool:
        return self.status in (Status.PROVED, ExperimentStatus.CONFIRMED)


@dataclass(frozen=True)
class ClaimVerdict:
    claim: Claim
    verdict: Verdict
    reason: str  # one sentence: which rule decided it
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
                 "bearing": e.bearing.value, "finding": e.finding}
                for e in self.evidence
            ],
        }


def theorem_evidence(records: Sequence[TheoremRecord]) -> dict[str, list[Evidence]]:
    """Evidence per claim id from verified theorems."""
    by_claim: dict[str, list[Evidence]] = {}
    for r in records:
        for c in r.claims:
            by_claim.setdefault(c, []).append(
                Evidence(
                    kind=EvidenceKind.THEOREM,
                    id=r.id,
                    title=r.title,
                    status=r.status,
                    bearing=r.bearing.get(c, Bearing.SUPPORTS),
                    finding=_scoped(r.conclusion or r.statement, r.instance),
                )
            )
    return by_claim


def _scoped(finding: str, instance: str) -> str:
    """A theorem shown only for an instance says so in the audit too."""
    if not instance or f"shown for {instance}" in finding:
        return finding
    return f"{finding} (shown for {instance} only)"


def decide(claim: Claim, evidence: Sequence[Evidence]) -> ClaimVerdict:
    """Apply the rules of the module docstring."""
    ev = tuple(evidence)
    refuting = [e for e in ev if e.bearing is Bearing.REFUTES and e.established]
    qualifying = [e for e in ev if e.bearing is Bearing.QUALIFIES and e.established]
    supporting = [e for e in ev if e.bearing is Bearing.SUPPORTS]
    if refuting:
        return ClaimVerdict(claim, Verdict.REFUTED, f"refuted by {_ids(refuting)}", ev)
    if qualifying:
        return ClaimVerdict(claim, Verdict.QUALIFIED, f"holds only under the conditions of {_ids(qualifying)}", ev)
    if supporting and all(e.kind is EvidenceKind.THEOREM and e.status is Status.PROVED for e in supporting):
        return ClaimVerdict(claim, Verdict.PROVED, f"every step of {_ids(supporting)} proved exactly", ev)
    if supporting and all(e.established for e in supporting):
        return ClaimVerdict(claim, Verdict.CONFIRMED, f"measured and established by {_ids(supporting)}", ev)
    if not ev:
        return ClaimVerdict(claim, Verdict.UNSETTLED, "no evidence in hfx yet", ev)
    weak = [e for e in ev if not e.established]
    return ClaimVerdict(claim, Verdict.UNSETTLED, f"evidence not established: {_ids(weak)} ({_statuses(weak)})", ev)


def audit(
    theorem_records: Sequence[TheoremRecord],
    experiment_evidence: Mapping[str, Sequence[Evidence]] | None = None,
) -> list[ClaimVerdict]:
    by_claim = theorem_evidence(theorem_records)
    for claim_id, items in (experiment_evidence or {}).items():
        by_claim.setdefault(claim_id, []).extend(items)
    return [decide(c, by_claim.get(c.id, [])) for c in CLAIMS]


def _ids(items: Sequence[Evidence], shown: int = 3) -> str:
    ids = list(dict.fromkeys(e.id for e in items))
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _statuses(items: Sequence[Evidence]) -> str:
    return ", ".join(f"{e.id}: {e.status.value}" for e in items)


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
            lines.append(f"- {e.kind.value} `{e.id}` ({e.status.value}, {e.bearing.value}): {e.title}")
            if e.finding:
                lines.append(f"  - {e.finding}")
        lines.append("")
    lines += ["## Theorems", "", "```", theorem_table_text, "```", ""]
    return "\n".join(lines)
