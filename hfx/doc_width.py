r"""How wide a piece of LaTeX maths is, estimated without TeX (in em of the body font, display style).

The documents break long equations into lines before any engine sees them (a paper's fragment cannot measure
itself), so the breaker needs widths.  `latex_width` walks the LaTeX that the house printer writes (commands,
groups, scripts, ``\frac``, ``\sqrt``, ``\left``/``\right``, ``matrix``/``cases`` environments) with the
glyph widths of Computer Modern rounded up, and the spacing TeX puts around binary operators (medium space,
2/9 em each side) and relations (thick space, 5/18 em).  Scripts are set at 70 %, second-level scripts at 50 %,
a fraction's numerator and denominator one style smaller than the fraction.  The estimate errs on the wide
side; tests compile every fragment and read TeX's log for overfull boxes, which is the real check.
"""

from __future__ import annotations

import re

_BIN, _REL = 2 * 0.2222, 2 * 0.2778  # spacing around a binary operator and a relation (em)
_RELATIONS = set(
    r"= < > \leq \geq \neq \approx \equiv \sim \simeq \cong \propto \ll \gg \prec \succ \preceq \succeq \in \notin "
    r"\ni \subset \subseteq \supset \supseteq \to \rightarrow \leftarrow \mapsto \Rightarrow \Leftarrow \mid "
    r"\Leftrightarrow \leftrightarrow \uparrow \downarrow \parallel \perp \triangleq \le \ge \ne \gets".split()
)
_WIDE_RELATIONS = {r"\iff": 1.9, r"\implies": 1.9, r"\impliedby": 1.9, r"\longrightarrow": 1.65}
_BINARY = set(r"+ - \pm \mp \times \cdot \div \circ \otimes \oplus \odot \cup \cap \setminus \wedge \vee \ast".split())
_OPERATOR_NAMES = set(
    r"\sin \cos \tan \sinh \cosh \tanh \coth \sec \csc \cot \arcsin \arccos \arctan \log \ln \exp \det \arg "
    r"\deg \dim \ker \gcd \Pr".split()
)
_GREEK = set(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho "
    "varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi "
    "Psi Omega".split()
)
_OPERATOR_LIMITS = {r"\lim", r"\max", r"\min", r"\sup", r"\inf", r"\sum", r"\prod", r"\liminf", r"\limsup"}
_SYMBOL_WIDTH = {
    r"\sum": 1.45, r"\prod": 1.3, r"\int": 0.9, r"\infty": 1.0, r"\partial": 0.6, r"\nabla": 0.85, r"\ell": 0.45,
    r"\cdots": 1.35, r"\ldots": 1.2, r"\dots": 1.2, r"\|": 0.5, r"\langle": 0.4, r"\rangle": 0.4, r"\lceil": 0.45,
    r"\rceil": 0.45, r"\lfloor": 0.45, r"\rfloor": 0.45, r"\top": 0.8, r"\prime": 0.3, r"\forall": 0.6,
    r"\exists": 0.6, r"\neg": 0.7, r"\emptyset": 0.55, r"\{": 0.5, r"\}": 0.5, r"\mathbb": 0.75,
}
_SPACES = {r"\,": 0.1667, r"\:": 0.2222, r"\;": 0.2778, r"\!": -0.1667, r"\quad": 1.0, r"\qquad": 2.0, "~": 0.34,
           r"\ ": 0.34}
_IGNORED = {r"\displaystyle", r"\textstyle", r"\limits", r"\nolimits", r"\bigl", r"\bigr",
            r"\Bigl", r"\Bigr", r"\notag", r"\nonumber"}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.DOTALL)


