"""Rich display of a verified derivation in Jupyter: its steps with status badges, as HTML and as LaTeX.

`DerivationResult._repr_html_` and `_repr_latex_` call `html` and `latex`.  Every piece of text that comes
from a derivation (title, statement, reasons, printed expressions, counterexamples) is escaped: a title
holding ``<script>`` shows those characters, it does not run.  Neither output holds timings, so the same
derivation displays the same way on every run.
"""

from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING

import sympy as sp

from theory.core.steps import Status, short

if TYPE_CHECKING:
    from theory.core.derivation import DerivationResult, StepResult

COLOURS = {Status.PROVED: "#1a7f37", Status.CHECKED: "#9a6700", Status.FAILED: "#cf222e"}  # badge colours
SIDE_LIMIT = 400  # characters of a printed side shown in HTML
TEX_RELATIONS = {"=": "=", "<": "<", "≤": r"\le", ">": ">", "≥": r"\ge", "⟺": r"\iff", "⇒": r"\Rightarrow"}
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def _e(text: object) -> str:
    return _html.escape(str(text), quote=True)


def badge(status: Status) -> str:
    """An HTML badge for a status: its name in capitals, in its colour."""
    colour = COLOURS[status]
    return (f'<span style="border:1px solid {colour};color:{colour};border-radius:4px;padding:0 4px;'
            f'font-size:85%;font-family:monospace">{status.value.upper()}</span>')


def _step_row(r: StepResult) -> str:
    step, formula = r.step, r.step.formula()
    lhs, rhs = short(sp.sstr(formula.lhs), SIDE_LIMIT), short(sp.sstr(formula.rhs), SIDE_LIMIT)
    at = " at " + ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in formula.at) if formula.at else ""
    why = _e(step.reason) + (f" <i>[{_e(step.citation)}]</i>" if step.citation else "")
    how = _e(r.method) + (f" ({_e(', '.join(r.engines))})" if r.engines else "")
    detail = f'<br><span style="color:{COLOURS[Status.FAILED]}">{_e(r.detail)}</span>' if r.detail and (
        r.status is not Status.PROVED) else ""
    return (f"<tr><td>({r.index})</td><td><code>{_e(lhs)}</code>{_e(at)}</td><td>{_e(formula.relation)}</td>"
            f"<td><code>{_e(rhs)}</code></td><td>{badge(r.status)}</td>"
            f"<td style='text-align:left'>{why}<br><small>{how}</small>{detail}</td></tr>")


def html(result: DerivationResult) -> str:
    """The derivation's title, status, statement, steps (each with its badge) and what it proves, as HTML."""
    d = result.derivation
    parts = [
        '<div class="hfx-derivation">',
        f"<p><b>{_e(d.title)}</b> <code>{_e(d.id)}</code> {badge(result.status)}</p>",
        f"<p><i>Statement.</i> {_e(d.statement)}</p>" if d.statement else "",
        "<table><tr><th></th><th>lhs</th><th></th><th>rhs</th><th>status</th><th>why, and how it was checked</th></tr>",
        *(_step_row(r) for r in result.steps),
        "</table>",
    ]
    if result.supports:
        items = "".join(
            f"<li><code>{_e(short(s.formula.text(), 300))}</code> "
            + (f"— follows from step{'s' if len(s.steps) > 1 else ''} {', '.join(map(str, s.steps))}"
               if s.established else f"— <b>does not follow from the steps</b>: {_e(s.how)}")
            + "</li>"
            for s in result.supports
        )
        scope = f" (shown for {_e(d.instance)})" if d.instance else ""
        parts.append(f"<p><i>Formal statement{scope}</i> (it holds if its steps hold):</p><ul>{items}</ul>")
    if result.refusal:
        parts.append(f"<p><i>Assumptions refused:</i> {_e(result.refusal)}</p>")
    if d.remarks:
        items = "".join(f"<li>{_e(r)}</li>" for r in d.remarks)
        parts.append(f"<p><i>Remarks (not checked by any step):</i></p><ul>{items}</ul>")
    if not result.steps:
        parts.append("<p>No steps: nothing was shown.</p>")
    parts.append("</div>")
    return "\n".join(p for p in parts if p)


def tex_text(text: str) -> str:
    """`text` for LaTeX's text mode (inside ``\\text{…}``), its special characters escaped."""
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


def _tex_side(step_side: sp.Basic) -> str:
    return sp.latex(step_side) if isinstance(step_side, sp.Basic) else tex_text(str(step_side))


def latex(result: DerivationResult) -> str:
    """The steps as one display (``$$\\begin{array}…$$``), each with its status, under the title."""
    d = result.derivation
    rows = []
    for r in result.steps:
        formula = r.step.formula()
        lhs = _tex_side(formula.lhs)
        if formula.at:
            at = ", ".join(f"{sp.latex(k)} = {sp.latex(v)}" for k, v in formula.at)
            lhs = rf"\left. {lhs} \right|_{{{at}}}"
        relation = TEX_RELATIONS.get(formula.relation, tex_text(formula.relation))
        rows.append(rf"({r.index}) & {lhs} & {relation} & {_tex_side(formula.rhs)} & "
                    rf"\quad\textsf{{{r.status.value.upper()}}} \\")
    head = rf"\text{{{tex_text(d.title)} [{tex_text(d.id)}]: }}\textsf{{{result.status.value.upper()}}}"
    steps = "\\begin{array}{lrcll}\n" + "\n".join(rows) + "\n\\end{array}"
    return f"$$\\begin{{array}}{{l}}\n{head} \\\\\n{steps}\n\\end{{array}}$$"
