"""Prose (`theory.core.printing.prose`) rendered for Typst and for LaTeX, and as plain text.

- Typst: plain text becomes string literals (``#"…"``: nothing in a sentence can be mistaken for markup),
  maths ``$…$`` in Typst's maths syntax, a citation ``#cite(<key>, supplement: […])``;
- LaTeX (pdflatex, amsmath and amssymb): plain text escaped, maths in ``$…$`` (house operators become
  ``\\operatorname{…}``), a citation ``\\cite[locator]{key}``;
- plain: the text as a reader would type it (maths as written, citations as ``[key, locator]``), for
  comments and for comparing with the text of a PDF.
"""

from __future__ import annotations

import re

from theory.core.printing.conventions import typst_string
from theory.core.printing.prose import (
    Atom,
    Call,
    Citation,
    Delimited,
    Group,
    Math,
    Node,
    Scripts,
    Segment,
    Text,
    TextArg,
    parse,
)
from theory.core.printing.prose_tables import ONE_ARGUMENT, TWO_ARGUMENTS

_LATEX_TEXT = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\^{}", "~": r"\~{}", "…": r"\dots{}", "§": r"\S{}", "\u00a0": "~", "\u2009": r"\,",
    "\u202f": r"\,", "°": r"\ensuremath{^\circ}",
}
_OPENERS, _CLOSERS = "([", ")]"
LONG_INLINE = 24  # characters of maths source: a longer inline formula may break after its commas (Typst)


def typst_markup(text: str) -> str:
    """Typst markup (content, to go inside ``[…]``) for a prose string."""
    return "".join(_typst_segment(s) for s in parse(text))


def latex_text(text: str) -> str:
    """LaTeX (text mode) for a prose string."""
    return "".join(_latex_segment(s) for s in parse(text))


def plain_text(text: str) -> str:
    """A prose string as plain text: maths as written (without the dollars), citations as [key, locator]."""
    return "".join(_plain_segment(s) for s in parse(text))


def typst_math(segment_or_nodes: Math | tuple[Node, ...]) -> str:
    items = segment_or_nodes.items if isinstance(segment_or_nodes, Math) else segment_or_nodes
    return _typst_seq(items)


def latex_math(segment_or_nodes: Math | tuple[Node, ...]) -> str:
    items = segment_or_nodes.items if isinstance(segment_or_nodes, Math) else segment_or_nodes
    return _latex_seq(items)


# -- segments ----------------------------------------------------------------------------------------
def _typst_segment(s: Segment) -> str:
    if isinstance(s, Text):
        return "#" + typst_string(s.text)
    if isinstance(s, Math):
        # Typst breaks inline maths only at operators and relations: a long formula is split after its
        # top-level commas into formulas that may end a line (LaTeX gets \allowbreak there instead)
        pieces: list[list[Node]] = [[]]
        for n in s.items:
            pieces[-1].append(n)
            if isinstance(n, Atom) and n.latex == "," and len(s.source) > LONG_INLINE:
                pieces.append([])
        return " ".join(f"${_typst_seq(tuple(p))}$" for p in pieces if p)
    return "".join(
        f"#cite(<{item.key}>" + (f", supplement: [{''.join(_typst_segment(x) for x in item.locator)}]"
                                  if item.locator else "") + ")"
        for item in s.items
    )


def _latex_segment(s: Segment) -> str:
    if isinstance(s, Text):
        return "".join(_LATEX_TEXT.get(c, c) for c in s.text)
    if isinstance(s, Math):
        return f"${_latex_seq(s.items, breakable=True)}$"
    return ", ".join(_latex_cite(item.key, item.locator) for item in s.items)


def _latex_cite(key: str, locator: tuple[Text | Math, ...]) -> str:
    if not locator:
        return f"\\cite{{{key}}}"
    inner = "".join(_latex_segment(x) for x in locator).replace("~", r"\nobreakspace{}")
    return f"\\cite[{{{inner}}}]{{{key}}}"


def _plain_segment(s: Segment) -> str:
    if isinstance(s, Text):
        return s.text
    if isinstance(s, Math):
        return s.source
    assert isinstance(s, Citation)
    parts = [item.key + (", " + "".join(_plain_segment(x) for x in item.locator) if item.locator else "")
             for item in s.items]
    return "[" + "; ".join(parts) + "]"


