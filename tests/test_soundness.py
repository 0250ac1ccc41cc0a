"""Soundness of the checking ladder: planted false steps must come out *failed*, never proved.

Each plant pairs a false step with a correct counterpart.  The false one must fail;
the true one must not (the checker discriminates, it does not fail everything).
The plants are grouped by the classes of failure of issue 8, at least four each:

1. exact successes never cross-checked (SymPy's own assumption bugs become proofs);
2. statuses that change between runs (see also tests/test_reproducible.py);
3. derivatives at kinks (SymPy's conventions sign(0) = 0, Heaviside(0) = ½);
4. substitutions that contradict a symbol's assumptions;
5. `Equivalent` factors that vanish or blow up somewhere on the domain;
6. infinities and `doit()` trusted (zoo = zoo, sums through 1/0, antiderivatives);
7. assumption facts never checked (a numeric key, contradictory or unrealised facts);
8. a numeric rung too narrow (lattice points, small integers, a tolerance, square 2×2/3×3 only);
9. false alarms (true steps that used to fail);
10. hollow steps (identical sides as built: a construction error).
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
q = sp.Symbol("q", nonnegative=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
m = sp.Symbol("m", integer=True)
n = sp.Symbol("n", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)  # a second, independent dimension
i = sp.Symbol("i", integer=True, positive=True)
w0 = sp.Symbol("w_0", real=True)
A, B, W = (sp.MatrixSymbol(name, n, n) for name in "ABW")
Sigma = sp.MatrixSymbol("Sigma", n, n)
R = sp.MatrixSymbol("R", n, d)
Rs = sp.MatrixSymbol("R", n, n)
sigma = sp.Function("sigma")

SPD = Assumption("Σ ≻ 0", "Σ is symmetric positive definite", facts={Sigma.T: Sigma}, matrix_kinds={Sigma: "spd"})
SIGMA_ZERO = Assumption("σ(0) = 0", "the activation vanishes at 0", facts={sigma(0): 0})
SIGMA_ONE = Assumption("σ(0) = 1", "the activation is 1 at 0", facts={sigma(0): 1})
SYMMETRIC_UNDECLARED = Assumption("Σ symmetric", "no sampling kind declared", facts={Sigma.T: Sigma})
SQUARE_FACT = Assumption("x² = 1", "a fact no sampling realises", facts={x**2: 1})
GRAM = Assumption("Σ = RRᵀ", "Σ is a Gram matrix", facts={Sigma: Rs * Rs.T})
NEGATIVE_SPD = Assumption("Σ = −I", "a definition that contradicts Σ ≻ 0", facts={Sigma: -sp.Identity(n)},
                          matrix_kinds={Sigma: "spd"})


@dataclass(frozen=True)
class Plant:
    cls: int  # the class of failure (module docstring)
    kind: str  # what sort of mistake is planted
    false: Step  # the planted false step
    true: Step  # its correct counterpart
    assumptions: tuple[Assumption, ...] = ()
    true_assumptions: tuple[Assumption, ...] | None = None  # when the counterpart needs others


def _dx(f: sp.Basic, at: sp.Basic, var: sp.Symbol = x) -> sp.Subs:
    return sp.Subs(sp.Derivative(f, var), var, at)


PLANTS: tuple[Plant, ...] = (
    # ---- 1. exact successes are cross-checked --------------------------------------------------------------
    Plant(1, "cancel across atan(m) + m = 0 at m = 0",
          Equal((m**2 + m * sp.atan(m)) / (m + sp.atan(m)), m, "cancel"),
          Equal((k**2 * t + k * t**2) / (k + t), k * t, "cancel (k + t > 0)")),
    Plant(1, "SymPy: atan(n − 1) > 0 for every positive integer n (0 at n = 1)",
          Inequality(sp.atan(n - 1), 0, "atan of a positive number", relation=">"),
          Inequality(sp.atan(n), 0, "atan of a positive number", relation=">")),
    Plant(1, "SymPy: atan(m)² > 0 for every integer m (0 at m = 0)",
          Inequality(sp.atan(m) ** 2, 0, "a nonzero square", relation=">"),
          Inequality(sp.atan(m) ** 2, 0, "a square", relation="≥")),
    Plant(1, "doit cancels x/x at x = 0",
          Equal(sp.Mul(x, 1 / x, evaluate=False), 1, "x/x = 1"),
          Equal(sp.Mul(t, 1 / t, evaluate=False), 1, "t/t = 1 for t > 0")),
    Plant(1, "SymPy: asin(m)² > 0 for every integer m",
          Inequality(sp.asin(m) ** 2, 0, "a nonzero square", relation=">"),
          Inequality(sp.atan(n) ** 2, 0, "atan of a positive integer", relation=">")),
    # ---- 3. derivatives at kinks ------------------------------------------------------------------------------
    Plant(3, "d|x|/dx at 0 = sign(0) = 0",
          Equal(_dx(sp.Abs(x), 0), 0, "derivative of |x| at 0"),
          Equal(_dx(sp.Abs(x), 1), 1, "derivative of |x| at 1")),
    Plant(3, "ReLU'(0) = Heaviside(0) = ½",
          Equal(_dx(sp.Max(0, x), 0), sp.S.Half, "derivative of ReLU at 0"),
          Equal(_dx(sp.Max(0, x) ** 2, 0), 0, "ReLU² is differentiable at 0")),
    Plant(3, "floor'(1) = 0 across the jump",
          Equal(_dx(sp.floor(x), 1), 0, "floor is locally constant"),
          Equal(sp.Limit((sp.floor(sp.S.Half + t) - sp.floor(sp.S.Half)) / t, t, 0, "+"), 0, "floor is flat near ½")),
    Plant(3, "a Piecewise kink at 0",
          Equal(_dx(sp.Piecewise((x, x < 0), (2 * x, True)), 0), 2, "slope at 0"),
          Equal(_dx(sp.Piecewise((x, x < 0), (2 * x, True)), 1), 2, "slope at 1")),
    Plant(3, "x·sign(x) = |x| has no derivative at 0",
          Equal(_dx(x * sp.sign(x), 0), 0, "product rule with sign'(0) = 0"),
          Equal(_dx(x**2 * sp.sign(x), 0), 0, "x|x| is differentiable at 0")),
    Plant(3, "Heaviside'(0)",
          Equal(_dx(sp.Heaviside(x), 0), 0, "Heaviside is flat"),
          Equal(_dx(sp.Heaviside(x), 2), 0, "Heaviside is flat away from 0")),
    # ---- 4. substitutions respect assumptions -----------------------------------------------------------------
    Plant(4, "a negative value for a positive symbol (√(t²) was simplified to t)",
          Substitute(sp.Pow(sp.Pow(t, 2, evaluate=False), sp.S.Half, evaluate=False), -1, "set t = −1", subs={t: -1}),
          Substitute(sp.Pow(sp.Pow(t, 2, evaluate=False), sp.S.Half, evaluate=False), 2, "set t = 2", subs={t: 2})),
    Plant(4, "½ for an integer (cos(πk) was simplified to (−1)^k)",
          Substitute(sp.cos(sp.pi * k), sp.I, "set k = ½", subs={k: sp.S.Half}),
          Substitute(sp.cos(sp.pi * k), -1, "set k = 1", subs={k: 1})),
    Plant(4, "0 for a positive symbol: a limit, not a substitution",
          Substitute(t * sp.log(t), 0, "set t = 0", subs={t: 0}),
          Equal(sp.Limit(t * sp.log(t), t, 0, "+"), 0, "the limit t → 0⁺")),
    Plant(4, "a negative value for a nonnegative symbol inside Subs",
          Equal(sp.Subs(sp.sqrt(q**2), q, -3), -3, "evaluate at q = −3"),
          Equal(sp.Subs(sp.sqrt(q**2), q, 3), 3, "evaluate at q = 3")),
    Plant(4, "a real value for an integer symbol (floor(k) was simplified to k)",
          Substitute(sp.floor(k) + x, y + x, "set k = y", subs={k: y}),
          Substitute(sp.floor(k) + x, 3 + x, "set k = 3", subs={k: 3})),
    # ---- 5. Equivalent factors ---------------------------------------------------------------------------------
    Plant(5, "a factor that SymPy thinks nonzero, 0 at m = 0 (atan)",
          Equivalent(sp.Eq(x, 1), sp.Eq(x * sp.atan(m), sp.atan(m)), "divide by atan m", factor=1 / sp.atan(m)),
          Equivalent(sp.Eq(x, 1), sp.Eq(2 * x, 2), "divide by 2", factor=sp.S.Half)),
    Plant(5, "an infinite factor",
          Equivalent(sp.Eq(x, 1), sp.Eq(y, 2), "scale", factor=sp.oo),
          Equivalent(sp.Eq(x, 1), sp.Eq(t * x, t), "divide by t > 0", factor=1 / t)),
    Plant(5, "a factor that blows up at x = 0",
          Equivalent(sp.Eq(x**2, x), sp.Eq(x, 1), "divide by x", factor=x),
          Equivalent(sp.Eq(sp.exp(y) * x, sp.exp(y)), sp.Eq(x, 1), "divide by eʸ", factor=sp.exp(y))),
    Plant(5, "a factor zero somewhere: multiplying by 0",
          Equivalent(sp.Eq(x, 1), sp.Eq(y, 2), "scale", factor=sp.S.Zero),
          Equivalent(sp.Eq(2 * x, 2), sp.Eq(x, 1), "divide by 2", factor=sp.Integer(2))),
    Plant(5, "a factor 1/(n − 2), infinite at n = 2",
          Equivalent(sp.Eq(x, 1), sp.Eq((n - 2) * x, n - 2), "divide by n − 2", factor=1 / (n - 2)),
          Equivalent(sp.Eq(x, 1), sp.Eq((n + 2) * x, n + 2), "divide by n + 2", factor=1 / (n + 2))),
    Plant(5, "an undefined factor zoo",
          Equivalent(sp.Eq(x, 1), sp.Eq(y, 2), "scale", factor=sp.zoo),
          Equivalent(sp.Eq(x, 1), sp.Eq(-x, -1), "negate", factor=sp.S.NegativeOne)),
    # ---- 6. infinities and doit() --------------------------------------------------------------------------------
    Plant(6, "zoo = zoo proves −∞ = +∞",
          Equal(sp.Subs(1 / x, x, 0), sp.Subs(-1 / x, x, 0), "both sides at 0"),
          Equal(sp.Subs(1 / x, x, 2), sp.Subs(-1 / x, x, -2), "both sides at ±2")),
    Plant(6, "a closed-form sum through 1/0 (i = 3)",
          Equal(sp.Sum(1 / (i - 3), (i, 1, n)), sp.harmonic(n - 3) + sp.Rational(3, 2), "harmonic numbers"),
          Equal(sp.Sum(1 / (i + 3), (i, 1, n)), sp.harmonic(n + 3) - sp.Rational(11, 6), "harmonic numbers")),
    Plant(6, "an antiderivative for every integer m (undefined at m = −1)",
          Equal(sp.Integral(t**m, t), t ** (m + 1) / (m + 1), "power rule"),
          Equal(sp.Integral(t**k, t), t ** (k + 1) / (k + 1), "power rule, k ≥ 0")),
    Plant(6, "a one-sided limit on the wrong side",
          Equal(sp.Limit(1 / x, x, 0, "-"), sp.oo, "one-sided limit"),
          Equal(sp.Limit(1 / x, x, 0, "+"), sp.oo, "one-sided limit")),
    Plant(6, "an infinity that is not a limit",
          Equal(sp.Subs(sp.log(x), x, 0), -sp.oo, "log 0 = −∞"),
          Equal(sp.Limit(sp.log(x), x, 0, "+"), -sp.oo, "log x → −∞ as x → 0⁺")),
    Plant(6, "oo − oo is undefined, not 0",
          Equal(sp.Limit(x, x, sp.oo) - sp.Limit(x**2, x, sp.oo), 0, "the two limits cancel"),
          Equal(sp.Limit(x - x**2, x, sp.oo), -sp.oo, "the limit of the difference")),
    # ---- 7. assumption facts are validated ------------------------------------------------------------------------
    Plant(7, "contradictory facts σ(0) = 0 and σ(0) = 1",
          Substitute(W * sigma(y), sp.ZeroMatrix(n, n), "σ(0) = 0", subs={y: 0}),
          Substitute(W * sigma(y), sp.ZeroMatrix(n, n), "σ(0) = 0", subs={y: 0}),
          (SIGMA_ZERO, SIGMA_ONE), (SIGMA_ZERO,)),
    Plant(7, "a fact Σᵀ = Σ that the declared sampling does not realise",
          MatrixGradient(sp.Trace(W * Sigma * W.T) / 2, W * Sigma, "gradient, Σ symmetric", wrt=W),
          MatrixGradient(sp.Trace(W * Sigma * W.T) / 2, W * Sigma, "gradient, Σ symmetric", wrt=W),
          (SYMMETRIC_UNDECLARED,), (SPD,)),
    Plant(7, "a scalar fact x² = 1 that no sampling realises",
          Equal(x**2 + 1, 2, "x² = 1"),
          Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square"),
          (SQUARE_FACT,), ()),
    Plant(7, "a definition that contradicts the declared kind",
          Inequality(sp.Trace(Sigma), 0, "the trace of an SPD matrix is positive", relation=">"),
          Inequality(sp.Trace(Sigma), 0, "the trace of an SPD matrix is positive", relation=">"),
          (NEGATIVE_SPD,), (SPD,)),
    Plant(7, "a substitution that needs an unstated σ(0) = 0",
          Substitute(W * sigma(y) + A, sp.ZeroMatrix(n, n), "y = 0 kills the branch",
                     subs={y: 0, A: sp.ZeroMatrix(n, n)}),
          Substitute(W * sigma(y) + A, sp.ZeroMatrix(n, n), "W = 0 kills the branch",
                     subs={W: sp.ZeroMatrix(n, n), A: sp.ZeroMatrix(n, n)})),
    Plant(7, "a definition used where the kind matters: Σ = RRᵀ is symmetric, RᵀR ≠ RRᵀ",
          Equal(Sigma, Rs.T * Rs, "Σ = RᵀR"),
          Equal(Sigma.T, Sigma, "a Gram matrix is symmetric"),
          (GRAM,), (GRAM,)),
    # ---- 8. a wide enough numeric rung ------------------------------------------------------------------------------
    Plant(8, "high frequency: sin(8πx) vanishes on a lattice",
          Equal(sp.sin(8 * sp.pi * x), 0, "periodic"),
          Equal(sp.sin(8 * sp.pi * x) ** 2 + sp.cos(8 * sp.pi * x) ** 2, 1, "Pythagoras")),
    Plant(8, "an exact difference of 10⁻³⁰",
          Equal(x + sp.Rational(1, 10**30), x, "negligible"),
          Equal(sp.Add(x, sp.Rational(1, 10**30), -sp.Rational(1, 10**30), evaluate=False), x, "exact")),
    Plant(8, "Ramanujan's near-integer e^{π√163} (relative difference 3·10⁻³⁰)",
          Equal(sp.exp(sp.pi * sp.sqrt(163)), 640320**3 + 744, "near-integer"),
          Inequality(sp.exp(sp.pi * sp.sqrt(163)), 640320**3 + 744, "just below", relation="<")),
    Plant(8, "an identity that holds only for n = 2 and n = 3",
          Equal(sp.Trace(sp.Identity(n)) ** 2 - 5 * sp.Trace(sp.Identity(n)) + 6, 0, "n² − 5n + 6"),
          Equal(sp.Trace(sp.Identity(n)) ** 2, n**2, "tr(I)² = n²")),
    Plant(8, "an identity that holds only for square matrices",
          Equal(sp.Trace(R * R.T) * d, sp.Trace(R.T * R) * n, "rescaled traces"),
          Equal(sp.Trace(R * R.T), sp.Trace(R.T * R), "cyclic trace, rectangular R")),
    Plant(8, "integers beyond −5…6",
          Inequality(sp.Max(m, 20), 21, "bounded", relation="<"),
          Inequality(sp.Max(m, 20), 20, "bounded below", relation="≥")),
    Plant(8, "magnitudes beyond 3",
          Inequality(t, 100, "small", relation="<"),
          Inequality(t, -100, "positive", relation=">")),
    Plant(8, "a period that divides every point of a fixed lattice",
          Equal(sp.cos(2 * sp.pi * 97 * x), 1, "periodic"),
          Equal(sp.cos(2 * sp.pi * 97 * (x + 1)), sp.cos(2 * sp.pi * 97 * x), "one period on")),
    # ---- 9. no false alarms (the true side is what matters) --------------------------------------------------------
    Plant(9, "gradient of tr(W⁻¹) (rational entries)",
          MatrixGradient(sp.Trace(W.inverse()), (W.inverse() * W.inverse()).T, "sign dropped", wrt=W),
          MatrixGradient(sp.Trace(W.inverse()), -(W.inverse() * W.inverse()).T, "d tr(W⁻¹)", wrt=W)),
    Plant(9, "gradient of det W (SymPy's symbolic rung cannot reduce it)",
          MatrixGradient(sp.Determinant(W), sp.Determinant(W) * W.inverse(), "transpose missing", wrt=W),
          MatrixGradient(sp.Determinant(W), sp.Determinant(W) * W.inverse().T, "Jacobi's formula", wrt=W)),
    Plant(9, "gradient of log det W",
          MatrixGradient(sp.log(sp.Determinant(W)), W.inverse(), "transpose missing", wrt=W),
          MatrixGradient(sp.log(sp.Determinant(W)), W.inverse().T, "d log det W = W⁻ᵀ", wrt=W)),
    Plant(9, "gradient without the symmetry it needs",
          MatrixGradient(sp.Trace(W * A * W.T) / 2, W * A, "gradient of a quadratic form", wrt=W),
          MatrixGradient(sp.Trace(W * A * W.T), W * (A + A.T), "gradient of a quadratic form", wrt=W)),
    Plant(9, "SymPy's silent zero for a sum of traces",
          MatrixGradient(sp.Trace(W.T * W) + sp.Trace(A.T * A), sp.ZeroMatrix(n, n), "gradient", wrt=W),
          MatrixGradient(sp.Trace(W.T * W) + sp.Trace(A.T * A), 2 * W, "gradient", wrt=W)),
    # ---- classic slips (every class of the ladder must catch them) ------------------------------------------------
    Plant(0, "sign error", Equal((x - y) ** 2, x**2 + 2 * x * y + y**2, "square"),
          Equal((x - y) ** 2, x**2 - 2 * x * y + y**2, "square")),
    Plant(0, "dropped factor", Equal(sp.Derivative(x**3, x), x**2, "power rule"),
          Equal(sp.Derivative(x**3, x), 3 * x**2, "power rule")),
    Plant(0, "missing transpose", Equal(sp.Transpose(A * B), A.T * B.T, "transpose of a product"),
          Equal(sp.Transpose(A * B), B.T * A.T, "transpose of a product")),
    Plant(0, "wrong inverse order", Equal(sp.Inverse(A * B), A.inv() * B.inv(), "inverse of a product"),
          Equal(sp.Inverse(A * B), B.inv() * A.inv(), "inverse of a product")),
    Plant(0, "√(x²) = x without x ≥ 0", Equal(sp.sqrt(x**2), x, "square root"),
          Equal(sp.Pow(x**2, sp.S.Half, evaluate=False), sp.Abs(x), "square root")),
    Plant(0, "noncommuting binomial", Equal((A + B) ** 2, A**2 + 2 * A * B + B**2, "binomial"),
          Equal((A + B) ** 2, A**2 + A * B + B * A + B**2, "binomial, noncommutative")),
    Plant(0, "log of a product across the branch cut", Equal(sp.log(x * y), sp.log(x) + sp.log(y), "log rule"),
          Equal(sp.log(t * lam), sp.log(t) + sp.log(lam), "log rule for positive symbols")),
    Plant(0, "wrong closed-form sum", Equal(sp.Sum(i, (i, 1, n)), n**2 / 2, "arithmetic series"),
          Equal(sp.Sum(i, (i, 1, n)), n * (n + 1) / 2, "arithmetic series")),
    Plant(0, "off-by-one in a GD recursion",
          Equal((1 - eta * lam) ** (k + 1) * w0, (1 - eta * lam) ** (k + 2) * w0 / (1 - eta * lam) ** 2, "step"),
          Equal((1 - eta * lam) ** (k + 1) * w0, (1 - eta * lam) * ((1 - eta * lam) ** k * w0), "step")),
    Plant(0, "sign of a derivative", Equal(sp.Derivative(sp.exp(-lam * t), t), lam * sp.exp(-lam * t), "chain"),
          Equal(sp.Derivative(sp.exp(-lam * t), t), -lam * sp.exp(-lam * t), "chain rule")),
    Plant(0, "false inequality", Inequality(sp.exp(-x), 1, "exp(−x) < 1", relation="<"),
          Inequality(sp.exp(-t), 1, "exp(−t) < 1 for t > 0", relation="<")),
    Plant(0, "product rule for traces", Equal(sp.Trace(A * B), sp.Trace(A) * sp.Trace(B), "trace of a product"),
          Equal(sp.Trace(A + B), sp.Trace(A) + sp.Trace(B), "trace is linear")),
    Plant(0, "wrong definite integral", Equal(sp.Integral(t, (t, 0, 1)), 1, "integral"),
          Equal(sp.Integral(t, (t, 0, 1)), sp.S.Half, "integral")),
    Plant(0, "wrong matrix derivative", MatrixGradient(sp.Trace(W.T * W), W, "gradient of ‖W‖²", wrt=W),
          MatrixGradient(sp.Trace(W.T * W), 2 * W, "gradient of ‖W‖²", wrt=W)),
    Plant(0, "complementary arctangents for negative x",
          Equal(sp.atan(x) + sp.atan(1 / x), sp.pi / 2, "complementary arctangents"),
          Equal(sp.atan(t) + sp.atan(1 / t), sp.pi / 2, "complementary arctangents, t > 0")),
)


def _single(step: Step, assumptions: tuple[Assumption, ...], tag: str) -> Derivation:
    return Derivation(id=f"soundness.{tag}", title=tag, claims=(), statement="", steps=(step,), assumptions=assumptions)


@pytest.mark.parametrize("plant", PLANTS, ids=[f"{p.cls}-{p.kind}" for p in PLANTS])
def test_planted_false_step_fails(plant: Plant) -> None:
    result = verify(_single(plant.false, plant.assumptions, plant.kind))
    assert result.status is Status.FAILED, result.report()
    assert result.steps[0].status is Status.FAILED


@pytest.mark.parametrize("plant", PLANTS, ids=[f"{p.cls}-{p.kind}" for p in PLANTS])
def test_correct_counterpart_is_not_failed(plant: Plant) -> None:
    assumptions = plant.assumptions if plant.true_assumptions is None else plant.true_assumptions
    result = verify(_single(plant.true, assumptions, plant.kind))
    assert result.status is not Status.FAILED, result.report()


def test_at_least_sixty_plants_and_four_per_class() -> None:
    assert len(PLANTS) >= 60
    for cls in (1, 3, 4, 5, 6, 7, 8, 9):
        assert sum(1 for p in PLANTS if p.cls == cls) >= 4, cls


# ---- 7 and 10: errors at construction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Assumption("ReLU(0) = 0", "a key that evaluated to a number", facts={sp.Max(0, 0): 0}),
        lambda: Assumption("0 = 1", "a numeric key", facts={sp.S.Zero: 1}),
        lambda: Assumption("tanh(0) = 0", "a key that evaluated to a number", facts={sp.tanh(0): 0}),
        lambda: Assumption("x = x", "a fact that states nothing", facts={x: x}),
    ],
    ids=["relu(0)", "zero", "tanh(0)", "tautology"],
)
def test_a_fact_with_a_numeric_key_is_refused_at_construction(build: object) -> None:
    with pytest.raises(ValueError, match="fact"):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Equal(sp.diff(x**3, x), 3 * x**2, "diff evaluated at construction"),
        lambda: Equal(sp.Lambda(x, x**2)(y), y**2, "a Lambda applied"),
        lambda: Equal(x + y - y, x, "automatic cancellation"),
        lambda: Equal((A * B).T, B.T * A.T, "the transpose evaluated"),
        lambda: Substitute(w0, w0, "a substitution that changes nothing", subs={x: 1}),
        lambda: Inequality(x, x, "x ≤ x", relation="≤"),
        lambda: Equivalent(sp.Eq(x, 1), sp.Eq(x, 1), "an equation is equivalent to itself"),
    ],
    ids=["diff", "lambda", "cancel", "transpose", "substitute", "inequality", "equivalent"],
)
def test_a_hollow_step_is_a_construction_error(build: object) -> None:
    with pytest.raises(ValueError, match="hollow"):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    "step",
    [
        Equal(sp.Derivative(x**3, x), 3 * x**2, "the derivative, unevaluated"),
        Equal(sp.Subs(sp.Lambda(x, x**2)(x), x, y), y**2, "the Lambda applied by the checker"),
        Equal(sp.Add(x + y, -y, evaluate=False), x, "the cancellation, shown"),
        Equal(sp.Transpose(A * B), B.T * A.T, "the transpose, unevaluated"),
        Equal(sp.tanh(0, evaluate=False), 0, "tanh(0) evaluated by the checker"),
    ],
    ids=["derivative", "subs", "add", "transpose", "unevaluated"],
)
def test_the_unevaluated_form_of_a_hollow_step_is_proved(step: Step) -> None:
    result = verify(_single(step, (), "unevaluated"))
    assert result.status is Status.PROVED, result.report()


# ---- the rest of the contract -------------------------------------------------------------------------------------

ARCTAN_IDENTITY = Equal(sp.atan(t) + sp.atan(1 / t), sp.pi / 2, "complementary arctangents")


def test_numeric_agreement_is_reported_as_checked_never_proved() -> None:
    # atan t + atan(1/t) = π/2 for t > 0 is true, but no exact engine reduces it: *checked*
    result = verify(_single(ARCTAN_IDENTITY, (), "arctan"))
    assert result.steps[0].status is Status.CHECKED
    assert result.steps[0].method.startswith("numeric")
    assert result.steps[0].engines == ()
    assert result.status is Status.CHECKED


def test_a_proved_step_names_its_engines_and_its_numeric_cross_check() -> None:
    result = verify(_single(Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square"), (), "engines"))
    step = result.steps[0]
    assert step.status is Status.PROVED
    assert set(step.engines) == {"sympy", "z3"}  # a polynomial identity: both engines certify it
    assert any(c.startswith("numeric") for c in step.cross_checks)


def test_z3_certifies_an_inequality_sympy_cannot() -> None:
    # 2xy ≤ x² + y² (AM-GM): SymPy's assumption system cannot sign x² − 2xy + y²; z3 decides it
    result = verify(_single(Inequality(2 * x * y, x**2 + y**2, "AM-GM", relation="≤"), (), "amgm"))
    assert result.steps[0].status is Status.PROVED, result.report()
    assert "z3" in result.steps[0].engines


def test_trace_cyclicity_is_proved_by_the_trace_rung() -> None:
    # tr(AB) = tr(BA) is a theorem the ladder applies exactly (and cross-checks on matrices) ...
    result = verify(_single(Equal(sp.Trace(A * B * W), sp.Trace(W * A * B), "cyclic trace"), (), "cyclic"))
    assert result.status is Status.PROVED, result.report()
    # ... but it does not license a non-cyclic permutation
    wrong = verify(_single(Equal(sp.Trace(A * B * W), sp.Trace(B * A * W), "not cyclic"), (), "acyclic"))
    assert wrong.status is Status.FAILED


def test_one_checked_step_keeps_a_derivation_from_being_proved() -> None:
    proved = Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square")
    result = verify(Derivation(id="mixed", title="", claims=(), statement="", steps=(proved, ARCTAN_IDENTITY)))
    assert [s.status for s in result.steps] == [Status.PROVED, Status.CHECKED]
    assert result.status is Status.CHECKED


def test_a_derivation_without_steps_is_not_proved() -> None:
    assert verify(Derivation(id="empty", title="", claims=(), statement="", steps=())).status is Status.FAILED


def test_stated_fact_licenses_the_substitution() -> None:
    step = Substitute(W * sigma(y) + A, sp.ZeroMatrix(n, n), "y = 0", subs={y: 0, A: sp.ZeroMatrix(n, n)})
    result = verify(_single(step, (SIGMA_ZERO,), "fact"))
    assert result.status is Status.PROVED, result.report()


def test_a_crash_inside_sympy_fails_the_step_visibly() -> None:
    step = Equal(sp.MatrixSymbol("v", n, 1), W, "shapes differ")
    result = verify(_single(step, (), "crash"))
    assert result.status is Status.FAILED
    assert result.steps[0].detail


def test_failure_report_shows_both_sides_the_method_and_the_point() -> None:
    result = verify(_single(PLANTS[-15].false, (), "report"))
    text = result.report()
    assert "lhs:" in text and "rhs:" in text and "counterexample" in text and " at " in text


def test_a_counterexample_is_certified_by_exact_or_ball_arithmetic() -> None:
    result = verify(_single(Equal(sp.sin(8 * sp.pi * x), 0, "periodic"), (), "certified"))
    detail = result.steps[0].detail
    assert "by exact" in detail or "by arb" in detail
    assert "not certified" not in detail


def test_explicit_mutable_matrices_are_checked_like_any_side() -> None:
    # sides that are explicit (mutable) matrices holding derivatives: no crash, both directions decided
    good = Equal(sp.Matrix([[sp.Derivative(x**2, x)], [x]]), sp.Matrix([[2 * x], [x]]), "entrywise")
    bad = Equal(sp.Matrix([[sp.Derivative(x**2, x)], [x]]), sp.Matrix([[x], [x]]), "entrywise, wrong")
    assert verify(_single(good, (), "matrix-good")).status is Status.PROVED
    assert verify(_single(bad, (), "matrix-bad")).status is Status.FAILED


# SymPy 1.14 compares these two as equal (and merges them in a matrix), although their values are 1 and 0
_MIXED = sp.Subs(sp.Derivative(x * y, x, y), (x, y), (0, 0))
_PURE = sp.Subs(sp.Derivative(x * y, x, x), (x, y), (0, 0))


def test_substitutions_that_sympy_confuses_are_kept_apart() -> None:
    assert _MIXED == _PURE  # the SymPy bug this guards against; if SymPy fixes it, the test still holds
    wrong = Equal(sp.Matrix([[_MIXED, _PURE]]), sp.zeros(1, 2), "both second derivatives vanish")
    right = Equal(sp.Matrix([[_MIXED, _PURE]]), sp.Matrix([[1, 0]]), "∂²(xy)/∂x∂y = 1, ∂²(xy)/∂x² = 0")
    assert verify(_single(wrong, (), "subs-wrong")).status is Status.FAILED
    assert verify(_single(right, (), "subs-right")).status is Status.PROVED
    # two different substitutions are not one step's two identical sides
    assert verify(_single(Equal(_MIXED, _PURE, "1 = 0"), (), "subs-sides")).status is Status.FAILED


def test_a_formal_statement_is_not_matched_by_a_confused_substitution() -> None:
    from theory.derivation import Formula

    step = Equal(_PURE, 0, "∂²(xy)/∂x² = 0 at the origin")
    d = Derivation(id="subs-statement", title="", claims=(), statement="", steps=(step,),
                   proves=(Formula(_MIXED, "=", 0),))
    result = verify(d)
    assert not result.statement_established
    assert result.status is Status.FAILED
