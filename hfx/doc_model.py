"""What a derivation document shows, independent of the engine that typesets it.

`view(derivation, record)` is built where the `Derivation` is in hand (the verification worker,
`hfx.theorems`), from the derivation and the record of its verification (`TheoremRecord`): plain data that
crosses processes and feeds both writers (`hfx.doc_typst`, `hfx.doc_latex`).

- Prose (title, statement, assumptions, reasons, conclusion) is parsed once (`theory.core.printing.prose`)
  and kept rendered for both engines (`Prose`); prose outside the syntax is an error, never raw markup.
- Each step's display (`DocStep.equation`) is what was checked, printed as built (unevaluated objects stay
  unevaluated), as a breakable tree (`hfx.doc_math`): ``lhs relation rhs``; for `Equivalent` ``a = b ⟺
  c = d``; for `Substitute` the premise (grouped by value: ``W₂ = b₂ = 0``) above ``lhs = rhs``; for
  `MatrixGradient` ``∂/∂W (lhs) = rhs``.
- Large objects are named once (`hfx.doc_names`) and listed as `definitions` (an explicit matrix entry by
  entry).
- The formal statement (`Derivation.proves`) is shown formula by formula, each with the steps it follows
  from (`DocFormula`); a theorem shown for an instance only says so (`instance`), and prose that no step
  checks is kept apart as `remarks`, visibly not part of what is proved.
- Citations are keys of ``references.bib``: a step's `citation` (``"@key, Eq. (1)"``), the derivation's
  `references` (``"@key"``) and citations in prose; `references` lists every key the document cites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from hfx import doc_names
from hfx.doc_math import OPERATORS, Builder, Node, Piece, Seq, Wrap, text_piece, whole
from theory.core.bibliography import unknown_keys
from theory.core.derivation import FormulaRecord
from theory.core.printing.prose import Atom, Math, citation_keys, parse, walk_math
from theory.core.printing.prose_render import latex_text, plain_text, typst_markup
from theory.derivation import Derivation, Equivalent, Formula, MatrixGradient, Step, Substitute, TheoremRecord

# topic (the id's first part) → heading of its group in the contents, in the order of the note's claims
TOPICS = {
    "jacobian": "Gradients through deep stacks", "depth": "Deeper networks contain shallower ones",
    "expressivity": "What plain blocks can represent", "reformulation": "The residual reformulation",
    "blocks": "Zero sets of residual branches", "landscape": "The loss landscape at zero weights",
    "weight-decay": "Weight decay", "linear-block": "Gradient descent on a linear block",
    "dynamics": "Step counts of gradient descent", "hardt-ma": "The linear residual landscape",
    "deep-linear": "Deep linear chains", "learning-time": "Learning times of deep linear chains",
}


@dataclass(frozen=True)
class Prose:
    typst: str  # Typst markup (content)
    latex: str  # LaTeX, text mode
    plain: str  # as a reader would type it
    keys: tuple[str, ...]  # the bibliography keys it cites


@dataclass(frozen=True)
class DocStep:
    number: int  # 1-based, as in the derivation
    equation: Node  # lhs relation rhs (breakable)
    premise: Node | None  # a substitution's assignments, grouped by value
    reason: Prose
    citation: Prose | None  # e.g. [@he2016deep, Eq. (1)]
    status: str  # "proved" | "checked" | "failed"
    method: str  # what decided it


@dataclass(frozen=True)
class DocFormula:
    """One formula of the formal statement (`Derivation.proves`) and how the steps establish it."""

    equation: Node  # lhs relation rhs, as `verify` compared it
    premise: Node | None  # the substitution a `Substitute`'s formula holds at
    how: str  # "step 3", "chain of steps 2–5", or why it does not follow (plain text)
    established: bool


@dataclass(frozen=True)
class Definition:
    name: Piece
    value: Node
    entries: tuple[tuple[Piece, Node], ...]  # for an explicit matrix: (entry's name, value), nonzero entries
    matrix: bool  # an explicit matrix: shown whole if it fits (at footnote size at least), else entry by entry


@dataclass(frozen=True)
class DocView:
    id: str
    title: Prose
    claims: tuple[str, ...]
    status: str  # the derivation's status
    topic: str
    statement: Prose
    assumptions: tuple[tuple[Prose, Prose], ...]  # (name, statement)
    definitions: tuple[Definition, ...]
    steps: tuple[DocStep, ...]
    conclusion: Prose | None
    sources: tuple[str, ...]  # the keys of `Derivation.references`
    keys: tuple[str, ...]  # every key cited anywhere in the document, in order of first citation
    formal: tuple[DocFormula, ...] = ()  # the formal statement, formula by formula
    instance: Prose | None = None  # e.g. "$n = 2$": the statement is shown for this instance only
    remarks: tuple[Prose, ...] = ()  # prose that no step checks (not part of what is proved)
    refusal: str = ""  # why the assumptions or the statement made the derivation fail (plain text)

    @property
    def topic_title(self) -> str:
        return TOPICS.get(self.topic, self.topic.replace("-", " ").capitalize())


def prose(text: str) -> Prose:
    """A prose string rendered for both engines; `ProseError` if it is outside the syntax."""
    keys = tuple(citation_keys(parse(text)))
    return Prose(typst_markup(text), latex_text(text), plain_text(text), keys)


def citation(text: str) -> Prose | None:
    """A step's citation: ``"@key, locator"`` (or ``"@a; @b"``) is a bracketed citation; other text is prose."""
    text = text.strip()
    if not text:
        return None
    return prose(f"[{text}]" if text.startswith("@") else text)


