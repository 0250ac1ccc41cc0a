r"""Display mathematics that can break over lines, for both engines.

`build(expr, names)` turns a SymPy expression into a tree of `Piece` (unbreakable: one printed expression in
Typst and LaTeX, with its estimated width), `Seq` (items joined by operators: a line may break before any
operator) and `Wrap` (``head(`` body ``)tail``, e.g. σ(…), c(…), (…)², ∂/∂t(…): the body may break inside the
brackets).  Every node keeps its printing on one line (`whole`), which is exactly what the printer writes;
the structure is only used when that line is too wide.  `layout(node, width)` breaks greedily: a line takes
what fits, a continuation is indented (1 em for a relation, 2 em for anything else), and an item too wide
for a line of its own is broken inside.  `typst_lines`/`latex_lines` render the lines (aligned at their
start; LaTeX ``\left``/``\right`` pairs are closed on each line with ``\right.``/``\left.``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.core.sorting import default_sort_key

from hfx.doc_width import latex_width
from theory.core.printing import HouseLatexPrinter, TypstPrinter
from theory.core.printing.conventions import is_negative, positive_first

SHORT = 10.0  # em: an expression at most this wide is never broken
INDENT = {0: 0.0, 1: 1.0, 2: 2.0}  # em per indentation level: 1 after a relation, 2 inside a side
SMALL_FACTOR = 4.0  # em: a factor narrower than this stays on the line of the factor after it
SHORT_SIDE = 0.25  # a left side at most this share of the width keeps the right side beside it


@dataclass(frozen=True)
class Piece:
    typst: str
    latex: str
    width: float  # estimated, em of the body font


@dataclass(frozen=True)
class Seq:
    whole: Piece
    first: Node
    rest: tuple[tuple[Piece, Node], ...]  # (operator, item); a line may break before the operator


@dataclass(frozen=True)
class Wrap:
    whole: Piece
    open: Piece  # e.g. "σ(" with a stretchy left bracket
    body: Node
    close: Piece  # e.g. ")²"


Node = Piece | Seq | Wrap
Line = tuple[int, tuple[Piece, ...]]  # (indentation level, pieces)


def whole(node: Node) -> Piece:
    return node if isinstance(node, Piece) else node.whole


def text_piece(typst: str, latex: str) -> Piece:
    return Piece(typst, latex, latex_width(latex))


OPERATORS = {
    "+": text_piece("+", "+"), "-": text_piece("-", "-"), ",": text_piece("\\,", ","),
    "=": text_piece("=", "="), "⟺": text_piece("<==>", r"\iff"), "⇒": text_piece("==>", r"\implies"),
    "<": text_piece("<", "<"), "≤": text_piece("<=", r"\leq"), ">": text_piece(">", ">"),
    "≥": text_piece(">=", r"\geq"), "≠": text_piece("!=", r"\neq"),
}


JUXTAPOSE = Piece("thin", "\\,", 0.17)  # between the factors of a product that breaks over lines


class Builder:
    """Builds display trees with one pair of printers (and the names they print large objects by)."""

    def __init__(self, names_typst: Mapping[sp.Basic, str] | None = None,
                 names_latex: Mapping[sp.Basic, str] | None = None) -> None:
        self.typst = TypstPrinter({"names": dict(names_typst or {})})
        self.latex = HouseLatexPrinter({"names": dict(names_latex or {})})
        self.named = set(names_typst or {})
        self._pieces: dict[sp.Basic, Piece] = {}  # printed once per subexpression

    def piece(self, expr: sp.Basic) -> Piece:
        k = _key(expr)
        if k not in self._pieces:
            self._pieces[k] = text_piece(self.typst.doprint(expr), self.latex.doprint(expr))
        return self._pieces[k]

    def relation(self, lhs: Node, relation: str, rhs: Node) -> Seq:
        op = OPERATORS.get(relation, text_piece(relation, relation))
        w = whole(lhs)
        line = Piece(f"{w.typst} {op.typst} {whole(rhs).typst}", f"{w.latex} {op.latex} {whole(rhs).latex}",
                     w.width + op.width + whole(rhs).width)
        return Seq(line, lhs, ((op, rhs),))

    def build(self, expr: sp.Basic) -> Node:
        out = self.piece(expr)
        if out.width <= SHORT or _key(expr) in self.named:
            return out
        if isinstance(expr, sp.Equality):
            return self.relation(self.build(expr.lhs), "=", self.build(expr.rhs))
        if isinstance(expr, sp.Add | sp.MatAdd):
            return self._sum(expr, out)
        if isinstance(expr, sp.Mul | sp.MatMul):
            return self._product(expr, out)
        if isinstance(expr, sp.Pow) and not (expr.exp.is_Rational and expr.exp.q != 1) and expr.exp.is_number:
            if expr.exp.is_negative:
                return out
            base = self.build(expr.base)
            close = text_piece(f"\\)^({self.typst.doprint(expr.exp)})",
                               f"\\right)^{{{self.latex.doprint(expr.exp)}}}")
            return Wrap(out, text_piece("\\(", "\\left("), base, close)
        if isinstance(expr, sp.Tuple):
            items = [self.build(a) for a in expr.args]
            line = Piece(", ".join(whole(n).typst for n in items), ", ".join(whole(n).latex for n in items),
                         sum(whole(n).width for n in items) + 0.5 * (len(items) - 1))
            body = Seq(line, items[0], tuple((OPERATORS[","], n) for n in items[1:])) if len(items) > 1 else items[0]
            return Wrap(out, text_piece("\\(", "\\left("), body, text_piece("\\)", "\\right)"))
        if isinstance(expr, sp.Function | sp.Trace | sp.Max | sp.Min) and not isinstance(expr, sp.Abs | sp.Piecewise):
            return self._applied(expr, out)
        if isinstance(expr, sp.Derivative | sp.Limit | sp.Sum | sp.Product | sp.Integral):
            return self._around(expr, out, expr.args[0])
        return out

    def _around(self, expr: sp.Basic, out: Piece, body: sp.Basic) -> Node:
        """An operator printed around one body (d/dt(…), lim(…), Σ(…), ∫(…) dt): the body may break inside."""
        bt, bl = self.typst.doprint(body), self.latex.doprint(body)
        it, il = out.typst.rfind(bt), out.latex.rfind(bl)
        if it < 0 or il < 0:
            return out
        t_open, t_close = out.typst[:it].rstrip(), out.typst[it + len(bt) :].lstrip()
        l_open, l_close = out.latex[:il], out.latex[il + len(bl) :]
        bracketed = t_open.endswith("(") and t_close.startswith(")")
        if bracketed:
            t_open, t_close = t_open[:-1], t_close[1:]
        if l_open.count("{") != l_open.count("}") or t_open.count("(") != t_open.count(")"):
            return out
        if bracketed:
            t_open, t_close = t_open + "\\(", "\\)" + t_close
        return Wrap(out, text_piece(t_open, l_open), self.build(body), text_piece(t_close, l_close))

    def _sum(self, expr: sp.Basic, out: Piece) -> Node:
        if isinstance(expr, sp.Add):
            terms = positive_first(list(self.latex._as_ordered_terms(expr, order=None)))
        else:
            terms = positive_first(list(expr.args))
        items: list[tuple[Piece, Node]] = []
        for term in terms:
            negative = is_negative(term)
            body = -term if negative else term
            node = self._operand(body, strict=negative)
            items.append((OPERATORS["-" if negative else "+"], node))
        first_op, first = items[0]
        if first_op is OPERATORS["-"]:
            w = whole(first)
            first = Wrap(Piece(f"-{w.typst}", f"-{w.latex}", w.width + 0.8), text_piece("-", "-"), first,
                         text_piece("", ""))
        return Seq(out, first, tuple(items[1:]))

    def _operand(self, term: sp.Basic, strict: bool) -> Node:
        """A term of a sum, in brackets when the printer would bracket it."""
        node = self.build(term)
        if isinstance(term, sp.Add | sp.MatAdd) or (strict and isinstance(term, sp.Add)):
            w = whole(node)
            wrapped = Piece(f"({w.typst})", f"\\left({w.latex}\\right)", w.width + 1.2)
            return Wrap(wrapped, text_piece("\\(", "\\left("), node, text_piece("\\)", "\\right)"))
        return node

    def _product(self, expr: sp.Basic, out: Piece) -> Node:
        if is_negative(expr):  # −x shown as − then x, breakable inside x
            return Wrap(out, text_piece("-", "-"), self.build(-expr), text_piece("", ""))
        if isinstance(expr, sp.Mul) and (den := sp.fraction(expr, exact=True)[1]) != 1:
            num = sp.fraction(expr, exact=True)[0]
            small = self.piece(sp.Integer(1) / den)
            if small.width > 10:
                return out  # a fraction with a large denominator is not broken (its parts are named instead)
            inner = self.build(num)  # n/d shown as (1/d)·n, breakable inside n
            if isinstance(num, sp.Add):
                return Wrap(out, text_piece(f"{small.typst} \\(", f"{small.latex} \\left("), inner,
                            text_piece("\\)", "\\right)"))
            return Wrap(out, text_piece(small.typst, small.latex), inner, text_piece("", ""))
        factors = list(expr.args) if isinstance(expr, sp.MatMul) else list(expr.as_ordered_factors())
        items: list[Node] = []
        lead: list[sp.Basic] = []  # unbreakable factors go with the next breakable one
        for f in factors:
            if isinstance(f, sp.Add | sp.MatAdd):
                w = self.piece(f)
                node: Node = Wrap(Piece(f"({w.typst})", f"\\left({w.latex}\\right)", w.width + 1.2),
                                  text_piece("\\(", "\\left("), self.build(f), text_piece("\\)", "\\right)"))
            else:
                node = self.build(f)
            if whole(node).width < SMALL_FACTOR:  # a coefficient or a symbol goes with the next factor
                lead.append(f)
                continue
            head_t, head_l = self._factors(lead)
            lead = []
            if head_t:
                w = whole(node)
                node = Wrap(Piece(f"{head_t} {w.typst}", f"{head_l} {w.latex}", latex_width(head_l) + w.width),
                            text_piece(head_t, head_l), node, text_piece("", ""))
            items.append(node)
        if len(items) < 2 and not any(not isinstance(n, Piece) for n in items):
            return out
        if lead:  # small factors at the end stay on the line of the factor before them
            tail_t, tail_l = self._factors(lead)
            last = whole(items[-1])
            joined = Piece(f"{last.typst} {tail_t}", f"{last.latex} {tail_l}", last.width + latex_width(tail_l))
            items[-1] = Wrap(joined, text_piece("", ""), items[-1], text_piece(tail_t, tail_l))
        if len(items) == 1:
            return Wrap(out, text_piece("", ""), items[0], text_piece("", ""))
        return Seq(out, items[0], tuple((JUXTAPOSE, n) for n in items[1:]))

    def _factors(self, factors: list[sp.Basic]) -> tuple[str, str]:
        """Factors of a product side by side (a sum in brackets), in Typst and LaTeX."""
        typ, tex = [], []
        for f in factors:
            t, lx = self.typst.doprint(f), self.latex.doprint(f)
            if isinstance(f, sp.Add | sp.MatAdd):
                t, lx = f"({t})", f"\\left({lx}\\right)"
            typ.append(t)
            tex.append(lx)
        return " ".join(typ), " ".join(tex)

    def _applied(self, expr: sp.Basic, out: Piece) -> Node:
        """f(a, b, …) (an applied function, max, min, a trace) with its arguments breakable at the commas."""
        args = list(expr.args)
        if isinstance(expr, sp.Max | sp.Min):
            args = sorted(args, key=default_sort_key)
            head_t, head_l = ("max", r"\max") if isinstance(expr, sp.Max) else ("min", r"\min")
        elif isinstance(expr, sp.Trace):
            head_t, head_l = "tr", r"\operatorname{tr}"
        else:
            name = getattr(expr.func, "__name__", "")
            head_t, head_l = self.typst._function_name(name), self.latex._hprint_Function(name)
        if not out.typst.startswith(head_t + "(") or not out.latex.startswith(head_l):
            return out
        items = [self.build(a) for a in args]
        body: Node = items[0]
        if len(items) > 1:
            line = Piece(", ".join(whole(n).typst for n in items), ", ".join(whole(n).latex for n in items),
                         sum(whole(n).width for n in items) + 0.5 * (len(items) - 1))
            body = Seq(line, items[0], tuple((OPERATORS[","], n) for n in items[1:]))
        return Wrap(out, text_piece(f"{head_t}\\(", f"{head_l}\\left("), body, text_piece("\\)", "\\right)"))


def _key(expr: sp.Basic) -> sp.Basic:
    return sp.ImmutableMatrix(expr) if isinstance(expr, sp.MatrixBase) else expr


class _Writer:
    def __init__(self, width: float) -> None:
        self.width = width
        self.lines: list[tuple[int, list[Piece]]] = [(0, [])]
        self.used = 0.0
        self.content = False  # the current line holds more than operators
        self.heads = 0  # heads of brackets (σ(, ½, λ() on the current line

    def room(self) -> float:
        return self.width - INDENT[self.lines[-1][0]] - self.used

    def put(self, piece: Piece, operator: bool = False) -> None:
        self.lines[-1][1].append(piece)
        self.used += piece.width
        self.content = self.content or not operator

    def newline(self, indent: int) -> None:
        self.lines.append((indent, []))
        self.used = 0.0
        self.content = False
        self.heads = 0

    def emit(self, node: Node, indent: int) -> None:
        w = whole(node)
        if w.width <= self.room() or isinstance(node, Piece):
            if w.width > self.room() and self.content:  # an unbreakable piece starts a line (after its operator)
                self.newline(indent)
            self.put(w)
        elif isinstance(node, Wrap):
            line = self.width - INDENT[indent]
            if isinstance(node.body, Piece) and self.content and w.width <= line:
                self.newline(indent)  # head and unbreakable body together on a fresh line
                self.put(w)
                return
            if node.open.width + _lead(node.body) > self.room() and (self.content or self.heads):
                self.newline(indent)  # the head and what must follow it do not fit: a fresh line
            self.put(node.open, operator=True)  # never a line with only the head (a₁, σ(, ½)
            self.heads += node.open.width > 1.5  # a sign is not a head worth a line of its own
            self.emit(node.body, indent)
            self.put(node.close)
        else:
            self.emit(node.first, indent)
            for op, item in node.rest:
                if op.width + whole(item).width > self.room() and self.content:
                    if op.latex == ",":  # a comma ends its line; the next item starts the next one
                        self.put(op, operator=True)
                        self.newline(indent)
                        self.emit(item, indent)
                        continue
                    self.newline(indent)
                self.put(op, operator=True)
                self.emit(item, indent)


def _lead(node: Node) -> float:
    """The width of what must start on the same line as `node`'s beginning (its first unbreakable piece)."""
    if isinstance(node, Piece):
        return node.width
    if isinstance(node, Wrap):
        return node.open.width + _lead(node.body)
    return _lead(node.first)


