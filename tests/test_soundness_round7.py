"""Soundness, round 7: the classes a seventh red-team found (/tmp/rt7/hostile.py), each plant beside true controls.

1. a definition (a fact y = x², S = WWᵀ) was a constant under ∂, ∫, Subs and in a `MatrixGradient`: SymPy's `doit`
   ran before the facts were applied, and the numeric instances gave y a number first, so ∂y/∂x = 0,
   ∫₀¹ y dx = y and ∂tr(S)/∂W = 0 were proved (and the true ∂y/∂x = 2x failed).  Now a defined symbol is written
   out inside every binder and in a gradient's function (`theory.core.check.defined_within`);
2. a substitution premise whose value holds its own symbol ("at x = x + 1") is the equation x = x + 1: vacuous when
   no x solves it (`theory.core.premise.unsatisfiable`), like "at A = A + I" for matrices;
3. a function premise that contradicts the facts about that function ("at f = id" with f(0) = 1);
4. matrix sizes: a step false only for size 1 was failed or checked depending on the derivation's id and the step's
   place (sizes drawn at random), and sizes were 1–4 only (a fact zero for n ≤ 4 was accepted as a premise and
   proved false steps; n·tr(AAᵀ) ≤ 4·tr(AAᵀ) was checked): the first mixed instance is now all 1, the next gives
   the first dimension 5 (sizes 1–5);
(Round 8 red-teamed the new code: a definition written into another's bound variable (y = Σ_k kj with k = j),
an inner binder's variable renamed when its value was put in, a dimension's definition ignored under binders
(n = m + 1), ∂x/∂y with y = 2x (x held fixed or a function of y? refused as ambiguous), a Limit's own
variable replaced by a sampled value (lim_{x→1} x + x = 1 + x failed), and a premise on x that did not reach y = x²
outside binders (at x = 2: y ⇒ 4 failed).)
5. t^t > e^{−1/e} was checked: the extreme-point search gave up on d/dt tᵗ = tᵗ(log t + 1) = 0 as a whole; each
   factor is now solved alone (t = 1/e).
"""

from __future__ import annotations

import pytest
import sympy as sp
from _soundness import Case, Control, assert_control_holds, assert_planted_fails, verify_alone

from theory.core import sampling
from theory.derivation import Assumption, Equal, Equivalent, Inequality, MatrixGradient, Status, Substitute

x, y = sp.symbols("x y", real=True)
p = sp.Symbol("p", positive=True)
t = sp.Symbol("t", positive=True)
n = sp.Symbol("n", integer=True, positive=True)
f = sp.Function("f")
T = sp.Trace
W, S, A, V = (sp.MatrixSymbol(s, n, n) for s in "WSAV")
G = T(A * A.T)
DEF_Y = Assumption("y = x²", "y is defined as x²", facts={y: x**2})
DEF_Z = Assumption("z = y + 1", "z is defined as y + 1", facts={y: x**2, sp.Symbol("z", real=True): y + 1})
DEF_S = Assumption("S = WWᵀ", "S is defined as WWᵀ", facts={S: W * W.T})
DEF_V = Assumption("V = Wᵀ", "V is defined as Wᵀ", facts={V: W.T})
F0 = Assumption("f(0) = 1", "f(0) = 1", facts={f(0): 1})
z = sp.Symbol("z", real=True)
w = sp.Symbol("w", real=True)
DEF_SV = Assumption("S = VVᵀ, V = Wᵀ", "S = VVᵀ and V = Wᵀ", facts={S: V * V.T, V: W.T})
N3 = Assumption("n = 3", "n = 3", facts={n: 3})
j, k = sp.symbols("j k", integer=True)
m = sp.Symbol("m", integer=True, positive=True)
s = sp.Symbol("s", real=True)
CAPTURE = Assumption("y = Σ kj, k = j", "y = Σ_{k≤3} kj and k = j", facts={y: sp.Sum(k * j, (k, 1, 3)), k: j})
N_DEF = Assumption("n = m + 1", "n = m + 1", facts={n: m + 1})
DEF_2X = Assumption("y = 2x", "y = 2x", facts={y: 2 * x})
DEF_S_SYM = Assumption("y = s", "y = s", facts={y: s})
P5 = n * (n - 1) * (n - 2) * (n - 3) * (n - 4)  # zero for every size up to 4
P5_FACT = Assumption("P5", "n(n−1)(n−2)(n−3)(n−4)·tr(AAᵀ) = 0", facts={P5 * G: 0}, matrix_kinds={A: "general"})


