"""Prose as readable Unicode text, for places without a maths renderer (terminal tables, REPORT.md, JSON).

``$W_1 x + b_1 = 0$ iff $\\sigma^2 \\le 1$ [@he2016deep, Eq. (2)]`` becomes
``W₁ x + b₁ = 0 iff σ² ≤ 1 (He et al. 2016, Eq. (2))``: symbols as their Unicode characters,
sub- and superscripts as Unicode scripts where every character has one (else ``_(…)``, ``^(…)``),
fractions as ``a/b``, roots as ``√``, citations as author–year from `references.bib`.  It reads the
same tree as the Typst and LaTeX renderers (`prose_math`), so what it accepts is exactly the prose syntax.
"""

from __future__ import annotations

import functools
import unicodedata

from theory.core import bibliography
from theory.core.printing.prose import Citation, Math, Segment, Text, parse
from theory.core.printing.prose_math import Atom, Call, Delimited, Group, Node, Scripts, TextArg
from theory.core.printing.prose_tables import SUPERSCRIPTS

_SUP = {**{v: k for k, v in SUPERSCRIPTS.items()}, "⊤": "ᵀ", "−": "⁻", "′": "′"}
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
_NAMED = {
    "dot.op": "·", "sum": "∑", "product": "∏", "integral": "∫", "\\{": "{", "\\}": "}", "thin": " ", "med": " ",
    "thick": " ", "space": " ", "quad": "  ", "wide": "   ", "#h(-1em/6)": "", "ast.op": "∗",
}
_SPACED = set("=<>≤≥≠≈≡∼≃≅∝≪≫≺≻⪯⪰∈∉∋⊂⊆⊃⊇→←↦⇒⇐⇔⟺⟹⟸↔+−±∓×÷·∘⊗⊕⊙∪∩∖∧∨")
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "1": "𝟙"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305", "tilde": "\u0303",
            "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7"}


def unicode_text(text: str) -> str:
    """A prose string as Unicode text (see the module docstring)."""
    return "".join(_segment(s) for s in parse(text))


def _segment(s: Segment) -> str:
    if isinstance(s, Text):
        return s.text
    if isinstance(s, Math):
        return _seq(s.items).strip()
    assert isinstance(s, Citation)
    parts = []
    for item in s.items:
        where = "".join(_segment(x) for x in item.locator)
        parts.append(author_year(item.key) + (f", {where}" if where else ""))
    return "(" + "; ".join(parts) + ")"


@functools.cache
def author_year(key: str) -> str:
    """``He et al. 2016`` for a key of `references.bib` (the key itself if it is not there)."""
    entry = bibliography.entries().get(key)
    if entry is None:
        return key
    names = [a.strip() for a in entry.get("author", "").replace("\n", " ").split(" and ") if a.strip()]
    surnames = [(n.split(",")[0] if "," in n else n.split()[-1]).strip("{} ") for n in names]
    who = (surnames[0] if len(surnames) == 1 else " and ".join(surnames) if len(surnames) == 2
           else f"{surnames[0]} et al." if surnames else entry.get("title", key))
    year = entry.get("year", "")
    return f"{who} {year}".strip()


def _seq(items: tuple[Node, ...]) -> str:
    out = ""
    for n in items:
        piece = _node(n)
        if piece in _SPACED and out:
            out = out.rstrip() + f" {piece} "
        elif piece == ",":
            out = out.rstrip() + ", "
        else:
            out += piece
    return out


def _atom(a: Atom) -> str:
    t = a.typst
    if t in _NAMED:
        return _NAMED[t]
    if len(t) == 1:
        return "−" if t == "-" else t
    base = t.split(".")[0]
    for case in ("SMALL", "CAPITAL"):
        try:
            if base.isalpha() and (base[0].isupper()) == (case == "CAPITAL"):
                return unicodedata.lookup(f"GREEK {case} LETTER {base.upper().replace('LAMBDA', 'LAMDA')}")
        except KeyError:
            pass
    return a.latex.removeprefix("\\").replace("operatorname{", "").rstrip("}")


def _scripted(text: str, table: dict[str, str], mark: str) -> str:
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


def _node(n: Node) -> str:
    if isinstance(n, Atom):
        return _atom(n)
    if isinstance(n, Group):
        return _seq(n.items)
    if isinstance(n, Scripts):
        out = "" if n.base is None else _node(n.base)
        if n.sub is not None:
            out += _scripted(_seq(n.sub).replace(" ", ""), _SUB, "_")
        if n.sup is not None:
            out += _scripted(_seq(n.sup).replace(" ", ""), _SUP, "^")
        return out
    if isinstance(n, Call):
        args = [_seq(a).strip() for a in n.args]
        if n.name in ("frac", "tfrac", "dfrac"):
            num, den = (a if len(a) == 1 or a.isalnum() else f"({a})" for a in args)
            return f"{num}/{den}"
        if n.name == "binom":
            return f"C({args[0]}, {args[1]})"
        if n.name == "sqrt":
            root = args[0] if len(args[0]) == 1 else f"({args[0]})"
            return ("" if n.option is None else _scripted(_seq(n.option), _SUP, "^")) + "√" + root
        if n.name in ("mathbf", "boldsymbol") and args[0] in ("0", "1"):
            return {"0": "𝟎", "1": "𝟏"}[args[0]]
        if n.name == "mathbb":
            return "".join(_BLACKBOARD.get(c, c) for c in args[0])
        if n.name in _ACCENTS and len(args[0]) == 1:
            return args[0] + _ACCENTS[n.name]
        return args[0]
    if isinstance(n, TextArg):
        return n.text
    assert isinstance(n, Delimited)
    return (_atom(n.left) if n.left else "") + _seq(n.items) + (_atom(n.right) if n.right else "")


def readable(text: str) -> str:
    """`unicode_text`, or `text` unchanged when it is not in the prose syntax (a plugin's free text)."""
    from theory.core.printing.prose_math import ProseError

    try:
        return unicode_text(text)
    except ProseError:
        return text
