"""Soundness, round 4: the classes a fourth red-team found (/tmp/rt4/hostile.py), each plant beside true controls.

1. a dimension or a count is a whole number: ``M ∈ ℝ^{d×d}`` with d only ``positive`` (z3 refuted tr(I_d) ≥ 1
   at d = ½), and ``Σ_{k=1}^{d}`` (`theory.core.dimensions`);
2. matrix premises of a `Substitute` that no matrix satisfies: at A = A + I, at Q = 2I for an orthogonal Q, at an
   explicit value that is not of the declared kind, at AᵀA = −I (`theory.core.matrix_premise`);
3. a limit never looks at its point: SymPy evaluated Piecewise((1, x ≠ 0), (0, True)) *at* 0 and proved its
   limit 0 (`theory.core.limits`);
4. a quadrature's or a series' Float resolves no difference below its own precision: 0.5000… (25 digits)
   against 1/2 − e^(−10⁴)/2 is agreement, not a counterexample (`theory.core.numbers`);
5. the tiny-difference rule (Arb) for `Equivalent` steps and for sides whose difference has no symbol left
   (∫₀ᵗ e^(−x) dx = 1 − e^(−t) + 10⁻⁸⁰);
6. an `Equivalent` factor: a Python int is a number; "factor ≠ 0" is decided (z3) before it is refused
   (x² + 2x + 4 for a real x);
7. a CPU-time limit that cuts a confirming search short never lets a proof stand on it.
"""

from __future__ import annotations

import pytest
import sympy as sp
from _soundness import Case, Control, assert_control_holds, assert_planted_fails

from theory.core import check, dimensions, ladder, limits, matrix_premise, numbers
from theory.derivation import (
    Assumption,
    Equal,
    Equivalent,
    Inequality,
    MatrixGradient,
    Status,
    Substitute,
)

x, y = sp.symbols("x y", real=True)
z = sp.Symbol("z")
t = sp.Symbol("t", positive=True)
d = sp.Symbol("d", positive=True)  # a dimension / count declared only positive
j = sp.Symbol("j", integer=True)
k = sp.Symbol("k", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True)
M, N = sp.MatrixSymbol("M", d, d), sp.MatrixSymbol("N", d, d)
A, B, Q, K = (sp.MatrixSymbol(c, n, n) for c in "ABQK")
P = sp.MatrixSymbol("P", 2, 2)
ORTH = Assumption("Q orthogonal", "QᵀQ = I", facts={Q.T * Q: sp.Identity(n)}, matrix_kinds={Q: "orthogonal"})
ORTH2 = Assumption("P orthogonal", "PᵀP = I", facts={P.T * P: sp.Identity(2)}, matrix_kinds={P: "orthogonal"})
SPD2 = Assumption("P spd", "P ≻ 0", facts={P.T: P}, matrix_kinds={P: "spd"})
SKEW = Assumption("K skew", "Kᵀ = −K", facts={K.T: -K}, matrix_kinds={K: "skew"})
TINY = sp.Rational(1, 10**80)
BASEL = sp.Sum(1 / k**2, (k, 1, sp.oo))


