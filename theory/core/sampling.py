"""Numeric instances for the checking ladder: points, explicit matrices, stand-in functions.

Nothing here proves anything.  It builds the instances at which the numeric rung
evaluates a step (*checked* evidence, and the counterexamples that make a step
*failed*).  Everything is exact and seeded (an explicit `random.Random`):

- **Scalars** respect every assumption on their symbol (positive, integer, nonzero,
  …: a value is kept only if SymPy confirms each of the symbol's assumptions for it).
  The first instances use the special values 0, ±1, ±2, ½ and the boundary of the
  domain; the others are random rationals with random denominators (off any
  lattice, so a periodic function cannot hide between lattice points), spread over
  magnitudes 10⁻³ to 10³.  Integers range over −40…40 with the special values first.
- **Dimensions** (symbols in matrix shapes) are drawn *independently* of one
  another: the first instances are all 2, all 3, all 4; later ones mix sizes 1–4,
  so rectangular instances occur and an identity that holds only for square or
  small matrices meets a counterexample.
- **Matrices** get random rational entries of their declared kind ("general",
  "symmetric", "spd", "orthogonal" (exactly, by the Cayley transform), "diagonal",
  "skew").
- **Definitions**: an `Assumption` fact whose key is a symbol (e.g. ``Σ = RRᵀ``)
  is realised by computing the symbol from the others.
- **Undefined functions** get concrete smooth stand-ins, filtered by the facts
  about them (e.g. σ(0) = 0 keeps tanh and drops cos).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.matrices.expressions import MatrixExpr

NUMERIC_POINTS = 16  # instances per scalar step that only numeric evidence supports
INEQUALITY_POINTS = 60  # instances per such inequality: a false one may hold on most of its domain
MATRIX_INSTANCES = 6  # explicit instances per such matrix step: sizes 2, 3, 4, then three mixed (rectangular) ones
CROSS_CHECK_POINTS = 12  # instances that cross-check an exactly certified scalar step (special values first)
CROSS_CHECK_INEQUALITY = 24  # … an exactly certified inequality
CROSS_CHECK_MATRICES = 4  # … an exactly certified matrix step: sizes 2, 3, 4 and one mixed (rectangular)
EXPENSIVE_POINTS = 6  # at most this many for a step holding a limit, an integral or an infinite sum, which SymPy
# solves afresh at each instance (the special values still come first)
FIRST_SIZES = (2, 3, 4)  # every dimension at once, in the first instances
MIXED_SIZES = (1, 2, 3, 4)  # each dimension independently, afterwards
MATRIX_KINDS = ("general", "symmetric", "spd", "orthogonal", "diagonal", "skew")
SPECIAL_REALS = (0, 1, -1, 2, -2, sp.Rational(1, 2), sp.Rational(-1, 2), 3, -3)
INTEGER_RANGE = 40  # integers are drawn from −40…40 (then filtered by the symbol's assumptions)

_t = sp.Dummy("t", real=True)
# Concrete stand-ins for an undefined function σ.  Some vanish at 0, some do not;
# those that contradict a declared fact are filtered out.
FUNCTION_CANDIDATES: tuple[sp.Lambda, ...] = (
    sp.Lambda(_t, sp.tanh(_t)),
    sp.Lambda(_t, sp.sin(_t) + _t**2 / 3),
    sp.Lambda(_t, _t**3 - 2 * _t),
    sp.Lambda(_t, 1 / (1 + sp.exp(-_t))),
    sp.Lambda(_t, sp.cos(_t)),
    sp.Lambda(_t, _t + 1),
    sp.Lambda(_t, sp.atan(2 * _t) - _t**2),
    sp.Lambda(_t, sp.exp(_t) - 1),
)


class NoInstance(ValueError):
    """The declared facts and kinds cannot be realised together (no stand-in satisfies them)."""


def satisfies(value: sp.Basic, symbol: sp.Symbol) -> bool:
    """Whether SymPy confirms every assumption of `symbol` (positive, integer, …) for `value`."""
    if value.is_Rational and not ({"prime", "composite"} & set(symbol.assumptions0)):
        # for a rational number only its sign, integrality and parity matter: decide once per such class
        parity = int(value.p % 2) if value.is_Integer else -1
        return _satisfies_class(symbol, int(sp.sign(value)), bool(value.is_Integer), parity, value)
    return _satisfies(value, symbol)


_CLASSES: dict[tuple[sp.Symbol, int, bool, int], bool] = {}


def _satisfies_class(symbol: sp.Symbol, sign: int, integer: bool, parity: int, value: sp.Rational) -> bool:
    key = (symbol, sign, integer, parity)
    if key not in _CLASSES:
        _CLASSES[key] = _satisfies(value, symbol)
    return _CLASSES[key]


def _satisfies(value: sp.Basic, symbol: sp.Symbol) -> bool:
    for fact, expected in symbol.assumptions0.items():
        if fact in ("commutative",):
            continue
        if getattr(value, f"is_{fact}", None) is not expected:
            return False
    return True


def special_values(symbol: sp.Symbol) -> list[sp.Rational]:
    """The special values of `symbol`'s domain: 0, ±1, ±2, ±½ and its boundary, where allowed."""
    candidates: list[sp.Basic] = [sp.Integer(v) if isinstance(v, int) else v for v in SPECIAL_REALS]
    if symbol.is_positive and not symbol.is_integer:
        candidates.append(sp.Rational(1, 1000))  # next to the excluded boundary 0
    if symbol.is_negative and not symbol.is_integer:
        candidates.append(sp.Rational(-1, 1000))
    return [v for v in candidates if satisfies(v, symbol)]