FALSE: tuple[Case, ...] = (
    # 1. definitions under binders
    ("1 y = x²: ∂y/∂x = 0", lambda: Equal(sp.Derivative(y, x), 0, "r"), (DEF_Y,)),
    ("1 y = x²: ∂y/∂x ≥ 0", lambda: Inequality(sp.Derivative(y, x), 0, "r", relation="≥"), (DEF_Y,)),
    ("1 y = x²: ∫₀¹ y dx = y", lambda: Equal(sp.Integral(y, (x, 0, 1)), y, "r"), (DEF_Y,)),
    ("1 y = x²: ∂y/∂x at 1 = 0", lambda: Equal(sp.Subs(sp.Derivative(y, x), x, 1), 0, "r"), (DEF_Y,)),
    ("1 y = x²: ∂(xy)/∂x = y", lambda: Equal(sp.Derivative(x * y, x), y, "r"), (DEF_Y,)),
    ("1 z = y + 1, y = x²: ∂z/∂x = 0", lambda: Equal(sp.Derivative(z, x), 0, "r"), (DEF_Z,)),
    ("1 S = WWᵀ: ∂tr S/∂W = 0", lambda: MatrixGradient(T(S), sp.ZeroMatrix(n, n), "r", wrt=W), (DEF_S,)),
    ("1 V = Wᵀ: ∂tr(VW)/∂W = W", lambda: MatrixGradient(T(V * W), W, "r", wrt=W), (DEF_V,)),
    ("1 z = y + 1, y = x²: ∂z/∂y = 0", lambda: Equal(sp.Derivative(z, y), 0, "r"), (DEF_Z,)),
    ("1 z = y + 1, y = x²: ∂(y² + z)/∂y = 2y", lambda: Equal(sp.Derivative(y**2 + z, y), 2 * y, "r"), (DEF_Z,)),
    ("1 S = VVᵀ, V = Wᵀ: ∂tr S/∂V = 0", lambda: MatrixGradient(T(S), sp.ZeroMatrix(n, n), "r", wrt=V), (DEF_SV,)),
    ("1 y = x²: at w = ∂y/∂x: w + 1 ⇒ 1", lambda: Substitute(w + 1, 1, "r", subs={w: sp.Derivative(y, x)}), (DEF_Y,)),
    # (round 8: the same code red-teamed again)
    ("1 y = Σ_{k≤3} kj, k = j: ∂(xy)/∂x = 14", lambda: Equal(sp.Derivative(x * y, x), 14, "r"), (CAPTURE,)),
    ("1 n = m + 1: Σ_{m=1}^{3} n = 3n", lambda: Equal(sp.Sum(n, (m, 1, 3)), 3 * n, "r"), (N_DEF,)),
    ("1 n = m + 1: ∂n/∂m = 0", lambda: Equal(sp.Derivative(n, m), 0, "r"), (N_DEF,)),
    ("1 y = 2x: ∂x/∂y = 0 (ambiguous)", lambda: Equal(sp.Derivative(x, y), 0, "r"), (DEF_2X,)),
    ("1 y = s: ∫₀¹ ∂_y(y·∫₀¹ f(sy) dy) dx = ∫₀¹ f(s²) ds", lambda: Equal(
        sp.Integral(sp.Derivative(y * sp.Integral(f(s * y), (y, 0, 1)), y), (x, 0, 1)),
        sp.Integral(f(s**2), (s, 0, 1)), "r"), (DEF_S_SYM,)),
    ("1 y = x²: at x = 2: y ⇒ 5", lambda: Substitute(y, 5, "r", subs={x: 2}), (DEF_Y,)),
    ("1 y = x²: at y = 4: ∫₀¹ y·s ds ⇒ 3", lambda: Substitute(sp.Integral(y * s, (s, 0, 1)), 3, "r", subs={y: 4}),
     (DEF_Y,)),
    ("1 y = x²: (x² − 1)x = 0 ⟺ x = 0, factor y − 1", lambda: Equivalent(
        sp.Eq((x**2 - 1) * x, 0), sp.Eq(x, 0), "r", factor=y - 1), (DEF_Y,)),
    # 2. a premise that is an equation without a solution
    ("2 at x = x + 1: x² ⇒ (x + 1)²", lambda: Substitute(x**2, (x + 1) ** 2, "r", subs={x: x + 1}), ()),
    ("2 at x = x² + 1: x − 1 ⇒ x²", lambda: Substitute(x - 1, x**2, "r", subs={x: x**2 + 1}), ()),
    ("2 at p = p + 1: 1/p ⇒ 1/(p + 1)", lambda: Substitute(1 / p, 1 / (p + 1), "r", subs={p: p + 1}), ()),
    # 3. a function premise against the facts
    ("3 f(0) = 1; at f = id: f(0) + 1 ⇒ 1",
     lambda: Substitute(f(0) + 1, 1, "r", subs={f: sp.Lambda(x, x)}), (F0,)),
    # 4. false for size 1 only
    ("4 δ(n, 1)·tr(AAᵀ) = 0", lambda: Equal(sp.KroneckerDelta(n, 1) * G, 0, "r"), ()),
    ("4 n·tr(AAᵀ) ≤ 4·tr(AAᵀ)", lambda: Inequality(n * G, 4 * G, "r", relation="≤"), ()),
    ("4 (fact n(n−1)(n−2)(n−3)(n−4)·tr(AAᵀ) = 0) the same", lambda: Equal(P5 * G, 0, "r"), (P5_FACT,)),
    # 5. a minimum at a root of one factor of the derivative
    ("5 tᵗ > e^(−1/e)", lambda: Inequality(t**t, sp.exp(-sp.exp(-1)), "r", relation=">"), ()),
)

