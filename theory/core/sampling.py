"""Numeric instances for the checking ladder: points, explicit matrices, stand-in functions.

Nothing here proves anything.  It builds the instances at which the numeric rung
evaluates a step (*checked* evidence, and the counterexamples that make a step
*failed*).  Everything is exact and seeded (an explicit `random.Random`):

- **Scalars** respect every assumption on their symbol (positive, integer, nonzero,
  …: a value is kept only if SymPy confirms each of the symbol's assumptions for it).
  The first instances use the special values 0, ±1, ±2, ½ and the boundary of the
  domain; the others are random rationals with random denominators (off any
  lattice, so a periodic function cannot hide between lattice points), spread over
  magnitudes 10⁻³ to 10³, and some (`FAR_PROBABILITY`) log-uniformly over 10³ to 10¹² and
  10⁻¹² to 10⁻³.  Integers range over −40…40, and some over ±(41…10⁶).  A symbol that
  occurs in a power with a symbolic exponent, a `Subs` point, a sum's or product's limit or
  a factorial/gamma (where an exact value would have millions of digits) keeps the moderate
  ranges (`moderate_symbols`).  A symbol SymPy does not
  know to be real (``Symbol('z')``) is complex: half of its values (and the specials i, −i,
  1 + i) have a nonzero imaginary part.
- **Adversarial points** (`theory.core.critical`), after the random instances: the zeros of
  the arguments of non-smooth or singular functions, of denominators, of Piecewise
  conditions, of sums in one symbol and of the sides themselves, and points beside them;
  plus ±(10⁶ + 1/7) and ±(10¹² + 1/3) (±10⁶, ±10¹² for integers) for each symbol that may
  take them.  They are deterministic, so a false step that holds except on a set of measure
  zero fails whatever the seed.
- **Dimensions** (symbols in matrix shapes) are drawn *independently* of one
  another: the first instances are all 2, all 3, all 4, then all 1; later ones mix sizes
  1–5 (the first dimension 5 in the next one whatever the seed), so rectangular instances
  occur and an identity that holds only for square or small matrices meets a counterexample.
- **Matrices** get random rational entries of their declared kind, over the whole class:
  "general", "symmetric", "diagonal" and "skew" also at scales 10⁻⁶ and 10⁶; "orthogonal"
  (exactly: the Cayley transform of a skew matrix times a diagonal of signs) includes
  reflections and −I, not only rotations; "spd" is QΛQᵀ with a rational orthogonal Q and
  eigenvalues from 10⁻⁶ to 10⁶ (and EEᵀ + I/4); "invertible" is a "general" square matrix with det ≠ 0
  (the inverse of a matrix not known to be invertible keeps a step from being proved, `theory.core.check`).
- **Sums, products and integrals** at a point are evaluated by the usual convention and by
  quadrature (`theory.core.concrete`), not by SymPy's Karr convention and integrator.
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

from theory.core import approach, concrete, cost, critical

NUMERIC_POINTS = 16  # instances per scalar step that only numeric evidence supports
INEQUALITY_POINTS = 60  # instances per such inequality: a false one may hold on most of its domain
MATRIX_INSTANCES = 6  # explicit instances per such matrix step: sizes 2, 3, 4, then three mixed (rectangular) ones
CROSS_CHECK_POINTS = 12  # instances that cross-check an exactly certified scalar step (special values first)
CROSS_CHECK_INEQUALITY = 24  # … an exactly certified inequality
CROSS_CHECK_MATRICES = 4  # … an exactly certified matrix step: sizes 2, 3, 4 and one mixed (rectangular)
EXPENSIVE_POINTS = 6  # at most this many for a step holding a limit, an integral or an infinite sum, which SymPy
# solves afresh at each instance (the special values still come first)
FIRST_SIZES = (2, 3, 4)  # every dimension at once, in the first instances
MIXED_SIZES = (1, 2, 3, 4, 5)  # each dimension independently, afterwards: first all 1, then in turn, then at random
TURN_SIZES = (5, 2, 3, 4)  # (`_size`)
MATRIX_KINDS = ("general", "symmetric", "spd", "orthogonal", "diagonal", "skew", "invertible")
SPECIAL_REALS = (0, 1, -1, 2, -2, sp.Rational(1, 2), sp.Rational(-1, 2), 3, -3)
INTEGER_RANGE = 40  # integers are drawn from −40…40 (then filtered by the symbol's assumptions)
FAR_PROBABILITY = 0.15  # of a random value outside the moderate ranges (when the symbol may take one)
FAR_EXPONENT = 12  # … reals up to 10^12 in magnitude (and down to 10^-12)
FAR_INTEGER_EXPONENT = 6  # … integers up to 10^6
FAR_REALS = (10**6 + sp.Rational(1, 7), 10**12 + sp.Rational(1, 3))  # adversarial far points (and their negatives)
FAR_INTEGERS = (sp.Integer(10**6), sp.Integer(10**12))
COMPLEX_PROBABILITY = 0.5  # of a non-real value for a symbol not known to be real
SPECIAL_COMPLEX = (sp.I, -sp.I, 1 + sp.I, sp.Rational(-1, 2) + sp.Rational(3, 2) * sp.I)
MATRIX_SCALES = (sp.Rational(1, 10**6), sp.Integer(10**6))  # "general", "symmetric", "diagonal", "skew" also at these
# functions whose argument, and positions whose symbol, must stay moderate (exact values would be huge)
_HUGE_IF_LARGE = (sp.factorial, sp.factorial2, sp.gamma, sp.binomial, sp.RisingFactorial, sp.FallingFactorial,
                  sp.fibonacci, sp.lucas, sp.bell, sp.catalan, sp.harmonic, sp.subfactorial)

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


FILLERS = (1, 2, -1, sp.Rational(1, 2), 3, -2)  # values for the other symbols while one is searched


def filler(s: sp.Symbol, choice: int = 0) -> sp.Basic | None:
    """The `choice`-th (from 0) of `FILLERS` that `s`'s assumptions admit (None: there is none): the value a symbol
    takes while the zeros or extremes of an expression are searched in another one."""
    admitted = [v for v in map(sp.sympify, FILLERS) if satisfies(v, s)]
    return admitted[choice] if choice < len(admitted) else None


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
    if is_complex_symbol(symbol):
        candidates[3:3] = SPECIAL_COMPLEX  # among the first instances
    return [v for v in candidates if satisfies(v, symbol)]


def is_complex_symbol(symbol: sp.Symbol) -> bool:
    """A symbol that may take non-real values: SymPy does not know it to be (extended) real."""
    return symbol.is_extended_real is not True and symbol.is_integer is not True


def random_value(symbol: sp.Symbol, rng: random.Random, far: bool = True) -> sp.Basic:
    """A random exact value of `symbol`'s domain (rejection sampling on its assumptions); with `far`, some
    values lie outside the moderate ranges, and a symbol not known to be real gets non-real values too."""
    for _ in range(200):
        if symbol.is_integer:
            if far and rng.random() < FAR_PROBABILITY:
                value: sp.Basic = sp.Integer(round(10 ** rng.uniform(1.6, FAR_INTEGER_EXPONENT)))
                value = -value if rng.random() < 0.5 else value
            else:
                value = sp.Integer(rng.randint(-INTEGER_RANGE, INTEGER_RANGE))
        else:
            value = _random_real(rng, far)
            if is_complex_symbol(symbol) and rng.random() < COMPLEX_PROBABILITY:
                imaginary = _random_real(rng, far=False)
                value = value + sp.I * imaginary if satisfies(value + sp.I * imaginary, symbol) else sp.I * imaginary
        if satisfies(value, symbol):
            return value
        if satisfies(-value, symbol):
            return -value
    raise NoInstance(f"no value satisfies the assumptions of {symbol} ({symbol.assumptions0})")


def unsampled(symbol: sp.Symbol) -> str | None:
    """Why the instances cannot stand for `symbol`'s whole domain, or None.

    The instances draw exact finite values (rationals, Gaussian rationals), so a symbol whose domain holds ±∞ (an
    ``extended_real`` or ``infinite`` symbol: z3 reads it as a real too) or holds no such value at all (``irrational``,
    ``transcendental``) would leave the numeric rung nothing to refute, while an exact certificate that rests on
    SymPy's assumptions (which call r² irrational for an irrational r) stood alone: such steps were proved false."""
    if symbol.is_infinite or (symbol.is_finite is not True and symbol.is_extended_real):
        return "its domain holds ±∞, a value no instance draws (and z3 reads it as a real)"
    try:
        random_value(symbol, random.Random(0))
    except NoInstance:
        return "no value the instances draw (exact rationals and Gaussian rationals) satisfies it"
    return None


