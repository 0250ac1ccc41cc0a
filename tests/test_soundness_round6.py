"""Soundness, round 6: the classes a sixth red-team found (/tmp/redteam_soundness), each plant beside true controls.

1. limits of functions that jump: SymPy's `limit` decides a Piecewise condition, a Heaviside, a KroneckerDelta of
   a floor *at* the point, not beside it (lim_{x→0+} [x > 0 ? 1 : 2] = 2, lim ReLU(x)/x = 0), and the numeric
   rung evaluated the same `limit`: PROVED.  Now the exact rungs leave such a limit alone and the numeric rung
   approaches the point (`theory.core.approach`);
2. derivatives that do not exist: the one-sided difference quotients of `theory.core.kinks` were taken by the same
   `limit` (ReLU written with the condition eˣ ≤ 1; max(sin x, 0) at π), and atan2 was not a kinked function;
3. integrals over several variables: SymPy's integrator (∫₀¹∫₀^π atan(tan x) dx dy = −π²/2; it is 0) was
   confirmed by itself, the quadrature taking one variable only (`theory.core.concrete`);
4. an inequality that never ended: whether sin(eˣ) at a large x is real asked SymPy for π to millions of digits,
   outside any time limit (`theory.core.check._nonreal`).
"""

from __future__ import annotations

import pytest
import sympy as sp
from _soundness import Case, Control, assert_control_holds, assert_planted_fails

from theory.core import approach, concrete
from theory.derivation import Equal, Inequality, Status

x, y = sp.symbols("x y", real=True)
L = sp.Limit
RELU = sp.Piecewise((0, x <= 0), (x, True))
STEP = sp.Piecewise((1, x > 0), (2, True))


def at(f: sp.Basic, v: sp.Symbol, p: sp.Basic) -> sp.Basic:
    return sp.Subs(sp.Derivative(f, v), v, p)


FALSE: tuple[Case, ...] = (
    ("1 lim₀₊ [x > 0 ? 1 : 2] = 2", lambda: Equal(L(STEP, x, 0, "+"), 2, "r"), ()),
    ("1 lim₀₊ ReLU(x)/x = 0", lambda: Equal(L(RELU / x, x, 0, "+"), 0, "r"), ()),
    ("1 lim₁₋ [x² < 1 ? 1 : 2] = 2", lambda: Equal(L(sp.Piecewise((1, x**2 < 1), (2, True)), x, 1, "-"), 2, "r"), ()),
    ("1 lim₀₊ [eˣ = 1 ? 5 : 1] = 5",
     lambda: Equal(L(sp.Piecewise((5, sp.Eq(sp.exp(x), 1)), (1, True)), x, 0, "+"), 5, "r"), ()),
    ("1 lim_π₊ H(sin x) = 1/2", lambda: Equal(L(sp.Heaviside(sp.sin(x)), x, sp.pi, "+"), sp.S.Half, "r"), ()),
    ("1 lim₁₋ δ(0, floor x) = 0", lambda: Equal(L(sp.KroneckerDelta(0, sp.floor(x)), x, 1, "-"), 0, "r"), ()),
    ("1 lim₀₊ [x > 0 ? 1 : 2] > 3/2", lambda: Inequality(L(STEP, x, 0, "+"), sp.Rational(3, 2), "r", relation=">"),
     ()),
    ("1 lim₀ sign(x) = 0 (two-sided)", lambda: Equal(L(sp.sign(x), x, 0, "+-"), 0, "r"), ()),
    ("2 d/dx [eˣ ≤ 1 ? 0 : x] at 0 = 0",
     lambda: Equal(at(sp.Piecewise((0, sp.exp(x) <= 1), (x, True)), x, 0), 0, "r"), ()),
    ("2 d/dx H(sin x) sin x at π = −1/2",
     lambda: Equal(at(sp.Heaviside(sp.sin(x)) * sp.sin(x), x, sp.pi), sp.Rational(-1, 2), "r"), ()),
    ("2 d/dy atan2(y, −1) at 0 = −1", lambda: Equal(at(sp.atan2(y, -1), y, 0), -1, "r"), ()),
    ("3 ∫₀¹∫₀^π atan(tan x) dx dy = −π²/2",
     lambda: Equal(sp.Integral(sp.atan(sp.tan(x)), (x, 0, sp.pi), (y, 0, 1)), -sp.pi**2 / 2, "r"), ()),
    ("4 sin(eˣ) < 1 (equal at log(π/2); ran for good)",
     lambda: Inequality(sp.sin(sp.exp(x)), 1, "r", relation="<"), ()),
    ("3 ∫₀²∫₀^π atan(tan x)·y dx dy = −π²",
     lambda: Equal(sp.Integral(sp.atan(sp.tan(x)) * y, (x, 0, sp.pi), (y, 0, 2)), -sp.pi**2, "r"), ()),
)