FALSE: tuple[Case, ...] = (
    # 1. whole numbers
    ("1 tr(I_d) ≥ 2", lambda: Inequality(sp.Trace(sp.Identity(d)), 2, "r", relation="≥"), ()),
    ("1 tr(MN) = tr M tr N", lambda: Equal(sp.Trace(M * N), sp.Trace(M) * sp.Trace(N), "r"), ()),
    ("1 Σ_{j=1}^{d} j = d²/2", lambda: Equal(sp.Sum(j, (j, 1, d)), d**2 / 2, "r"), ()),
    ("1 d ≥ 1 for a scalar d", lambda: Inequality(d, 1, "r", relation="≥"), ()),
    # 2. matrix premises
    ("2 at A = A + I", lambda: Substitute(sp.Trace(A), sp.Trace(A) + n, "r", subs={A: A + sp.Identity(n)}), ()),
    ("2 at A = Aᵀ + I", lambda: Substitute(sp.Trace(A), sp.Trace(A) + n, "r", subs={A: A.T + sp.Identity(n)}), ()),
    ("2 orthogonal Q at Q = 2I", lambda: Substitute(sp.Determinant(Q), 2**n, "r", subs={Q: 2 * sp.Identity(n)}),
     (ORTH,)),
    ("2 orthogonal P at a shear", lambda: Substitute(sp.Determinant(P), 1, "r",
                                                     subs={P: sp.ImmutableMatrix([[1, 1], [0, 1]])}), (ORTH2,)),
    ("2 spd P at an indefinite matrix", lambda: Substitute(sp.Determinant(P), -3, "r",
                                                           subs={P: sp.ImmutableMatrix([[1, 2], [2, 1]])}), (SPD2,)),
    ("2 skew K at K = I", lambda: Substitute(sp.Trace(K), n, "r", subs={K: sp.Identity(n)}), (SKEW,)),
    ("2 at AᵀA = −I", lambda: Substitute(sp.Trace(A.T * A), -n, "r", subs={A.T * A: -sp.Identity(n)}), ()),
    ("2 at AAᵀ = −2I", lambda: Substitute(sp.Trace(A * A.T), -2 * n, "r", subs={A * A.T: -2 * sp.Identity(n)}), ()),
    # 3. limits off the point
    ("3 lim [x ≠ 0] = 0", lambda: Equal(sp.Limit(sp.Piecewise((1, sp.Ne(x, 0)), (0, True)), x, 0), 0, "r"), ()),
    ("3 lim_{x→2} [x = 2 ↦ 5] = 5", lambda: Equal(sp.Limit(sp.Piecewise((5, sp.Eq(x, 2)), (x, True)), x, 2), 5, "r"),
     ()),
    ("3 one-sided, point branch", lambda: Equal(sp.Limit(sp.Piecewise((1, x > 0), (2, sp.Eq(x, 0)), (3, True)), x, 0,
                                                         "-"), 2, "r"), ()),
    ("3 x² = 1 branch", lambda: Equal(sp.Limit(sp.Piecewise((0, sp.Eq(x**2, 1)), (x, True)), x, 1), 0, "r"), ()),
    # 4. ... but a Float still resolves what lies above its precision (a 14-digit quadrature against 10⁻¹²)
    ("4 ∫₀³ e^(−x²) = √π erf(3)/2 + 10⁻¹²", lambda: Equal(sp.Integral(sp.exp(-x**2), (x, 0, 3)),
                                                           sp.sqrt(sp.pi) * sp.erf(3) / 2 + sp.Rational(1, 10**12),
                                                           "r"), ()),
    ("4 ∫₋₁¹ x = 10⁻⁸ (quadrature 0)", lambda: Equal(sp.Integral(x, (x, -1, 1)), sp.Rational(1, 10**8), "r"), ()),
    ("4 ∫₋₁¹ x > 10⁻⁸", lambda: Inequality(sp.Integral(x, (x, -1, 1)), sp.Rational(1, 10**8), "r", relation=">"), ()),
    # 5. tiny differences
    ("5 Equivalent, factor off by 10⁻⁸⁰", lambda: Equivalent(sp.Eq(x * BASEL, 0), sp.Eq(x, 0), "r",
                                                             factor=sp.pi**2 / 6 + TINY), ()),
    ("5 ∫₀ᵗ e^(−x) = 1 − e^(−t) + 10⁻⁸⁰", lambda: Equal(sp.Integral(sp.exp(-x), (x, 0, t)), 1 - sp.exp(-t) + TINY,
                                                        "r"), ()),
    ("5 x² + Σ > x² + π²/6 + 10⁻⁸⁰", lambda: Inequality(x**2 + BASEL, x**2 + sp.pi**2 / 6 + TINY, "r", relation=">"),
     ()),
    ("5 ∫₀¹ H(x − 1/3) = 2/3 + 10⁻⁴⁰ (meijerg: Arb lacks it)",
     lambda: Equal(sp.Integral(sp.Heaviside(x - sp.Rational(1, 3)), (x, 0, 1)),
                   sp.Rational(2, 3) + sp.Rational(1, 10**40), "r"), ()),
    # 6. Equivalent factors
    ("6 z³ = 8 ⟺ z = 2 (complex z)", lambda: Equivalent(sp.Eq(z**3, 8), sp.Eq(z, 2), "r", factor=z**2 + 2 * z + 4),
     ()),
    ("6 m² = 4 ⟺ m = 2 (integer m)", lambda: Equivalent(sp.Eq(m**2, 4), sp.Eq(m, 2), "r", factor=m + 2), ()),
    ("6 factor 0 as a Python int", lambda: Equivalent(sp.Eq(2 * x, 0), sp.Eq(x, 1), "r", factor=0), ()),
)

