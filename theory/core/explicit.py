"""Exact evaluation of matrix expressions on explicit instances, in SymPy's fast domains.

SymPy evaluates an explicit matrix product or inverse over its general expression
domain (slow: every entry is a tree).  When every value of an instance is rational,
the same exact arithmetic runs over ``QQ`` with `DomainMatrix` (and over the
fraction field ``QQ(t)`` for directional derivatives, see `theory.core.check`),
typically one to two orders of magnitude faster.  Nothing is approximated: the
result is the same rational (function) SymPy would compute.

Supported: matrix symbols, Identity, ZeroMatrix, OneMatrix, explicit matrices,
MatAdd, MatMul (with scalar factors), Transpose, Inverse, MatPow (integer), Trace,
Determinant, and scalar +, ×, integer powers of these and of rational symbols.
Anything else raises `Unsupported`, and the caller evaluates with SymPy instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.matrices.exceptions import DMNonInvertibleMatrixError


class Unsupported(Exception):
    """The expression holds something this evaluator does not handle."""


class Singular(ValueError):
    """An inverse of a singular matrix: the expression is undefined at this instance."""


def evaluate(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic], domain: Any = QQ,
             generator: sp.Symbol | None = None) -> sp.Basic:
    """The exact value of `expr` at `point` (a SymPy number or ImmutableMatrix); `Unsupported` if not handled.

    `domain` is QQ, or a fraction field QQ(t) whose generator is the SymPy symbol `generator`.
    """
    dims = {k: v for k, v in point.items() if isinstance(k, sp.Symbol) and k.is_integer and k.is_positive}
    value = _Evaluator(point, dims, domain, generator).value(expr)
    if isinstance(value, DomainMatrix):
        return sp.ImmutableMatrix(value.to_Matrix())
    return domain.to_sympy(value)


class _Evaluator:
    def __init__(self, point: Mapping[sp.Basic, sp.Basic], dims: Mapping[sp.Basic, sp.Basic], domain: Any,
                 generator: sp.Symbol | None) -> None:
        self.point = point
        self.dims = dims
        self.domain = domain
        self.generator = generator
        self.cache: dict[sp.Basic, Any] = {}

    def size(self, s: sp.Basic) -> int:
        value = sp.sympify(s).xreplace(dict(self.dims))
        if not value.is_Integer:
            raise Unsupported(f"dimension {s} has no value")
        return int(value)

    def scalar(self, v: sp.Basic) -> Any:
        if self.generator is not None and v == self.generator:
            return self.domain.convert(v)
        if not v.is_Rational:
            if self.generator is not None and v.free_symbols <= {self.generator}:
                return self.domain.from_sympy(v)
            raise Unsupported(f"a value that is not rational: {v}")
        return self.domain.convert(v)

    def matrix(self, m: sp.MatrixBase) -> DomainMatrix:
        rows = [[self.scalar(e) for e in m.row(i)] for i in range(m.rows)]
        return DomainMatrix(rows, (m.rows, m.cols), self.domain)

    def value(self, e: sp.Basic) -> Any:
        if e in self.cache:
            return self.cache[e]
        out: Any
        if isinstance(e, sp.MatrixSymbol):
            if e not in self.point:
                raise Unsupported(f"{e} has no value")
            v = self.point[e]
            if not isinstance(v, sp.MatrixBase):
                raise Unsupported(f"{e} is not an explicit matrix")
            out = self.matrix(v)
        elif isinstance(e, sp.MatrixBase):
            out = self.matrix(e)
        elif isinstance(e, sp.Identity):
            out = DomainMatrix.eye(self.size(e.rows), self.domain)
        elif isinstance(e, sp.ZeroMatrix):
            out = DomainMatrix.zeros((self.size(e.rows), self.size(e.cols)), self.domain)
        elif isinstance(e, sp.OneMatrix):
            r, c = self.size(e.rows), self.size(e.cols)
            out = DomainMatrix([[self.domain.one] * c for _ in range(r)], (r, c), self.domain)
        elif isinstance(e, sp.MatAdd):
            terms = [self.value(a) for a in e.args]
            out = terms[0]
            for term in terms[1:]:
                out = out + term
        elif isinstance(e, sp.MatMul):
            coefficient = self.domain.one
            product: DomainMatrix | None = None
            for a in e.args:
                v = self.value(a)
                if isinstance(v, DomainMatrix):
                    product = v if product is None else product * v
                else:
                    coefficient = coefficient * v
            if product is None:
                raise Unsupported("a matrix product without a matrix")
            out = product * coefficient if coefficient != self.domain.one else product
        elif isinstance(e, sp.Transpose):
            out = self._matrix_value(e.arg).transpose()
        elif isinstance(e, sp.Inverse):
            out = self._inverse(self._matrix_value(e.arg))
        elif isinstance(e, sp.MatPow):
            base = self._matrix_value(e.base)
            if not e.exp.is_Integer:
                raise Unsupported("a non-integer matrix power")
            k = int(e.exp)
            out = base**k if k >= 0 else self._inverse(base) ** (-k)
        elif isinstance(e, sp.Trace):
            m = self._matrix_value(e.arg)
            out = self.domain.zero
            for i in range(m.shape[0]):
                out = out + m[i, i].element
        elif isinstance(e, sp.Determinant):
            out = self._matrix_value(e.arg).det()
        elif isinstance(e, sp.Add):
            out = self.domain.zero
            for a in e.args:
                out = out + self._scalar_value(a)
        elif isinstance(e, sp.Mul):
            out = self.domain.one
            for a in e.args:
                out = out * self._scalar_value(a)
        elif isinstance(e, sp.Pow) and e.exp.is_Integer:
            base = self._scalar_value(e.base)
            k = int(e.exp)
            if k < 0 and base == self.domain.zero:
                raise Singular("division by zero")
            out = base**k
        elif isinstance(e, sp.Symbol) or e.is_Number:
            v = e if e.is_Number or (self.generator is not None and e == self.generator) else self.point.get(e)
            if v is None:
                raise Unsupported(f"{e} has no value")
            out = self.scalar(sp.sympify(v))
        else:
            raise Unsupported(type(e).__name__)
        self.cache[e] = out
        return out

    def _matrix_value(self, e: sp.Basic) -> DomainMatrix:
        v = self.value(e)
        if not isinstance(v, DomainMatrix):
            raise Unsupported("a scalar where a matrix was expected")
        return v

    def _scalar_value(self, e: sp.Basic) -> Any:
        v = self.value(e)
        if isinstance(v, DomainMatrix):
            raise Unsupported("a matrix where a scalar was expected")
        return v

    def _inverse(self, m: DomainMatrix) -> DomainMatrix:
        try:
            return m.inv()
        except (DMNonInvertibleMatrixError, ZeroDivisionError) as exc:
            raise Singular("the inverse of a singular matrix") from exc
