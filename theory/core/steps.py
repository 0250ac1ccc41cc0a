"""The kinds of step a derivation is made of, and how each is checked.

Each step relates two expressions and says why:

- `Equal`: lhs = rhs;
- `Equivalent`: equations a = b ⟺ c = d, their differences agreeing up to a factor
  that is finite and nonzero everywhere on the domain: a − b = factor · (c − d);
- `Substitute`: setting parameters in lhs gives rhs (premise ⇒ conclusion); every
  value must satisfy its symbol's assumptions;
- `MatrixGradient`: ∂f/∂W = rhs, differentiated term by term and always
  cross-checked entry by entry on explicit matrices;
- `Inequality`: lhs <, ≤, >, ≥ rhs (scalars).

What a step shows is what is checked (a construction error otherwise, `ValueError`):

- its **relation** is the one its check establishes (`=` for `Equal` and
  `MatrixGradient`, `⟺` for `Equivalent`, `⇒` for `Substitute`, one of <, ≤, >, ≥
  for `Inequality`): a relation is printed and recorded, never chosen freely;
- it is not **hollow**: two sides that are the same expression up to what a
  reader cannot see (`UnevaluatedExpr` wrappers, the class of an explicit matrix,
  a symbol's assumptions), or that print the same (`sstr`, Typst, LaTeX), check
  nothing: SymPy evaluated the step at construction.  Build such steps
  unevaluated (`Derivative`, `Subs`, `Integral`, `UnevaluatedExpr`,
  `evaluate=False`) so that the checker does the work the document shows; a form
  that prints differently (``x + 0 = x``, the cancellation shown) is a step;
- two different symbols (or matrix symbols, or functions) never share a **name**
  (`name_clash`): they print identically, so a reader could not tell them apart;
- a `Substitute`'s premise names expressions (not numbers) and gives each a value
  of its shape; a `MatrixGradient` differentiates a *scalar* (a 1×1 matrix counts
  as one) by a matrix symbol.

How a step is checked (`theory.core.check`): the exact rungs (`theory.core.ladder`)
and, where the step is polynomial or rational real arithmetic, z3
(`theory.core.smt`) try to certify it; the numeric rung (`theory.core.sampling`,
`theory.core.numbers`) *always* runs as well, on the sides as built, and a
counterexample fails the step whatever the exact rungs said.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import sympy as sp
from sympy.core.function import AppliedUndef, FunctionClass
from sympy.matrices.expressions import MatrixExpr


class Status(enum.StrEnum):
    PROVED = "proved"
    CHECKED = "checked"
    FAILED = "failed"


RELATIONS = ("=", "<", "≤", ">", "≥", "⟺", "⇒")
INEQUALITIES = ("<", "≤", ">", "≥")


@dataclass(frozen=True)
class Formula:
    """A relation a derivation establishes: ``lhs relation rhs`` (at the substitution `at`, if any).

    `Derivation.proves` is a conjunction of formulas; `verify` checks that each is
    the formula of one step, or the composition of a chain of consecutive steps
    (each step's left side the previous step's right side, as in a ``calc`` block).
    """

    lhs: sp.Basic
    relation: str
    rhs: sp.Basic
    at: tuple[tuple[sp.Basic, sp.Basic], ...] = ()  # a Substitute's premise, as (symbol, value) pairs

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, got {self.relation!r}")
        object.__setattr__(self, "lhs", _sympify(self.lhs))
        object.__setattr__(self, "rhs", _sympify(self.rhs))

    def text(self) -> str:
        premise = f"at {', '.join(f'{k} = {v}' for k, v in self.at)}: " if self.at else ""
        return f"{premise}{_plain(self.lhs)} {self.relation} {_plain(self.rhs)}"


@dataclass(frozen=True)
class Step:
    """`lhs  relation  rhs`, because `reason` (citing `citation` where one applies)."""

    lhs: sp.Basic
    rhs: sp.Basic
    reason: str
    citation: str = ""
    relation: str = "="

    # the relations this kind of step's check establishes: the only ones it may show
    checked_relations: ClassVar[tuple[str, ...]] = ("=",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", _sympify(self.lhs))
        object.__setattr__(self, "rhs", _sympify(self.rhs))
        if self.relation not in self.checked_relations:
            allowed = " or ".join(repr(r) for r in self.checked_relations)
            name = "Equal" if type(self) is Step else type(self).__name__
            kind = f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"
            raise ValueError(
                f"{kind} step ({self.reason!r}) with relation {self.relation!r}: its check "
                f"establishes {allowed} only, and the relation is what the documents print; "
                "use Inequality for <, ≤, >, ≥"
            )
        if self.hollow():
            raise ValueError(
                f"hollow step ({self.reason!r}): both sides are the same as built or print the same "
                f"({short(self.lhs, 120)}), so nothing would be checked; SymPy evaluated it at construction. "
                "Build it unevaluated (Derivative, Subs, Integral, UnevaluatedExpr, evaluate=False)"
            )
        names, clash = symbol_names(self.expressions())
        if clash:
            raise ValueError(f"step ({self.reason!r}): {clash}")
        object.__setattr__(self, "_names", names)  # (a cache for `Derivation`'s check across steps and facts)

    def names(self) -> Mapping[str, object]:
        """name → symbol, for every symbol, matrix symbol and function the step shows."""
        return getattr(self, "_names", None) or symbol_names(self.expressions())[0]

    def hollow(self) -> bool:
        """Both sides the same to a reader (`same_display`): the step would check nothing."""
        return same_display(self.lhs, self.rhs)

    def expressions(self) -> tuple[object, ...]:
        """Every expression the step holds (its sides, premise, factor, variable)."""
        return self.lhs, self.rhs

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        """The two expressions whose difference must vanish, as built (a Substitute's values put in)."""
        return self.lhs, self.rhs

    def formula(self) -> Formula:
        """What this step establishes."""
        return Formula(self.lhs, "=", self.rhs)


def Equal(lhs: sp.Basic, rhs: sp.Basic, reason: str, citation: str = "") -> Step:
    """An equality step, `lhs = rhs`."""
    return Step(lhs=lhs, rhs=rhs, reason=reason, citation=citation)


@dataclass(frozen=True)
class Equivalent(Step):
    """Equations `lhs` ⟺ `rhs` (both `sp.Eq`, or matrix pairs), because their
    differences agree up to a `factor` that is finite and nonzero on the whole
    domain: a − b = factor · (c − d)."""

    factor: sp.Expr = sp.S.One
    relation: str = "⟺"

    checked_relations: ClassVar[tuple[str, ...]] = ("⟺",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor", _sympify(self.factor))  # factor=2 (a Python int) is the number 2
        super().__post_init__()

    def hollow(self) -> bool:
        return same_display(self.lhs, self.rhs) and self.factor == 1

    def expressions(self) -> tuple[object, ...]:
        return self.lhs, self.rhs, self.factor

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        a, b = eq_sides(self.lhs)
        c, d = eq_sides(self.rhs)
        return a - b, self.factor * (c - d)

    def formula(self) -> Formula:
        return Formula(self.lhs, "⟺", self.rhs)


@dataclass(frozen=True)
class Substitute(Step):
    """Setting `subs` in `lhs` gives `rhs`: the premise ⇒ the conclusion.

    Each value must satisfy its symbol's assumptions (a positive symbol cannot be
    set to 0: that is a limit, state it as a `Limit`)."""

    subs: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    relation: str = "⇒"

    checked_relations: ClassVar[tuple[str, ...]] = ("⇒",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subs", {_sympify(k): _sympify(v) for k, v in dict(self.subs).items()})
        for key, value in self.subs.items():
            problem = _premise_problem(key, value)
            if problem:
                raise ValueError(f"Substitute ({self.reason!r}): {problem}")
        super().__post_init__()

    def hollow(self) -> bool:
        """As for any step, and also a claim that is its own premise: "at x = 2: x ⇒ 2" checks nothing."""
        if super().hollow():
            return True
        return any(same_display(self.lhs, key) and same_display(self.rhs, value) for key, value in self.subs.items())

    def expressions(self) -> tuple[object, ...]:
        return self.lhs, self.rhs, *self.subs.keys(), *self.subs.values()

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        return (self.lhs.subs(dict(self.subs)) if self.subs else self.lhs), self.rhs

    def held_sides(self) -> tuple[sp.Basic, sp.Basic]:
        """The sides with the premise put in unevaluated: x/y at x = y stays y/y, undefined at y = 0 (`sides`
        gives 1, and a step "at x = y: x/y = 1" was proved); for the domain of the step."""
        if not self.subs:
            return self.lhs, self.rhs
        with sp.evaluate(False):
            return self.lhs.subs(dict(self.subs)), self.rhs

    def formula(self) -> Formula:
        return Formula(self.lhs, "=", self.rhs, at=tuple(self.subs.items()))


@dataclass(frozen=True)
class MatrixGradient(Step):
    """∂`lhs`/∂`wrt` = `rhs` for a scalar `lhs` and a matrix symbol `wrt`.

    Differentiated term by term (never a sum of traces at once) and always
    cross-checked entry by entry on explicit matrices.
    """

    wrt: sp.MatrixSymbol | None = None  # required: the matrix to differentiate by

    def __post_init__(self) -> None:
        if not isinstance(self.wrt, sp.MatrixSymbol):
            raise TypeError("MatrixGradient needs wrt=<the MatrixSymbol to differentiate by>")
        lhs = _sympify(self.lhs)
        if not is_scalar(lhs):
            shape = getattr(lhs, "shape", "?")
            raise ValueError(
                f"MatrixGradient ({self.reason!r}) of a non-scalar ({short(lhs, 120)}, shape {shape}): the gradient "
                "∂f/∂W is defined for a scalar f (a 1×1 matrix counts as one); differentiate each entry instead"
            )
        super().__post_init__()

    def hollow(self) -> bool:
        return False

    def expressions(self) -> tuple[object, ...]:
        return self.lhs, self.rhs, self.wrt

    def sides(self) -> tuple[sp.Basic, sp.Basic]:
        assert self.wrt is not None
        return matrix_gradient(self.lhs, self.wrt), self.rhs

    def formula(self) -> Formula:
        return Formula(sp.Derivative(self.lhs, self.wrt), "=", self.rhs)


@dataclass(frozen=True)
class Inequality(Step):
    """`lhs relation rhs` with relation one of <, ≤, >, ≥ (scalars)."""

    relation: str = "<"

    checked_relations: ClassVar[tuple[str, ...]] = INEQUALITIES

    def __post_init__(self) -> None:
        if self.relation not in INEQUALITIES:
            raise ValueError(f"an Inequality's relation must be one of {INEQUALITIES}, got {self.relation!r}")
        super().__post_init__()

    def formula(self) -> Formula:
        return Formula(self.lhs, self.relation, self.rhs)


def _sympify(obj: object) -> object:
    if isinstance(obj, (sp.Basic, sp.MatrixBase, tuple)):
        return obj
    return sp.sympify(obj)


def same_tree(a: object, b: object) -> bool:
    """Structural identity, variable names included.

    Not `==`: SymPy 1.14's `Subs` equality identifies some different substitutions (see
    `theory.core.check.subs_evaluated`), so two expressions are the same only if their full trees are.
    """
    if a is b:
        return True
    if isinstance(a, (sp.Basic, sp.MatrixBase)) and isinstance(b, (sp.Basic, sp.MatrixBase)):
        return sp.srepr(a) == sp.srepr(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def is_scalar(e: object) -> bool:
    """A scalar expression, or a matrix whose shape is exactly 1×1 (e.g. xᵀAx)."""
    if isinstance(e, (MatrixExpr, sp.MatrixBase)):
        rows, cols = e.shape
        return bool(sp.sympify(rows) == 1 and sp.sympify(cols) == 1)
    return isinstance(e, sp.Expr)


def canonical(e: object) -> object:
    """`e` as a reader sees it: `UnevaluatedExpr` wrappers dropped, explicit matrices of one class, symbols by
    name (a symbol's assumptions and a `Dummy` are invisible on the page), the terms of a sum and the factors of
    a scalar product in the printers' order (they sort them).  Nothing is re-evaluated."""
    if isinstance(e, sp.UnevaluatedExpr):
        return canonical(e.args[0])
    if isinstance(e, sp.MatrixBase):
        return ("Matrix", tuple(e.shape), tuple(canonical(v) for v in e))
    if isinstance(e, sp.Symbol):
        return ("Symbol", e.name)
    if isinstance(e, (tuple, list)):
        return ("tuple", tuple(canonical(v) for v in e))
    if isinstance(e, AppliedUndef):
        return ("Function", e.func.__name__, tuple(canonical(a) for a in e.args))
    if isinstance(e, sp.Basic):
        if not e.args:
            return sp.srepr(e)
        args = tuple(canonical(a) for a in e.args)
        if isinstance(e, (sp.Add, sp.Mul)) and not isinstance(e, MatrixExpr):
            args = tuple(sorted(args, key=repr))
        return (type(e).__name__, args)
    return repr(e)


PRINT_COMPARE_NODES = 80  # sides up to this many nodes are also compared as printed (larger ones: `canonical`)


def _printed_names(e: object) -> list[str] | None:
    """The names of the symbols `e` shows, with multiplicity (what two sides that print the same must share),
    or None if `e` is too large to compare as printed."""
    if isinstance(e, sp.MatrixBase):
        if len(e) > PRINT_COMPARE_NODES // 4:
            return None
        names: list[str] = []
        for v in e:
            inner = _printed_names(v)
            if inner is None:
                return None
            names += inner
        return sorted(names)
    if not isinstance(e, sp.Basic):
        return None
    names = []
    for count, node in enumerate(sp.preorder_traversal(e)):
        if count > PRINT_COMPARE_NODES:
            return None
        if isinstance(node, (sp.Symbol, sp.MatrixSymbol)):
            names.append(str(node.name))
    return sorted(names)


def same_display(a: object, b: object) -> bool:
    """Whether two sides are the same to a reader: the same tree (`same_tree`), the same `canonical` form, or
    (for sides of a readable size) the same printed form (`sstr`, and the Typst and LaTeX the documents show).
    A step between such sides is hollow."""
    if a is b:
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_display(u, v) for u, v in zip(a, b, strict=True))
    if canonical(a) == canonical(b):  # (implies nothing less than `same_tree`: the same tree has one form)
        return True
    names = _printed_names(a)
    if names is None or names != _printed_names(b):
        return False
    if sp.sstr(a) == sp.sstr(b):
        return True
    from theory.core.printing import latex, typst  # (printing never imports steps)

    try:
        return typst(a) == typst(b) or latex(a) == latex(b)
    except Exception:  # a printer that cannot print a side: the other comparisons stand
        return False


def _named(expr: object) -> Iterable[tuple[str, object]]:
    if isinstance(expr, (tuple, list)):
        for e in expr:
            yield from _named(e)
        return
    if isinstance(expr, sp.MatrixBase):
        expr = sp.ImmutableMatrix(expr)
    if not isinstance(expr, sp.Basic):
        return
    for s in expr.atoms(sp.Symbol, sp.MatrixSymbol):
        yield str(s.name), s
    for f in expr.atoms(AppliedUndef):
        yield f.func.__name__, f.func


def symbol_names(exprs: Iterable[object]) -> tuple[dict[str, object], str | None]:
    """name → the symbol (matrix symbol, function) of that name in `exprs`, and a clash (`name_clash`) if any."""
    seen: dict[str, object] = {}
    for name, obj in _named(tuple(exprs)):
        other = seen.setdefault(name, obj)
        if other is not obj and other != obj:
            return seen, _clash(name, other, obj)
    return seen, None


def merged_clash(*names: Mapping[str, object]) -> str | None:
    """A clash between the symbols of several `symbol_names` maps, or None."""
    seen: dict[str, object] = {}
    for mapping in names:
        for name, obj in mapping.items():
            other = seen.setdefault(name, obj)
            if other is not obj and other != obj:
                return _clash(name, other, obj)
    return None


def name_clash(exprs: Iterable[object]) -> str | None:
    """Why these expressions cannot be shown together, or None: two different symbols (a `Symbol` and a
    `Dummy`, two symbols with different assumptions, a scalar and a matrix symbol, two functions) with one
    name print identically, so a reader, a formula and a document could not tell them apart."""
    return symbol_names(exprs)[1]


def _clash(name: str, one: object, other: object) -> str:
    return (f"two different symbols are both named {name!r} ({_describe(one)} and {_describe(other)}): they print "
            "identically; give them different names, or use one symbol")


_SHOWN_ASSUMPTIONS = ("real", "positive", "negative", "nonnegative", "nonpositive", "integer", "nonzero", "finite",
                      "zero", "rational", "complex", "imaginary", "even", "odd", "prime")


def _describe(obj: object) -> str:
    if isinstance(obj, sp.Symbol):
        shown = ", ".join(k for k, v in sorted(obj.assumptions0.items()) if v and k in _SHOWN_ASSUMPTIONS)
        return f"{'a Dummy' if isinstance(obj, sp.Dummy) else 'a Symbol'} {obj.name} ({shown or 'no assumptions'})"
    if isinstance(obj, sp.MatrixSymbol):
        return f"a MatrixSymbol {obj.name} of shape {obj.shape}"
    return f"a function {obj}"


def _premise_problem(key: sp.Basic, value: sp.Basic) -> str | None:
    """Why ``key = value`` cannot be a premise of a substitution (shown as "at key = value"), or None."""
    if isinstance(key, FunctionClass):
        return None  # a function replaced by a concrete one (σ = tanh)
    if not isinstance(key, sp.Basic) or key.is_number or isinstance(key, sp.MatrixBase):
        return (f"the substituted {key} is a number, not an expression: replacing it would replace every "
                "occurrence of that number")
    if canonical(key) == canonical(value):
        return f"the substitution {key} = {value} changes nothing"
    key_matrix = isinstance(key, MatrixExpr)
    value_matrix = isinstance(value, (MatrixExpr, sp.MatrixBase))
    if key_matrix != value_matrix:
        return f"the substitution {key} = {short(value, 80)} gives a {'scalar' if key_matrix else 'matrix'} value " \
               f"to a {'matrix' if key_matrix else 'scalar'}"
    if key_matrix:
        for a, b in zip(key.shape, value.shape, strict=True):
            if sp.simplify(sp.sympify(a) - sp.sympify(b)) != 0:
                return f"the substitution {key} = {short(value, 80)} changes the shape {key.shape} to {value.shape}"
    return None


def _plain(e: object) -> str:
    return sp.sstr(e) if isinstance(e, sp.Basic) else str(e)


def eq_sides(eq: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """The two sides of an equation (`sp.Eq` or a pair)."""
    if isinstance(eq, sp.Equality):
        return eq.lhs, eq.rhs
    if isinstance(eq, tuple) and len(eq) == 2:
        return eq
    raise TypeError(f"expected an equation, got {eq!r}")


def matrix_gradient(f: sp.Expr, wrt: sp.MatrixSymbol) -> sp.Basic:
    """∂f/∂W for scalar f, one additive term at a time (see module docstring)."""
    expanded = sp.expand(f.doit() if hasattr(f, "doit") else f)
    terms: list[sp.Basic] = []
    for term in sp.Add.make_args(expanded):
        if isinstance(term, sp.Trace):
            inner = sp.expand(term.arg)
            terms.extend(sp.Trace(t) for t in sp.Add.make_args(inner))
        else:
            terms.append(term)
    grads = [sp.diff(t, wrt) for t in terms]
    return sp.MatAdd(*grads).doit() if len(grads) > 1 else grads[0]


def short(obj: object, limit: int = 300) -> str:
    """`obj` printed on one line, cut to `limit` characters (a value SymPy cannot print, such as a power of
    a power too large for its printer's evalf, is shown by its structure)."""
    if isinstance(obj, sp.UnevaluatedExpr) and not obj.free_symbols:  # a value too large for exact arithmetic
        from theory.core.numbers import _ball  # (printing it would make SymPy evaluate it)

        ball = _ball(obj, 64)
        return f"<a number too large to evaluate exactly, in {ball}>" if ball is not None else \
            "<a number too large to evaluate exactly>"
    try:
        printed = str(obj)
    except (OverflowError, ValueError, MemoryError, RecursionError):
        try:
            printed = sp.srepr(obj) if isinstance(obj, sp.Basic) else repr(type(obj))
        except (OverflowError, ValueError, MemoryError, RecursionError):
            printed = f"<a {type(obj).__name__} too large to print>"
    text = " ".join(printed.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
