"""Published results beside hfx's numbers: `tables/published-vs-measured` (Markdown, CSV, booktabs).

One `Row` per published result the note cites that hfx can test (and one, saying so, for each it cannot): the
source, its equation/table/figure, the quantity, the published value or pattern (with the
conversion to hfx's conventions where one is needed), hfx's measured or derived value, whether they agree and
why (or why not), the evidence it rests on, and the settings it was measured at (`--quick`, default,
`--full`).  Pure: rows from typed results (`hfx.evidence.Measurements`) and theorem records; writing is
`hfx.tables` at the edge.

Agreement words (`Agreement`): *agrees* (the numbers or the pattern match, within the stated tolerance),
*agrees (corrected)* (a printed formula is false and its correction holds), *partly* (the pattern holds only in
part, said why), *disagrees*, *inconclusive* (measured, but the comparison is not a fair one or its difference is
within the margin: the why says which), *not measured* (the measurement it needs was not in this run: the row
says so, nothing is filled in), *not testable* (hfx cannot run it: the data or scale is out of reach).

The rows are built by `linear_rows` (Saxe et al., Arora et al., Goh, ridge, Loshchilov & Hutter: the linear
closed forms) and `identity_rows` (Hardt & Ma, Bartlett et al., Kawaguchi, He et al., ReZero/Fixup/SkipInit,
Goyal et al.).  Rows of the degradation study come from its own accessor (`Pattern`: science-degradation's
`numerics.degradation.findings.PatternCheck` satisfies it) and replace the rows of group "degradation".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from theory.core.derivation import Status, TheoremRecord

if TYPE_CHECKING:
    from hfx.evidence import Measurements


class Agreement(StrEnum):
    AGREES = "agrees"
    CORRECTED = "agrees (corrected)"
    PARTLY = "partly"
    DISAGREES = "disagrees"
    INCONCLUSIVE = "inconclusive"
    NOT_MEASURED = "not measured"
    NOT_TESTABLE = "not testable"


TIER_WORDS = {"quick": "--quick", "default": "default", "full": "--full", "theorem": "exact (theorem)"}


@dataclass(frozen=True)
class Row:
    """One published result against what hfx measured or derived."""

    source: str  # authors, venue year
    where: str  # equation, table or figure
    quantity: str
    published: str  # the published value or pattern, with the conversion to hfx's conventions
    measured: str  # hfx's number(s), in words
    agreement: Agreement
    why: str  # one sentence: why it agrees, or why not
    evidence: str  # the theorem or experiment ids it rests on
    settings: str  # `--quick`, default, `--full`, or exact (theorem)
    group: str = ""  # a key for replacing rows with another study's (e.g. "degradation")


class Pattern(Protocol):
    """A published pattern checked by another study (the degradation study's accessor returns these)."""

    @property
    def source(self) -> str: ...

    @property
    def quantity(self) -> str: ...

    @property
    def published(self) -> str: ...

    @property
    def measured(self) -> str: ...

    @property
    def setting(self) -> str: ...

    @property
    def reproduced(self) -> bool | None: ...

    @property
    def why(self) -> str: ...


def said(held: bool, why: str, why_not: str) -> str:
    """A row's reason: why it agrees when it does, why not when it does not (never the first when it failed)."""
    return why if held else why_not


def absent(source: str, where: str, quantity: str, published: str, evidence: str, tier: str) -> Row:
    """The row of a published result whose measurement was not in this run: it says so, nothing filled in."""
    return Row(source, where, quantity, published, "not measured in this run", Agreement.NOT_MEASURED,
               f"{evidence} did not run", evidence, TIER_WORDS.get(tier, tier))


def pattern_row(p: Pattern, tier: str, evidence: str = "degradation") -> Row:
    """A degradation-study pattern as a row (source "Author, venue year, Fig. n" split at its last comma)."""
    source, _, where = p.source.rpartition(", ")
    agreement = (Agreement.INCONCLUSIVE if p.reproduced is None else  # measured: neither way (p.why says why)
                 Agreement.AGREES if p.reproduced else Agreement.DISAGREES)
    return Row(source or p.source, where if source else "", p.quantity, p.published, f"{p.measured} ({p.setting})",
               agreement, p.why, evidence, TIER_WORDS.get(tier, tier), group="degradation")


def theorem_status(records: Sequence[TheoremRecord], theorem_id: str) -> Status | None:
    return next((r.status for r in records if r.id == theorem_id), None)


def proved_text(records: Sequence[TheoremRecord], theorem_id: str) -> str:
    status = theorem_status(records, theorem_id)
    return f"`{theorem_id}`: " + (status.value.upper() if status is not None else "not verified in this run")


def table(rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    """Headers and cells, in the order of the module docstring."""
    headers = ["source", "where", "quantity", "published", "hfx", "agreement", "why", "evidence", "settings"]
    cells = [[r.source, r.where, r.quantity, r.published, r.measured, r.agreement.value, r.why, r.evidence,
              r.settings] for r in rows]
    return headers, cells


def degradation_patterns(result: object) -> tuple[Pattern, ...]:
    """The degradation study's own published comparisons (`numerics.degradation.findings.published_comparison`)
    when this hfx has that accessor; () otherwise (its rows then come from `hfx.evidence.degradation`)."""
    import importlib

    try:
        findings = importlib.import_module("numerics.degradation.findings")
    except ImportError:
        return ()
    accessor = getattr(findings, "published_comparison", None)
    return tuple(accessor(result)) if callable(accessor) and result is not None else ()


def _covers(pattern: Pattern, row: Row) -> bool:
    """Whether a pattern measures a row's published result: its source names the row's first figure or table."""
    key = row.where.split(",")[0].strip()
    return bool(key) and re.search(rf"\b{re.escape(key)}\b", pattern.source) is not None


def published_rows(measured: Measurements, theorems: Sequence[TheoremRecord], tier: str,
                   patterns: Sequence[Pattern] | None = None) -> list[Row]:
    """Every row: the linear closed forms, the identity-initialisation results, and the degradation study's
    patterns (`patterns`; by default its accessor's, `degradation_patterns`), each replacing the row of group
    "degradation" whose figure or table it measures; rows no pattern measures stay, saying so."""
    from hfx.published.identity import identity_rows
    from hfx.published.linear import linear_rows

    rows = linear_rows(measured, theorems, tier) + identity_rows(measured, theorems, tier)
    if patterns is None:
        patterns = degradation_patterns(measured.degradation) + degradation_patterns(measured.degradation_cnn)
    if patterns:
        rows = [r for r in rows if r.group != "degradation" or not any(_covers(p, r) for p in patterns)]
        rows += [pattern_row(p, tier) for p in patterns]
    return rows
