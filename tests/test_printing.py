"""The SymPy → Typst printer against hand-written Typst, and the LaTeX house rules.

Also: every side of every registered derivation prints to Typst that the
embedded compiler accepts (so theorems added later are covered), unevaluated
objects print unevaluated (the step shown is the step checked), two sides that
differ as built print differently, and named subexpressions print as their
name.  The prose of the derivations is tested in tests/test_prose.py.
"""

from __future__ import annotations

import pytest
import sympy as sp
import typst as typst_compiler
from sympy.stats import Expectation, Normal

from theory.core.printing import TypstPrinter, latex, typst, typst_string
from theory.core.registry import all_derivations

x, y = sp.symbols("x y", real=True)
t, eta, lam = sp.symbols("t eta lambda", positive=True)
n = sp.Symbol("n", integer=True, positive=True)
i, k = sp.symbols("i k", integer=True)
W = sp.MatrixSymbol("W", n, n)
W1 = sp.MatrixSymbol("W_1", n, n)
A = sp.MatrixSymbol("A", n, n)
I_n = sp.Identity(n)
f, sigma = sp.Function("f"), sp.Function("sigma")

# (expression, the Typst a person would write for it)
CASES = [
    # numbers, fractions, sums and products
    (sp.Rational(3, 4), "frac(3, 4)"),
    (sp.Rational(-1, 2) * x, "-frac(x, 2)"),
    (2 * x / 3, "frac(2 x, 3)"),
    (x / (x + 1), "frac(x, x + 1)"),
    (1 / x, "frac(1, x)"),
    (x**-2, "frac(1, x^(2))"),
    (1 - eta * lam, "1 - eta lambda"),
    (x * (y + 1), "x (y + 1)"),
    (2 * sp.sqrt(2), "2 sqrt(2)"),
    # powers, roots, exp and log
    (x ** (k + 1), "x^(k + 1)"),
    ((1 - eta * lam) ** k, "(1 - eta lambda)^(k)"),
    (sp.sqrt(x + 1), "sqrt(x + 1)"),
    (x ** sp.Rational(1, 3), "root(3, x)"),
    (sp.exp(-lam * t), "e^(-lambda t)"),
    (sp.log(x), "log(x)"),
    # Greek letters, sub- and superscripts
    (sp.Symbol("Sigma"), "Sigma"),
    (sp.Symbol("beta_0"), "beta_(0)"),
    (sp.Symbol("x1_11"), "x_(1,11)"),
    (sp.Symbol("lambda_ESL"), 'lambda_("ESL")'),
    (sp.Symbol("xhat"), "hat(x)"),
    (sp.Symbol("ab"), '"ab"'),
    # matrices: symbols, products, sums, transposes, inverses, traces, explicit matrices
    (W1, "W_(1)"),
    (W.T * W, "W^T W"),
    ((I_n - W).I, "(I - W)^(-1)"),
    (W.I, "W^(-1)"),
    (A * (I_n + W), "A (I + W)"),
    (-lam * W, "-lambda W"),
    (sp.Trace(W.T * W) / 2, "frac(tr(W^T W), 2)"),
    (sp.ZeroMatrix(n, n), "0"),
    (sp.Matrix([[1, x], [sp.Rational(1, 2), y]]), "mat(1, x; frac(1, 2), y)"),
    (sp.Matrix([x, 0]), "mat(x; 0)"),
    (sp.KroneckerProduct(I_n, A), "I times.o A"),
    # functions, piecewise, absolute values and norms
    (sigma(x), "sigma(x)"),
    (sp.Function("ReLU")(x), 'op("ReLU")(x)'),
    (sp.Function("norm")(W), "norm(W)"),
    (sp.Abs(x - 1), "abs(x - 1)"),
    (sp.Max(0, x), "max(0, x)"),
    (sp.Heaviside(x), "theta(x)"),
    (sp.erf(x), 'op("erf")(x)'),
    (sp.factorial(2 * k + 1), "(2 k + 1)!"),
    (sp.factorial(k), "k!"),
    (sp.binomial(n, k), "binom(n, k)"),
    (sp.Piecewise((x, x >= 0), (-x, True)), 'cases(x & "if" x >= 0, -x & "otherwise")'),
    # sums and products, limits, integrals, derivatives
    (sp.Sum(x**i, (i, 1, n)), "sum_(i = 1)^(n) x^(i)"),
    (sp.Product(x + i, (i, 1, n)), "product_(i = 1)^(n) (i + x)"),
    (sp.Limit((1 - eta * lam) ** (t / eta), eta, 0, "+"), "lim_(eta -> 0^+) (1 - eta lambda)^(frac(t, eta))"),
    (sp.Limit(1 / x, x, sp.oo), "lim_(x -> infinity) frac(1, x)"),
    (sp.Integral(sp.exp(-(x**2)), (x, -sp.oo, sp.oo)), "integral_(-infinity)^(infinity) e^(-x^(2)) dif x"),
    (sp.Derivative(f(t), t), "frac(dif, dif t) f(t)"),
    (sp.Derivative(f(x), x, 2), "frac(dif^(2), dif x^(2)) f(x)"),
    (sp.Derivative(f(x, y), x, y), "frac(partial^(2), partial x partial y) f(x, y)"),
    (sp.Subs(sp.Derivative(sigma(x), x), x, 0), "lr(frac(dif, dif x) sigma(x) |)_(x = 0)"),
    (Expectation(Normal("X", 0, 1) ** 2), 'bb(E)[X^(2)]'),
    # relations
    (sp.Eq(x, 1), "x = 1"),
    (sp.Symbol("w_star"), "w^(ast)"),  # the subscript star marks an optimum: w^*
    (sp.Ne(x, 0), "x != 0"),
    (sp.Le(x, y), "x <= y"),
    (sp.Gt(x, 0), "x > 0"),
    (sp.And(x > 0, y < 1), '(x > 0) "and" (y < 1)'),
]


