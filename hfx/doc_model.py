"""What a derivation document shows, independent of the engine that typesets it.

A `DocView` pairs a registered `Derivation` with the record of its verification
(`TheoremRecord`, as `hfx.theorems.verify_ids` returns it): every
step's two sides printed in Typst and LaTeX, its relation, its premise (for a
substitution, grouped by value: ``W₂ = b₂ = 0``), its justification and
citation, and the status and method that `verify` gave it.

How each kind of step reads:

- `Equal`, `Inequality` and any other step: ``lhs relation rhs``;
- `Equivalent`: ``(a = b) ⟺ (c = d)``;
- `Substitute`: ``premise ⇒ lhs = rhs`` (the premise is shown above the equation);
- `MatrixGradient`: ``∂/∂W (lhs) = rhs``.

Citations are numbered against the derivation's `references`: a step citation
that starts with a reference (or names the same authors and title) becomes
``[i, rest]``; any other citation is added to the sources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from theory.core.printing import latex, typst, typst_string
from theory.derivation import Derivation, Equivalent, MatrixGradient, Step, Substitute, TheoremRecord


@dataclass(frozen=True)
class Math:
    """One piece of mathematics in both notations."""

    typst: str  # Typst math markup, without the surrounding $
    latex: str  # LaTeX math, without the surrounding $


@dataclass(frozen=True)
class DocStep:
    number: int  # 1-based, as in the derivation
    lhs: Math
    relation: str  # as in the step: "=", "⟺", "⇒" is shown with the premise, "<", "≤", …
    rhs: Math
    premise_typst: str  # "" unless a substitution: the assignments, grouped by value
    premise_latex: str
    reason: str  # the step's justification, in words
    cite: str  # "[1, Eq. (1)]" or ""
    status: str  # "proved" | "checked" | "failed"
    method: str  # what decided it


@dataclass(frozen=True)
class DocView:
    id: str
    title: str
    claims: tuple[str, ...]
    status: str  # the derivation's status
    statement: str
    assumptions: tuple[tuple[str, str], ...]  # (name, statement)
    steps: tuple[DocStep, ...]
    conclusion: str
    sources: tuple[str, ...]  # numbered from 1 in this order


# A side longer than this (in Typst characters) cannot be read on a page even when shrunk: the document names
# it instead and points to theorems.json, which holds every side in full.
MAX_SIDE_CHARS = 1500


def _math(expr: sp.Basic) -> Math:
    typ = typst(expr)
    if len(typ) <= MAX_SIDE_CHARS:
        return Math(typ, latex(expr))
    shape = getattr(expr, "shape", None)
    what = f"a {shape[0]}×{shape[1]} matrix" if shape else "an expression"
    note = f"[{what} of {len(sp.sstr(expr)):,} characters: too long to typeset; in full in theorems.json of hfx verify]"
    return Math(typst_string(note), r"\text{" + note.replace("×", r"$\times$") + "}")


def _equation(obj: sp.Basic) -> Math:
    """An equation side of an `Equivalent` step: an `Eq`, or a pair (a, b) meaning a = b."""
    if isinstance(obj, tuple) and len(obj) == 2:
        a, b = obj
        return Math(f"{typst(a)} = {typst(b)}", f"{latex(a)} = {latex(b)}")
    return _math(obj)


def _premise(subs: Mapping[sp.Basic, sp.Basic]) -> tuple[str, str]:
    """``{W: 0, b: 0, x: 1}`` → ``W = b = 0, x = 1`` in Typst and LaTeX (order of first appearance)."""
    groups: dict[sp.Basic, list[sp.Basic]] = {}
    for key, value in subs.items():
        groups.setdefault(sp.sympify(value), []).append(key)
    typ = ", ".join(" = ".join(typst(k) for k in [*keys, value]) for value, keys in groups.items())
    tex = ", ".join(" = ".join(latex(k) for k in [*keys, value]) for value, keys in groups.items())
    return typ, tex


def _wrapped(expr: sp.Basic) -> Math:
    m = _math(expr)
    if isinstance(expr, (sp.Add, sp.MatAdd, sp.Mul, sp.MatMul)):
        return Math(f"({m.typst})", rf"\left({m.latex}\right)")
    return m


def step_sides(step: Step) -> tuple[Math, str, Math, str, str]:
    """(lhs, relation, rhs, premise in Typst, premise in LaTeX) as the document shows them."""
    if isinstance(step, Equivalent):
        return _equation(step.lhs), step.relation, _equation(step.rhs), "", ""
    if isinstance(step, MatrixGradient):
        inner = _wrapped(step.lhs)
        wrt = _math(step.wrt)
        lhs = Math(
            f"frac(partial, partial {wrt.typst}) {inner.typst}",
            rf"\frac{{\partial}}{{\partial {wrt.latex}}} {inner.latex}",
        )
        return lhs, "=", _math(step.rhs), "", ""
    if isinstance(step, Substitute):
        typ, tex = _premise(step.subs) if step.subs else ("", "")
        return _math(step.lhs), "=", _math(step.rhs), typ, tex
    return _math(step.lhs), step.relation, _math(step.rhs), "", ""


def _fields(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def number_sources(
    references: Sequence[str], citations: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The numbered source list and, per citation, its mark (``[1, Eq. (1)]``, or "" for none)."""
    sources = [r.strip() for r in references if r.strip()]
    marks: list[str] = []
    for citation in (c.strip() for c in citations):
        if not citation:
            marks.append("")
            continue
        number, rest = 0, ""
        for i, ref in enumerate(sources, start=1):
            if citation.startswith(ref):
                number, rest = i, citation[len(ref) :].strip(" ,;")
                break
            if _fields(citation)[:2] == _fields(ref)[:2]:
                ref_fields = set(_fields(ref))
                number, rest = i, ", ".join(f for f in _fields(citation)[2:] if f not in ref_fields)
                break
        if not number:
            sources.append(citation)
            number = len(sources)
        marks.append(f"[{number}, {rest}]" if rest else f"[{number}]")
    return tuple(sources), tuple(marks)


def view(derivation: Derivation, record: TheoremRecord) -> DocView:
    """The document view of `derivation`, with the statuses of its verification `record`."""
    if record.id != derivation.id:
        raise ValueError(f"record {record.id!r} is not the record of {derivation.id!r}")
    results = {r.index: r for r in record.steps}
    if sorted(results) != list(range(1, len(derivation.steps) + 1)):
        count = len(derivation.steps)
        raise ValueError(f"record of {derivation.id!r} has {len(results)} steps, the derivation {count}")
    sources, marks = number_sources(derivation.references, [s.citation for s in derivation.steps])
    steps: list[DocStep] = []
    for i, (step, mark) in enumerate(zip(derivation.steps, marks, strict=True), start=1):
        lhs, relation, rhs, premise_typ, premise_tex = step_sides(step)
        result = results[i]
        steps.append(
            DocStep(
                number=i, lhs=lhs, relation=relation, rhs=rhs, premise_typst=premise_typ,
                premise_latex=premise_tex, reason=step.reason, cite=mark,
                status=result.status.value, method=result.method,
            )
        )
    return DocView(
        id=derivation.id,
        title=derivation.title,
        claims=tuple(derivation.claims),
        status=record.status.value,
        statement=derivation.statement,
        assumptions=tuple((a.name, a.statement) for a in derivation.assumptions),
        steps=tuple(steps),
        conclusion=derivation.conclusion,
        sources=sources,
    )