def _source_keys(references: tuple[str, ...]) -> tuple[str, ...]:
    keys = []
    for ref in references:
        ref = ref.strip()
        if not (ref.startswith("@") and " " not in ref):
            raise ValueError(f"a derivation's references are keys of references.bib written @key (got {ref!r})")
        keys.append(ref[1:])
    return tuple(keys)


def _premise(b: Builder, subs: Mapping[sp.Basic, sp.Basic]) -> Node:
    """``{W: 0, b: 0, x: 1}`` → ``W = b = 0, x = 1`` (order of first appearance), breakable at the commas."""
    groups: dict[sp.Basic, list[sp.Basic]] = {}
    for k, value in subs.items():
        groups.setdefault(sp.sympify(value), []).append(k)
    items: list[Node] = []
    for value, keys in groups.items():
        node: Node = b.build(keys[0])
        for other in [*keys[1:], value]:
            node = b.relation(node, "=", b.build(other))
        items.append(node)
    first, rest = items[0], [(OPERATORS[","], n) for n in items[1:]]
    line = whole(first)
    for op, n in rest:
        w = whole(n)
        # a word space after each comma in LaTeX too (maths mode sets only a thin one): W₂ = 0, b₂ = 0
        line = Piece(f"{line.typst}{op.typst} {w.typst}", f"{line.latex}{op.latex}\\; {w.latex}",
                     line.width + op.width + w.width)
    return Seq(line, first, tuple(rest)) if rest else first


def _equation_side(b: Builder, obj: sp.Basic | tuple[sp.Basic, sp.Basic]) -> Node:
    """An equation of an `Equivalent` step: an `Eq`, or a pair (a, b) meaning a = b."""
    if isinstance(obj, tuple):
        return b.relation(b.build(obj[0]), "=", b.build(obj[1]))
    return b.build(obj)


def _equation(b: Builder, step: Step) -> Node:
    if isinstance(step, Equivalent):
        return b.relation(_equation_side(b, step.lhs), step.relation, _equation_side(b, step.rhs))
    if isinstance(step, MatrixGradient):
        assert step.wrt is not None
        body = b.build(step.lhs)
        wrt = b.piece(step.wrt)
        head = text_piece(f"frac(partial, partial {wrt.typst})", f"\\frac{{\\partial}}{{\\partial {wrt.latex}}}")
        w = whole(body)
        line = Piece(f"{head.typst} ({w.typst})", f"{head.latex} \\left({w.latex}\\right)",
                     head.width + w.width + 1.2)
        lhs = Wrap(line, text_piece(f"{head.typst} \\(", f"{head.latex} \\left("), body,
                   text_piece("\\)", "\\right)"))
        return b.relation(lhs, "=", b.build(step.rhs))
    relation = "=" if isinstance(step, Substitute) else step.relation
    return b.relation(b.build(step.lhs), relation, b.build(step.rhs))


def _formal(b: Builder, item: Formula | Step, record: FormulaRecord) -> DocFormula:
    """A formula of the formal statement (a step stands for its own formula), as `verify` compared it."""
    formula = item.formula() if isinstance(item, Step) else item
    lhs = _equation_side(b, formula.lhs) if formula.relation == "⟺" else b.build(formula.lhs)
    rhs = _equation_side(b, formula.rhs) if formula.relation == "⟺" else b.build(formula.rhs)
    premise = _premise(b, dict(formula.at)) if formula.at else None
    return DocFormula(b.relation(lhs, formula.relation, rhs), premise, record.how, record.established)


def _sides(step: Step) -> list[sp.Basic]:
    out: list[sp.Basic] = []
    for side in (step.lhs, step.rhs):
        out.extend(side if isinstance(side, tuple) else (side,))
    if isinstance(step, Substitute):
        out.extend([*step.subs.keys(), *step.subs.values()])
    return out


