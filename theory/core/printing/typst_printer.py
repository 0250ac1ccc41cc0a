"""SymPy → Typst math markup.

`typst(expr)` returns Typst *math markup* (the text between ``$ … $``) for what
the derivations use: numbers and fractions, sums and products, powers and roots,
matrices (symbols, products, sums, transposes, inverses, traces, explicit
matrices), Greek letters, sub- and superscripts, piecewise functions, limits,
integrals, derivatives, substitutions and unevaluated expressions (printed as
built, never evaluated), absolute values and norms, exp/log/sqrt, applied
functions (ReLU as max(0, ·), erf, Heaviside, …) and relations, with the house
rules of `theory.core.printing.conventions`.

`names` maps subexpressions to the markup of a name that stands for them (a
document defines large objects once and refers to them by name).  Anything the
printer does not know is printed as an upright string of its `sstr` form: the
document stays valid and the gap is visible (a test keeps the registered
derivations free of it).  Printing is pure: no I/O, no global state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.sorting import default_sort_key
from sympy.printing.conventions import split_super_sub
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer

from theory.core.printing.conventions import (
    GREEK_NAMES,
    NamedObjects,
    elementwise_function_name,
    is_negative,
    positive_first,
    star_to_super,
    typst_string,
)

# Typst's built-in operator names (upright, operator spacing); others go through op("…")
_TYPST_OPS = set(
    "arccos arcsin arctan arg cos cosh cot coth csc csch ctg deg det dim exp gcd lcm hom id im inf ker lg lim "
    "liminf limsup ln log max min mod Pr sec sech sin sinc sinh sup tan tanh tg tr".split()
)
_MODIFIERS = {"hat": "hat", "bar": "overline", "tilde": "tilde", "dot": "dot", "ddot": "dot.double", "vec": "arrow"}


class TypstPrinter(NamedObjects, Printer):
    """SymPy expression → Typst math markup (see the module docstring)."""

    printmethod = "_typst"
    _default_settings: ClassVar[dict[str, object]] = {"order": None, "names": {}}

    # -- helpers ---------------------------------------------------------------------------------
    def emptyPrinter(self, expr: object) -> str:
        return typst_string(sp.sstr(expr) if isinstance(expr, sp.Basic) else str(expr))


    def parenthesize(self, expr: sp.Basic, level: int, strict: bool = False) -> str:
        if self._named(expr):  # a named object prints as one symbol: never in brackets
            return self._print(expr)
        prec = precedence(expr)
        if prec < level or (strict and prec == level):
            return f"({self._print(expr)})"
        return self._print(expr)

    def _join(self, items: Iterable[sp.Basic], sep: str = ", ") -> str:
        return sep.join(self._print(i) for i in items)

    def _name(self, name: str) -> str:
        """A SymPy name (``W_1``, ``x1_11``, ``lambda_ESL``, ``sigma``) as Typst math."""
        base, supers, subs = split_super_sub(name)
        supers, subs = star_to_super(list(supers), list(subs))
        out = self._base_name(base)
        if subs:
            out += f"_({','.join(self._index(s) for s in subs)})"
        if supers:
            out += f"^({','.join(self._index(s) for s in supers)})"
        return out

    def _base_name(self, base: str) -> str:
        for suffix, accent in _MODIFIERS.items():
            if len(base) > len(suffix) and base.endswith(suffix):
                return f"{accent}({self._base_name(base[: -len(suffix)])})"
        if base in GREEK_NAMES:
            return base
        if len(base) == 1 and base.isalpha():
            return base
        return typst_string(base)

    def _index(self, text: str) -> str:
        if text.isdigit() or (len(text) == 1 and text.isalpha()) or text in GREEK_NAMES:
            return text
        if text == "*":  # W^* (an optimum)
            return "ast"
        if len(text) > 2 and text[0] == "(" and text[-1] == ")" and text[1:-1].isalnum():  # a layer index (2)
            return f"({self._index(text[1:-1])})"
        return typst_string(text)

    def _function_name(self, name: str) -> str:
        if name in _TYPST_OPS:
            return name
        base, supers, subs = split_super_sub(name)
        if len(base) > 1 and base not in GREEK_NAMES and not supers and not subs:
            return f"op({typst_string(name)})"
        return self._name(name)

    # -- atoms -----------------------------------------------------------------------------------
    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._name(expr.name)

    _print_Dummy = _print_Symbol

    def _print_MatrixSymbol(self, expr: sp.MatrixSymbol) -> str:
        return self._name(expr.name)

    def _print_Str(self, expr: sp.Basic) -> str:
        return self._name(str(expr))

    def _print_Integer(self, expr: sp.Integer) -> str:
        return str(expr.p)

    def _print_Rational(self, expr: sp.Rational) -> str:
        if expr.q == 1:
            return str(expr.p)
        sign = "-" if expr.p < 0 else ""
        return f"{sign}frac({abs(expr.p)}, {expr.q})"

    def _print_Float(self, expr: sp.Float) -> str:
        return sp.sstr(expr)

    def _print_Half(self, expr: sp.Rational) -> str:
        return "frac(1, 2)"

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "infinity"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return "-infinity"

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "pi"

    def _print_Exp1(self, expr: sp.Basic) -> str:
        return "e"

    def _print_ImaginaryUnit(self, expr: sp.Basic) -> str:
        return "i"

    def _print_BooleanTrue(self, expr: sp.Basic) -> str:
        return '"true"'

    def _print_BooleanFalse(self, expr: sp.Basic) -> str:
        return '"false"'

    def _print_Identity(self, expr: sp.Basic) -> str:
        return "I"

    def _print_ZeroMatrix(self, expr: sp.Basic) -> str:
        return "0"

    def _print_OneMatrix(self, expr: sp.Basic) -> str:
        return "bb(1)"

    # -- arithmetic ------------------------------------------------------------------------------
    def _print_Add(self, expr: sp.Add) -> str:
        terms = positive_first(list(self._as_ordered_terms(expr, order=self._settings["order"])))
        return self._signed_sum(terms)

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        return self._signed_sum(positive_first(list(expr.args)))

    def _signed_sum(self, terms: Sequence[sp.Basic]) -> str:
        out = ""
        for i, term in enumerate(terms):
            if is_negative(term):
                body = self.parenthesize(-term, PRECEDENCE["Add"], strict=True)
                out += f"-{body}" if i == 0 else f" - {body}"
            else:
                body = self.parenthesize(term, PRECEDENCE["Add"])
                out += body if i == 0 else f" + {body}"
        return out

    def _print_Mul(self, expr: sp.Mul) -> str:
        if expr.could_extract_minus_sign() and expr.as_coeff_Mul()[0].is_negative:
            return "-" + self.parenthesize(-expr, PRECEDENCE["Mul"], strict=False)
        numer, denom = sp.fraction(expr, exact=True)
        if denom is not sp.S.One:
            return f"frac({self._product(numer)}, {self._product(denom)})"
        return self._product(expr)

    def _product(self, expr: sp.Basic) -> str:
        if not isinstance(expr, sp.Mul):
            return self._print(expr)
        factors = expr.as_ordered_factors() if self._settings["order"] != "old" else list(expr.args)
        out: list[str] = []
        for factor in factors:
            if factor is sp.S.One:
                continue
            text = self.parenthesize(factor, PRECEDENCE["Mul"], strict=False)
            if isinstance(factor, sp.Pow) and factor.exp.is_negative and factor.exp.is_Rational:
                text = f"({text})"
            if out and out[-1][-1:].isdigit() and text[:1].isdigit():
                out.append("dot")
            out.append(text)
        return " ".join(out) if out else "1"

    def _print_Pow(self, expr: sp.Pow) -> str:
        base, exp = expr.as_base_exp()
        if exp is sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exp.is_Rational and exp.is_negative and base.is_commutative:
            denominator = base if exp == -1 else sp.Pow(base, -exp, evaluate=False)
            return f"frac(1, {self._print(denominator)})"
        if exp.is_Rational and exp.p == 1 and exp.q > 1:
            return f"root({exp.q}, {self._print(base)})"
        return f"{self._power_base(base)}^({self._print(exp)})"

    def _power_base(self, base: sp.Basic) -> str:
        needs = not self._named(base) and (
            precedence(base) <= PRECEDENCE["Pow"]
            or isinstance(base, (sp.Function, sp.Transpose, sp.Inverse, sp.MatPow))
            or (isinstance(base, sp.Rational) and not base.is_Integer)
            or (base.is_Number and base.is_negative)
        )
        if needs:
            return f"({self._print(base)})"
        out = self._print(base)
        if isinstance(base, (sp.Symbol, sp.MatrixSymbol)) and split_super_sub(base.name)[1]:
            return f"({out})"  # a name with a superscript already (W⁽¹⁾): bracket it, as sympy.latex does
        return out

    def _print_exp(self, expr: sp.Basic) -> str:
        return f"e^({self._print(expr.args[0])})"

    def _print_log(self, expr: sp.Basic) -> str:
        return f"log({self._join(expr.args)})"

    def _print_Abs(self, expr: sp.Basic) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Basic) -> str:
        return f"max({self._join(sorted(expr.args, key=default_sort_key))})"  # as sympy.latex orders them

    def _print_Min(self, expr: sp.Basic) -> str:
        return f"min({self._join(sorted(expr.args, key=default_sort_key))})"

    def _print_floor(self, expr: sp.Basic) -> str:
        return f"floor({self._print(expr.args[0])})"

    def _print_ceiling(self, expr: sp.Basic) -> str:
        return f"ceil({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        return f"theta({self._print(expr.args[0])})"

    def _print_sign(self, expr: sp.Basic) -> str:
        return f"op(\"sgn\")({self._print(expr.args[0])})"

    def _print_Function(self, expr: sp.Function) -> str:
        name = getattr(expr.func, "__name__", str(expr.func))
        if isinstance(expr, AppliedUndef) and name.lower() == "norm" and len(expr.args) == 1:
            return f"norm({self._print(expr.args[0])})"
        return f"{self._function_name(name)}({self._join(expr.args)})"

    def _print_factorial(self, expr: sp.Basic) -> str:
        arg = expr.args[0]
        atomic = isinstance(arg, (sp.Symbol, sp.Integer)) and not (arg.is_Number and arg.is_negative)
        return f"{self._print(arg)}!" if atomic else f"({self._print(arg)})!"

    def _print_binomial(self, expr: sp.Basic) -> str:
        return f"binom({self._join(expr.args)})"

    def _print_gamma(self, expr: sp.Basic) -> str:
        return f"Gamma({self._print(expr.args[0])})"

    def _print_UndefinedFunction(self, expr: type) -> str:
        return self._function_name(expr.__name__)

    def _print_int(self, expr: int) -> str:
        return str(expr)

    def _print_Expectation(self, expr: sp.Basic) -> str:
        return f"bb(E)[{self._print(expr.args[0])}]"

    def _print_RandomSymbol(self, expr: sp.Basic) -> str:
        return self._print(expr.symbol)

    def _print_Subs(self, expr: sp.Subs) -> str:
        at = ", ".join(f"{self._print(v)} = {self._print(p)}" for v, p in zip(expr.variables, expr.point, strict=True))
        return f"lr({self._print(expr.expr)} |)_({at})"

    def _print_UnevaluatedExpr(self, expr: sp.Basic) -> str:
        return self._print(expr.args[0])

    def _print_Lambda(self, expr: sp.Lambda) -> str:
        variables = expr.variables
        head = self._print(variables[0]) if len(variables) == 1 else f"({self._join(variables)})"
        return f"({head} |-> {self._print(expr.expr)})"

    def _print_Tuple(self, expr: sp.Tuple) -> str:
        return f"({self._join(expr.args)})"

    def _print_tuple(self, expr: tuple) -> str:
        return f"({self._join(expr)})"

    # -- calculus --------------------------------------------------------------------------------
    def _print_Derivative(self, expr: sp.Derivative) -> str:
        counts = list(expr.variable_count)
        order = sum(int(c) for _, c in counts)
        d = "partial" if len(counts) > 1 else "dif"
        top = d if order == 1 else f"{d}^({order})"
        bottom = " ".join(
            f"{d} {self._power_base(v)}" + (f"^({c})" if c != 1 else "") for v, c in counts
        )
        return f"frac({top}, {bottom}) {self.parenthesize(expr.expr, PRECEDENCE['Mul'], strict=True)}"

    def _print_Integral(self, expr: sp.Integral) -> str:
        out = ""
        for limit in reversed(expr.limits):
            _var, *bounds = limit
            out += "integral"
            if len(bounds) == 2:
                out += f"_({self._print(bounds[0])})^({self._print(bounds[1])})"
            out += " "
        tail = " ".join(f"dif {self._print(limit[0])}" for limit in expr.limits)
        return f"{out}{self.parenthesize(expr.function, PRECEDENCE['Mul'], strict=True)} {tail}"

    def _print_Limit(self, expr: sp.Limit) -> str:
        e, z, z0, direction = expr.args
        side = {"+": "^+", "-": "^-"}.get(str(direction), "") if not z0.is_infinite else ""
        target = self._print(z0)
        if side:
            target = f"{self._power_base(z0)}{side}"
        return f"lim_({self._print(z)} -> {target}) {self.parenthesize(e, PRECEDENCE['Mul'])}"

    def _big_operator(self, name: str, expr: sp.Basic) -> str:
        out = ""
        for var, low, high in expr.limits:
            out += f"{name}_({self._print(var)} = {self._print(low)})^({self._print(high)}) "
        return out + self.parenthesize(expr.function, PRECEDENCE["Mul"])

    def _print_Sum(self, expr: sp.Sum) -> str:
        return self._big_operator("sum", expr)

    def _print_Product(self, expr: sp.Product) -> str:
        return self._big_operator("product", expr)

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        rows = []
        for e, cond in expr.args:
            when = '"otherwise"' if cond is sp.S.true else f'"if" {self._print(cond)}'
            rows.append(f"{self._print(e)} & {when}")
        return f"cases({', '.join(rows)})"

    # -- logic and relations ---------------------------------------------------------------------
    def _relation(self, expr: sp.Basic, symbol: str) -> str:
        return f"{self._print(expr.lhs)} {symbol} {self._print(expr.rhs)}"

    def _print_Equality(self, expr: sp.Basic) -> str:
        return self._relation(expr, "=")

    def _print_Unequality(self, expr: sp.Basic) -> str:
        return self._relation(expr, "!=")

    def _print_StrictLessThan(self, expr: sp.Basic) -> str:
        return self._relation(expr, "<")

    def _print_LessThan(self, expr: sp.Basic) -> str:
        return self._relation(expr, "<=")

    def _print_StrictGreaterThan(self, expr: sp.Basic) -> str:
        return self._relation(expr, ">")

    def _print_GreaterThan(self, expr: sp.Basic) -> str:
        return self._relation(expr, ">=")

    def _print_And(self, expr: sp.Basic) -> str:
        return ' "and" '.join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr: sp.Basic) -> str:
        return ' "or" '.join(f"({self._print(a)})" for a in expr.args)

    def _print_Not(self, expr: sp.Basic) -> str:
        return f"¬({self._print(expr.args[0])})"

    # -- matrices --------------------------------------------------------------------------------
    def _print_MatMul(self, expr: sp.MatMul) -> str:
        coeff, rest = expr.as_coeff_mmul()
        args = list(expr.args)
        sign = ""
        if getattr(coeff, "is_number", False) and coeff.is_extended_negative:
            sign = "-"
            args = ([] if coeff == -1 else [-coeff]) + list(sp.MatMul.make_args(rest))
        out = []
        for arg in args:
            text = self._print(arg)
            if isinstance(arg, (sp.MatAdd, sp.Add)) and not self._named(arg):
                text = f"({text})"
            out.append(text)
        return sign + " ".join(out)

    def _print_HadamardProduct(self, expr: sp.Basic) -> str:
        return " dot.o ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in expr.args)

    def _print_KroneckerProduct(self, expr: sp.Basic) -> str:
        return " times.o ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in expr.args)

    def _matrix_operand(self, arg: sp.Basic) -> str:
        atomic = isinstance(arg, (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.Symbol)) or arg.is_Atom
        return self._print(arg) if atomic or self._named(arg) else f"({self._print(arg)})"

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        return f"{self._matrix_operand(expr.arg)}^T"

    def _print_Inverse(self, expr: sp.Inverse) -> str:
        return f"{self._matrix_operand(expr.arg)}^(-1)"

    def _print_MatPow(self, expr: sp.MatPow) -> str:
        return f"{self._matrix_operand(expr.base)}^({self._print(expr.exp)})"

    def _print_Trace(self, expr: sp.Trace) -> str:
        return f"tr({self._print(expr.arg)})"

    def _print_Determinant(self, expr: sp.Basic) -> str:
        return f"det({self._print(expr.arg)})"

    def _print_MatrixElement(self, expr: sp.Basic) -> str:
        return f"{self._matrix_operand(expr.parent)}_({self._print(expr.i)} {self._print(expr.j)})"

    def _print_ElementwiseApplyFunction(self, expr: sp.Basic) -> str:
        fn = elementwise_function_name(expr.function)
        head = self._function_name(fn.__name__) if fn is not None else self._print(expr.function)
        return f"{head}({self._print(expr.expr)})"

    def _print_MatrixBase(self, expr: sp.MatrixBase) -> str:
        if 0 in expr.shape:
            return "mat()"
        rows = "; ".join(", ".join(self._print(e) for e in expr.row(i)) for i in range(expr.rows))
        return f"mat({rows})"

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase
    _print_ImmutableSparseMatrix = _print_MatrixBase
    _print_MutableSparseMatrix = _print_MatrixBase

    def _print_Indexed(self, expr: sp.Basic) -> str:
        return f"{self._print(expr.base.label)}_({', '.join(self._print(i) for i in expr.indices)})"

    def _print_IndexedBase(self, expr: sp.Basic) -> str:
        return self._print(expr.label)

    def _print_Idx(self, expr: sp.Basic) -> str:
        return self._print(expr.label)


def typst(expr: sp.Basic, names: Mapping[sp.Basic, str] | None = None) -> str:
    """Typst math markup for `expr` (without the surrounding ``$``); `names`: subexpressions printed as a name."""
    return TypstPrinter({"names": dict(names or {})}).doprint(expr)