def random_value(symbol: sp.Symbol, rng: random.Random) -> sp.Rational:
    """A random exact value of `symbol`'s domain (rejection sampling on its assumptions)."""
    for _ in range(200):
        if symbol.is_integer:
            value: sp.Rational = sp.Integer(rng.randint(-INTEGER_RANGE, INTEGER_RANGE))
        else:
            denominator = rng.randint(7, 997)
            magnitude = 10 ** rng.uniform(-3, 3)
            value = sp.Rational(max(1, round(magnitude * denominator)), denominator)
            if rng.random() < 0.5:
                value = -value
        if satisfies(value, symbol):
            return value
        if satisfies(-value, symbol):
            return -value
    raise NoInstance(f"no value satisfies the assumptions of {symbol} ({symbol.assumptions0})")


def matrix_value(shape: tuple[int, int], kind: str, rng: random.Random) -> sp.ImmutableMatrix:
    """A random rational matrix of the given kind (see module docstring)."""
    rows, cols = shape

    def entry() -> sp.Rational:
        return sp.Rational(rng.randint(-60, 60), rng.randint(1, 29))

    entries = sp.Matrix(rows, cols, lambda i, j: entry())
    if kind == "general":
        return sp.ImmutableMatrix(entries)
    if rows != cols:
        raise NoInstance(f"a {kind} matrix must be square, got {rows}×{cols}")
    if kind == "symmetric":
        return sp.ImmutableMatrix((entries + entries.T) / 2)
    if kind == "spd":
        return sp.ImmutableMatrix(entries * entries.T + sp.eye(rows) / 4)
    if kind == "skew":
        return sp.ImmutableMatrix((entries - entries.T) / 2)
    if kind == "diagonal":
        return sp.ImmutableMatrix(sp.diag(*[entry() for _ in range(rows)]))
    if kind == "orthogonal":
        skew = (entries - entries.T) / 2  # Cayley: Q = (I − S)(I + S)⁻¹ is exactly orthogonal, rational
        return sp.ImmutableMatrix((sp.eye(rows) - skew) * (sp.eye(rows) + skew).inv())
    raise ValueError(f"unknown matrix kind {kind!r}; known: {', '.join(MATRIX_KINDS)}")


def dimension_symbols(exprs: Iterable[sp.Basic]) -> set[sp.Symbol]:
    """Symbols that occur in the shape of a matrix (MatrixSymbol, Identity, ZeroMatrix, …)."""
    dims: set[sp.Symbol] = set()
    for expr in exprs:
        if not isinstance(expr, sp.Basic):
            continue
        for node in sp.preorder_traversal(expr):
            if isinstance(node, MatrixExpr) and hasattr(node, "shape"):
                for d in node.shape:
                    dims |= {s for s in sp.sympify(d).free_symbols if isinstance(s, sp.Symbol)}
    return dims


def undefined_functions(exprs: Iterable[sp.Basic]) -> set[UndefinedFunction]:
    found: set[UndefinedFunction] = set()
    for expr in exprs:
        found |= {a.func for a in expr.atoms(AppliedUndef)}
        found |= {a for a in expr.atoms(UndefinedFunction) if isinstance(a, UndefinedFunction)}
    return found


