"""The vocabulary of the prose maths subset (see `theory.core.printing.prose`): commands and Unicode shorthands.

Each symbol command maps to (LaTeX, Typst).  LaTeX passes through (a house operator such as ``\\tr`` becomes
``\\operatorname{tr}``, so that a paper needs amsmath and amssymb only); Typst gets the Unicode character or
the name Typst knows.  A Unicode character written inside ``$…$`` is a shorthand for the command it stands
for (``σ`` for ``\\sigma``, ``ℝ`` for ``\\mathbb{R}``, ``W₂`` for ``W_{2}``, ``Σᵀ`` for ``\\Sigma^{T}``).
"""

from __future__ import annotations

_LOWER = "alpha beta gamma delta zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon chi psi omega"
_UPPER = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"

# command → (LaTeX, Typst); the Typst side is a symbol name or a Unicode character
SYMBOLS: dict[str, tuple[str, str]] = {
    **{g: (f"\\{g}", g) for g in (*_LOWER.split(), *_UPPER.split())},
    "epsilon": (r"\epsilon", "epsilon.alt"), "varepsilon": (r"\varepsilon", "epsilon"),
    "vartheta": (r"\vartheta", "theta.alt"), "phi": (r"\phi", "phi.alt"), "varphi": (r"\varphi", "phi"),
    "varpi": (r"\varpi", "pi.alt"), "varrho": (r"\varrho", "rho.alt"), "varsigma": (r"\varsigma", "sigma.alt"),
    # relations
    "leq": (r"\leq", "≤"), "le": (r"\leq", "≤"), "geq": (r"\geq", "≥"), "ge": (r"\geq", "≥"),
    "neq": (r"\neq", "≠"), "ne": (r"\neq", "≠"), "approx": (r"\approx", "≈"), "equiv": (r"\equiv", "≡"),
    "sim": (r"\sim", "∼"), "simeq": (r"\simeq", "≃"), "cong": (r"\cong", "≅"), "propto": (r"\propto", "∝"),
    "ll": (r"\ll", "≪"), "gg": (r"\gg", "≫"), "prec": (r"\prec", "≺"), "succ": (r"\succ", "≻"),
    "preceq": (r"\preceq", "⪯"), "succeq": (r"\succeq", "⪰"), "in": (r"\in", "∈"), "notin": (r"\notin", "∉"),
    "ni": (r"\ni", "∋"), "subset": (r"\subset", "⊂"), "subseteq": (r"\subseteq", "⊆"), "supset": (r"\supset", "⊃"),
    "supseteq": (r"\supseteq", "⊇"), "to": (r"\to", "→"), "rightarrow": (r"\rightarrow", "→"),
    "leftarrow": (r"\leftarrow", "←"), "gets": (r"\gets", "←"), "mapsto": (r"\mapsto", "↦"),
    "Rightarrow": (r"\Rightarrow", "⇒"), "Leftarrow": (r"\Leftarrow", "⇐"), "Leftrightarrow": (r"\Leftrightarrow", "⇔"),
    "implies": (r"\implies", "⟹"), "impliedby": (r"\impliedby", "⟸"), "iff": (r"\iff", "⟺"),
    "longrightarrow": (r"\longrightarrow", "⟶"), "leftrightarrow": (r"\leftrightarrow", "↔"),
    "uparrow": (r"\uparrow", "↑"), "downarrow": (r"\downarrow", "↓"), "mid": (r"\mid", "∣"),
    "parallel": (r"\parallel", "∥"), "perp": (r"\perp", "⊥"), "triangleq": (r"\triangleq", "≜"),
    # binary operators
    "pm": (r"\pm", "±"), "mp": (r"\mp", "∓"), "times": (r"\times", "×"), "cdot": (r"\cdot", "dot.op"),
    "div": (r"\div", "÷"), "circ": (r"\circ", "∘"), "otimes": (r"\otimes", "⊗"), "oplus": (r"\oplus", "⊕"),
    "odot": (r"\odot", "⊙"), "cup": (r"\cup", "∪"), "cap": (r"\cap", "∩"), "setminus": (r"\setminus", "∖"),
    "wedge": (r"\wedge", "∧"), "land": (r"\land", "∧"), "vee": (r"\vee", "∨"), "lor": (r"\lor", "∨"),
    "ast": (r"\ast", "∗"), "star": (r"\star", "⋆"),
    # other symbols
    "infty": (r"\infty", "∞"), "partial": (r"\partial", "∂"), "nabla": (r"\nabla", "∇"), "ell": (r"\ell", "ℓ"),
    "hbar": (r"\hbar", "ℏ"), "emptyset": (r"\emptyset", "∅"), "varnothing": (r"\varnothing", "∅"),
    "forall": (r"\forall", "∀"), "exists": (r"\exists", "∃"), "neg": (r"\neg", "¬"), "lnot": (r"\lnot", "¬"),
    "top": (r"\top", "⊤"), "bot": (r"\bot", "⊥"), "dagger": (r"\dagger", "†"), "prime": (r"\prime", "′"),
    "cdots": (r"\cdots", "⋯"), "ldots": (r"\ldots", "…"), "dots": (r"\dots", "…"), "vdots": (r"\vdots", "⋮"),
    "ddots": (r"\ddots", "⋱"), "colon": (r"\colon", ":"),
    # delimiters
    "lfloor": (r"\lfloor", "⌊"), "rfloor": (r"\rfloor", "⌋"), "lceil": (r"\lceil", "⌈"), "rceil": (r"\rceil", "⌉"),
    "langle": (r"\langle", "⟨"), "rangle": (r"\rangle", "⟩"), "lvert": (r"\lvert", "|"), "rvert": (r"\rvert", "|"),
    "lVert": (r"\lVert", "‖"), "rVert": (r"\rVert", "‖"), "vert": (r"\vert", "|"), "Vert": (r"\Vert", "‖"),
    "|": (r"\|", "‖"), "{": (r"\{", "\\{"), "}": (r"\}", "\\}"),
    # spacing
    ",": (r"\,", "thin"), ":": (r"\:", "med"), ";": (r"\;", "thick"), "!": (r"\!", "#h(-1em/6)"),
    " ": (r"\ ", "space"), "quad": (r"\quad", "quad"), "qquad": (r"\qquad", "wide"),
    # big operators (limits attach with _ and ^)
    "sum": (r"\sum", "sum"), "prod": (r"\prod", "product"), "int": (r"\int", "integral"),
}

