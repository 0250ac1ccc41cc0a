"""The verdict rules of the claim audit (hfx.audit): verdicts follow from evidence."""

from __future__ import annotations

import pytest

from hfx.audit import Evidence, EvidenceKind, ExperimentStatus, Verdict, audit, decide
from hfx.claims import CLAIMS
from theory.derivation import Bearing, Status, TheoremRecord

CLAIM = CLAIMS[7]  # C8
STATUSES = {s.value: s for s in (*Status, *ExperimentStatus)}  # the typed status of each word below


def ev(status: str, bearing: str = "supports", kind: str = "theorem", id_: str = "t", why: str = "",
       grid_limited: bool = False, claims: int = 1) -> Evidence:
    return Evidence(kind=EvidenceKind(kind), id=id_, title="", status=STATUSES[status], bearing=Bearing(bearing),
                    finding="", why=why, grid_limited=grid_limited, claims=claims)


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
        # grid-limited measurements never establish anything, whatever their rule found
        ([ev("confirmed", "refutes", kind="experiment", grid_limited=True)], "unsettled"),
        ([ev("proved"), ev("confirmed", "qualifies", kind="experiment", grid_limited=True)], "proved"),
        ([ev("proved"), ev("confirmed", kind="experiment", grid_limited=True)], "unsettled"),
        ([ev("confirmed", kind="experiment", grid_limited=True)], "unsettled"),
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
    assert evidence.why.endswith("(shown for n = 2 only).")


def test_grid_limited_evidence_is_not_established_and_the_reason_says_so() -> None:
    limited = ev("confirmed", kind="experiment", id_="nonlinear-block", grid_limited=True, why="plain is 3× slower")
    assert not limited.established
    verdict = decide(CLAIM, [limited])
    assert verdict.verdict is Verdict.UNSETTLED and "grid-limited" in verdict.reason and "3×" not in verdict.reason


def test_the_reason_is_one_sentence_from_the_deciding_evidence_not_a_list_of_ids() -> None:
    general = ev("proved", "qualifies", id_="blocks.general", why="W₂ = 0 and b₂ = 0 suffice for F ≡ 0.", claims=1)
    broad = ev("proved", "qualifies", id_="blocks.broad", why="a theorem about two claims.", claims=2)
    measured = ev("confirmed", "qualifies", kind="experiment", id_="branch-norms",
                  why="without decay ‖W₁‖ stays at 98% of its initial norm")
    verdict = decide(CLAIM, [broad, general, measured, ev("proved", id_="other", why="irrelevant")])
    assert verdict.verdict is Verdict.QUALIFIED
    assert verdict.reason == ("W₂ = 0 and b₂ = 0 suffice for F ≡ 0; measured: without decay ‖W₁‖ stays at 98% of "
                              "its initial norm.")
    assert "blocks." not in verdict.reason and verdict.reason.count(". ") == 0


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("C8 is imprecise. Driving all weights to zero suffices.", "C8 is imprecise."),
        ("Zero set at (γ, β) = 0 (e.g. w = 0) and β = 0. More.", "Zero set at (γ, β) = 0 (e.g. w = 0) and β = 0."),
        ("Saxe et al. 2014 show it; fine.", "Saxe et al. 2014 show it; fine."),
        ("", ""),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    from hfx.audit import first_sentence

    assert first_sentence(text) == first


def test_every_verdict_reason_is_a_sentence() -> None:
    record = TheoremRecord(
        id="x", title="x", claims=("C6",), status=Status.PROVED, seconds=0.0, statement="s",
        conclusion="C6 is a definition; it holds exactly. Second sentence.", bearing={"C6": Bearing.SUPPORTS}, steps=(),
    )
    for v in audit([record]):
        assert v.reason and v.reason[0].isupper() and v.reason.endswith(".")
    assert {v.claim.id: v.reason for v in audit([record])}["C6"] == "C6 is a definition; it holds exactly."


def test_the_reason_quotes_the_most_specific_measurement() -> None:
    broad = ev("confirmed", "qualifies", kind="experiment", id_="linear-block", why="one layer: same rates", claims=3)
    narrow = ev("confirmed", "qualifies", kind="experiment", id_="deep-linear", why="deep chains: residual faster",
                claims=1)
    verdict = decide(CLAIM, [broad, narrow])
    assert verdict.reason == "Deep chains: residual faster."


def test_experiment_evidence_counts_the_claims_each_experiment_bears_on() -> None:
    import torch

    from hfx.evidence import Measurements, experiment_evidence
    from numerics.experiments import hardt_ma
    from numerics.experiments.params import replace_flat

    config = replace_flat(hardt_ma.Config(), {"seeds": 2})
    evidence = experiment_evidence(Measurements(hardt_ma=hardt_ma.run(config, torch.Generator().manual_seed(1))))
    claims = {claim for claim, items in evidence.items() if any(e.id == "hardt-ma-bound" for e in items)}
    assert claims and all(e.claims == len(claims) for items in evidence.values() for e in items)


def test_evidence_without_a_why_speaks_its_finding_not_its_title() -> None:
    e = Evidence(kind=EvidenceKind.EXPERIMENT, id="degradation", title="plain vs residual MLPs (C1)",
                 status=STATUSES["confirmed"], bearing=Bearing.SUPPORTS,
                 finding="Plain 56 trains to 84% error against 1.3% at 20 layers. Second sentence.")
    assert e.sentence == "Plain 56 trains to 84% error against 1.3% at 20 layers."