def layout(node: Node, width: float) -> list[Line]:
    """`node` broken into lines of at most `width` em (where it can be).

    A relation at the top starts a new line, indented by 1 em (``lhs`` / ``= rhs``), unless the left side is
    short (a name, say), when the right side starts beside it; anything else continues 2 em in.
    """
    writer = _Writer(width)
    if isinstance(node, Seq) and node.rest and all(op.latex in _RELATION_LATEX for op, _ in node.rest):
        if node.whole.width <= width:
            writer.put(node.whole)
        elif whole(node.first).width <= SHORT_SIDE * width:
            writer.put(whole(node.first))
            for op, side in node.rest:
                writer.put(op, operator=True)
                writer.emit(side, 2)
        else:
            writer.emit(node.first, 2)
            for op, side in node.rest:
                if writer.used > 0:
                    writer.newline(1)
                writer.put(op, operator=True)
                writer.emit(side, 2)
    else:
        writer.emit(node, 2)
    return [(indent, tuple(pieces)) for indent, pieces in writer.lines if pieces]


_LEFT, _RIGHT = re.compile(r"\\left(?![A-Za-z])"), re.compile(r"\\right(?![A-Za-z])")
_RELATION_LATEX = {p.latex for k, p in OPERATORS.items() if k not in "+-,"}


def widest(lines: Sequence[Line]) -> float:
    return max((INDENT[i] + sum(p.width for p in ps) for i, ps in lines), default=0.0)


def typst_lines(lines: Sequence[Line]) -> str:
    """Typst maths for the lines (inside ``$ … $``): aligned at their start, indented with quads."""
    pad = {0: "", 1: "quad ", 2: "wide "}
    if len(lines) == 1 and lines[0][0] == 0:
        return " ".join(p.typst for p in lines[0][1])
    return " \\\n".join(f"& {pad[i]}" + " ".join(p.typst for p in ps) for i, ps in lines)


def latex_lines(lines: Sequence[Line], align: bool = True) -> list[str]:
    r"""LaTeX for each line (``&`` at the start when `align`), with ``\left``/``\right`` balanced per line."""
    pad = {0: "", 1: r"\quad ", 2: r"\qquad "}
    out = []
    for i, ps in lines:
        body = " ".join(p.latex for p in ps)
        opened = len(_LEFT.findall(body)) - len(_RIGHT.findall(body))
        if opened > 0:
            body += " \\right." * opened
        elif opened < 0:
            body = "\\left. " * -opened + body
        out.append(("&" if align else "") + pad[i] + body)
    return out
