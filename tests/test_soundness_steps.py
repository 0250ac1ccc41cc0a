"""Soundness of what a step *shows*: the relation printed, the sides, the names, the facts it rests on.

Red-team classes (each with false plants that must be refused or fail, and true controls that must not):

1. a relation recorded and printed but not checked (``d/dx x² < 2x`` proved as an equality);
2. assumption facts: a definition that contradicts its symbol's assumptions, a fact smuggled in that the
   declared assumptions do not imply;
3. hollow steps: sides that differ only in what a reader cannot see (UnevaluatedExpr, the matrix class, a
   symbol's assumptions) or that print the same;
4. two different symbols with one name in one step, or between a step and the assumptions' facts;
5. a MatrixGradient of a non-scalar.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sympy as sp

from theory.core import smt
from theory.derivation import (
    Assumption,
    Derivation,
    Equal,
    Equivalent,
    Inequality,
    MatrixGradient,
    Status,
    Step,
    Substitute,
    verify,
)

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", positive=True)
yp = sp.Symbol("y", positive=True)
u = sp.Symbol("u", positive=True)
v = sp.Symbol("v", nonnegative=True)
k = sp.Symbol("k", integer=True)
n = sp.Symbol("n", integer=True, positive=True)
W, A, Sigma = (sp.MatrixSymbol(name, n, n) for name in ("W", "A", "Sigma"))
W2 = sp.MatrixSymbol("W", 2, 2)
R = sp.MatrixSymbol("R", n, n)
xv = sp.MatrixSymbol("x", n, 1)
sigma = sp.Function("sigma")


def _single(step: Step, assumptions: tuple[Assumption, ...] = (), tag: str = "steps") -> Derivation:
    return Derivation(id=f"soundness-steps.{tag}", title=tag, claims=(), statement="", steps=(step,),
                      assumptions=assumptions)


# ---- 1. the relation is the one checked -------------------------------------------------------------------------

WRONG_RELATIONS: list[Callable[[], Step]] = [
    lambda: Step(sp.Derivative(x**2, x), 2 * x, "r", relation="<"),
    lambda: Step(x + 1, x, "r", relation=">"),
    lambda: Step(x, x + 1, "r", relation="⇒"),
    lambda: Equivalent(sp.Eq(x, 1), sp.Eq(2 * x, 2), "r", factor=sp.S.Half, relation="<"),
    lambda: Equivalent(sp.Eq(x, 1), sp.Eq(2 * x, 2), "r", factor=sp.S.Half, relation="="),
    lambda: Substitute(x**2, 4, "r", subs={x: 2}, relation="<"),
    lambda: Substitute(x**2, 4, "r", subs={x: 2}, relation="≥"),
    lambda: MatrixGradient(sp.Trace(A.T * A), 2 * A, "r", wrt=A, relation="≥"),
    lambda: MatrixGradient(sp.Trace(A.T * A), 2 * A, "r", wrt=A, relation="⟺"),
    lambda: Inequality(x**2 + 1, 0, "r", relation="="),
    lambda: Inequality(x**2 + 1, 0, "r", relation="⟺"),
]


@pytest.mark.parametrize("build", WRONG_RELATIONS, ids=[str(i) for i in range(len(WRONG_RELATIONS))])
def test_a_relation_the_check_does_not_establish_is_refused(build: Callable[[], Step]) -> None:
    with pytest.raises(ValueError, match="relation"):
        build()


@pytest.mark.parametrize(
    "step",
    [
        Step(sp.Derivative(x**2, x), 2 * x, "r", relation="="),
        Equivalent(sp.Eq(x, 1), sp.Eq(2 * x, 2), "r", factor=sp.S.Half, relation="⟺"),
        Substitute(x**2, 4, "r", subs={x: 2}, relation="⇒"),
        MatrixGradient(sp.Trace(A.T * A), 2 * A, "r", wrt=A, relation="="),
        Inequality(x**2 + 1, 0, "r", relation=">"),
        Inequality(x**2 + 1, 1, "r", relation="≥"),
    ],
    ids=["equal", "equivalent", "substitute", "gradient", "strict", "weak"],
)
def test_the_relation_each_check_establishes_is_accepted_and_proved(step: Step) -> None:
    result = verify(_single(step))
    assert result.status is Status.PROVED, result.report()
    assert result.record().steps[0].relation == step.relation


# ---- 1'. a substitution's premise shows what is applied ------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Substitute(x + 1, 2, "a number substituted", subs={sp.S.Zero: 1}),
        lambda: Substitute(x + 1, x + 1 + 0 * y, "nothing substituted", subs={x: x}),
        lambda: Substitute(W + A, A, "a scalar for a matrix", subs={W: 0}),
        lambda: Substitute(W + A, A, "another shape", subs={W: sp.ZeroMatrix(n, 1)}),
        lambda: Substitute(x + 1, 2, "a matrix for a scalar", subs={x: sp.Identity(2)}),
    ],
    ids=["number", "nothing", "scalar-for-matrix", "shape", "matrix-for-scalar"],
)
def test_a_premise_that_cannot_be_what_is_applied_is_refused(build: Callable[[], Step]) -> None:
    with pytest.raises(ValueError, match="Substitute"):
        build()


def test_a_matrix_and_a_function_substitution_are_accepted() -> None:
    zero = Substitute(W * xv + A * xv, A * xv, "W = 0", subs={W: sp.ZeroMatrix(n, n)})
    assert verify(_single(zero, tag="subs-matrix")).status is Status.PROVED
    tanh = Substitute(sigma(x) + 1, sp.tanh(x) + 1, "σ = tanh", subs={sigma: sp.Lambda(y, sp.tanh(y))})
    assert verify(_single(tanh, tag="subs-function")).status is not Status.FAILED


# ---- 2. assumption facts --------------------------------------------------------------------------------------------

FALSE_FACTS: list[tuple[str, Step, Assumption]] = [
    ("definition against positive", Inequality(yp, 0, "r", relation="<"),
     Assumption("y def", "$y := -1 - x^2$", facts={yp: -1 - x**2})),
    ("constant against positive", Equal(sp.sqrt(yp**2), -1, "r"),
     Assumption("y = -1", "$y := -1$", facts={yp: -1})),
    ("sampled against positive", Inequality(u, 1, "r", relation="<"),
     Assumption("u def", "$u := x$", facts={u: x})),
    ("rational against integer", Equal(sp.floor(sp.Symbol("j", integer=True)), sp.S.Half, "r"),
     Assumption("j def", "$j := 1/2$", facts={sp.Symbol("j", integer=True): sp.S.Half})),
    ("zero against nonzero", Equal(1 / sp.Symbol("z", nonzero=True), 0, "r"),
     Assumption("z def", "$z := 0$", facts={sp.Symbol("z", nonzero=True): x - x})),
    ("false lemma", Equal(sp.floor(x), x, "r"),
     Assumption("x > 0", "$x$ is real", facts={sp.floor(x): x})),
    ("false lemma, magnitudes", Equal(sp.floor(t / 3000) + sp.floor(x - sp.Rational(5, 7)), 0, "r"),
     Assumption("t > 0", "$t$ is positive", facts={sp.floor(t / 3000) + sp.floor(x - sp.Rational(5, 7)): 0})),
    ("wrong shape", Equal(sp.Trace(Sigma), 1, "r"),
     Assumption("Σ def", "$Σ := x x^T$ of the wrong shape", facts={Sigma: xv.T * xv})),
]


@pytest.mark.parametrize("case", FALSE_FACTS, ids=[c[0] for c in FALSE_FACTS])
def test_a_fact_the_declared_assumptions_do_not_allow_fails_every_step(case: tuple[str, Step, Assumption]) -> None:
    _, step, assumption = case
    result = verify(_single(step, (assumption,), tag="fact"))
    assert result.status is Status.FAILED, result.report()
    assert result.steps[0].method == "assumptions"
    assert result.refusal


def test_a_lemma_only_sampling_supports_never_proves_a_step() -> None:
    # floor(t/3000) = 0 holds at every sampled t (the sampling's magnitudes) but is false: whatever the
    # sampling, a step that rests on it is at most checked, never proved
    step = Equal(sp.floor(t / 3000), 0, "r")
    result = verify(_single(step, (Assumption("t > 0", "$t$ is positive", facts={sp.floor(t / 3000): 0}),),
                            tag="lemma"))
    assert result.status is not Status.PROVED, result.report()


TRUE_FACTS: list[tuple[str, Step, Assumption]] = [
    ("definition, positive", Inequality(yp, 0, "r", relation=">"),
     Assumption("y def", "$y := 1 + x^2$", facts={yp: 1 + x**2})),
    ("definition, positive by z3", Inequality(yp, 0, "r", relation=">"),
     Assumption("y def", "$y := x^2 - 2x + 2$", facts={yp: x**2 - 2 * x + 2})),
    ("definition, nonnegative", Equal(v + 1, t**2 + 1, "r"),
     Assumption("v def", "$v := t^2$", facts={v: t**2})),
    ("lemma implied by the symbols", Equal(sp.sqrt(t**2 + 2 * t + 1) + x, t + 1 + x, "r"),
     Assumption("√((t+1)²) = t + 1", "$t > 0$", facts={sp.sqrt(t**2 + 2 * t + 1): t + 1})),
    ("function premise", Equal(sigma(0) + x, x, "r"),
     Assumption("σ(0) = 0", "$σ(0) = 0$", facts={sigma(0): 0})),
    ("kind premise", Equal(sp.Transpose(Sigma) - Sigma, sp.ZeroMatrix(n, n), "r"),
     Assumption("Σ ≻ 0", "$Σ$ is SPD", facts={Sigma.T: Sigma}, matrix_kinds={Sigma: "spd"})),
    ("matrix definition", Equal(sp.Transpose(Sigma), R * R.T, "r"),
     Assumption("Σ = RRᵀ", "$Σ = RR^T$", facts={Sigma: R * R.T})),
]


@pytest.mark.parametrize("case", TRUE_FACTS, ids=[c[0] for c in TRUE_FACTS])
def test_a_fact_the_declared_assumptions_allow_is_used(case: tuple[str, Step, Assumption]) -> None:
    _, step, assumption = case
    result = verify(_single(step, (assumption,), tag="fact-true"))
    assert result.status is Status.PROVED, result.report()


# ---- 3. hollow steps ----------------------------------------------------------------------------------------------

HOLLOW: list[Callable[[], Step]] = [
    lambda: Equal(sp.UnevaluatedExpr(x**2), x**2, "r"),
    lambda: Equal(sp.Matrix([x]), sp.ImmutableMatrix([x]), "r"),
    lambda: Equal(x, sp.Symbol("x", real=True, finite=True), "r"),
    lambda: Equal(sp.Dummy("x"), x, "r"),
    lambda: Equal(sp.Add(y, x, evaluate=False), sp.Add(x, y, evaluate=False), "r"),
    lambda: Equal(sp.UnevaluatedExpr(x) * y, x * y, "r"),
    lambda: Inequality(sp.UnevaluatedExpr(t), t, "r", relation="≤"),
    lambda: Equivalent(sp.Eq(sp.UnevaluatedExpr(x), 1), sp.Eq(x, 1), "r"),
    lambda: Equal(sp.Matrix([[sp.UnevaluatedExpr(x), 1]]), sp.ImmutableMatrix([[x, 1]]), "r"),
]


@pytest.mark.parametrize("build", HOLLOW, ids=[str(i) for i in range(len(HOLLOW))])
def test_sides_a_reader_cannot_tell_apart_are_a_hollow_step(build: Callable[[], Step]) -> None:
    with pytest.raises(ValueError, match="hollow"):
        build()


@pytest.mark.parametrize(
    "step",
    [
        Equal(sp.Add(x, 0, evaluate=False), x, "the zero shown"),
        Equal(sp.UnevaluatedExpr(x) + x, 2 * x, "the sum shown"),
        Equal(sp.Mul(2, sp.UnevaluatedExpr(x) + 1, evaluate=False), 2 * x + 2, "the product shown"),
        Equal(sp.Matrix([[sp.Derivative(x**2, x)]]), sp.ImmutableMatrix([[2 * x]]), "a derivative in a matrix"),
    ],
    ids=["zero", "sum", "product", "matrix"],
)
def test_an_unevaluated_form_that_prints_differently_is_a_step(step: Step) -> None:
    assert verify(_single(step, tag="shown")).status is Status.PROVED


# ---- 4. one name, one symbol ---------------------------------------------------------------------------------------


def test_two_symbols_of_one_name_in_a_step_are_refused() -> None:
    with pytest.raises(ValueError, match="named 'x'"):
        Equal(x + sp.Symbol("x"), 2 * x, "r")
    with pytest.raises(ValueError, match="named 'x'"):
        Inequality(x**2 + sp.Symbol("x", positive=True), 0, "r", relation="≥")
    with pytest.raises(ValueError, match="named 'W'"):
        Equal(sp.Trace(W), sp.Trace(W2), "r")


def test_a_fact_about_a_symbol_of_the_same_name_is_refused() -> None:
    # the fact is about y > 0, the step about the real y: the rewrite would silently not apply
    fact = Assumption("y = 1", "$y := 1$", facts={yp: 1})
    with pytest.raises(ValueError, match="named 'y'"):
        _single(Equal(y + 1, 2, "r"), (fact,))


def test_the_same_symbol_in_every_step_is_accepted() -> None:
    steps = (Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square"), Inequality(x**2 + 2 * x + 1, 0, "r", relation="≥"))
    d = Derivation(id="soundness-steps.names", title="", claims=(), statement="", steps=steps)
    assert verify(d).status is Status.PROVED


def test_z3_keeps_two_symbols_of_one_name_apart() -> None:
    other = sp.Symbol("x", positive=True)
    assert smt.decide(x, "=", other).verdict is smt.SmtVerdict.COUNTEREXAMPLE
    assert smt.decide(x**2 + other, ">", 0).verdict is smt.SmtVerdict.CERTIFIED


# ---- 5. gradients of scalars only -----------------------------------------------------------------------------------

NON_SCALAR: list[Callable[[], Step]] = [
    lambda: MatrixGradient(W2, sp.ImmutableMatrix([[1, 0], [0, 0]]), "r", wrt=W2),
    lambda: MatrixGradient(sp.Trace(W) * sp.Identity(n), sp.Identity(n), "r", wrt=W),
    lambda: MatrixGradient(W * xv, xv.T, "r", wrt=W),
    lambda: MatrixGradient(sp.ImmutableMatrix([[sp.Trace(W2), 0]]), sp.Identity(2), "r", wrt=W2),
]


@pytest.mark.parametrize("build", NON_SCALAR, ids=[str(i) for i in range(len(NON_SCALAR))])
def test_a_gradient_of_a_non_scalar_is_refused(build: Callable[[], Step]) -> None:
    with pytest.raises(ValueError, match="non-scalar"):
        build()


def test_a_one_by_one_matrix_is_a_scalar() -> None:
    # xᵀWx is 1×1: its gradient is x xᵀ, and a wrong one fails on explicit matrices
    right = MatrixGradient(xv.T * W * xv, xv * xv.T, "quadratic form", wrt=W)
    wrong = MatrixGradient(xv.T * W * xv, xv * xv.T + sp.Identity(n), "quadratic form, wrong", wrt=W)
    assert verify(_single(right, tag="one-by-one")).status is not Status.FAILED
    assert verify(_single(wrong, tag="one-by-one-wrong")).status is Status.FAILED
    explicit = MatrixGradient(sp.ImmutableMatrix([[sp.Trace(W2)]]), sp.Identity(2), "1×1 explicit", wrt=W2)
    assert verify(_single(explicit, tag="one-by-one-explicit")).status is not Status.FAILED
