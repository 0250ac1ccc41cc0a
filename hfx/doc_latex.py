"""LaTeX sources of the derivation documents: a full document and an `\\input` fragment.

The full document compiles with pdflatex from Debian's texlive-latex-base and
texlive-latex-recommended (amsmath, amssymb, graphicx, xcolor, geometry); no
Unicode engine is needed because `text` turns the Unicode of statements and
justifications (Greek letters, ℝ, ⟺, W₂, Σᵀ, …) into LaTeX.  The PDF's dates
and trailer id are suppressed (pdfTeX primitives), so the same input gives the
same bytes.

The fragment holds the equations and steps only, as one `align*`, for a paper to
`\\input`; it needs ``\\usepackage{amsmath,amssymb}``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from hfx.doc_model import DocStep, DocView
from theory.core.printing import LATEX_RELATIONS

_GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma",
    "ς": r"\varsigma", "τ": r"\tau", "υ": r"\upsilon", "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi",
    "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi",
    "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega", "∆": r"\Delta",
}
_SYMBOLS = {
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "𝔼": r"\mathbb{E}", "𝟙": r"\mathbf{1}", "𝟎": r"\mathbf{0}", "ℓ": r"\ell", "𝒩": r"\mathcal{N}",
    "𝒪": r"\mathcal{O}", "ℒ": r"\mathcal{L}", "−": "-", "×": r"\times", "·": r"\cdot", "⋅": r"\cdot",
    "±": r"\pm", "∓": r"\mp", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv",
    "∼": r"\sim", "≃": r"\simeq", "≅": r"\cong", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg", "≺": r"\prec",
    "≻": r"\succ", "⪯": r"\preceq", "⋠": r"\npreceq", "⪰": r"\succeq", "≼": r"\preccurlyeq", "≽": r"\succcurlyeq",
    "→": r"\to", "←": r"\leftarrow", "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "⟺": r"\iff", "⟹": r"\implies", "⟸": r"\impliedby", "↔": r"\leftrightarrow",
    "⟶": r"\longrightarrow", "↑": r"\uparrow", "↓": r"\downarrow", "∈": r"\in", "∉": r"\notin", "∋": r"\ni",
    "⊂": r"\subset", "⊆": r"\subseteq", "⊃": r"\supset", "⊇": r"\supseteq", "∪": r"\cup", "∩": r"\cap",
    "∖": r"\setminus", "∅": r"\emptyset", "∀": r"\forall", "∃": r"\exists", "¬": r"\neg", "∧": r"\wedge",
    "∨": r"\vee", "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\surd",
    "∞": r"\infty", "∘": r"\circ", "⊗": r"\otimes", "⊙": r"\odot", "⊕": r"\oplus", "‖": r"\|", "∥": r"\|",
    "∣": r"\mid", "⟨": r"\langle", "⟩": r"\rangle", "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor",
    "⌋": r"\rfloor", "⋯": r"\cdots", "′": r"\prime", "″": r"\prime\prime", "⊤": r"\top", "⊥": r"\perp",
    "†": r"\dagger", "∎": r"\blacksquare", "≜": r"\triangleq", "∗": r"\ast", "½": r"\tfrac{1}{2}",
    "¼": r"\tfrac{1}{4}", "¾": r"\tfrac{3}{4}", "°": r"^{\circ}", "<": "<", ">": ">", "|": "|",
    "⁄": "/", "∶": ":",
}
_SUPERSCRIPTS = dict(
    zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵏʰᵈᵐˣʸᵗᵃᵇᶜᵉᵍʲˡᵒᵖʳˢᵘᵛʷᶻ", "0123456789+-=()niTkhdmxytabcegjloprsuvwz", strict=True)
)
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True))
_ACCENTS = {"\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar", "\u0307": r"\dot", "\u0308": r"\ddot"}
_TEXT_ESCAPES = {
    "§": r"\S{}", "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\^{}", "~": r"\~{}", "…": r"\dots{}", "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,",
}
# Unicode that pdflatex's utf8 input encoding already knows in text (OT1/T1 fonts)
_TEXT_OK = set("–—‘’“”«»äöüÄÖÜßéèêëàâîïôûçñÉÈ")


def unsupported(text: str) -> list[str]:
    """The characters of `text` that `text()` can only show as a placeholder."""
    return sorted({c for c in _accented(text) if isinstance(c, str) and ord(c) > 127 and _token(c) is None})


def _accented(text: str) -> list[str | tuple[str, str]]:
    """Characters, with a letter and its accent (ẇ, ŷ, or σ + U+0307) as one (accent, letter) pair."""
    out: list[str | tuple[str, str]] = []
    for c in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", c)
        if c in _ACCENTS and out and isinstance(out[-1], str):
            out[-1] = (_ACCENTS[c], out[-1])
        elif len(parts) == 2 and parts[1] in _ACCENTS and c not in _TEXT_OK:
            out.append((_ACCENTS[parts[1]], parts[0]))
        else:
            out.append(c)
    return out


def _token(c: str) -> tuple[str, str] | None:
    if c in _GREEK:
        return ("math", _GREEK[c])
    if c in _SYMBOLS:
        return ("math", _SYMBOLS[c])
    if c in _SUPERSCRIPTS:
        return ("sup", _SUPERSCRIPTS[c])
    if c in _SUBSCRIPTS:
        return ("sub", _SUBSCRIPTS[c])
    if c in _TEXT_ESCAPES:
        return ("text", _TEXT_ESCAPES[c])
    if ord(c) < 128 or c in _TEXT_OK:
        return ("text", c)
    return None


def text(s: str) -> str:
    """Plain text with Unicode mathematics → LaTeX for pdflatex (math runs become ``$…$``)."""
    out: list[str] = []
    run: list[tuple[str, str]] = []  # consecutive math-ish tokens

    def flush() -> None:
        if not run:
            return
        parts: list[str] = []
        i = 0
        while i < len(run):
            kind, value = run[i]
            if kind in ("sub", "sup"):
                j = i
                while j < len(run) and run[j][0] == kind:
                    j += 1
                parts.append(("_{" if kind == "sub" else "^{") + "".join(v for _, v in run[i:j]) + "}")
                i = j
            else:
                parts.append(value + " ")
                i += 1
        out.append("$" + "".join(parts).rstrip() + "$")
        run.clear()

    for c in _accented(s):
        if isinstance(c, tuple):
            accent, letter = c
            inner = _token(letter)
            run.append(("math", f"{accent}{{{inner[1] if inner else letter}}}"))
            continue
        token = _token(c)
        if token is None:
            flush()
            out.append(rf"\texttt{{[U+{ord(c):04X}]}}")
        elif token[0] == "text" and not (c in "<>|" and run):
            flush()
            out.append(token[1])
        else:
            run.append(token if token[0] != "text" else ("math", c))
    flush()
    return "".join(out).replace("$$", "$\\,$")


PREAMBLE = r"""%% Generated by hfx (hfx derive); edit the derivation in theory/, not this file.
\documentclass[10pt,a4paper]{article}
\ifdefined\pdfinfoomitdate \pdfinfoomitdate=1 \pdftrailerid{} \pdfsuppressptexinfo=-1 \fi
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb,graphicx,xcolor}
\usepackage[margin=2.1cm]{geometry}
\definecolor{hfxproved}{HTML}{1B6E35}\definecolor{hfxchecked}{HTML}{9A5B00}\definecolor{hfxfailed}{HTML}{B00020}
\newcommand{\hfxstatus}[1]{\fbox{\scriptsize\bfseries\color{hfx#1}\MakeUppercase{#1}}}
\newsavebox{\hfxbox}
% a display equation, shrunk to the line width when it is wider
\newcommand{\hfxfit}[1]{\sbox{\hfxbox}{$\displaystyle #1$}%
  \ifdim\wd\hfxbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\hfxbox}}\else\usebox{\hfxbox}\fi}
% (number) [premise, equation, justification] status
\newcommand{\hfxstep}[5]{\par\noindent\begin{minipage}[t]{2.2em}(#1)\end{minipage}%
  \begin{minipage}[t]{\dimexpr\linewidth-8em\relax}#2\hfxfit{#3}\par\smallskip{\footnotesize #4}\end{minipage}%
  \hfill\begin{minipage}[t]{5.2em}\raggedleft\hfxstatus{#5}\end{minipage}\par\medskip}
\setlength{\parindent}{0pt}
"""


def _relation(step: DocStep) -> str:
    return LATEX_RELATIONS.get(step.relation, text(step.relation).strip("$"))


def _step(step: DocStep) -> str:
    premise = f"{{\\footnotesize with ${step.premise_latex} \\implies$}}\\par\\smallskip " if step.premise_latex else ""
    cite = f" {text(step.cite)}" if step.cite else ""
    why = f"{text(step.reason)}{cite}. {{\\color{{gray}}({text(step.method)})}}"
    eq = f"{step.lhs.latex} {_relation(step)} {step.rhs.latex}"
    return f"\\hfxstep{{{step.number}}}{{{premise}}}{{{eq}}}{{{why}}}{{{step.status}}}\n"


def body(view: DocView, level: str = "section") -> str:
    """One derivation as a LaTeX section."""
    proved = sum(1 for s in view.steps if s.status == "proved")
    lines = [
        f"\\{level}{{{text(view.title)}}}",
        f"{{\\footnotesize\\texttt{{{text(view.id)}}} \\quad claims {text(', '.join(view.claims))} \\quad "
        f"\\hfxstatus{{{view.status}}} \\quad {proved}/{len(view.steps)} steps proved}}\\par\\medskip",
        f"\\textbf{{Statement.}} {text(view.statement)}\\par\\medskip",
    ]
    if view.assumptions:
        items = "; ".join(f"(A{i}) {text(n)}: {text(s)}" for i, (n, s) in enumerate(view.assumptions, start=1))
        lines.append(f"\\textbf{{Assumptions.}} {items}.\\par\\medskip")
    lines.append(
        r"\textbf{Derivation.} Each step is checked by hfx: \hfxstatus{proved} exactly, "
        r"\hfxstatus{checked} numerically only (evidence, not proof), \hfxstatus{failed} refuted or undecided."
        r"\par\medskip"
    )
    lines.extend(_step(s) for s in view.steps)
    if view.conclusion:
        lines.append(f"\\textbf{{Conclusion.}} {text(view.conclusion)}\\par\\medskip")
    if view.sources:
        lines.append(r"\textbf{Sources.}\par\smallskip{\small")
        lines.extend(f"[{i}] {text(s)}\\par" for i, s in enumerate(view.sources, start=1))
        lines.append("}")
    return "\n".join(lines) + "\n"


def single(view: DocView) -> str:
    """A standalone `.tex` document for one derivation."""
    return f"{PREAMBLE}\\pagestyle{{plain}}\n\\begin{{document}}\n{body(view, 'section*')}\\end{{document}}\n"


def combined(views: Sequence[DocView], version: str) -> str:
    """One `.tex` document: title page, table of contents, every derivation from a new page."""
    counts = {s: sum(1 for v in views if v.status == s) for s in ("proved", "checked", "failed")}
    sections = "".join(f"\\clearpage\n{body(v)}" for v in views)
    return (
        f"{PREAMBLE}\\title{{Derivations\\\\[0.4em]\\large $H(x) = F(x) + x$: the claims of the note, "
        f"checked step by step}}\n\\author{{generated by hfx {text(version)}}}\n\\date{{{len(views)} derivations: "
        f"{counts['proved']} proved, {counts['checked']} checked, {counts['failed']} failed}}\n"
        f"\\begin{{document}}\n\\maketitle\n\\thispagestyle{{empty}}\n\\tableofcontents\n{sections}\\end{{document}}\n"
    )


def fragment(view: DocView) -> str:
    """The equations and steps only, as one ``align*`` for a paper to ``\\input``."""
    lines = [
        f"% hfx derivation {view.id}: {view.title}",
        "% generated by hfx; needs \\usepackage{amsmath,amssymb}; status per step in the comments",
        "\\begin{align*}",
    ]
    for i, step in enumerate(view.steps):
        comment = " ".join(f"({step.number}) {step.status} ({step.method}): {step.reason} {step.cite}".split())
        lines.append(f"  % {comment}")
        if step.premise_latex:
            lines.append(f"  \\intertext{{with ${step.premise_latex}$:}}")
        end = " \\\\" if i + 1 < len(view.steps) else ""
        lines.append(f"  {step.lhs.latex} &{_relation(step)} {step.rhs.latex} \\tag*{{({step.number})}}{end}")
    lines.append("\\end{align*}")
    return "\n".join(lines) + "\n"