TRUE: tuple[Control, ...] = (
    ("1 y = x²: ∂y/∂x = 2x", lambda: Equal(sp.Derivative(y, x), 2 * x, "r"), (DEF_Y,), None),
    ("1 y = x²: ∫₀¹ y dx = 1/3", lambda: Equal(sp.Integral(y, (x, 0, 1)), sp.Rational(1, 3), "r"), (DEF_Y,), None),
    ("1 y = x²: ∂y/∂x at 1 = 2", lambda: Equal(sp.Subs(sp.Derivative(y, x), x, 1), 2, "r"), (DEF_Y,), None),
    ("1 z = y + 1, y = x²: ∂z/∂x = 2x", lambda: Equal(sp.Derivative(z, x), 2 * x, "r"), (DEF_Z,), None),
    ("1 y = x²: ∂y/∂p = 0", lambda: Equal(sp.Derivative(y, p), 0, "r"), (DEF_Y,), Status.PROVED),
    ("1 y = x²: y + 1 = x² + 1", lambda: Equal(y + 1, x**2 + 1, "r"), (DEF_Y,), Status.PROVED),
    ("1 y = x²: ∂(y²)/∂y = 2y", lambda: Equal(sp.Derivative(y**2, y), 2 * y, "r"), (DEF_Y,), Status.PROVED),
    ("1 z = y + 1, y = x²: ∂z/∂y = 1", lambda: Equal(sp.Derivative(z, y), 1, "r"), (DEF_Z,), Status.PROVED),
    ("1 S = VVᵀ, V = Wᵀ: ∂tr S/∂V = 2V", lambda: MatrixGradient(T(S), 2 * V, "r", wrt=V), (DEF_SV,), None),
    ("1 y = x²: ∫₀¹ ∂(y²)/∂y dx = 2/3",
     lambda: Equal(sp.Integral(sp.Derivative(y**2, y), (x, 0, 1)), sp.Rational(2, 3), "r"), (DEF_Y,), None),
    ("1 y = x²: (∂(y²)/∂y)(x = 1) = 2", lambda: Equal(sp.Subs(sp.Derivative(y**2, y), x, 1), 2, "r"), (DEF_Y,), None),
    ("1 n = 3: ∂tr(WWᵀ)/∂W = 2W", lambda: MatrixGradient(T(W * W.T), 2 * W, "r", wrt=W), (N3,), Status.PROVED),
    ("1 y = Σ_{k≤3} kj, k = j: ∂(xy)/∂x = 6j", lambda: Equal(sp.Derivative(x * y, x), 6 * j, "r"), (CAPTURE,),
     Status.PROVED),
    ("1 n = m + 1: Σ_{m=1}^{3} n = 9", lambda: Equal(sp.Sum(n, (m, 1, 3)), 9, "r"), (N_DEF,), Status.PROVED),
    ("1 y = x²: lim_{x→1}(y + x) = 2", lambda: Equal(sp.Limit(y + x, x, 1), 2, "r"), (DEF_Y,), Status.PROVED),
    ("1 y = x²: lim_{x→1} ∂y/∂x = 2", lambda: Equal(sp.Limit(sp.Derivative(y, x), x, 1), 2, "r"), (DEF_Y,),
     Status.PROVED),
    ("1 lim_{x→1} x + x = 1 + x", lambda: Equal(sp.Limit(x, x, 1) + x, 1 + x, "r"), (), Status.PROVED),
    ("1 y = x²: at x = 2: y ⇒ 4", lambda: Substitute(y, 4, "r", subs={x: 2}), (DEF_Y,), Status.PROVED),
    ("1 y = x²: at x = 2: ∂(y²)/∂y ⇒ 8", lambda: Substitute(sp.Derivative(y**2, y), 8, "r", subs={x: 2}), (DEF_Y,),
     Status.PROVED),
    ("1 y = x²: at y = 4: ∫₀¹ y·s ds ⇒ 2", lambda: Substitute(sp.Integral(y * s, (s, 0, 1)), 2, "r", subs={y: 4}),
     (DEF_Y,), Status.PROVED),
    ("1 y = x²: (x² + 1)x = 0 ⟺ x = 0, factor y + 1", lambda: Equivalent(
        sp.Eq((x**2 + 1) * x, 0), sp.Eq(x, 0), "r", factor=y + 1), (DEF_Y,), None),
    ("1 ∂x²/∂x = 2x", lambda: Equal(sp.Derivative(x**2, x), 2 * x, "r"), (), Status.PROVED),
    ("1 S = WWᵀ: ∂tr S/∂W = 2W", lambda: MatrixGradient(T(S), 2 * W, "r", wrt=W), (DEF_S,), None),
    ("1 ∂tr(WWᵀ)/∂W = 2W", lambda: MatrixGradient(T(W * W.T), 2 * W, "r", wrt=W), (), Status.PROVED),
    ("2 at x = 2: x² ⇒ 4", lambda: Substitute(x**2, 4, "r", subs={x: 2}), (), Status.PROVED),
    ("2 at x = y + 1: x² ⇒ (y + 1)²", lambda: Substitute(x**2, (y + 1) ** 2, "r", subs={x: y + 1}), (),
     Status.PROVED),
    ("2 at x = x² (x = 0 or 1): x³ ⇒ x⁶", lambda: Substitute(x**3, x**6, "r", subs={x: x**2}), (), None),
    ("3 at f = exp: f(0) ⇒ 1", lambda: Substitute(f(0), 1, "r", subs={f: sp.Lambda(x, sp.exp(x))}), (),
     Status.PROVED),
    ("3 f(0) = 1; at f = exp: f(0) + 1 ⇒ 2",
     lambda: Substitute(f(0) + 1, 2, "r", subs={f: sp.Lambda(x, sp.exp(x))}), (F0,), None),
    ("4 δ(n, 1)·(n − 1) = 0", lambda: Equal(sp.KroneckerDelta(n, 1) * (n - 1), 0, "r"), (), None),
    ("5 tᵗ ≥ e^(−1/e)", lambda: Inequality(t**t, sp.exp(-sp.exp(-1)), "r", relation="≥"), (), None),
)


