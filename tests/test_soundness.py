"""Soundness of the checking ladder: planted false steps must come out *failed*.

Each case pairs a planted false step with its correct counterpart.  The false
one must fail (a counterexample, or nothing could decide it); the true one must
not, so the test shows the checker discriminates rather than failing everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sympy as sp

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
t, lam, eta = sp.symbols("t lambda eta", positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
m = sp.Symbol("m", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
A, B, W = (sp.MatrixSymbol(name, n, n) for name in "ABW")
Sigma = sp.MatrixSymbol("Sigma", n, n)
xv = sp.MatrixSymbol("x", n, 1)
sigma = sp.Function("sigma")
w0 = sp.Symbol("w_0", real=True)
i = sp.Symbol("i", integer=True, positive=True)

SPD = Assumption("Σ ≻ 0", "Σ is symmetric positive definite", facts={Sigma.T: Sigma}, matrix_kinds={Sigma: "spd"})
SIGMA_ZERO = Assumption("σ(0) = 0", "the activation vanishes at 0", facts={sigma(0): 0})


@dataclass(frozen=True)
class Plant:
    kind: str  # what sort of mistake is planted
    false: Step  # the planted false step
    true: Step  # its correct counterpart
    assumptions: tuple[Assumption, ...] = ()


PLANTS: tuple[Plant, ...] = (
    Plant(
        "sign error",
        Equal((x - y) ** 2, x**2 + 2 * x * y + y**2, "square"),
        Equal((x - y) ** 2, x**2 - 2 * x * y + y**2, "square"),
    ),
    Plant(
        "dropped factor",
        Equal(sp.Derivative(x**3, x), x**2, "power rule"),
        Equal(sp.Derivative(x**3, x), 3 * x**2, "power rule"),
    ),
    Plant(
        "missing transpose",
        Equal((A * B).T, A.T * B.T, "transpose of a product"),
        Equal((A * B).T, B.T * A.T, "transpose of a product"),
    ),
    Plant(
        "wrong power",
        Equal((x * y) ** 3, x**3 * y**2, "power of a product"),
        Equal((x * y) ** 3, x**3 * y**3, "power of a product"),
    ),
    Plant(
        "wrong inverse order",
        Equal((A * B).inv(), A.inv() * B.inv(), "inverse of a product"),
        Equal((A * B).inv(), B.inv() * A.inv(), "inverse of a product"),
    ),
    Plant(
        "sqrt(x²) = x without x ≥ 0",
        Equal(sp.sqrt(x**2), x, "square root"),
        Equal(sp.sqrt(t**2), t, "square root of a positive symbol"),
    ),
    Plant(
        "wrong matrix derivative",
        MatrixGradient(sp.Trace(W.T * W), W, "gradient of ‖W‖²", wrt=W),
        MatrixGradient(sp.Trace(W.T * W), 2 * W, "gradient of ‖W‖²", wrt=W),
    ),
    Plant(
        "identity only for commuting matrices",
        Equal((A + B) ** 2, A**2 + 2 * A * B + B**2, "binomial"),
        Equal((A + B) ** 2, A**2 + A * B + B * A + B**2, "binomial, noncommutative"),
    ),
    Plant(
        "limit taken on the wrong side",
        Equal(sp.Limit(1 / x, x, 0, "-"), sp.oo, "one-sided limit"),
        Equal(sp.Limit(1 / x, x, 0, "+"), sp.oo, "one-sided limit"),
    ),
    Plant(
        "SymPy's silent zero for a sum of traces",
        MatrixGradient(sp.Trace(W.T * W) + sp.Trace(A.T * A), sp.ZeroMatrix(n, n), "gradient", wrt=W),
        MatrixGradient(sp.Trace(W.T * W) + sp.Trace(A.T * A), 2 * W, "gradient", wrt=W),
    ),
    Plant(
        "log of a product across the branch cut",
        Equal(sp.log(x * y), sp.log(x) + sp.log(y), "log rule"),
        Equal(sp.log(t * lam), sp.log(t) + sp.log(lam), "log rule for positive symbols"),
    ),
    Plant(
        "wrong closed-form sum",
        Equal(sp.Sum(i, (i, 1, m)), m**2 / 2, "arithmetic series"),
        Equal(sp.Sum(i, (i, 1, m)), m * (m + 1) / 2, "arithmetic series"),
    ),
    Plant(
        "off-by-one in a GD recursion",
        Equal((1 - eta * lam) ** (k + 1) * w0, (1 - eta * lam) ** (k + 2) * w0 / (1 - eta * lam) ** 2, "step"),
        Equal((1 - eta * lam) ** (k + 1) * w0, (1 - eta * lam) * ((1 - eta * lam) ** k * w0), "step"),
    ),
    Plant(
        "sign of a derivative",
        Equal(sp.Derivative(sp.exp(-lam * t), t), lam * sp.exp(-lam * t), "chain rule"),
        Equal(sp.Derivative(sp.exp(-lam * t), t), -lam * sp.exp(-lam * t), "chain rule"),
    ),
    Plant(
        "false inequality",
        Inequality(sp.exp(-x), 1, "exp(−x) < 1", relation="<"),
        Inequality(sp.exp(-t), 1, "exp(−t) < 1 for t > 0", relation="<"),
    ),
    Plant(
        "product rule for traces",
        Equal(sp.Trace(A * B), sp.Trace(A) * sp.Trace(B), "trace of a product"),
        Equal(sp.Trace(A + B), sp.Trace(A) + sp.Trace(B), "trace is linear"),
    ),
    Plant(
        "wrong definite integral",
        Equal(sp.Integral(t, (t, 0, 1)), 1, "integral"),
        Equal(sp.Integral(t, (t, 0, 1)), sp.S.Half, "integral"),
    ),
    Plant(
        "substitution that needs an unstated σ(0) = 0",
        Substitute(
            W * sigma(y) + A, sp.ZeroMatrix(n, n), "W₁ = 0 kills the branch", subs={y: 0, A: sp.ZeroMatrix(n, n)}
        ),
        Substitute(
            W * sigma(y) + A,
            sp.ZeroMatrix(n, n),
            "W₂ = 0 kills the branch",
            subs={W: sp.ZeroMatrix(n, n), A: sp.ZeroMatrix(n, n)},
        ),
    ),
    Plant(
        "equivalence by multiplying with zero",
        Equivalent(sp.Eq(x, 1), sp.Eq(y, 2), "scale", factor=sp.S.Zero),
        Equivalent(sp.Eq(2 * x, 2), sp.Eq(x, 1), "divide by 2", factor=sp.Integer(2)),
    ),
    Plant(
        "gradient without the symmetry it needs",
        MatrixGradient(sp.Trace(W * A * W.T) / 2, W * A, "gradient of a quadratic form", wrt=W),
        MatrixGradient(sp.Trace(W * Sigma * W.T) / 2, W * Sigma, "gradient, Σ symmetric", wrt=W),
        (SPD,),
    ),
)


def _single(step: Step, assumptions: tuple[Assumption, ...], tag: str) -> Derivation:
    return Derivation(id=f"soundness.{tag}", title=tag, claims=(), statement="", steps=(step,), assumptions=assumptions)


@pytest.mark.parametrize("plant", PLANTS, ids=[p.kind for p in PLANTS])
def test_planted_false_step_fails(plant: Plant) -> None:
    result = verify(_single(plant.false, plant.assumptions, plant.kind))
    assert result.status is Status.FAILED, result.report()
    assert result.steps[0].status is Status.FAILED


@pytest.mark.parametrize("plant", PLANTS, ids=[p.kind for p in PLANTS])
def test_correct_counterpart_is_not_failed(plant: Plant) -> None:
    result = verify(_single(plant.true, plant.assumptions, plant.kind))
    assert result.status is not Status.FAILED, result.report()


def test_at_least_twelve_kinds_of_planted_error() -> None:
    assert len({p.kind for p in PLANTS}) >= 12


# atan t + atan(1/t) = π/2 for t > 0 is true, but none of the exact rungs reduces it
ARCTAN_IDENTITY = Equal(sp.atan(t) + sp.atan(1 / t), sp.pi / 2, "complementary arctangents")


def test_numeric_agreement_is_reported_as_checked_never_proved() -> None:
    # the random points agree, so the step is *checked*, and the derivation is not proved
    result = verify(_single(ARCTAN_IDENTITY, (), "arctan"))
    assert result.steps[0].status is Status.CHECKED
    assert result.steps[0].method.startswith("numeric")
    assert result.status is Status.CHECKED


def test_trace_cyclicity_is_proved_by_the_trace_rung() -> None:
    # tr(AB) = tr(BA) is a theorem the ladder applies exactly (and cross-checks on matrices) ...
    result = verify(_single(Equal(sp.Trace(A * B * W), sp.Trace(W * A * B), "cyclic trace"), (), "cyclic"))
    assert result.status is Status.PROVED, result.report()
    # ... but it does not license a non-cyclic permutation
    wrong = verify(_single(Equal(sp.Trace(A * B * W), sp.Trace(B * A * W), "not cyclic"), (), "acyclic"))
    assert wrong.status is Status.FAILED


def test_one_checked_step_keeps_a_derivation_from_being_proved() -> None:
    proved = Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square")
    checked = ARCTAN_IDENTITY
    result = verify(Derivation(id="mixed", title="", claims=(), statement="", steps=(proved, checked)))
    assert [s.status for s in result.steps] == [Status.PROVED, Status.CHECKED]
    assert result.status is Status.CHECKED


def test_a_derivation_without_steps_is_not_proved() -> None:
    assert verify(Derivation(id="empty", title="", claims=(), statement="", steps=())).status is Status.FAILED


def test_stated_fact_licenses_the_substitution() -> None:
    # the same substitution as the planted one above, with σ(0) = 0 stated: now proved
    step = Substitute(W * sigma(y) + A, sp.ZeroMatrix(n, n), "W₁ = 0", subs={y: 0, A: sp.ZeroMatrix(n, n)})
    result = verify(_single(step, (SIGMA_ZERO,), "fact"))
    assert result.status is Status.PROVED, result.report()


def test_a_crash_inside_sympy_fails_the_step_visibly() -> None:
    # a shape mismatch cannot be compared: the step fails, it does not pass or raise
    step = Equal(xv, W, "shapes differ")
    result = verify(_single(step, (), "crash"))
    assert result.status is Status.FAILED
    assert result.steps[0].detail


def test_failure_report_shows_both_sides_and_the_method() -> None:
    result = verify(_single(PLANTS[0].false, (), "report"))
    text = result.report()
    assert "lhs:" in text and "rhs:" in text and "counterexample" in text and "square" in text