def _random_real(rng: random.Random, far: bool) -> sp.Rational:
    denominator = rng.randint(7, 997)
    exponent = rng.uniform(-3, 3)
    if far and rng.random() < FAR_PROBABILITY:
        exponent = rng.uniform(3, FAR_EXPONENT) if rng.random() < 0.5 else rng.uniform(-FAR_EXPONENT, -3)
    if exponent < -3:  # tiny: a random numerator over a large power of ten
        value = sp.Rational(rng.randint(1, 999), 10 ** round(-exponent + 3))
    else:
        value = sp.Rational(max(1, round(10**exponent * denominator)), denominator)
    return -value if rng.random() < 0.5 else value


def moderate_symbols(exprs: Iterable[sp.Basic]) -> set[sp.Symbol]:
    """Symbols that must keep moderate values: in a power with a symbolic exponent (base or exponent), a point of
    a `Subs`, a sum's or product's limits, or the argument of a factorial-like function (SymPy's exact
    arithmetic there would build numbers with millions of digits)."""
    found: set[sp.Symbol] = set()
    for expr in exprs:
        if not isinstance(expr, sp.Basic):
            continue
        for node in sp.preorder_traversal(expr):
            if isinstance(node, (sp.Pow, sp.MatPow)) and not node.exp.is_number:
                found |= node.free_symbols  # a power with a symbolic exponent: its base too
            elif isinstance(node, sp.Subs):
                for value in node.point:
                    found |= value.free_symbols
            elif isinstance(node, (sp.Sum, sp.Product)):
                for limit in node.limits:
                    for bound in limit[1:]:
                        found |= bound.free_symbols
            elif isinstance(node, _HUGE_IF_LARGE):
                for a in node.args:
                    found |= a.free_symbols
    return {s for s in found if isinstance(s, sp.Symbol)}