# italic letters of cmmi10 (em, rounded up, with a little italic correction)
_LETTERS = dict(zip(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    [0.55, 0.45, 0.45, 0.55, 0.48, 0.55, 0.5, 0.6, 0.37, 0.45, 0.55, 0.32, 0.9, 0.62, 0.5, 0.52, 0.47, 0.47,
     0.49, 0.38, 0.6, 0.52, 0.75, 0.59, 0.51, 0.49,
     0.77, 0.79, 0.76, 0.85, 0.77, 0.7, 0.8, 0.88, 0.5, 0.6, 0.88, 0.7, 1.0, 0.88, 0.78, 0.7, 0.8, 0.78, 0.66,
     0.64, 0.7, 0.64, 1.0, 0.85, 0.64, 0.7],
    strict=True,
))


# upright letters of cmr10 (em): operator names, \mathrm, \text
_UPRIGHT = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    [0.5, 0.56, 0.45, 0.56, 0.45, 0.31, 0.5, 0.56, 0.28, 0.31, 0.53, 0.28, 0.84, 0.56, 0.5, 0.56, 0.53, 0.4,
     0.4, 0.39, 0.56, 0.53, 0.73, 0.53, 0.53, 0.45],
    strict=True,
))


def upright_width(text: str) -> float:
    """Width (em) of upright text such as an operator name (capitals and digits counted generously)."""
    return sum(_UPRIGHT.get(c, 0.75 if c.isupper() else 0.5) for c in text)


def _glyph(c: str) -> float:
    if c.isdigit():
        return 0.5
    if c in _LETTERS:
        return _LETTERS[c]
    if c.isalpha():
        return 0.8
    return {"(": 0.42, ")": 0.42, "[": 0.32, "]": 0.32, "|": 0.3, ",": 0.45, ";": 0.45, ".": 0.3, "'": 0.35,
            "!": 0.32, "/": 0.55, ":": 0.85}.get(c, 0.8)


class _Reader:
    def __init__(self, text: str) -> None:
        self.toks = [t for t in _TOKEN.findall(text) if not t.isspace()]
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def group(self) -> list[str]:
        """The tokens of the next argument: a {group} or one token."""
        if self.peek() != "{":
            return [self.take()] if self.peek() is not None else []
        self.take()
        depth, out = 1, []
        while self.peek() is not None:
            tok = self.take()
            depth += tok == "{"
            depth -= tok == "}"
            if depth == 0:
                break
            out.append(tok)
        return out

    def environment(self, name: str) -> list[str]:
        out, depth = [], 1
        while self.peek() is not None:
            tok = self.take()
            if tok in (r"\begin", r"\end"):
                env = "".join(self.group())
                depth += 1 if tok == r"\begin" else -1
                if depth == 0 and env == name:
                    break
                out += [tok, "{", *env, "}"]
                continue
            out.append(tok)
        return out


def latex_width(text: str, scale: float = 1.0) -> float:
    """Estimated width (em) of LaTeX maths in display style at `scale` (1 = body size)."""
    return _width(_Reader(text), scale)


def _join(tokens: list[str]) -> str:
    return "".join(t if not re.fullmatch(r"\\[A-Za-z]+", t) else t + " " for t in tokens)


def _script(scale: float) -> float:
    return 0.7 if scale >= 0.99 else 0.5 if scale >= 0.69 else scale


