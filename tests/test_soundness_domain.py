"""Soundness of the domain: a side undefined (or not real) somewhere, and SymPy's sign queries (issue 8, red-team A–C).

Three classes, each with planted false steps that must come out *failed* and true
counterparts that must stay *proved* (the check discriminates; it does not refuse
everything):

A. z3 took "where the sides are defined" as a premise (a square root's radicand ≥ 0, a
   denominator ≠ 0): a step whose side is not real everywhere, or somewhere, was proved;
B. removable singularities: ``(x − a)·1/(x − a) = 1`` was proved by ``doit``/cancel and z3;
C. SymPy's assumption system: asin, acos and atan of a rational argument are declared
   irrational, hence nonzero — ``atan((m − 100)²) > 0`` for integer m was proved (0 at m = 100).
"""

from __future__ import annotations

import pytest
import sympy as sp

from theory.core import domain, smt
from theory.derivation import Derivation, Equal, Equivalent, Inequality, Status, Step, verify

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", positive=True)
q = sp.Symbol("q", nonnegative=True)
m, j = sp.symbols("m j", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
r57 = sp.Rational(5, 7)


def _status(step: Step) -> Status:
    result = verify(Derivation(id="soundness-domain.plant", title="plant", claims=(), statement="", steps=(step,)))
    return result.steps[0].status


def _unevaluated(a: sp.Expr) -> sp.Expr:
    return sp.Mul(a, 1 / a, evaluate=False)


FALSE_STEPS = {
    # A. a side not real somewhere (or everywhere) on the declared domain
    "A: √(−x² − 1) > 1 (imaginary everywhere)": Inequality(sp.sqrt(-x**2 - 1), 1, "r", relation=">"),
    "A: x + √(x − 3) ≥ 3 (imaginary for x < 3)": Inequality(x + sp.sqrt(x - 3), 3, "r", relation="≥"),
    "A: √(1 − x²) ≤ 1 (imaginary for |x| > 1)": Inequality(sp.sqrt(1 - x**2), 1, "r", relation="≤"),
    "A: √(x − y) + y ≥ y (two symbols)": Inequality(sp.sqrt(x - y) + y, y, "r", relation="≥"),
    "A: log x < x (log of a negative)": Inequality(sp.log(x), x, "r", relation="<"),
    "A: asin(x)² < 3 (complex for |x| > 1)": Inequality(sp.asin(x) ** 2, 3, "r", relation="<"),
    "A: 1/√(x − 2) > 0": Inequality(1 / sp.sqrt(x - 2), 0, "r", relation=">"),
    # B. removable singularities off the special sample values
    "B: (x − 5/7)·1/(x − 5/7) = 1": Equal(_unevaluated(x - r57), 1, "r"),
    "B: (m − 17)·1/(m − 17) = 1, integer m": Equal(_unevaluated(m - 17), 1, "r"),
    "B: (x − y)·1/(x − y) = 1": Equal(_unevaluated(x - y), 1, "r"),
    "B: (x² − 9)/(x − 3) = x + 3": Equal((x**2 - 9) / (x - 3), x + 3, "r"),
    "B: log((x − 5/7)² + 1)/log(...) = 1": Equal(_unevaluated(sp.log((x - r57) ** 2 + 1)), 1, "r"),
    "B: (m² − 37m)/(m − 37) = m": Equal((m**2 - 37 * m) / (m - 37), m, "r"),
    # C. SymPy's sign queries wrong at a zero of a sub-expression
    "C: atan((m − 100)²) > 0": Inequality(sp.atan((m - 100) ** 2), 0, "r", relation=">"),
    "C: atan((m − j)²) > 0, two integers": Inequality(sp.atan((m - j) ** 2), 0, "r", relation=">"),
    "C: atan((m − 100)²) ≥ atan(½)": Inequality(sp.atan((m - 100) ** 2), sp.atan(sp.S.Half), "r", relation="≥"),
    "C: sign(atan((m − 100)²)) = 1": Equal(sp.sign(sp.atan((m - 100) ** 2), evaluate=False), 1, "r"),
    "C: factor 1/atan((m − 100)²)": Equivalent(sp.Eq(x, 1), sp.Eq(x * sp.atan((m - 100) ** 2), sp.atan((m - 100) ** 2)),
                                                "r", factor=1 / sp.atan((m - 100) ** 2)),
    "C: factor 1/acos(1 − (m − 40)²)": Equivalent(sp.Eq(x, 1), sp.Eq(x * sp.acos(1 - (m - 40) ** 2),
                                                                    sp.acos(1 - (m - 40) ** 2)),
                                                   "r", factor=1 / sp.acos(1 - (m - 40) ** 2)),
    # B. a singularity of one side that the other side's, written differently, does not share
    "B: 1/(√t − 1) = (√t + 1)/(t − 1)·(t − 2)/(t − 2)": Equal(
        1 / (sp.sqrt(t) - 1), sp.Mul((sp.sqrt(t) + 1) / (t - 1), t - 2, 1 / (t - 2), evaluate=False), "r"),
    "B: (t − 1)/(√t − 1)·1/(t − 4) = (√t + 1)/(t − 4) + 0·1/(t − 9)": Equal(
        (t - 1) / (sp.sqrt(t) - 1) / (t - 4), (sp.sqrt(t) + 1) / (t - 4) + sp.Mul(0, 1 / (t - 9), evaluate=False), "r"),
}

TRUE_PROVED = {
    "A: √(x² + 1) ≥ 1": Inequality(sp.sqrt(x**2 + 1), 1, "r", relation="≥"),
    "A: q + √q ≥ 0, q ≥ 0": Inequality(q + sp.sqrt(q), 0, "r", relation="≥"),
    "A: 2xy ≤ x² + y²": Inequality(2 * x * y, x**2 + y**2, "r", relation="≤"),
    "B: (x² + 1)·1/(x² + 1) = 1": Equal(_unevaluated(x**2 + 1), 1, "r"),
    "B: (m² + 1)·1/(m² + 1) = 1": Equal(_unevaluated(m**2 + 1), 1, "r"),
    "B: (t² − 9)/(t + 3) = t − 3, t > 0": Equal((t**2 - 9) / (t + 3), t - 3, "r"),
    "B: 2/(2 − 2/N) = N/(N − 1) (the same singularity on both sides)": Equal(2 / (2 - 2 / N), N / (N - 1), "r"),
    "C: atan((m − 100)² + 1) > 0": Inequality(sp.atan((m - 100) ** 2 + 1), 0, "r", relation=">"),
    "C: atan((m − 100)²) ≥ 0": Inequality(sp.atan((m - 100) ** 2), 0, "r", relation="≥"),
    "C: factor 1/atan(t)": Equivalent(sp.Eq(x, 1), sp.Eq(x * sp.atan(t), sp.atan(t)), "r", factor=1 / sp.atan(t)),
    # the same singularity on both sides, written differently (√t − 1 = (t − 1)/(√t + 1)): no side is defined
    # where the other is not
    "B: 1/(√t − 1) = (√t + 1)/(t − 1)": Equal(1 / (sp.sqrt(t) - 1), (sp.sqrt(t) + 1) / (t - 1), "r"),
    "B: 1/(t − 1) = 1/((√t − 1)(√t + 1))": Equal(1 / (t - 1), 1 / ((sp.sqrt(t) - 1) * (sp.sqrt(t) + 1)), "r"),
}


@pytest.mark.parametrize("name", list(FALSE_STEPS))
def test_planted_false_domain_step_fails(name: str) -> None:
    assert _status(FALSE_STEPS[name]) is Status.FAILED


@pytest.mark.parametrize("name", list(TRUE_PROVED))
def test_true_domain_step_is_proved(name: str) -> None:
    assert _status(TRUE_PROVED[name]) is Status.PROVED


def test_a_failed_domain_step_names_the_point() -> None:
    result = verify(Derivation(id="soundness-domain.point", title="p", claims=(), statement="",
                               steps=(Equal(_unevaluated(m - 17), 1, "r"),)))
    assert "m = 17" in result.steps[0].detail


def test_z3_never_takes_a_domain_condition_as_a_premise() -> None:
    assert smt.decide(sp.sqrt(-x**2 - 1), ">", 1).verdict is smt.SmtVerdict.UNDEFINED
    assert smt.decide(x + sp.sqrt(x - 3), "≥", 3).verdict is smt.SmtVerdict.UNDEFINED
    assert smt.decide(_unevaluated(x - r57), "=", 1).verdict is smt.SmtVerdict.UNDEFINED
    assert smt.decide(t + sp.sqrt(t), ">", 0).verdict is smt.SmtVerdict.CERTIFIED  # the radicand t > 0 is proved
    assert smt.decide(x - 2, "≠", 0).verdict is smt.SmtVerdict.COUNTEREXAMPLE


@pytest.mark.parametrize("f, zero", [(sp.atan, 0), (sp.asin, 0), (sp.acos, 1)])
def test_sympy_sign_is_confirmed_at_the_zeros_of_the_argument(f: sp.FunctionClass, zero: int) -> None:
    # SymPy calls f(rational) irrational, hence nonzero; at the argument's zero it is 0
    value = f(zero + (m - 100) ** 2 / sp.Integer(10**6)) if f is not sp.acos else f(1 - (m - 100) ** 2 / 10**6)
    decision = domain.decide(domain.Condition(value, "≠", "test"))
    assert decision.status == "violated"
    assert dict(decision.point)[m] == 100


def test_nested_time_limits_compose() -> None:
    """An inner limit re-arms the enclosing one when it ends (it used to cancel it: the outer block ran unbounded)."""
    import time

    from theory.core.ladder import Timeout, time_limit

    with pytest.raises(Timeout):
        with time_limit(0.3):
            with time_limit(5.0):
                pass
            start = time.process_time()
            while time.process_time() - start < 3.0:  # CPU work past the outer limit
                pass