def matrix_value(shape: tuple[int, int], kind: str, rng: random.Random, index: int | None = None) -> sp.ImmutableMatrix:
    """A random rational matrix of the given kind, over the whole class (see module docstring).

    `index` (the instance's position) selects the special members first: for "orthogonal" a reflection
    (index 0) and −I (index 1); for "spd" an eigenvalue 10⁻⁶ (index 0) and EEᵀ + I/4 (index 1); from index 3
    on, some "general", "symmetric", "diagonal" and "skew" matrices are scaled by 10⁻⁶ or 10⁶.
    """
    rows, cols = shape

    def entry() -> sp.Rational:
        return sp.Rational(rng.randint(-60, 60), rng.randint(1, 29))

    if kind not in MATRIX_KINDS:
        raise ValueError(f"unknown matrix kind {kind!r}; known: {', '.join(MATRIX_KINDS)}")
    entries = sp.Matrix(rows, cols, lambda i, j: entry())
    if kind != "general" and rows != cols:
        raise NoInstance(f"a {kind} matrix must be square, got {rows}×{cols}")
    if kind == "orthogonal":
        return _orthogonal(entries, rng, index)
    if kind == "spd":
        return _spd(entries, rng, index)
    if kind == "general":
        value = entries
    elif kind == "invertible":  # a general matrix with det ≠ 0 (redrawn until it has one)
        while entries.det() == 0:
            entries = sp.Matrix(rows, cols, lambda i, j: entry())
        value = entries
    elif kind == "symmetric":
        value = (entries + entries.T) / 2
    elif kind == "skew":
        value = (entries - entries.T) / 2
    else:
        value = sp.diag(*[entry() for _ in range(rows)])
    if index is not None and index >= 3 and rng.random() < 0.25:
        value = value * rng.choice(MATRIX_SCALES)
    return sp.ImmutableMatrix(value)


def _cayley(entries: sp.Matrix) -> sp.Matrix:
    """Q = (I − S)(I + S)⁻¹ for the skew part S of `entries`: exactly orthogonal and rational, det Q = 1."""
    skew = (entries - entries.T) / 2
    size = entries.rows
    return (sp.eye(size) - skew) * (sp.eye(size) + skew).inv()


def _orthogonal(entries: sp.Matrix, rng: random.Random, index: int | None) -> sp.ImmutableMatrix:
    size = entries.rows
    if index == 1:
        return sp.ImmutableMatrix(-sp.eye(size))
    signs = [rng.choice((-1, 1)) for _ in range(size)]
    if index == 0:
        signs = [-1, *([1] * (size - 1))]  # a reflection: det = −1
    elif index == 2:
        signs = [1] * size
    return sp.ImmutableMatrix(_cayley(entries) * sp.diag(*signs))