TRUE: tuple[Control, ...] = (
    ("1 tr(I_d) ≥ 1", lambda: Inequality(sp.Trace(sp.Identity(d)), 1, "r", relation="≥"), (), Status.PROVED),
    ("1 tr(I_d) = d", lambda: Equal(sp.Trace(sp.Identity(d)), d, "r"), (), Status.PROVED),
    ("1 Σ_{j=1}^{d} 1 = d", lambda: Equal(sp.Sum(1, (j, 1, d)), d, "r"), (), Status.PROVED),
    ("1 Σ_{j=1}^{d} j = d(d+1)/2", lambda: Equal(sp.Sum(j, (j, 1, d)), d * (d + 1) / 2, "r"), (), Status.PROVED),
    ("1 ∂tr(MᵀM)/∂M = 2M", lambda: MatrixGradient(sp.Trace(M.T * M), 2 * M, "r", wrt=M), (), Status.PROVED),
    ("2 orthogonal P at a permutation", lambda: Substitute(sp.Determinant(P), -1, "r",
                                                           subs={P: sp.ImmutableMatrix([[0, 1], [1, 0]])}), (ORTH2,),
     Status.PROVED),
    ("2 spd P at [[2,1],[1,2]]", lambda: Substitute(sp.Determinant(P), 3, "r",
                                                    subs={P: sp.ImmutableMatrix([[2, 1], [1, 2]])}), (SPD2,),
     Status.PROVED),
    ("2 at A = Bᵀ", lambda: Substitute(sp.Trace(A), sp.Trace(B), "r", subs={A: B.T}), (), Status.PROVED),
    ("2 at AᵀA = I", lambda: Substitute(sp.Trace(A.T * A), n, "r", subs={A.T * A: sp.Identity(n)}), (), Status.PROVED),
    ("3 lim [x ≠ 0] = 1", lambda: Equal(sp.Limit(sp.Piecewise((1, sp.Ne(x, 0)), (0, True)), x, 0), 1, "r"), (),
     Status.PROVED),
    ("3 lim_{x→2} [x = 2 ↦ 5] = 2", lambda: Equal(sp.Limit(sp.Piecewise((5, sp.Eq(x, 2)), (x, True)), x, 2), 2, "r"),
     (), Status.PROVED),
    ("3 lim x sin(1/x) = 0", lambda: Equal(sp.Limit(x * sp.sin(1 / x), x, 0), 0, "r"), (), Status.PROVED),
    ("4 ∫₀ᵗ x e^(−x²) = (1 − e^(−t²))/2", lambda: Equal(sp.Integral(x * sp.exp(-x**2), (x, 0, t)),
                                                         (1 - sp.exp(-t**2)) / 2, "r"), (), Status.PROVED),
    ("4 ∫₀ᵗ x e^(−x²) ≥ (1 − e^(−t²))/2", lambda: Inequality(sp.Integral(x * sp.exp(-x**2), (x, 0, t)),
                                                              (1 - sp.exp(-t**2)) / 2, "r", relation="≥"), (), None),
    ("4 ∫₀ᵗ x e^(−x²) ≤ 1/2", lambda: Inequality(sp.Integral(x * sp.exp(-x**2), (x, 0, t)), sp.S.Half, "r",
                                                 relation="≤"), (), None),
    ("4 ∫₀³ x e^(−x²) = (1 − e^(−9))/2 (a 50-bit quadrature's rounding)",
     lambda: Equal(sp.Integral(x * sp.exp(-x**2), (x, 0, 3)), (1 - sp.exp(-9)) / 2, "r"), (), Status.PROVED),
    ("4 ∫₀³ x e^(−x²) ≥ (1 − e^(−9))/2", lambda: Inequality(sp.Integral(x * sp.exp(-x**2), (x, 0, 3)),
                                                            (1 - sp.exp(-9)) / 2, "r", relation="≥"), (),
     Status.PROVED),
    ("4 ∫₀¹⁰⁰ x e^(−x²) ≤ (1 − e^(−10⁴))/2", lambda: Inequality(sp.Integral(x * sp.exp(-x**2), (x, 0, 100)),
                                                                (1 - sp.exp(-10000)) / 2, "r", relation="≤"), (),
     Status.PROVED),
    ("5 Equivalent, exact factor", lambda: Equivalent(sp.Eq(x * BASEL, 0), sp.Eq(x, 0), "r", factor=sp.pi**2 / 6),
     (), Status.PROVED),
    ("5 ∫₀¹ H(x − 1/3) = 2/3", lambda: Equal(sp.Integral(sp.Heaviside(x - sp.Rational(1, 3)), (x, 0, 1)),
                                             sp.Rational(2, 3), "r"), (), None),
    ("6 factor 2 as a Python int", lambda: Equivalent(sp.Eq(2 * x + 2, 0), sp.Eq(x, -1), "r", factor=2), (),
     Status.PROVED),
    ("6 x³ = 8 ⟺ x = 2 (real x)", lambda: Equivalent(sp.Eq(x**3, 8), sp.Eq(x, 2), "r", factor=x**2 + 2 * x + 4), (),
     Status.PROVED),
)