# upright operator names: LaTeX's own, then the house ones (LaTeX: \operatorname{…})
OPERATORS = set(
    "ln log exp sin cos tan sinh cosh tanh arcsin arccos arctan max min sup inf lim liminf limsup det dim ker arg "
    "deg gcd Pr".split()
)
HOUSE_OPERATORS = set("tr rank diag sgn erf relu ReLU GELU".split())

ONE_ARGUMENT = {
    # fonts: the Typst function applied to the (translated) argument
    "mathrm": "upright", "mathit": "italic", "mathbf": "bold", "boldsymbol": "bold", "mathsf": "sans",
    "mathtt": "mono", "mathbb": "bb", "mathcal": "cal",
    # accents
    "hat": "hat", "widehat": "hat", "bar": "macron", "overline": "overline", "tilde": "tilde",
    "widetilde": "tilde", "dot": "dot", "ddot": "dot.double", "vec": "arrow", "underline": "underline",
}
TEXT_ARGUMENT = {"text", "textrm", "operatorname"}  # the argument is text, not maths
TWO_ARGUMENTS = {"frac": "frac", "tfrac": "frac", "dfrac": "frac", "binom": "binom"}

# Unicode inside maths → the LaTeX it abbreviates
UNICODE: dict[str, str] = {
    **dict(zip("αβγδζηθικλμνξπρστυχψω", (f"\\{g}" for g in _LOWER.split()), strict=True)),
    **dict(zip("ΓΔΘΛΞΠΣΥΦΨΩ", (f"\\{g}" for g in _UPPER.split()), strict=True)),
    "ε": r"\varepsilon", "ϵ": r"\epsilon", "ϑ": r"\vartheta", "φ": r"\varphi", "ϕ": r"\phi", "ς": r"\varsigma",
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "𝔼": r"\mathbb{E}", "𝟙": r"\mathbf{1}", "𝟎": r"\mathbf{0}", "𝒩": r"\mathcal{N}", "𝒪": r"\mathcal{O}",
    "ℒ": r"\mathcal{L}", "ℓ": r"\ell", "−": "-", "×": r"\times", "·": r"\cdot", "⋅": r"\cdot", "±": r"\pm",
    "∓": r"\mp", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv", "∼": r"\sim",
    "≃": r"\simeq", "≅": r"\cong", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg", "≺": r"\prec", "≻": r"\succ",
    "⪯": r"\preceq", "⪰": r"\succeq", "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊆": r"\subseteq",
    "⊃": r"\supset", "⊇": r"\supseteq", "∪": r"\cup", "∩": r"\cap", "∖": r"\setminus", "∅": r"\emptyset",
    "∀": r"\forall", "∃": r"\exists", "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee", "∂": r"\partial",
    "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\sqrt", "∞": r"\infty", "∘": r"\circ",
    "⊗": r"\otimes", "⊙": r"\odot", "⊕": r"\oplus", "‖": r"\|", "∥": r"\|", "∣": r"\mid", "⟨": r"\langle",
    "⟩": r"\rangle", "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor", "⋯": r"\cdots",
    "…": r"\ldots", "′": "'", "″": "''", "⊤": r"\top", "⊥": r"\perp", "†": r"\dagger", "≜": r"\triangleq",
    "∗": r"\ast", "½": r"\tfrac{1}{2}", "¼": r"\tfrac{1}{4}", "¾": r"\tfrac{3}{4}", "→": r"\to", "⟶": r"\to",
    "←": r"\leftarrow", "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow", "⇔": r"\Leftrightarrow",
    "⟺": r"\iff", "⟹": r"\implies", "⟸": r"\impliedby", "↔": r"\leftrightarrow", "↑": r"\uparrow",
    "↓": r"\downarrow", "⁄": "/", "∶": ":", "\u2009": r"\,", "\u202f": r"\,", "\u00a0": "~",
}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵏʰᵈᵐˣʸᵗᵃᵇᶜᵉᵍʲˡᵒᵖʳˢᵘᵛʷᶻ", "0123456789+-=()niTkhdmxytabcegjloprsuvwz",
                        strict=True))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True))
COMBINING_ACCENTS = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar", "\u0307": "dot", "\u0308": "ddot"}

# maths characters written as themselves (ASCII)
MATH_ASCII = set("+-=<>()[],;:!'/|.?*")

# Plain text: ASCII other than markup, Latin letters, and typographic punctuation; everything else is maths
TEXT_ASCII_FORBIDDEN = set("`_^\\{}*\"=<>+|~$")
TEXT_UNICODE_OK = set("–—‘’“”…§°\u00a0\u2009\u202f")