def _taken_letters(derivation: Derivation) -> set[str]:
    texts = [derivation.title, derivation.statement, derivation.conclusion,
             *(a.name for a in derivation.assumptions), *(a.statement for a in derivation.assumptions),
             *(s.reason for s in derivation.steps)]
    letters = set()
    for text in texts:
        for segment in parse(text):
            if isinstance(segment, Math):
                letters |= {n.latex for n in walk_math(segment.items) if isinstance(n, Atom) and n.latex.isalpha()}
    return letters


def _definition(b: Builder, k: sp.Basic, naming: doc_names.Naming) -> Definition:
    """A named object: its value (breakable), and for an explicit matrix its nonzero entries one by one."""
    typ, tex = naming.names[k]
    others_t = {n: t for n, t in naming.typst.items() if n != k}
    inner = Builder(others_t, {n: t for n, t in naming.latex.items() if n != k})
    entries = []
    if isinstance(k, sp.MatrixBase):
        rows, cols = k.shape
        for i in range(rows):
            for j in range(cols):
                if k[i, j] == 0:
                    continue
                it, il = (f"{i + 1}", f"{i + 1}") if cols == 1 else (f"{i + 1} {j + 1}", f"{i + 1}{j + 1}")
                t, lx = (f"({typ})", f"({tex})") if "_" in tex else (typ, tex)  # P_{12}, but (P_1)_{12}
                entries.append((text_piece(f"{t}_({it})", f"{lx}_{{{il}}}"), inner.build(k[i, j])))
    return Definition(text_piece(typ, tex), inner.build(k), tuple(entries), isinstance(k, sp.MatrixBase))


def view(derivation: Derivation, record: TheoremRecord) -> DocView:
    """The document view of `derivation`, with the statuses of its verification `record`."""
    if record.id != derivation.id:
        raise ValueError(f"record {record.id!r} is not the record of {derivation.id!r}")
    results = {r.index: r for r in record.steps}
    if sorted(results) != list(range(1, len(derivation.steps) + 1)):
        count = len(derivation.steps)
        raise ValueError(f"record of {derivation.id!r} has {len(results)} steps, the derivation {count}")
    sides = [_sides(s) for s in derivation.steps]
    long_sides = [x for xs in sides for x in xs if doc_names.is_long(x)]
    every = [x for xs in sides for x in xs]
    naming = doc_names.choose(long_sides, every, doc_names.used_letters(every, _taken_letters(derivation)))
    b = Builder(naming.typst, naming.latex)
    steps = []
    for i, step in enumerate(derivation.steps, start=1):
        premise = _premise(b, step.subs) if isinstance(step, Substitute) and step.subs else None
        steps.append(DocStep(
            number=i, equation=_equation(b, step), premise=premise, reason=prose(step.reason),
            citation=citation(step.citation), status=results[i].status.value,
            method=results[i].method.replace("_", " "),  # a rung's name, as words (piecewise_fold → piecewise fold)
        ))
    title, statement = prose(derivation.title), prose(derivation.statement)
    conclusion = prose(derivation.conclusion) if derivation.conclusion.strip() else None
    instance = prose(derivation.instance) if derivation.instance.strip() else None
    remarks = tuple(prose(r) for r in derivation.remarks if r.strip())
    formal = tuple(_formal(b, item, rec) for item, rec in zip(derivation.proves, record.proves, strict=False))
    assumptions = tuple((prose(a.name), prose(a.statement)) for a in derivation.assumptions)
    sources = _source_keys(derivation.references)
    cited = [*title.keys, *statement.keys, *(k for n, s in assumptions for k in (*n.keys, *s.keys)),
             *(k for s in steps for k in (*s.reason.keys, *(s.citation.keys if s.citation else ()))),
             *(conclusion.keys if conclusion else ()), *(k for r in remarks for k in r.keys), *sources]
    unknown = unknown_keys(cited)
    if unknown:
        raise ValueError(f"{derivation.id}: {', '.join(unknown)} not in references.bib")
    definitions = tuple(_definition(b, k, naming) for k in doc_names.ordered(naming))
    return DocView(
        id=derivation.id, title=title, claims=tuple(derivation.claims), status=record.status.value,
        topic=derivation.id.split(".")[0], statement=statement, assumptions=assumptions, definitions=definitions,
        steps=tuple(steps), conclusion=conclusion, sources=sources, keys=tuple(dict.fromkeys(cited)),
        formal=formal, instance=instance, remarks=remarks, refusal=record.refusal,
    )
