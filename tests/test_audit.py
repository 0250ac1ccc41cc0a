"""The verdict rules of the claim audit (hfx.audit): verdicts follow from evidence."""

from __future__ import annotations

import pytest

from hfx.audit import Evidence, EvidenceKind, ExperimentStatus, Verdict, audit, decide
from hfx.claims import CLAIMS
from theory.derivation import Bearing, Status, TheoremRecord

CLAIM = CLAIMS[7]  # C8
STATUSES = {s.value: s for s in (*Status, *ExperimentStatus)}  # the typed status of each word below


def ev(status: str, bearing: str = "supports", kind: str = "theorem", id_: str = "t") -> Evidence:
    return Evidence(kind=EvidenceKind(kind), id=id_, title="", status=STATUSES[status], bearing=Bearing(bearing),
                    finding="")


@pytest.mark.parametrize(
    ("evidence", "verdict"),
    [
        ([], "unsettled"),
        ([ev("proved")], "proved"),
        ([ev("proved"), ev("checked", id_="u")], "unsettled"),
        ([ev("proved"), ev("failed", id_="u")], "unsettled"),
        ([ev("proved"), ev("confirmed", kind="experiment", id_="e")], "confirmed"),
        ([ev("proved"), ev("proved", "qualifies", id_="q")], "qualified"),
        ([ev("proved"), ev("checked", "qualifies", id_="q")], "proved"),  # unestablished qualification
        ([ev("proved", "qualifies"), ev("proved", "refutes", id_="r")], "refuted"),
        ([ev("failed", "refutes")], "unsettled"),
        ([ev("confirmed", "refutes", kind="experiment")], "refuted"),
    ],
)
def test_verdict_follows_from_evidence(evidence: list[Evidence], verdict: str) -> None:
    assert decide(CLAIM, evidence).verdict is Verdict(verdict)


def test_every_claim_gets_a_verdict() -> None:
    record = TheoremRecord(
        id="x", title="x", claims=("C6",), status=Status.PROVED, seconds=0.0, statement="s", conclusion="c",
        bearing={"C6": Bearing.SUPPORTS}, steps=(),
    )
    verdicts = audit([record])
    assert [v.claim.id for v in verdicts] == [c.id for c in CLAIMS]
    assert {v.claim.id: v.verdict for v in verdicts}["C6"] is Verdict.PROVED


def test_a_theorem_shown_for_an_instance_says_so_in_its_evidence() -> None:
    from hfx.audit import theorem_evidence

    record = TheoremRecord(
        id="x", title="x (n = 2)", claims=("C6",), status=Status.PROVED, seconds=0.0, statement="s (n = 2)",
        conclusion="holds (n = 2)", bearing={"C6": Bearing.SUPPORTS}, steps=(), instance="n = 2",
    )
    (evidence,) = theorem_evidence([record])["C6"]
    assert evidence.finding.endswith("(shown for n = 2 only)")