@pytest.mark.parametrize("case", FALSE, ids=[c[0] for c in FALSE])
def test_planted_false_step_fails(case: Case) -> None:
    assert_planted_fails(case, "round4")


@pytest.mark.parametrize("case", TRUE, ids=[c[0] for c in TRUE])
def test_true_control_holds(case: Control) -> None:
    assert_control_holds(case, "round4")


def test_a_dimension_symbol_becomes_an_integer_of_the_same_name() -> None:
    (s,) = dimensions.whole_number_symbols([M])
    assert s is d
    whole = dimensions.as_integer(d)
    assert whole.name == "d" and whole.is_integer and whole.is_positive
    assert dimensions.whole_number_symbols([sp.MatrixSymbol("G", n, n), sp.Sum(1, (j, 1, n))]) == set()
    assert dimensions.whole_number_symbols([sp.Sum(1, (j, 1, d + 3))]) == {d}
    assert dimensions.whole_number_symbols([sp.Sum(1, (j, 1, sp.oo)), x**2]) == set()


def test_a_satisfiable_matrix_premise_is_accepted() -> None:
    assert matrix_premise.unsatisfiable(A, 2 * A, {}, {}) is None  # A = 0 satisfies it
    assert matrix_premise.unsatisfiable(A, B.T, {}, {}) is None
    assert matrix_premise.unsatisfiable(Q, -sp.Identity(n), {Q.T * Q: sp.Identity(n)}, {Q: "orthogonal"}) is None
    assert matrix_premise.unsatisfiable(A.T * A, sp.ZeroMatrix(n, n), {}, {}) is None
    why = matrix_premise.unsatisfiable(A, A + sp.Identity(n), {}, {})
    assert why is not None and "never 0" in why


def test_the_limit_rewrite_touches_only_conditions_at_finitely_many_points() -> None:
    kept = sp.Limit(sp.Piecewise((1, x > 0), (0, True)), x, 0)
    assert limits.punctured(kept) == kept
    other = sp.Limit(sp.Piecewise((1, sp.Ne(y, 0)), (0, True)) * x, x, 0)  # a condition on another symbol
    assert limits.punctured(other) == other
    rewritten = limits.punctured(sp.Limit(sp.Piecewise((1, sp.Ne(x, 0)), (0, True)), x, 0))
    assert rewritten == sp.Limit(1, x, 0)


def test_a_float_resolves_no_difference_below_its_precision() -> None:
    quadrature = sp.Float("0.5", 25)
    exact = sp.S.Half - sp.exp(-sp.Integer(10**4)) / 2
    assert numbers.compare(quadrature, exact).verdict is numbers.Verdict.AGREE
    assert numbers.difference_sign(exact, quadrature) is None  # SymPy's exact − quadrature lost the Float
    assert numbers.difference_sign(quadrature, exact) is None
    assert numbers.compare(quadrature, sp.S.Half - sp.Rational(1, 10**10)).differs  # resolved: a difference
    assert numbers.difference_sign(quadrature, sp.S.Half + sp.Rational(1, 10**10)) == -1
    assert numbers.difference_sign(sp.S.Half, sp.S.Half - exact) == 1  # no Float: certified


def test_a_time_limit_that_fires_is_counted() -> None:
    before = ladder.limits_fired()
    with pytest.raises(ladder.Timeout), ladder.time_limit(0.05):
        while True:
            sum(i * i for i in range(1000))
    assert ladder.limits_fired() > before


def test_a_confirmation_cut_short_by_a_limit_proves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """SymPy's sign answer stands only if the search for a point against it ran to the end."""
    gap = x**2 + 1
    assert ladder.prove_sign(gap, "positive") is not None

    def cut_short(g: sp.Basic, relation: str) -> None:
        ladder.note_limit()  # as `time_limit` does when it fires inside the search

    monkeypatch.setattr(check.domain, "refute_sign", cut_short)
    assert ladder.prove_sign(gap, "positive") is None
