r"""Large objects of a derivation get a name, defined once: the steps then print the name.

Three kinds, in this order:

1. a matrix of second derivatives ∂²f/∂θᵢ∂θⱼ of one expression f over one list of variables θ prints as
   ∇²_θ f (and a column of first derivatives as ∇_θ f), with θ = (θ₁, …) and f defined below;
2. a subexpression wider than `MIN_WIDTH` that occurs at least twice in the derivation's long steps (a side
   wider than `LONG`) is named, the widest first, until none repeats (a named object's inside counts once);
3. an explicit matrix still wider than `MATRIX_WIDTH` (anywhere: a matrix cannot break over lines, and the
   narrowest column a fragment may be set in is about that wide) is named, and defined entry by entry.

Names are capital letters (P, Q, …) that no symbol of the derivation and no maths of its prose uses.  The
printers print the name in place of the object (`names`), so nothing is rebuilt: substituting the
definitions back gives exactly the expressions that were checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.conventions import split_super_sub

from hfx.doc_width import latex_width
from theory.core.printing import latex

LONG = 40.0  # em: a side wider than this makes its step "long" (wider than a one-column text block)
MIN_WIDTH = 8.0  # em: a repeated subexpression narrower than this is left in place
MATRIX_WIDTH = 15.0  # em: an explicit matrix wider than this is named (it cannot break over lines)
INLINE_WIDTH = 6.0  # em: a definition narrower than this (its inner names in place) is printed in place again
_POOL = "P Q R S T U V K G J Y Z M N L H E D C B A".split()


@dataclass
class Naming:
    """expr → (Typst, LaTeX) of its name, and the definitions in the order a reader needs them."""

    names: dict[sp.Basic, tuple[str, str]] = field(default_factory=dict)
    definitions: list[sp.Basic] = field(default_factory=list)  # the named objects, in the order named
    hessians: dict[sp.Basic, tuple[sp.Basic, tuple[sp.Basic, ...], int]] = field(default_factory=dict)
    fixed: set[sp.Basic] = field(default_factory=set)  # θ and f of a Hessian: named as a reader expects

    @property
    def typst(self) -> dict[sp.Basic, str]:
        return {k: t for k, (t, _) in self.names.items()}

    @property
    def latex(self) -> dict[sp.Basic, str]:
        return {k: lx for k, (_, lx) in self.names.items()}


def key(expr: sp.Basic) -> sp.Basic:
    return sp.ImmutableMatrix(expr) if isinstance(expr, sp.MatrixBase) else expr


def children(expr: object) -> Iterator[sp.Basic]:
    if isinstance(expr, sp.MatrixBase):
        yield from expr
    elif isinstance(expr, tuple):
        yield from expr
    elif isinstance(expr, sp.Basic):
        if isinstance(expr, sp.ImmutableMatrix):
            yield from expr
        else:
            yield from expr.args


def size(expr: object, limit: int) -> int:
    """The number of nodes of `expr` (its tree), counted up to `limit`."""
    count = 0
    todo = [expr]
    while todo and count < limit:
        node = todo.pop()
        count += 1
        todo.extend(children(node))
    return count


def is_long(expr: sp.Basic) -> bool:
    """Wider than `LONG` printed: small trees are not, huge ones are (no printing); in between, estimate."""
    nodes = size(expr, 600)
    if nodes < 40:
        return False
    if nodes >= 600:
        return True
    return latex_width(latex(expr)) > LONG


def ordered(naming: Naming) -> list[sp.Basic]:
    """The definitions, each after the names its value uses."""
    done: list[sp.Basic] = []

    def visit(d: sp.Basic, path: tuple[sp.Basic, ...]) -> None:
        if d in done or d in path:
            return
        for node in _walk(d, set(naming.definitions)):
            k = key(node)
            if k != d and k in naming.definitions:
                visit(k, (*path, d))
        done.append(d)

    for d in naming.definitions:
        visit(d, ())
    return done


def choose(long_sides: Sequence[sp.Basic], all_sides: Sequence[sp.Basic], taken: Iterable[str]) -> Naming:
    """Names for the large objects of one derivation (see the module docstring)."""
    taken = set(taken)
    naming = Naming()
    pool = _Pool(taken)
    for side in long_sides:
        for node in _walk(side, set()):
            if isinstance(node, sp.MatrixBase) and key(node) not in naming.hessians:
                found = _derivative_matrix(node)
                if found is not None:
                    naming.hessians[key(node)] = found
    for f, params, _ in naming.hessians.values():
        naming.fixed.add(key(sp.Tuple(*params)))
        naming.fixed.add(key(f))
        _name_of(naming, sp.Tuple(*params), pool, preferred=("θ", r"\theta", "theta"))
        _name_of(naming, f, pool, preferred=("f", "f", "f"))
    _hessian_names(naming)
    stop: set[sp.Basic] = set(naming.names)
    widths: dict[sp.Basic, float] = {}
    while True:
        counts: Counter[sp.Basic] = Counter()
        for root in [*long_sides, *naming.definitions]:
            for node in _walk(root, stop):
                counts[key(node)] += 1
        candidates = [n for n, c in counts.items() if c >= 2 and n not in stop and _eligible(n)]
        for n in candidates:
            if n not in widths:
                widths[n] = latex_width(latex(n, naming.latex))
        candidates = [n for n in candidates if widths[n] >= MIN_WIDTH]
        if not candidates:
            break
        best = max(widths[n] for n in candidates)
        pick = min((n for n in candidates if widths[n] == best), key=sp.srepr)  # deterministic on ties
        _name_of(naming, pick, pool)
        stop.add(pick)
    _inline_small(naming)
    stop = set(naming.names)
    for side in all_sides:
        for node in _walk(side, stop):
            if isinstance(node, sp.MatrixBase) and key(node) not in stop and (
                latex_width(latex(node, naming.latex)) > MATRIX_WIDTH
            ):
                _name_of(naming, node, pool)
                stop.add(key(node))
    _rename_in_order(naming, taken)
    return naming


def _inline_small(naming: Naming) -> None:
    """Drop the names whose definition, once its own inner names are in place, is narrower than `INLINE_WIDTH`:
    naming the outside of an expression and then its inside can leave a name for almost nothing."""
    while True:
        small = []
        for d in naming.definitions:
            if d in naming.fixed:
                continue
            others = {k: v for k, v in naming.latex.items() if k != d}
            small.append((latex_width(latex(d, others)), sp.srepr(d), d))
        small = [item for item in small if item[0] < INLINE_WIDTH]
        if not small:
            return
        _, _, drop = min(small)
        del naming.names[drop]
        naming.definitions.remove(drop)


def _rename_in_order(naming: Naming, taken: set[str]) -> None:
    """Letters in reading order (P, Q, R, … as the definitions are listed); θ and f of a Hessian keep theirs."""
    order = ordered(naming)
    pool = _Pool(taken | {naming.names[k][0] for k in naming.fixed})
    for k in order:
        if k not in naming.fixed:
            naming.names[k] = pool.take(None)
    naming.definitions = order
    _hessian_names(naming)


def _hessian_names(naming: Naming) -> None:
    for matrix, (f, params, order) in naming.hessians.items():
        theta, fname = naming.names[key(sp.Tuple(*params))], naming.names[key(f)]
        power_t, power_l = ("^2", "^{2}") if order == 2 else ("", "")
        naming.names[matrix] = (
            f"nabla{power_t}_({theta[0]}) {fname[0]}", f"\\nabla{power_l}_{{{theta[1]}}} {fname[1]}"
        )


def _name_of(naming: Naming, expr: sp.Basic, pool: _Pool,
             preferred: tuple[str, str, str] | None = None) -> tuple[str, str]:
    k = key(expr)
    if k in naming.names:
        return naming.names[k]
    typ, tex = pool.take(preferred)
    naming.names[k] = (typ, tex)
    naming.definitions.append(k)
    return typ, tex


class _Pool:
    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(taken)
        self.next = 0

    def take(self, preferred: tuple[str, str, str] | None) -> tuple[str, str]:
        if preferred is not None and preferred[0] not in self.taken:
            self.taken.add(preferred[0])
            return preferred[2], preferred[1]
        while self.next < len(_POOL):
            letter = _POOL[self.next]
            self.next += 1
            if letter not in self.taken:
                self.taken.add(letter)
                return letter, letter
        self.next += 1
        i = self.next - len(_POOL)
        return f"P_({i})", f"P_{{{i}}}"


def _walk(expr: object, stop: set[sp.Basic]) -> Iterator[sp.Basic]:
    """Every subexpression (pre-order), not descending below a stop (named) node, except at the root."""
    todo: list[tuple[object, bool]] = [(expr, True)]
    while todo:
        node, root = todo.pop()
        if isinstance(node, sp.Basic | sp.MatrixBase):
            yield node
            if not root and key(node) in stop:
                continue
        todo.extend((c, False) for c in children(node))


def _eligible(expr: sp.Basic) -> bool:
    if expr.is_Atom or isinstance(expr, sp.MatrixSymbol | sp.Tuple | sp.Indexed | sp.Lambda):
        return False
    if isinstance(expr, sp.core.relational.Relational | sp.logic.boolalg.Boolean):
        return False
    return isinstance(expr, sp.Expr | sp.MatrixBase) or hasattr(expr, "shape")


def _derivative_matrix(m: sp.MatrixBase) -> tuple[sp.Basic, tuple[sp.Basic, ...], int] | None:
    """(f, θ, order) when `m` is [∂²f/∂θᵢ∂θⱼ] (order 2) or the column [∂f/∂θᵢ] (order 1)."""
    entries = list(m)
    if not entries or not all(isinstance(e, sp.Derivative) for e in entries):
        return None
    f = entries[0].expr
    if any(e.expr != f for e in entries):
        return None
    rows, cols = m.shape
    if cols == 1 and all(len(e.variables) == 1 for e in entries):
        return f, tuple(e.variables[0] for e in entries), 1
    if rows != cols or rows < 2:
        return None
    params = []
    for i in range(rows):
        variables = m[i, i].variables
        if len(variables) != 2 or variables[0] != variables[1]:
            return None
        params.append(variables[0])
    for i in range(rows):
        for j in range(cols):
            if sorted(map(str, m[i, j].variables)) != sorted(map(str, (params[i], params[j]))):
                return None
    return f, tuple(params), 2


def used_letters(exprs: Iterable[object], prose_letters: Iterable[str] = ()) -> set[str]:
    """Base letters of every symbol, matrix symbol and function in `exprs` (and in the prose's maths)."""
    out = set(prose_letters)
    for expr in exprs:
        for node in _walk(expr, set()):
            name = None
            if isinstance(node, sp.Symbol | sp.MatrixSymbol):
                name = node.name
            elif isinstance(node, sp.Function) or isinstance(node, sp.core.function.AppliedUndef):
                name = getattr(node.func, "__name__", None)
            if name:
                out.add(split_super_sub(name)[0])
    return out
