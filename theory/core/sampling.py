"""Numeric evidence and explicit matrix instances for the checking ladder.

Nothing here can prove anything.  It produces the second rung of the ladder
(*checked*: the identity held at seeded random points) and the counterexamples
that make a step *failed*.  Points are drawn with an explicit
`random.Random(seed)`, cover both signs for real symbols, respect each symbol's
declared assumptions (positive, nonnegative, integer, ...) and each matrix
symbol's declared kind (``"spd"``, ``"symmetric"``, ``"general"``).

Matrix identities are evaluated on explicit 2×2 and 3×3 instances with random
*rational* entries, so that the comparison is exact arithmetic wherever the
expression is algebraic: a mismatch there is a genuine counterexample.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.matrices.expressions import MatrixExpr

NUMERIC_POINTS = 12  # random points per scalar equality
INEQUALITY_POINTS = 60  # random points per inequality: a false one may hold on most of its domain
EXPLICIT_SIZES = (2, 3)  # explicit matrix sizes for matrix cross-checks
INSTANCES_PER_SIZE = 2  # random rational instances per size
DIGITS = 40  # working precision of numeric evaluation
RELATIVE_TOLERANCE = sp.Float("1e-25", DIGITS)  # far above 40-digit rounding, far below any real error

_t = sp.Dummy("t", real=True)
# Concrete stand-ins for an undefined function σ in numeric checks.  Some vanish
# at 0, some do not; those that contradict a declared fact are filtered out.
FUNCTION_CANDIDATES: tuple[sp.Lambda, ...] = (
    sp.Lambda(_t, sp.tanh(_t)),
    sp.Lambda(_t, sp.sin(_t) + _t**2 / 3),
    sp.Lambda(_t, _t**3 - 2 * _t),
    sp.Lambda(_t, 1 / (1 + sp.exp(-_t))),
    sp.Lambda(_t, sp.cos(_t)),
    sp.Lambda(_t, _t + 1),
)


@dataclass(frozen=True)
class Mismatch:
    """A point where the two sides differ."""

    point: str  # the substitution, printed
    lhs: str  # value of the left side there
    rhs: str  # value of the right side there


def _rational(rng: random.Random, low: int, high: int) -> sp.Rational:
    return sp.Rational(rng.randint(low * 8, high * 8), 8) + sp.Rational(rng.randint(1, 7), 97)


def scalar_value(symbol: sp.Symbol, rng: random.Random, sign: int, spread: bool = False) -> sp.Rational:
    """A random exact value for `symbol` that respects its assumptions.

    `sign` (+1 or -1) picks the sign for symbols that may take either.  With
    `spread`, the magnitude comes from one of three scales — small (10⁻³ to
    10⁻¹), moderate (0 to 3) or large (3 to 12) — so that a claim failing only
    near 0 or only far out is still likely to meet a counterexample.
    """
    if symbol.is_integer:
        low = 1 if symbol.is_positive else 0 if symbol.is_nonnegative else -5
        high = -1 if symbol.is_negative else 0 if symbol.is_nonpositive else 6
        return sp.Integer(rng.randint(low, high))
    scale = rng.randrange(3) if spread else 1
    if scale == 0:
        magnitude = sp.Rational(rng.randint(1, 100), 1000)
    elif scale == 1:
        magnitude = _rational(rng, 0, 3)
    else:
        magnitude = _rational(rng, 3, 12)
    if symbol.is_positive or symbol.is_nonnegative:
        return magnitude
    if symbol.is_negative or symbol.is_nonpositive:
        return -magnitude
    return sign * magnitude


def matrix_value(shape: tuple[int, int], kind: str, rng: random.Random) -> sp.ImmutableMatrix:
    """A random rational matrix of the given kind ("general", "symmetric", "spd")."""
    rows, cols = shape
    entries = sp.Matrix(rows, cols, lambda i, j: _rational(rng, -2, 2))
    if kind == "general":
        return sp.ImmutableMatrix(entries)
    if kind == "symmetric":
        return sp.ImmutableMatrix((entries + entries.T) / 2)
    if kind == "spd":
        return sp.ImmutableMatrix(entries * entries.T + sp.eye(rows) / 4)
    raise ValueError(f"unknown matrix kind {kind!r}")


def dimension_symbols(exprs: Iterable[sp.Basic]) -> set[sp.Symbol]:
    dims: set[sp.Symbol] = set()
    for expr in exprs:
        for m in expr.atoms(sp.MatrixSymbol):
            for d in m.shape:
                dims |= {s for s in sp.sympify(d).free_symbols if isinstance(s, sp.Symbol)}
    return dims


def undefined_functions(exprs: Iterable[sp.Basic]) -> set[UndefinedFunction]:
    found: set[UndefinedFunction] = set()
    for expr in exprs:
        found |= {a.func for a in expr.atoms(AppliedUndef)}
        found |= {a for a in expr.atoms(UndefinedFunction) if isinstance(a, UndefinedFunction)}
    return found


def consistent_candidates(
    f: UndefinedFunction, facts: Mapping[sp.Basic, sp.Basic]
) -> list[sp.Lambda]:
    """Candidates for `f` that satisfy every declared fact mentioning `f`."""
    keep = []
    for cand in FUNCTION_CANDIDATES:
        ok = True
        for key, value in facts.items():
            if isinstance(key, AppliedUndef) and key.func == f:
                if sp.simplify(cand(*key.args) - value) != 0:
                    ok = False
        if ok:
            keep.append(cand)
    return keep


def instance(
    exprs: Sequence[sp.Basic],
    rng: random.Random,
    size: int,
    sign: int,
    matrix_kinds: Mapping[sp.MatrixSymbol, str],
    facts: Mapping[sp.Basic, sp.Basic],
    keep_symbolic: Iterable[sp.Basic] = (),
    evaluate: bool = True,
    spread: bool = False,
) -> tuple[dict[sp.Basic, sp.Basic], list[sp.Basic]]:
    """One random instance: a substitution and the substituted expressions.

    Dimension symbols become `size`; matrix symbols become random rational
    matrices of their declared kind; scalar symbols random rationals; undefined
    functions concrete candidates.  Symbols in `keep_symbolic` stay symbolic.
    With `evaluate=False` only the substitution is returned (the list is empty);
    `spread` draws scalar magnitudes over several scales (see `scalar_value`).
    """
    kept = set(keep_symbolic)
    dims = dimension_symbols(exprs) - kept
    point: dict[sp.Basic, sp.Basic] = {d: sp.Integer(size) for d in dims}
    for f in sorted(undefined_functions(exprs), key=str):
        options = consistent_candidates(f, facts)
        if not options:
            raise ValueError(f"no numeric stand-in for {f} satisfies the declared facts")
        point[f] = rng.choice(options)
    for expr in exprs:
        for m in sorted(expr.atoms(sp.MatrixSymbol), key=str):
            if m in point or m in kept:
                continue
            shape = tuple(int(sp.sympify(s).subs(point)) for s in m.shape)
            point[m] = matrix_value(shape, matrix_kinds.get(m, "general"), rng)  # type: ignore[arg-type]
    scalars: set[sp.Symbol] = set()
    for expr in exprs:
        scalars |= {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    for s in sorted(scalars - dims - kept, key=str):
        point[s] = scalar_value(s, rng, sign, spread)
    substituted = [substitute(expr, point) for expr in exprs] if evaluate else []
    return point, substituted


def substitute(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> sp.Basic:
    """Substitute functions, matrices, dimensions and scalars, then evaluate."""
    functions = {k: v for k, v in point.items() if isinstance(k, UndefinedFunction)}
    matrices = {k: v for k, v in point.items() if isinstance(k, sp.MatrixSymbol)}
    others = {k: v for k, v in point.items() if k not in functions and k not in matrices}
    out = expr
    if functions:
        out = out.subs(functions)
    # dimensions first so that Identity(n) and MatrixSymbol shapes become concrete
    dims = {k: v for k, v in others.items() if k not in matrices}
    out = _explicit_constants(out.subs(dims))
    if matrices:
        concrete = {
            sp.MatrixSymbol(m.name, *(sp.sympify(s).subs(dims) for s in m.shape)): v
            for m, v in matrices.items()
        }
        out = out.subs(concrete)
    if isinstance(out, MatrixExpr) or hasattr(out, "doit"):
        out = out.doit()
    if isinstance(out, MatrixExpr) and not isinstance(out, sp.MatrixBase):
        out = out.as_explicit()
    return out


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


def differs(a: sp.Basic, b: sp.Basic) -> bool | None:
    """True if `a` and `b` (numbers or explicit matrices) differ, False if they
    agree to `RELATIVE_TOLERANCE` at `DIGITS` digits, None if not evaluable."""
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        a_m = sp.Matrix(a) if isinstance(a, sp.MatrixBase) else None
        b_m = sp.Matrix(b) if isinstance(b, sp.MatrixBase) else None
        if a_m is None:
            a_m = sp.zeros(*b_m.shape) if a == 0 else None  # type: ignore[union-attr]
        if b_m is None:
            b_m = sp.zeros(*a_m.shape) if b == 0 else None  # type: ignore[union-attr]
        if a_m is None or b_m is None or a_m.shape != b_m.shape:
            return None if a_m is None or b_m is None else True
        results = [differs(x, y) for x, y in zip(a_m, b_m, strict=True)]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    diff = sp.sympify(a) - sp.sympify(b)
    if diff == 0:
        return False
    if sp.sympify(a).has(sp.oo, -sp.oo, sp.zoo) or sp.sympify(b).has(sp.oo, -sp.oo, sp.zoo):
        return a != b  # infinities compare exactly (oo vs -oo is a real difference)
    try:
        value = sp.N(diff, DIGITS)
        scale = 1 + abs(sp.N(a, DIGITS)) + abs(sp.N(b, DIGITS))
    except (TypeError, ValueError):
        return None
    if not value.is_number or value.has(sp.nan, sp.zoo):
        return None
    return bool(abs(value) > RELATIVE_TOLERANCE * scale)