@pytest.mark.parametrize(("expr", "expected"), CASES, ids=[c[1] for c in CASES])
def test_typst_printer_writes_what_a_person_would(expr: sp.Basic, expected: str) -> None:
    assert typst(expr) == expected


def test_elementwise_activation_prints_as_function_application() -> None:
    # W₂σ(W₁x + b₁) + b₂ with σ applied entrywise (SymPy: Lambda(t, σ(t)).applyfunc)
    xv, b1 = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("b_1", n, 1)
    applied = (W1 * xv + b1).applyfunc(sp.Lambda(t, sigma(t)))
    assert typst(applied) == "sigma(W_(1) x + b_(1))"
    assert latex(applied) == r"\sigma\left(W_{1} x + b_{1}\right)"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (sp.Symbol("x1_11"), "x_{1,11}"),
        (sp.Symbol("lambda_ESL"), r"\lambda_{\mathrm{ESL}}"),
        (1 - eta * lam, r"1 - \eta \lambda"),
        (I_n - W, "I - W"),
        (sp.ZeroMatrix(n, n), "0"),
        (sp.Trace(W.T * W) / 2, r"\frac{\operatorname{tr}\left(W^{T} W \right)}{2}"),
        (Expectation(Normal("X", 0, 1) ** 2), r"\mathbb{E}\left[X^{2}\right]"),
        (sp.Symbol("epsilon") + sp.Symbol("phi"), r"\varepsilon + \varphi"),
        (sp.Symbol("W1^(2)_11") ** 2, r"\left(W^{(2)}_{1,11}\right)^{2}"),
        (sp.MatrixSymbol("W_star", n, n) * sp.MatrixSymbol("Sigma", n, n), r"W^{*} \Sigma"),
    ],
    ids=["subscript-list", "upright-subscript", "positive-first", "identity-I", "zero-matrix", "trace", "expectation",
         "epsilon-phi-as-typst", "layer-index", "star-subscript-as-optimum"],
)
def test_latex_house_rules(expr: sp.Basic, expected: str) -> None:
    assert latex(expr) == expected


def test_text_becomes_a_typst_string_literal() -> None:
    assert typst_string('say "hi"\\n\nnext') == '"say \\"hi\\"\\\\n\\nnext"'


def test_unknown_objects_print_as_visible_upright_text() -> None:
    # a class the printer has no rule for must still give valid Typst, and show what it is
    out = typst(sp.Interval(0, 1))
    assert out.startswith('"') and "Interval" in out