def _width(r: _Reader, scale: float) -> float:
    total = 0.0
    last_base = 0.0
    while (tok := r.peek()) is not None:
        r.take()
        w = 0.0
        if tok in ("^", "_"):
            script = _width(_Reader(_join(r.group())), _script(scale))
            other = r.peek()
            if other in ("^", "_") and other != tok:  # x_a^b: the wider of the two
                r.take()
                script = max(script, _width(_Reader(_join(r.group())), _script(scale)))
            if last_base < 0:  # limits under an operator: centred below it
                total += max(0.0, script - (-last_base))
            else:
                total += script + 0.12 * scale
            last_base = 0.0
            continue
        if tok == "{":
            r.i -= 1
            w = _width(_Reader(_join(r.group())), scale)
        elif tok in (r"\frac", r"\dfrac", r"\tfrac", r"\binom"):
            inner = 0.7 if tok == r"\tfrac" else (scale if scale >= 0.99 else _script(scale)) / scale
            num = _width(_Reader(_join(r.group())), scale * inner)
            den = _width(_Reader(_join(r.group())), scale * inner)
            w = max(num, den) + 0.25 * scale + (0.6 * scale if tok == r"\binom" else 0.0)
        elif tok == r"\sqrt":
            index = 0.0
            if r.peek() == "[":
                depth, opt = 0, []
                while r.peek() is not None:
                    t = r.take()
                    depth += t == "["
                    depth -= t == "]"
                    if depth == 0:
                        break
                    if t != "[" or depth > 1:
                        opt.append(t)
                index = max(0.0, _width(_Reader(_join(opt)), 0.5 * scale) - 0.3 * scale)
            w = _width(_Reader(_join(r.group())), scale) + 0.9 * scale + index
        elif tok in (r"\text", r"\textrm", r"\mathrm", r"\operatorname"):
            body = r.group()
            plain = "".join(body)
            if re.fullmatch(r"[A-Za-z0-9 ]+", plain):
                w = upright_width(plain) * scale
            else:
                w = _width(_Reader(_join(body)), scale)
            if tok == r"\operatorname":
                w += 0.17 * scale
        elif tok in (r"\mathbf", r"\mathit", r"\mathsf", r"\mathcal", r"\boldsymbol", r"\mathbb"):
            w = _width(_Reader(_join(r.group())), scale) * 1.1
        elif tok in (r"\hat", r"\bar", r"\tilde", r"\dot", r"\ddot", r"\vec", r"\overline", r"\widehat"):
            w = _width(_Reader(_join(r.group())), scale)
        elif tok == r"\begin":
            env = "".join(r.group())
            w = _environment(r.environment(env), env, scale)
        elif tok in (r"\left", r"\right"):
            delimiter = r.take() if r.peek() is not None else "."
            w = (0.12 if delimiter == "." else 0.6) * scale
        elif tok in _IGNORED:
            continue
        elif tok in _OPERATOR_NAMES:
            w = (upright_width(tok[1:]) + 0.17) * scale
        elif tok in _SPACES:
            w = _SPACES[tok] * scale
        elif tok in _WIDE_RELATIONS:
            w = (_WIDE_RELATIONS[tok] + _REL) * scale
        elif tok in _RELATIONS:
            w = (0.8 + (_REL if scale >= 0.99 else 0.0)) * scale
        elif tok in _BINARY:
            w = (0.8 + (_BIN if scale >= 0.99 else 0.0)) * scale
        elif tok in _SYMBOL_WIDTH:
            w = _SYMBOL_WIDTH[tok] * scale
        elif re.fullmatch(r"\\[A-Za-z]+", tok):
            name = tok[1:]
            if tok in _OPERATOR_LIMITS:
                w = max(upright_width(name), 1.0) * scale
                total += w + 0.17 * scale
                last_base = -w  # a following _{…} goes under it
                continue
            w = (0.62 if name[0].islower() else 0.8) * scale if name in _GREEK else 0.9 * scale
        elif len(tok) == 2 and tok[0] == "\\":
            w = _glyph(tok[1]) * scale
        else:
            w = _glyph(tok) * scale
        total += w
        last_base = w
    return total


def _environment(tokens: list[str], env: str, scale: float) -> float:
    """matrix-like environments: the widest cell per column, column gaps; cases: two columns and a brace."""
    rows = _join(tokens).split(r"\\")
    columns: list[float] = []
    for row in rows:
        for j, cell in enumerate(row.split("&")):
            cell_w = _width(_Reader(cell), scale)
            if j >= len(columns):
                columns.append(cell_w)
            else:
                columns[j] = max(columns[j], cell_w)
    brace = 0.9 if env == "cases" else 0.0  # the left brace of cases
    return sum(columns) + 1.0 * scale * max(0, len(columns) - 1) + brace * scale
