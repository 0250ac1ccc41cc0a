"""SymPy → LaTeX math: `sympy.latex` with the house rules of `theory.core.printing.conventions`.

`names` maps subexpressions to the LaTeX of a name that stands for them (a
document defines large objects once and refers to them by name).  Unevaluated
objects (`Derivative`, `Subs`, `Limit`, `Sum`, `Integral`, `UnevaluatedExpr`)
print as built, as `sympy.latex` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import sympy as sp
from sympy.printing.latex import LatexPrinter

from theory.core.printing.conventions import (
    NamedObjects,
    elementwise_function_name,
    is_negative,
    positive_first,
    star_to_super,
)

_VARIANTS = {r"\epsilon": r"\varepsilon", r"\phi": r"\varphi"}  # ε and φ, as Typst's epsilon and phi


class HouseLatexPrinter(NamedObjects, LatexPrinter):
    """`sympy.latex` with the house rules (see the module docstring)."""

    _default_settings: ClassVar[dict[str, Any]] = {**LatexPrinter._default_settings, "names": {}}

    # a named object prints as one symbol: it never needs brackets
    def parenthesize(self, item: Any, level: int, is_neg: bool = False, strict: bool = False) -> str:
        if self._named(item):
            return self._print(item)
        return str(super().parenthesize(item, level, is_neg=is_neg, strict=strict))

    def _needs_brackets(self, expr: Any) -> bool:
        return False if self._named(expr) else bool(super()._needs_brackets(expr))

    def _needs_function_brackets(self, expr: Any) -> bool:
        return False if self._named(expr) else bool(super()._needs_function_brackets(expr))

    def _needs_mul_brackets(self, expr: Any, first: bool = False, last: bool = False) -> bool:
        return False if self._named(expr) else bool(super()._needs_mul_brackets(expr, first=first, last=last))

    def _needs_add_brackets(self, expr: Any) -> bool:
        return False if self._named(expr) else bool(super()._needs_add_brackets(expr))

    def _deal_with_super_sub(self, string: str, style: str = "plain") -> str:
        name, supers, subs = self._split_super_sub(string)
        supers, subs = star_to_super(list(supers), list(subs))
        name = _VARIANTS.get(name, name)
        if style == "bold":
            name = f"\\mathbf{{{name}}}"
        upright = [s if s.isdigit() or len(s) == 1 or s.startswith("\\") else f"\\mathrm{{{s}}}" for s in subs]
        if supers:
            name += "^{" + ",".join(supers) + "}"
        if upright:
            name += "_{" + ",".join(upright) + "}"
        return name

    def _as_ordered_terms(self, expr: sp.Basic, order: str | None = None) -> list[sp.Basic]:
        return positive_first(list(super()._as_ordered_terms(expr, order=order)))

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        terms = positive_first(list(expr.args))
        out = ""
        for i, term in enumerate(terms):
            if is_negative(term):
                body = self._print(-term)
                if isinstance(-term, (sp.MatAdd, sp.Add)):
                    body = f"\\left({body}\\right)"
                out += f"- {body}" if i == 0 else f" - {body}"
            else:
                out += self._print(term) if i == 0 else f" + {self._print(term)}"
        return out

    def _print_Determinant(self, expr: sp.Basic) -> str:
        names: Mapping[object, str] = self._settings["names"]
        if isinstance(expr.arg, sp.MatrixBase) and sp.ImmutableMatrix(expr.arg) in names:
            return rf"\det({names[sp.ImmutableMatrix(expr.arg)]})"
        return str(super()._print_Determinant(expr))

    def _print_Identity(self, expr: sp.Basic) -> str:
        return "I"

    def _print_ZeroMatrix(self, expr: sp.Basic) -> str:
        return "0"

    def _print_Expectation(self, expr: sp.Basic) -> str:
        return rf"\mathbb{{E}}\left[{self._print(expr.args[0])}\right]"

    def _hprint_Function(self, func: str) -> str:
        if func == "ell":
            return r"\ell"
        out = str(super()._hprint_Function(func))
        return _VARIANTS.get(out, out)

    def _print_ElementwiseApplyFunction(self, expr: sp.Basic) -> str:
        fn = elementwise_function_name(expr.function)
        if fn is None:
            return str(super()._print_ElementwiseApplyFunction(expr))
        return f"{self._hprint_Function(fn.__name__)}\\left({self._print(expr.expr)}\\right)"


def latex(expr: sp.Basic, names: Mapping[sp.Basic, str] | None = None) -> str:
    """LaTeX math for `expr` (house rules); `names`: subexpressions printed as a name."""
    return str(HouseLatexPrinter({"names": dict(names or {})}).doprint(expr))