# -- maths: Typst ------------------------------------------------------------------------------------
def _typst_seq(items: tuple[Node, ...]) -> str:
    rendered = [_typst(n) for n in items]
    # an unmatched bracket would end a Typst call argument or swallow the rest: escape it
    stack: list[int] = []
    for i, n in enumerate(items):
        bracket = _bracket(n)
        if bracket and bracket in _OPENERS:
            stack.append(i)
        elif bracket and bracket in _CLOSERS:
            if stack:
                stack.pop()
            else:
                rendered[i] = "\\" + rendered[i]
    for i in stack:
        rendered[i] = "\\" + rendered[i]
    opening = True  # ‖…‖: Typst spaces a lone ‖ as an operator; say which side of a norm each one is
    for i, n in enumerate(items):
        base = n.base if isinstance(n, Scripts) else n
        if isinstance(base, Atom) and base.typst == "‖":
            side = "opening" if opening else "closing"
            rendered[i] = rendered[i].replace("‖", f'class("{side}", ‖)', 1)
            opening = not opening
    out = ""
    for i, text in enumerate(rendered):
        prime = isinstance(items[i], Atom) and text == "'"
        out += text if (i == 0 or prime) else " " + text
    return out


def _bracket(n: Node) -> str:
    """The bracket that `n` is (with or without scripts), or ""."""
    base = n.base if isinstance(n, Scripts) else n
    return base.typst if isinstance(base, Atom) and base.typst in (_OPENERS + _CLOSERS) else ""


def _typst(n: Node) -> str:
    if isinstance(n, Atom):
        return n.typst
    if isinstance(n, Group):
        return _typst_seq(n.items)
    if isinstance(n, Scripts):
        if n.base is None:
            out = '""'
        elif isinstance(n.base, Group):
            out = f"scripts({_typst_seq(n.base.items)})"
        else:
            out = _typst(n.base)
        if n.sub is not None:
            out += f"_({_typst_seq(n.sub)})"
        if n.sup is not None:
            out += f"^({_typst_seq(n.sup)})"
        return out
    if isinstance(n, Call):
        args = [_typst_seq(a) for a in n.args]
        if n.name in TWO_ARGUMENTS:
            return f"{TWO_ARGUMENTS[n.name]}({args[0]}, {args[1]})"
        if n.name == "sqrt":
            return f"root({_typst_seq(n.option)}, {args[0]})" if n.option else f"sqrt({args[0]})"
        if n.name in ("mathbf", "mathrm"):
            inner = f"upright({args[0]})"
            return f"bold({inner})" if n.name == "mathbf" else inner
        return f"{ONE_ARGUMENT[n.name]}({args[0]})"
    if isinstance(n, TextArg):
        return f"op({typst_string(n.text)})" if n.name == "operatorname" else typst_string(n.text)
    assert isinstance(n, Delimited)
    left = n.left.typst if n.left else ""
    right = n.right.typst if n.right else ""
    return f"lr({left} {_typst_seq(n.items)} {right})"


# -- maths: LaTeX ------------------------------------------------------------------------------------
def _latex_seq(items: tuple[Node, ...], breakable: bool = False) -> str:
    """LaTeX of a sequence; `breakable`: a line may break after a comma (TeX breaks inline maths only at
    operators and relations), for the top level of a formula in running text."""
    out = ""
    for n in items:
        text = _latex(n)
        if re.search(r"\\[A-Za-z]+$", out) and text[:1].isalnum():
            out += " "
        out += text
        if breakable and isinstance(n, Atom) and n.latex == ",":
            out += r"\allowbreak "
    return out


def _latex(n: Node) -> str:
    if isinstance(n, Atom):
        return n.latex
    if isinstance(n, Group):
        return "{" + _latex_seq(n.items) + "}"
    if isinstance(n, Scripts):
        out = "{}" if n.base is None else _latex(n.base)
        if n.sub is not None:
            out += "_{" + _latex_seq(n.sub) + "}"
        if n.sup is not None:
            out += "^{" + _latex_seq(n.sup) + "}"
        return out
    if isinstance(n, Call):
        option = f"[{_latex_seq(n.option)}]" if n.option else ""
        return f"\\{n.name}{option}" + "".join("{" + _latex_seq(a) + "}" for a in n.args)
    if isinstance(n, TextArg):
        text = "".join(_LATEX_TEXT.get(c, c) for c in n.text)
        return f"\\{n.name}{{{text}}}"
    assert isinstance(n, Delimited)
    left = n.left.latex if n.left else "."
    right = n.right.latex if n.right else "."
    return f"\\left{left} {_latex_seq(n.items)} \\right{right}"
