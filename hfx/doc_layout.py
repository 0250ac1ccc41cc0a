"""What both writers lay out the same way: topics and numbering, the title page's words, equation layouts.

- `group_by_topic`: theorems grouped by topic (the first part of the id), topics in the order of the note's
  claims (the smallest claim a topic addresses first), numbered 1, 2, … through the document;
- `TitleParts`: the title page (summary, provenance, what PROVED/CHECKED/FAILED guarantee, how to cite) and
  the index of theorems by claim;
- `equation_options` / `definition_options`: an equation or a definition broken for several widths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hfx.doc_math import OPERATORS, Line, Node, Seq, layout, whole
from hfx.doc_model import Definition, DocView
from theory.core.printing.prose_render import latex_text, typst_markup

SUBTITLE = "$H(x) = F(x) + x$: the claims of a note on residual learning, checked step by step"
# the words of README.md ("What the three statuses guarantee"), in the prose syntax
GUARANTEES = {
    "proved": "every step was certified by an exact engine: SymPy's exact rungs (structural identity, evaluation, "
              "a targeted rewrite such as expansion or cancellation, simplification under a CPU-time limit, "
              "SymPy's equals, or the sign from the symbols' declared assumptions) and, for polynomial and "
              "rational real arithmetic, z3 as an independent second engine; no engine disagreed; the numeric "
              "rung, which always runs as well, found no counterexample on the sides as built (exact rational "
              "points including $0$, $±1$, $±2$ and the domain's boundaries; explicit matrices of independent "
              "sizes up to $4 × 4$, rectangular too; differences decided exactly or with certified ball "
              "arithmetic); every assumption the steps rely on is realised by the declared sampling; and the "
              "formal statement follows from the steps, structurally (each formula is a step's or a chain of "
              "consecutive steps'). A theorem shown only for an instance (e.g. $n = 2$) says so in its title, "
              "statement and conclusion. What PROVED does not cover: the remarks (shown as such), and the "
              "soundness of SymPy and z3 themselves (which is why both, and the numeric rung, must agree).",
    "checked": "as PROVED, except that at least one step held only numerically: evidence, never a proof. The step "
               "says why no exact engine certified it.",
    "failed": "a step has a counterexample (printed with its point, certified by exact or ball arithmetic), could "
              "not be decided, uses an assumption that cannot be realised, or the formal statement does not follow "
              "from the steps.",
}
GUARANTEES_END = "A derivation is proved only if every one of its steps is, and its formal statement follows from them."
HOW_TO_CITE = (
    "Cite a derivation by its id and the commit above (for example: hfx, derivation {example}, commit "
    "{commit}). In a LaTeX paper, input a derivation's fragment (the file ID.fragment.tex beside this one): "
    "its steps become numbered equations of the paper, step K labelled hfx:ID:K. The works the derivations "
    "cite are in references.bib, beside these files."
)


@dataclass(frozen=True)
class Provenance:
    version: str  # hfx's version
    commit: str | None  # git commit of the source tree, None outside a git checkout
    dirty: bool | None  # uncommitted changes
    date: str | None  # the commit's date (YYYY-MM-DD): the same input gives the same document

    def line(self) -> str:
        if self.commit is None:
            return f"hfx {self.version}, not from a git checkout"
        dirty = " with uncommitted changes" if self.dirty else ""
        return f"hfx {self.version}, commit {self.commit[:12]}{dirty} of {self.date}"


def _claim_number(claim: str) -> int:
    match = re.fullmatch(r"C(\d+)", claim)
    return int(match.group(1)) if match else 10**6


def group_by_topic(views: Sequence[DocView]) -> list[tuple[str, list[tuple[int, DocView]]]]:
    """(topic heading, [(theorem number, view)]) in reading order."""
    topics: dict[str, list[DocView]] = {}
    for v in views:
        topics.setdefault(v.topic_title, []).append(v)
    order = sorted(topics, key=lambda t: min((_claim_number(c) for v in topics[t] for c in v.claims), default=0))
    out, n = [], 0
    for topic in order:
        members = []
        for v in topics[topic]:
            n += 1
            members.append((n, v))
        out.append((topic, members))
    return out


class TitleParts:
    """The words of the title page and the claim index, for both engines."""

    def __init__(self, views: Sequence[DocView], provenance: Provenance) -> None:
        counts = {s: sum(1 for v in views if v.status == s) for s in ("proved", "checked", "failed")}
        self.summary = (f"{len(views)} derivations: {counts['proved']} proved, {counts['checked']} checked, "
                        f"{counts['failed']} failed")
        self.provenance_line = provenance.line()
        self.subtitle_typst, self.subtitle_latex = typst_markup(SUBTITLE), latex_text(SUBTITLE)
        example = views[0].id if views else "ID"
        cite = HOW_TO_CITE.format(example=example, commit=(provenance.commit or "unknown")[:12])
        self.how_to_cite_typst, self.how_to_cite_latex = typst_markup(cite), latex_text(cite)
        self.guarantees_typst = " ".join(
            f'#hfx-badge("{s}") {typst_markup(text)}' for s, text in GUARANTEES.items()
        ) + " " + typst_markup(GUARANTEES_END)
        self.guarantees_latex = " ".join(
            f"\\hfxstatus{{{s}}} {latex_text(text)}" for s, text in GUARANTEES.items()
        ) + " " + latex_text(GUARANTEES_END)
        numbers: dict[str, list[int]] = {}
        for _, members in group_by_topic(views):
            for n, v in members:
                for c in v.claims:
                    numbers.setdefault(c, []).append(n)
        self.claim_index = sorted(numbers.items(), key=lambda item: _claim_number(item[0]))


def equation_options(node: Node, widths: Sequence[float]) -> list[list[Line]]:
    """`node` laid out for each width (the first: the widest)."""
    return [layout(node, w) for w in widths]


def definition_options(d: Definition, widths: Sequence[float]) -> list[list[Line]]:
    """``name = value`` on one line, then broken for each width."""
    eq = _equals(d.name, d.value)
    return [layout(eq, 1e9), *(layout(eq, w) for w in widths)]


def definition_entries(d: Definition, width: float) -> list[list[Line]]:
    """A large explicit matrix entry by entry: one equation per nonzero entry."""
    return [layout(_equals(name, value), width) for name, value in d.entries]


def one_line_width(d: Definition) -> float:
    return d.name.width + OPERATORS["="].width + whole(d.value).width


def _equals(name: Node, value: Node) -> Seq:
    op = OPERATORS["="]
    n, v = whole(name), whole(value)
    line = type(n)(f"{n.typst} = {v.typst}", f"{n.latex} = {v.latex}", n.width + op.width + v.width)
    return Seq(line, name, ((op, value),))
