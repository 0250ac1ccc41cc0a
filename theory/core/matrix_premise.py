"""Whether a `Substitute`'s *matrix* premise can hold at all (the matrix counterpart of `theory.core.premise`).

``Substitute(lhs, rhs, subs={A: V})`` shows "at A = V: lhs ⇒ rhs".  A premise that no matrix satisfies proves
anything: "at A = A + I: tr A = tr A + n" was proved.  Each test below is exact, only refuses (it never
certifies), and looks for a matrix D that must be zero if the premise held, but provably is not:

- the premise itself, D = key − value (A − (A + I) = −I);
- each declared fact about the key, with the value put in (QᵀQ = I at Q = 2I: D = 4I − I), and the key's
  declared kind (symmetric: Vᵀ − V; skew: Vᵀ + V; orthogonal: VᵀV − I; diagonal; spd) for an explicit value;
- a Gram key XᵀX or XXᵀ (positive semidefinite for a real X) against a value whose trace is negative.

D is "provably nonzero" when it evaluates to an explicit matrix with an entry SymPy proves nonzero, or when
its trace, in the trace algebra of `theory.core.ladder` (tr(XY) = tr(YX), tr(Xᵀ) = tr(X), linear), is a scalar
SymPy proves nonzero (tr(A − Aᵀ − I) = −n).  Conventions: real matrices; a dimension is a positive integer.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from theory.core.ladder import Timeout, _trace_normal, time_limit

SECONDS = 2.0  # CPU seconds for the tests of one premise


def _explicit(e: sp.Basic) -> sp.MatrixBase | None:
    if isinstance(e, sp.MatrixBase):
        return e
    if isinstance(e, MatrixExpr) and all(sp.sympify(s).is_Integer for s in e.shape) and not e.atoms(sp.MatrixSymbol):
        return sp.ImmutableMatrix(e.as_explicit())
    return None


def _scalar_identity(d: sp.Basic) -> sp.MatrixBase | None:
    """A square `d` built from identities and zeros only is p(I) = p(1)·I: its 1×1 instance [[p(1)]] (SymPy leaves
    (2I)² − I unevaluated for a symbolic size)."""
    if not isinstance(d, MatrixExpr) or d.atoms(sp.MatrixSymbol) or d.shape[0] != d.shape[1]:
        return None
    if d.atoms(sp.OneMatrix):
        return None
    one = {m: sp.Identity(1) for m in d.atoms(sp.Identity)}
    one.update({z: sp.ZeroMatrix(1, 1) for z in d.atoms(sp.ZeroMatrix)})
    if not one:
        return None
    return sp.ImmutableMatrix(d.xreplace(one).as_explicit())


def _nonzero_number(v: sp.Basic) -> bool:
    v = sp.expand(v)
    return isinstance(v, sp.Expr) and v.is_zero is False


def _nonzero(d: sp.Basic) -> str | None:
    """Why the matrix `d` cannot be zero (for any value of the matrix symbols in it), or None."""
    d = d.doit()
    if isinstance(d, sp.ZeroMatrix):
        return None
    explicit = _explicit(d) or _scalar_identity(d)
    if explicit is not None:
        for (i, j), v in ((divmod(k, explicit.cols), v) for k, v in enumerate(explicit)):
            if _nonzero_number(v):
                return f"its entry ({i}, {j}) would be {v}, not 0"
        return None
    if isinstance(d, MatrixExpr) and d.shape[0] == d.shape[1]:
        trace = sp.expand(_trace_normal(sp.Trace(d)))
        if _nonzero_number(trace):
            return f"its trace would be {trace}, not 0"
    return None


def _kind_matrices(value: sp.Basic, kind: str) -> list[sp.Basic]:
    """Matrices that are zero if `value` has the declared `kind`."""
    if kind in ("symmetric", "spd"):
        return [value.T - value]
    if kind == "skew":
        return [value.T + value]
    if kind == "orthogonal" and value.shape[0] == value.shape[1]:
        return [value.T * value - sp.Identity(value.shape[0])]
    if kind == "diagonal" and isinstance(value, sp.MatrixBase):
        return [value - sp.diag(*[value[i, i] for i in range(min(value.shape))])]
    return []


def _spd_refusal(value: sp.Basic) -> str | None:
    if not isinstance(value, sp.MatrixBase) or value != value.T:
        return None
    for i in range(1, value.rows + 1):
        minor = sp.expand(value[:i, :i].det())
        if minor.is_positive is False:
            return f"its leading {i}×{i} minor is {minor}, so it is not positive definite"
    return None


def _gram(key: sp.Basic) -> bool:
    if not isinstance(key, sp.MatMul) or len(key.args) != 2:
        return False
    a, b = key.args
    return (isinstance(a, sp.Transpose) and a.arg == b) or (isinstance(b, sp.Transpose) and b.arg == a)


def unsatisfiable(key: sp.Basic, value: sp.Basic, facts: Mapping[sp.Basic, sp.Basic],
                  kinds: Mapping[sp.MatrixSymbol, str]) -> str | None:
    """Why the matrix premise ``key = value`` holds for no admissible matrix (module docstring), or None."""
    if not isinstance(key, (MatrixExpr, sp.MatrixBase)) and not isinstance(value, (MatrixExpr, sp.MatrixBase)):
        return None
    vacuous = f"the premise {key} = {value} holds for no admissible matrix, so the step would be vacuous"
    try:
        with time_limit(SECONDS):
            return _refute(key, value, facts, kinds, vacuous)
    except (Timeout, TypeError, ValueError, AttributeError, NotImplementedError, sp.ShapeError):
        return None


def _refute(key: sp.Basic, value: sp.Basic, facts: Mapping[sp.Basic, sp.Basic],
            kinds: Mapping[sp.MatrixSymbol, str], vacuous: str) -> str | None:
    if getattr(key, "shape", None) != getattr(value, "shape", None):
        return f"{vacuous}: the two sides have shapes {getattr(key, 'shape', '()')} and {getattr(value, 'shape', '()')}"
    why = _nonzero(key - value)
    if why:
        return f"{vacuous}: {key} − ({value}) is never 0 ({why})"
    if _gram(key) and value.shape[0] == value.shape[1]:
        trace = sp.expand(_trace_normal(sp.Trace(value)))
        if isinstance(trace, sp.Expr) and trace.is_negative is True:
            return f"{vacuous}: {key} is positive semidefinite (trace ≥ 0), and tr({value}) = {trace} < 0"
    if not isinstance(key, sp.MatrixSymbol):
        return None
    for fact_key, fact_value in facts.items():
        if not (isinstance(fact_key, sp.Basic) and fact_key.has(key)):
            continue
        put = (fact_key - fact_value).xreplace({key: value}) if isinstance(fact_key, MatrixExpr) else None
        why = _nonzero(put) if put is not None else None
        if why:
            return f"{vacuous}: the fact {fact_key} = {fact_value} fails there ({why})"
    kind = kinds.get(key)
    if kind:
        for d in _kind_matrices(value, kind):
            why = _nonzero(d)
            if why:
                return f"{vacuous}: {key} is declared {kind}, and {value} is not ({why})"
        if kind == "spd":
            why = _spd_refusal(value)
            if why:
                return f"{vacuous}: {key} is declared spd, and {value} is not ({why})"
    return None