@pytest.mark.parametrize("case", FALSE, ids=[c[0] for c in FALSE])
def test_planted_false_step_fails(case: Case) -> None:
    assert_planted_fails(case, "round7")


@pytest.mark.parametrize("case", TRUE, ids=[c[0] for c in TRUE])
def test_true_control_holds(case: Control) -> None:
    assert_control_holds(case, "round7")


@pytest.mark.parametrize("did", ["rt0", "rt1", "rt2", "rt3"])
def test_a_step_false_for_size_one_fails_whatever_the_id(did: str) -> None:
    bad = Equal(sp.KroneckerDelta(n, 1) * G, 0, "r")
    good = Equal(sp.KroneckerDelta(n, 1) * (n - 1), 0, "r")
    assert verify_alone(bad, (), did) is Status.FAILED
    assert verify_alone((good, bad), (), did) is Status.FAILED


def test_the_first_mixed_instances_give_sizes_one_and_five() -> None:
    import random

    rng = random.Random(0)
    first = len(sampling.FIRST_SIZES)
    sizes = [[sampling._size(k, j, rng) for k in range(first + 3)] for j in range(3)]
    assert [s[first] for s in sizes] == [1, 1, 1]  # all 1 at once
    assert 5 in sizes[0] and len({s[first + 1] for s in sizes}) == 3, sizes  # then rectangular, the first 5


@pytest.mark.parametrize("did", ["rt0", "rt1", "rt2", "rt3", "rt4", "rt5"])
def test_a_step_false_where_two_sizes_are_one_fails_whatever_the_id(did: str) -> None:
    m = sp.Symbol("m", integer=True, positive=True)
    B = sp.MatrixSymbol("B", n, m)
    bad = Equal(sp.KroneckerDelta(n, 1) * sp.KroneckerDelta(m, 1) * T(B * B.T), 0, "r")
    assert verify_alone(bad, (), did) is Status.FAILED


def test_a_harmonic_number_of_an_expression_is_summed_numerically() -> None:
    """harmonic(n + 1) at n = 10⁵: the argument is evaluated first (it stayed an unevaluated n + 1, and SymPy then
    summed 10⁵ terms exactly, past the instance's time limit)."""
    import time

    from theory.core import check

    start = time.process_time()
    value = check._value_at(sp.harmonic(n + 1), {n: sp.Integer(10**5)})
    assert value is not None and abs(float(value) - 12.090156129863) < 1e-9
    assert time.process_time() - start < 5