def _spd(entries: sp.Matrix, rng: random.Random, index: int | None) -> sp.ImmutableMatrix:
    size = entries.rows
    if index == 1:
        return sp.ImmutableMatrix(entries * entries.T + sp.eye(size) / 4)
    # a small skew generator keeps Q's denominators (and the cost of exact arithmetic downstream) small
    q = _cayley(sp.Matrix(size, size, lambda i, j: sp.Rational(rng.randint(-3, 3), rng.randint(1, 3))))
    eigenvalues = [sp.Rational(rng.randint(1, 99), rng.randint(1, 9)) for _ in range(size)]
    if index == 0:
        eigenvalues[0] = sp.Rational(1, 10**6)
    elif index is None or rng.random() < 0.5:
        eigenvalues = [rng.randint(1, 9) * sp.Integer(10) ** rng.randint(-6, 6) for _ in range(size)]
    return sp.ImmutableMatrix(q * sp.diag(*eigenvalues) * q.T)


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
    moderate = moderate_symbols(sources)

    def base(k: int) -> dict[sp.Basic, sp.Basic]:
        point: dict[sp.Basic, sp.Basic] = {}
        for j, d in enumerate(dims):
            point[d] = sp.Integer(_size(k, j, rng))
        for f in functions:
            point[f] = options[f][(k + rng.randrange(len(options[f]))) % len(options[f])]
        for m in matrices:
            shape = tuple(int(sp.sympify(s).subs(point)) for s in m.shape)
            point[m] = matrix_value((shape[0], shape[1]), matrix_kinds.get(m, "general"), rng, index=k)
        return point

    for k in range(count):
        point = base(k)
        for i, s in enumerate(free_scalars):
            special = specials[s]
            use_special = special and (k < 3 or rng.random() < 0.2)
            point[s] = special[(k + i) % len(special)] if use_special else random_value(s, rng, s not in moderate)
        _realise_definitions(point, defined)
        yield Instance(point)
    if not free_scalars:
        return
    limit = min(count, critical.MAX_EXPENSIVE if any(_expensive_node(e) for e in sources) else critical.MAX_POINTS)
    if matrices:  # explicit matrix instances are costly: half as many adversarial ones as random ones
        limit = min(limit, max(2, count // 2))
    # the other symbols' values while one sits at a zero: fixed per symbol (independent of the seed, and the
    # same for every step, so that the zeros of a critical expression are found once and cached)
    others = {s: random_value(s, random.Random(f"critical:{s.name}"), far=False) for s in free_scalars}
    far_points: list[dict[sp.Symbol, sp.Basic]] = []
    for s in free_scalars:  # far from the origin, where a bounded sample never goes
        if s not in moderate:
            for far in FAR_INTEGERS if s.is_integer else FAR_REALS:
                far_points += [{**others, s: v} for v in (far, -far) if satisfies(v, s)]
    zeros = critical.points(sources, free_scalars, others, satisfies, limit)
    chosen = zeros[: max(limit - len(far_points) // 2, limit // 2)]
    chosen += far_points[: limit - len(chosen)]
    for k, values in enumerate(chosen):
        point = base(k)
        point.update(values)
        _realise_definitions(point, defined)
        yield Instance(point)


def _size(k: int, j: int, rng: random.Random) -> int:
    """The size of the `j`-th dimension in instance `k`: `FIRST_SIZES` (all alike), then every dimension 1 at once
    (a step false only where n = m = 1 is found whatever the seed: with sizes drawn at random, its status depended
    on the derivation's id and the step's place), then `TURN_SIZES` in turn, the `j`-th dimension j places on (the
    first dimension 5: a bound that holds for sizes up to 4 only; rectangular matrices), then at random."""
    if k < len(FIRST_SIZES):
        return FIRST_SIZES[k]
    turn = k - len(FIRST_SIZES)
    if turn == 0:
        return 1
    if turn <= len(TURN_SIZES):
        return TURN_SIZES[(turn - 1 + j) % len(TURN_SIZES)]
    return rng.choice(MIXED_SIZES)


def _expensive_node(expr: sp.Basic) -> bool:
    return isinstance(expr, sp.Basic) and (bool(expr.has(sp.Limit, sp.Integral)) or any(
        infinite_bounds(e) for e in expr.atoms(sp.Sum, sp.Product)))


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
    if out.has(sp.harmonic):  # SymPy builds harmonic(10⁵) exactly on construction (minutes): numerically instead
        out = out.replace(lambda e: isinstance(e, sp.harmonic), lambda e: _harmonic_at(e, values))
    # a value too large for exact arithmetic (a realised definition y := 2^(2^(2^(2^x))))
    huge_values = {k for k, v in values.items() if isinstance(v, sp.UnevaluatedExpr)} & out.free_symbols
    if huge_values or cost.may_be_huge(out):  # an unaffordable power is never evaluated (`theory.core.cost`)
        try:
            with sp.evaluate(False):
                trial = out.xreplace(values)
        except (ValueError, TypeError):  # e.g. a derivative's variable replaced by a number: `subs` below handles it
            trial = None
        if trial is not None and (huge_values or cost.huge_power(trial)):
            if out.has(*BINDERS) or isinstance(trial, MatrixExpr) or trial.atoms(sp.MatrixSymbol):
                raise cost.TooLarge(f"a power too large to evaluate exactly in {str(trial)[:120]}")
            return sp.UnevaluatedExpr(trial)
    if not out.has(*BINDERS):
        out = _explicit_constants(out.xreplace(values))
    else:
        matrices = {k: v for k, v in values.items() if isinstance(k, sp.MatrixSymbol)}
        others = {k: v for k, v in values.items() if k not in matrices}
        if out.has(sp.Limit):  # `subs` replaces a Limit's own variable: lim_{x→1} x at x = 0 became lim 0 = 0
            out = out.replace(lambda e: isinstance(e, sp.Limit), _limit_apart)
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


LONG_SUM_TERMS = 10**3  # a concrete sum of more terms is summed numerically too: exactly, Σ_{k≤10⁴} 1/k (a
# rational of ~4,300 digits) costs over a second and harmonic(10⁵) minutes; up to 10³ terms costs ≤ 0.06 s


def _infinite(e: sp.Basic) -> bool:
    """An infinite sum or product, or a long finite sum (or harmonic number), with no free symbol: summed
    numerically."""
    if isinstance(e, sp.harmonic) and not e.free_symbols:
        return e.args[0].is_Integer and e.args[0] > LONG_SUM_TERMS  # (SymPy sums it exactly: quadratic cost)
    if e.free_symbols or not isinstance(e, (sp.Sum, sp.Product)):
        return False
    if infinite_bounds(e):
        return True
    if not isinstance(e, sp.Sum):
        return False
    terms = sp.S.One
    for limit in e.limits:
        if len(limit) != 3 or not (limit[2] - limit[1]).is_Integer:
            return False
        terms *= limit[2] - limit[1] + 1
    return bool(terms > LONG_SUM_TERMS)


def _limit_apart(e: sp.Limit) -> sp.Limit:
    """The limit with its variable renamed to a Dummy of the same name and assumptions (out of `subs`'s reach)."""
    expr, z, z0, direction = e.args
    if not isinstance(z, sp.Symbol) or isinstance(z, sp.Dummy):
        return e
    d = sp.Dummy(z.name, **z.assumptions0)
    return sp.Limit(expr.xreplace({z: d}), d, z0, str(direction))


def _harmonic_at(e: sp.harmonic, values: Mapping[sp.Basic, sp.Basic]) -> sp.Basic:
    """harmonic(n, m) at the instance, numerically (`INFINITE_SUM_DIGITS`) where n is an integer above
    `LONG_SUM_TERMS` and m an integer; otherwise unchanged (substituted later with the rest)."""
    args = [a.xreplace(values) for a in e.args]  # (evaluated: n + 1 at n = 10⁵ is the Integer 100001)
    if all(isinstance(a, sp.Integer) for a in args) and args[0] > LONG_SUM_TERMS:
        return sp.harmonic(*args, evaluate=False).evalf(INFINITE_SUM_DIGITS)
    return e


def _summed(e: sp.Sum | sp.Product | sp.harmonic) -> sp.Basic:
    """An infinite sum or product with no free symbol, numerically; `ValueError` (undefined) if SymPy shows it
    diverges: evalf of a divergent series or product returns a partial value, or grinds for seconds."""
    if infinite_bounds(e) and concrete.diverges(e):
        raise ValueError(f"{str(e)[:120]} diverges")
    return e.evalf(INFINITE_SUM_DIGITS)


def evaluate_instance(expr: sp.Basic) -> sp.Basic:
    """`doit` a substituted expression and make matrix expressions explicit.

    An infinite sum or product with no free symbol left is evaluated numerically (a Float: such a
    value never certifies anything by itself), not in closed form, which can take seconds per point.
    """
    if isinstance(expr, sp.Basic) and expr.has(sp.Sum, sp.Product, sp.harmonic):
        expr = concrete.usual_sums(expr)
        expr = expr.replace(_infinite, _summed)
    if isinstance(expr, sp.Basic) and expr.has(sp.Integral):
        expr = concrete.numeric_integrals(expr)
    if isinstance(expr, sp.Basic) and expr.has(sp.Limit):  # a limit of a jump: approached, not SymPy's `limit`
        expr = expr.replace(approach.approachable, approach.approached)
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
