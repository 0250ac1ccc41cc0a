"""Soundness, round 5: the classes a fifth red-team found (/tmp/rt5/hostile.py), each plant beside true controls.

1. a `Substitute` premise read through the assumptions' facts: with the definition y = x², "at y = −1" is
   x² = −1, vacuous (it proved y + 1 ⇒ 0); with y = eˣ, "at y = 0" is eˣ = 0; with y = x², "at x = 1, y = 2"
   is 1 = 2 (`theory.core.premise.contradicts_facts`);
2. an infinite sum or product that diverges has no value: Π_{k≥1}(1 + 1/k) = 2 ran for minutes (mpmath's
   extrapolation), Σ(−1)ᵏk = −1/4 never returned (`theory.core.concrete.diverges`: the term test, and SymPy's
   convergence tests only for terms of one sign — they call Σ sin(k)/k divergent);
3. counterexamples the seeded instances cannot reach were *checked*: Σ_{k=1}^{n} 1/k ≤ 10 (false from
   n = 12 367), Mod(x, 1) ≤ 1 − 10⁻³⁰ (false just below each integer), sin x ≤ 1 − 10⁻²⁰ (false at π/2),
   Π_{k=1}^{n}(1 + 1/k) ≤ 10⁶ (`theory.core.extremes`: far points, points by a jump, stationary points).
"""

from __future__ import annotations

import pytest
import sympy as sp
from _soundness import Case, Control, assert_control_holds, assert_planted_fails

from theory.core import check, concrete, extremes, premise
from theory.derivation import (
    Assumption,
    Equal,
    Inequality,
    Status,
    Substitute,
)

x, y = sp.symbols("x y", real=True)
s = sp.Symbol("s", real=True)
t = sp.Symbol("t", positive=True)
u = sp.Symbol("u", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True)
f = sp.Function("f")
oo = sp.oo
DEF_SQ = Assumption("y = x²", "y is defined as x²", facts={y: x**2})
DEF_EXP = Assumption("y = eˣ", "y is defined as eˣ", facts={y: sp.exp(x)})
F0 = Assumption("f(0) = 1", "f(0) = 1", facts={f(0): 1})
SMALL = sp.Rational(1, 10**30)