TRUE: tuple[Control, ...] = (
    ("1 lim₀₊ [x > 0 ? 1 : 2] = 1", lambda: Equal(L(STEP, x, 0, "+"), 1, "r"), (), Status.CHECKED),
    ("1 lim₀₋ [x > 0 ? 1 : 2] = 2", lambda: Equal(L(STEP, x, 0, "-"), 2, "r"), (), Status.CHECKED),
    ("1 lim₀₊ ReLU(x)/x = 1", lambda: Equal(L(RELU / x, x, 0, "+"), 1, "r"), (), Status.CHECKED),
    ("1 lim_π₊ H(sin x) = 0", lambda: Equal(L(sp.Heaviside(sp.sin(x)), x, sp.pi, "+"), 0, "r"), (), Status.CHECKED),
    ("1 lim₀ sin(x)/x = 1 (smooth: SymPy's limit)", lambda: Equal(L(sp.sin(x) / x, x, 0), 1, "r"), (), Status.PROVED),
    ("2 d/dx x|x| at 0 = 0", lambda: Equal(at(x * sp.Abs(x), x, 0), 0, "r"), (), None),
    ("2 d/dy atan2(y, 1) at 0 = 1", lambda: Equal(at(sp.atan2(y, 1), y, 0), 1, "r"), (), None),
    ("3 ∫₀¹∫₀¹ x y² dx dy = 1/6", lambda: Equal(sp.Integral(x * y**2, (x, 0, 1), (y, 0, 1)), sp.Rational(1, 6), "r"),
     (), Status.PROVED),
    ("3 ∫₀¹∫₀^π atan(tan x) dx dy = 0",
     lambda: Equal(sp.Integral(sp.atan(sp.tan(x)), (x, 0, sp.pi), (y, 0, 1)), 0, "r"), (), None),
)


@pytest.mark.parametrize("case", FALSE, ids=[c[0] for c in FALSE])
def test_planted_false_step_fails(case: Case) -> None:
    assert_planted_fails(case, "round6")


@pytest.mark.parametrize("case", TRUE, ids=[c[0] for c in TRUE])
def test_true_control_holds(case: Control) -> None:
    assert_control_holds(case, "round6")


def test_approaching_a_point_settles_or_says_it_did_not() -> None:
    assert abs(approach.approached(L(STEP, x, 0, "+")) - 1) < 1e-20
    assert abs(approach.approached(L(STEP, x, 0, "-")) - 2) < 1e-20
    assert abs(approach.approached(L(RELU / x, x, 0, "+")) - 1) < 1e-15
    with pytest.raises(approach.Unsettled):
        approach.approached(L(sp.sign(x), x, 0, "+-"))  # the two sides differ
    with pytest.raises(approach.Unsettled):
        approach.approached(L(sp.Piecewise((1 / x, x > 0), (0, True)), x, 0, "+"))  # unbounded
    assert not approach.approachable(L(sp.sin(x) / x, x, 0))  # no jump: SymPy's limit is used
    assert approach.limit_of_a_jump(1 + L(STEP, x, 0, "+")) and not approach.limit_of_a_jump(L(sp.sin(x) / x, x, 0))


def test_integrals_over_boxes_are_taken_by_quadrature() -> None:
    value = concrete.numeric_integrals(sp.Integral(sp.atan(sp.tan(x)), (x, 0, sp.pi), (y, 0, 1)))
    assert isinstance(value, sp.Number) and abs(value) < 1e-10
    value = concrete.numeric_integrals(sp.Integral(x * y**2, (x, 0, 1), (y, 0, 2)))
    assert isinstance(value, sp.Float) and abs(value - sp.Rational(4, 3)) < 1e-5
    gauss = concrete.numeric_integrals(sp.Integral(sp.exp(-x**2 - y**2), (x, -sp.oo, sp.oo), (y, -sp.oo, sp.oo)))
    assert isinstance(gauss, sp.Float) and abs(gauss - sp.pi) < 1e-3