def consistent_candidates(f: UndefinedFunction, facts: Mapping[sp.Basic, sp.Basic]) -> list[sp.Lambda]:
    """Stand-ins for `f` that satisfy every fact about `f` at a concrete argument (exactly)."""
    keep = []
    for cand in FUNCTION_CANDIDATES:
        ok = True
        for key, value in facts.items():
            if isinstance(key, AppliedUndef) and key.func == f:
                if not all(arg.is_number for arg in key.args):
                    raise NoInstance(f"a fact about {key} at a symbolic argument cannot be realised by sampling")
                if sp.simplify(cand(*key.args) - value) != 0:
                    ok = False
        if ok:
            keep.append(cand)
    return keep


def definitions(facts: Mapping[sp.Basic, sp.Basic]) -> dict[sp.Basic, sp.Basic]:
    """The facts that define a symbol or matrix symbol by an expression not containing it."""
    return {
        k: v
        for k, v in facts.items()
        if isinstance(k, (sp.Symbol, sp.MatrixSymbol)) and not (isinstance(v, sp.Basic) and v.has(k))
    }


@dataclass(frozen=True)
class Instance:
    point: dict[sp.Basic, sp.Basic]  # symbol / matrix symbol / function → concrete value

    def describe(self) -> str:
        shown = []
        for k, v in sorted(self.point.items(), key=lambda kv: str(kv[0])):
            text = sp.sstr(v.tolist()) if isinstance(v, sp.MatrixBase) else sp.sstr(v)
            shown.append(f"{k} = {text}")
        return ", ".join(shown)


def instances(
    exprs: Sequence[sp.Basic],
    rng: random.Random,
    count: int,
    matrix_kinds: Mapping[sp.MatrixSymbol, str],
    facts: Mapping[sp.Basic, sp.Basic],
    keep_symbolic: Iterable[sp.Basic] = (),
) -> Iterator[Instance]:
    """`count` seeded instances for the symbols, matrices and functions of `exprs` (see module docstring)."""
    kept = set(keep_symbolic)
    defined = definitions(facts)
    sources = [*exprs, *(v for v in defined.values() if isinstance(v, sp.Basic))]
    dims = sorted(dimension_symbols(sources) - kept, key=str)
    functions = sorted(undefined_functions(sources), key=str)
    options = {f: consistent_candidates(f, facts) for f in functions}
    for f, opts in options.items():
        if not opts:
            raise NoInstance(f"no stand-in for {f} satisfies the declared facts")
    matrices: list[sp.MatrixSymbol] = []
    scalars: set[sp.Symbol] = set()
    for expr in sources:
        matrices += [m for m in expr.atoms(sp.MatrixSymbol) if m not in matrices]
        scalars |= {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    matrices = sorted((m for m in matrices if m not in kept and m not in defined), key=str)
    free_scalars = sorted(scalars - set(dims) - kept - set(defined), key=str)
    specials = {s: special_values(s) for s in free_scalars}
    for k in range(count):
        point: dict[sp.Basic, sp.Basic] = {}
        for d in dims:
            size = FIRST_SIZES[k] if k < len(FIRST_SIZES) else rng.choice(MIXED_SIZES)
            point[d] = sp.Integer(size)
        for f in functions:
            point[f] = options[f][(k + rng.randrange(len(options[f]))) % len(options[f])]
        for m in matrices:
            shape = tuple(int(sp.sympify(s).subs(point)) for s in m.shape)
            point[m] = matrix_value((shape[0], shape[1]), matrix_kinds.get(m, "general"), rng)
        for i, s in enumerate(free_scalars):
            special = specials[s]
            use_special = special and (k < 3 or rng.random() < 0.2)
            point[s] = special[(k + i) % len(special)] if use_special else random_value(s, rng)
        _realise_definitions(point, defined)
        yield Instance(point)


def _realise_definitions(point: dict[sp.Basic, sp.Basic], defined: Mapping[sp.Basic, sp.Basic]) -> None:
    pending = dict(defined)
    for _ in range(len(pending) + 1):
        progressed = False
        for key, value in list(pending.items()):
            needs = {s for s in value.free_symbols | value.atoms(sp.MatrixSymbol) if s in pending}
            if needs:
                continue
            point[key] = substitute(value, point)
            del pending[key]
            progressed = True
        if not pending:
            return
        if not progressed:
            break
    raise NoInstance(f"the definitions of {', '.join(map(str, pending))} are circular")


BINDERS = (sp.Derivative, sp.Integral, sp.Sum, sp.Product, sp.Limit, sp.Subs, sp.Lambda)
_UNEVALUATED = (*BINDERS, MatrixExpr, sp.MatrixBase, sp.UnevaluatedExpr, sp.Function)


def substitute(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic], evaluate: bool = True) -> sp.Basic:
    """Put the instance `point` into `expr`; with `evaluate`, then evaluate (`doit`, explicit matrices).

    Without bound variables (derivatives, integrals, sums, limits) one structural replacement does it
    (`xreplace`, fast); otherwise `subs`, which turns a derivative at a point into `Subs(Derivative(…))`.
    """
    out = expr
    for f, stand_in in point.items():
        if isinstance(f, UndefinedFunction):
            out = out.replace(lambda e, f=f: isinstance(e, AppliedUndef) and e.func == f,
                              lambda e, s=stand_in: s(*e.args))
    values = {k: v for k, v in point.items() if not isinstance(k, UndefinedFunction)}
    if not out.has(*BINDERS):
        out = _explicit_constants(out.xreplace(values))
    else:
        matrices = {k: v for k, v in values.items() if isinstance(k, sp.MatrixSymbol)}
        others = {k: v for k, v in values.items() if k not in matrices}
        # dimensions first, so that Identity(n) and matrix-symbol shapes become concrete
        out = _explicit_constants(out.subs(others))
        if matrices:
            concrete = {
                sp.MatrixSymbol(m.name, *(sp.sympify(s).subs(others) for s in m.shape)): v
                for m, v in matrices.items()
            }
            out = out.subs(concrete)
    if not evaluate:
        return out
    return evaluate_instance(out)