FALSE: tuple[Case, ...] = (
    # 1. premises through the facts
    ("1 y = x²; at y = −1: y + 1 ⇒ 0", lambda: Substitute(y + 1, 0, "r", subs={y: -1}), (DEF_SQ,)),
    ("1 y = x²; at y = −4: y² ⇒ 16", lambda: Substitute(y**2, 16, "r", subs={y: -4}), (DEF_SQ,)),
    ("1 y = eˣ; at y = 0: y + 1 ⇒ 1", lambda: Substitute(y + 1, 1, "r", subs={y: 0}), (DEF_EXP,)),
    ("1 y = eˣ; at y = −1: log y ⇒ iπ", lambda: Substitute(sp.log(y), sp.I * sp.pi, "r", subs={y: -1}), (DEF_EXP,)),
    ("1 y = x²; at x = 1, y = 2: x + y ⇒ 3", lambda: Substitute(x + y, 3, "r", subs={x: 1, y: 2}), (DEF_SQ,)),
    ("1 y = x²; at y + 1 = 0: y ⇒ −1", lambda: Substitute(y, -1, "r", subs={y + 1: 0}), (DEF_SQ,)),
    ("1 y = x²; at y = x − 1: y − x ⇒ −1 (x² = x − 1 has no real root)",
     lambda: Substitute(y - x, -1, "r", subs={y: x - 1}), (DEF_SQ,)),
    ("1 f(0) = 1; at f(0) = 0: f(0) + x ⇒ x", lambda: Substitute(f(0) + x, x, "r", subs={f(0): 0}), (F0,)),
    # 2. divergent sums and products
    ("2 Π(1 + 1/k) = 2", lambda: Equal(sp.Product(1 + 1 / k, (k, 1, oo)), 2, "r"), ()),
    ("2 Π k = 10", lambda: Equal(sp.Product(k, (k, 1, oo)), 10, "r"), ()),
    ("2 Π_{k≥2}(1 − 1/k) = 1/2", lambda: Equal(sp.Product(1 - 1 / k, (k, 2, oo)), sp.S.Half, "r"), ()),
    ("2 Σ(−1)ᵏ k = −1/4", lambda: Equal(sp.Sum((-1)**k * k, (k, 1, oo)), sp.Rational(-1, 4), "r"), ()),
    ("2 Σ(−1)ᵏ = 1/2", lambda: Equal(sp.Sum((-1)**k, (k, 0, oo)), sp.S.Half, "r"), ()),
    ("2 Σ(−1)ᵏ k ≥ −1", lambda: Inequality(sp.Sum((-1)**k * k, (k, 1, oo)), -1, "r", relation="≥"), ()),
    # 3. far points, jumps, stationary points
    ("3 Σ_{k=1}^{n} 1/k ≤ 10", lambda: Inequality(sp.Sum(1 / k, (k, 1, n)), 10, "r", relation="≤"), ()),
    ("3 Π_{k=1}^{n}(1 + 1/k) ≤ 10⁶", lambda: Inequality(sp.Product(1 + 1 / k, (k, 1, n)), 10**6, "r", relation="≤"),
     ()),
    ("3 Mod(x, 1) ≤ 1 − 10⁻³⁰", lambda: Inequality(sp.Mod(x, 1), 1 - SMALL, "r", relation="≤"), ()),
    ("3 frac(x) < 1 − 10⁻³⁰", lambda: Inequality(sp.frac(x), 1 - SMALL, "r", relation="<"), ()),
    ("3 ceiling(x) − x < 1 − 10⁻³⁰", lambda: Inequality(sp.ceiling(x) - x, 1 - SMALL, "r", relation="<"), ()),
    ("3 frac(3x/2) ≤ 1 − 10⁻³⁰", lambda: Inequality(sp.frac(3 * x / 2), 1 - SMALL, "r", relation="≤"), ()),
    ("3 sin x ≤ 1 − 10⁻²⁰", lambda: Inequality(sp.sin(x), 1 - sp.Rational(1, 10**20), "r", relation="≤"), ()),
    ("3 |sin x| ≤ 1 − 10⁻²⁰", lambda: Inequality(sp.Abs(sp.sin(x)), 1 - sp.Rational(1, 10**20), "r", relation="≤"),
     ()),
    ("3 cos(2x) ≥ −1 + 10⁻²⁰", lambda: Inequality(sp.cos(2 * x), -1 + sp.Rational(1, 10**20), "r", relation="≥"), ()),
    ("3 x e⁻ˣ < 1/e (equal at 1)", lambda: Inequality(x * sp.exp(-x), sp.exp(-1), "r", relation="<"), ()),
    ("3 t/(t + 10⁹) < 1/2", lambda: Inequality(t / (t + 10**9), sp.S.Half, "r", relation="<"), ()),
    ("3 log(t) ≤ 40", lambda: Inequality(sp.log(t), 40, "r", relation="≤"), ()),
)

TRUE: tuple[Control, ...] = (
    ("1 y = x²; at y = 4: y + 1 ⇒ 5", lambda: Substitute(y + 1, 5, "r", subs={y: 4}), (DEF_SQ,), Status.PROVED),
    ("1 y = x²; at x = 2, y = 4: x + y ⇒ 6", lambda: Substitute(x + y, 6, "r", subs={x: 2, y: 4}), (DEF_SQ,),
     Status.PROVED),
    ("1 y = eˣ; at y = 1: y + 1 ⇒ 2", lambda: Substitute(y + 1, 2, "r", subs={y: 1}), (DEF_EXP,), Status.PROVED),
    ("1 y = x²: y ≥ 0", lambda: Inequality(y, 0, "r", relation="≥"), (DEF_SQ,), None),
    ("2 Σ 1/(k(k+1)) = 1", lambda: Equal(sp.Sum(1 / (k * (k + 1)), (k, 1, oo)), 1, "r"), (), Status.PROVED),
    ("2 Σ (t/(1+t))ᵏ = 1 + t", lambda: Equal(sp.Sum((t / (1 + t))**(k - 1), (k, 1, oo)), 1 + t, "r"), (), None),
    ("2 Σ (−1)^(k+1)/k = log 2", lambda: Equal(sp.Sum((-1)**(k + 1) / k, (k, 1, oo)), sp.log(2), "r"), (), None),
    ("3 Σ_{k=1}^{n} 1/k ≤ log(n) + 1", lambda: Inequality(sp.Sum(1 / k, (k, 1, n)), sp.log(n) + 1, "r", relation="≤"),
     (), None),
    ("3 floor(x) > x − 1", lambda: Inequality(sp.floor(x), x - 1, "r", relation=">"), (), None),
    ("3 frac(x) < 1", lambda: Inequality(sp.frac(x), 1, "r", relation="<"), (), None),
    ("3 sin x ≤ 1", lambda: Inequality(sp.sin(x), 1, "r", relation="≤"), (), None),
    ("3 atan(t) < π/2", lambda: Inequality(sp.atan(t), sp.pi / 2, "r", relation="<"), (), None),
    ("3 eˣ ≥ e·x", lambda: Inequality(sp.exp(x), sp.E * x, "r", relation="≥"), (), None),
    ("3 n^(1/n) ≤ 3/2", lambda: Inequality(n**(1 / n), sp.Rational(3, 2), "r", relation="≤"), (), None),
    ("3 m² ≥ m (integer m)", lambda: Inequality(m**2, m, "r", relation="≥"), (), None),
    ("3 floor(x) + ceiling(−x) = 0", lambda: Equal(sp.floor(x) + sp.ceiling(-x), 0, "r"), (), None),
)