def test_every_registered_derivation_prints_to_valid_typst() -> None:
    # one document with both sides of every step of every registered theorem; the compiler rejects bad syntax
    sides = [typst(side) for d in all_derivations() for s in d.steps for side in (s.lhs, s.rhs)
             if not isinstance(side, tuple)]
    source = '#set page(width: auto, height: auto)\n#set math.mat(delim: "[")\n' + "\n\n".join(
        f"$ {side} $" for side in sides
    )
    compiler = typst_compiler.Compiler(ignore_system_fonts=True)
    pdf, warnings = compiler.compile_with_warnings(source.encode(), format="pdf")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    assert [w.message for w in warnings] == []


@pytest.mark.parametrize(
    ("expr", "evaluated"),
    [
        (sp.Derivative(x**3, x), 3 * x**2),
        (sp.Subs(sp.Derivative(f(t), t), t, 0), None),
        (sp.Integral(x, (x, 0, 1)), sp.Rational(1, 2)),
        (sp.Sum(i, (i, 1, n)), n * (n + 1) / 2),
        (sp.Limit(sp.sin(x) / x, x, 0), sp.S.One),
        (sp.Add(x, x, evaluate=False), 2 * x),
        (sp.UnevaluatedExpr(sp.sin(x) ** 2 + sp.cos(x) ** 2) * y, y),
    ],
    ids=["derivative", "subs", "integral", "sum", "limit", "unevaluated-add", "unevaluated-expr"],
)
def test_unevaluated_objects_print_as_built(expr: sp.Basic, evaluated: sp.Basic | None) -> None:
    # the document shows what the checker was given, not what SymPy would evaluate it to
    shown_t, shown_l = typst(expr), latex(expr)
    if evaluated is not None:
        assert shown_t != typst(evaluated) and shown_l != latex(evaluated)
    head = {"Derivative": "dif", "Subs": "lr(", "Integral": "integral", "Sum": "sum", "Limit": "lim"}
    name = type(expr).__name__
    if name in head:
        assert head[name] in shown_t
    assert "UnevaluatedExpr" not in shown_t and '"' not in shown_t


def test_named_subexpressions_print_as_their_name_without_brackets() -> None:
    big = x + y + 1
    expr = lam * big * sp.exp(big)
    assert typst(expr, {big: "P"}) == "lambda P e^(P)"
    assert latex(expr, {big: "P"}) == r"\lambda P e^{P}"
    m = sp.Matrix([[x, y], [y, x]])
    assert typst(sp.Determinant(sp.ImmutableMatrix(m)), {sp.ImmutableMatrix(m): "Q"}) == "det(Q)"
    assert latex(sp.Determinant(sp.ImmutableMatrix(m)), {sp.ImmutableMatrix(m): "Q"}) == r"\det(Q)"


def _frozen(expr: sp.Basic) -> sp.Basic:
    return sp.ImmutableMatrix(expr) if isinstance(expr, sp.MatrixBase) else expr


def _hollow_steps() -> list[str]:
    return [f"{d.id} step {k}" for d in all_derivations() for k, s in enumerate(d.steps, start=1)
            if not isinstance(s.lhs, tuple) and typst(s.lhs) == typst(s.rhs)]


def test_sides_that_differ_as_built_print_differently() -> None:
    # the printers never collapse two different sides into one picture (X = X): a step that prints as X = X
    # was built with identical sides (SymPy evaluated it at construction)
    collapsed = [
        f"{d.id} step {k}" for d in all_derivations() for k, s in enumerate(d.steps, start=1)
        if not isinstance(s.lhs, tuple) and sp.srepr(_frozen(s.lhs)) != sp.srepr(_frozen(s.rhs))
        and (typst(s.lhs) == typst(s.rhs) or latex(s.lhs) == latex(s.rhs))
    ]
    assert collapsed == []


def test_no_registered_step_prints_as_x_equals_x() -> None:
    assert _hollow_steps() == []


def test_every_registered_derivation_is_printed_without_the_fallback() -> None:
    # the fallback (upright sstr text) keeps a document valid; a derivation should never need it
    unknown: dict[str, str] = {}

    class Recording(TypstPrinter):
        def emptyPrinter(self, expr: object) -> str:
            unknown.setdefault(type(expr).__name__, str(expr)[:80])
            return super().emptyPrinter(expr)

    for d in all_derivations():
        for s in d.steps:
            subs = getattr(s, "subs", None) or {}
            for part in (s.lhs, s.rhs, *subs.keys(), *subs.values()):
                for piece in part if isinstance(part, tuple) else (part,):
                    Recording().doprint(piece)
    assert unknown == {}, f"add _print_ methods to theory/core/printing/typst_printer.py for {unknown}"