INFINITE_SUM_DIGITS = 60  # an infinite sum at a point is summed numerically (SymPy's evalf), to this precision


def infinite_bounds(e: sp.Basic) -> bool:
    """A sum or product over an infinite range."""
    return isinstance(e, (sp.Sum, sp.Product)) and any(bound.is_infinite for limit in e.limits for bound in limit[1:])


def _infinite(e: sp.Basic) -> bool:
    return infinite_bounds(e) and not e.free_symbols


def evaluate_instance(expr: sp.Basic) -> sp.Basic:
    """`doit` a substituted expression and make matrix expressions explicit.

    An infinite sum or product with no free symbol left is evaluated numerically (a Float: such a
    value never certifies anything by itself), not in closed form, which can take seconds per point.
    """
    if isinstance(expr, sp.Basic) and expr.has(sp.Sum, sp.Product):
        expr = expr.replace(_infinite, lambda e: e.evalf(INFINITE_SUM_DIGITS))
    if isinstance(expr, sp.Basic) and expr.has(sp.Inverse, sp.MatPow):
        expr = expr.replace(_inverse_node, _explicit_inverse)
    if isinstance(expr, sp.Expr) and not expr.has(*_UNEVALUATED):
        return expr  # numbers and functions of numbers evaluate on construction: nothing left to do
    out = expr.doit() if hasattr(expr, "doit") else expr
    if isinstance(out, MatrixExpr) and not isinstance(out, sp.MatrixBase):
        out = out.as_explicit()
    if isinstance(out, sp.MatrixBase):
        out = sp.ImmutableMatrix(out.applyfunc(lambda e: e.doit() if hasattr(e, "doit") else e))
    return out


def _inverse_node(e: sp.Basic) -> bool:
    return isinstance(e, sp.Inverse) or (
        isinstance(e, sp.MatPow) and e.exp.is_Integer and e.exp < 0
    )


def _explicit_inverse(e: sp.Basic) -> sp.Basic:
    """An inverse (or negative power) of an explicit matrix, by fraction-field elimination (`method="DM"`:
    exact, and far faster than SymPy's default Gauss–Jordan on entries with a symbol in them)."""
    base = e.arg if isinstance(e, sp.Inverse) else e.base
    power = 1 if isinstance(e, sp.Inverse) else -int(e.exp)
    explicit = evaluate_instance(base)
    if not isinstance(explicit, sp.MatrixBase):
        return e
    inverse = sp.Matrix(explicit).inv(method="DM")  # ValueError if singular: the caller's "undefined"
    return sp.ImmutableMatrix(inverse**power)


def _explicit_constants(expr: sp.Basic) -> sp.Basic:
    """Replace Identity(k), ZeroMatrix and OneMatrix of concrete size by explicit matrices
    (SymPy's `doit` leaves e.g. ``-I + Matrix(...)`` unevaluated otherwise)."""

    def concrete(e: sp.Basic) -> bool:
        return isinstance(e, (sp.Identity, sp.ZeroMatrix, sp.OneMatrix)) and all(
            sp.sympify(s).is_Integer for s in e.shape
        )

    def explicit(e: sp.Basic) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(e.as_explicit())

    return expr.replace(concrete, explicit) if hasattr(expr, "replace") else expr