@pytest.mark.parametrize("case", FALSE, ids=[c[0] for c in FALSE])
def test_planted_false_step_fails(case: Case) -> None:
    assert_planted_fails(case, "round5")


@pytest.mark.parametrize("case", TRUE, ids=[c[0] for c in TRUE])
def test_true_control_holds(case: Control) -> None:
    assert_control_holds(case, "round5")


def test_premises_through_facts_only_refuse() -> None:
    assert premise.contradicts_facts(y, 4, {y: 4}, {y: x**2}) is None
    assert premise.contradicts_facts(y, -1, {y: -1}, {}) is None  # no facts: nothing to read through
    assert premise.contradicts_facts(y, 2, {x: 1, y: 2}, {y: x**2}) is not None
    assert premise.contradicts_facts(y, 1, {x: 1, y: 1}, {y: x**2}) is None
    why = premise.contradicts_facts(y, -1, {y: -1}, {y: x**2})
    assert why is not None and "x**2 = -1" in why


@pytest.mark.parametrize("series", [
    sp.Sum(1 / k**2, (k, 1, oo)), sp.Sum(sp.sin(k) / k, (k, 1, oo)), sp.Sum((-1)**(k + 1) / k, (k, 1, oo)),
    sp.Product(1 + 1 / k**2, (k, 1, oo)), sp.Product(1 - 1 / k**2, (k, 2, oo)),
    sp.Sum(sp.Rational(1, 2)**k, (k, 0, oo)),
])
def test_convergent_series_are_not_called_divergent(series: sp.Basic) -> None:
    assert concrete.diverges(series) is False


@pytest.mark.parametrize("series", [
    sp.Sum(1 / k, (k, 1, oo)), sp.Sum((-1)**k, (k, 0, oo)), sp.Product(2, (k, 1, oo)),
    sp.Product((k + 1) / k, (k, 1, oo)), sp.Product(1 - 1 / k, (k, 2, oo)),
])
def test_divergent_series_are_recognised(series: sp.Basic) -> None:
    assert concrete.diverges(series) is True


def test_the_extreme_point_search_never_certifies_and_keeps_to_the_domain() -> None:
    # true steps: nothing found, whatever the points tried
    assert extremes.search(sp.sin(x), "≤", sp.S.One, check._value_at) is None
    assert extremes.search(sp.floor(x), ">", x - 1, check._value_at) is None
    # a positive symbol is never moved to 0 or below; an integer one only through integers
    assert extremes.search(1 / t, ">", sp.S.Zero, check._value_at) is None
    assert extremes.search(sp.sin(sp.pi * m), "=", sp.S.Zero, check._value_at) is None
    found = extremes.search(sp.frac(x), "<", 1 - SMALL, check._value_at)
    assert found is not None and "not lhs < rhs" in found



@pytest.mark.parametrize("planted", [
    lambda: Inequality(sp.Sum(1 / k, (k, 1, n)), 10, "r", relation="≤"),
    lambda: Inequality(sp.harmonic(n), 10, "r", relation="≤"),
    lambda: Inequality(sp.Sum(1 / k**2, (k, 1, n)), sp.pi**2 / 6 - sp.Rational(1, 10**5), "r", relation="≤"),
], ids=["Σ 1/k ≤ 10", "harmonic(n) ≤ 10", "Σ 1/k² ≤ π²/6 − 10⁻⁵"])
def test_far_points_of_long_sums_cost_little(planted, monkeypatch: pytest.MonkeyPatch) -> None:
    """The far points of a sum up to n are found in well under the search's budget, so that its outcome does
    not hang on the machine's speed (a flake under load): exactly, Σ_{k≤10⁴} 1/k cost over a second and
    harmonic(10⁵) minutes; summed numerically beyond `sampling.LONG_SUM_TERMS` terms they cost milliseconds."""
    monkeypatch.setattr(extremes, "SEARCH_SECONDS", 0.6)
    assert_planted_fails(("", planted, ()), "round5")
