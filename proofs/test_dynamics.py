"""Proofs of theory/dynamics.py (C11, C12): the exact GD step count behind `numerics.closed_forms.linear_gd_steps`."""

from __future__ import annotations

from theory import dynamics
from theory.derivation import Status


def test_exact_step_count_is_floor_plus_one_per_mode_and_bisection_on_a_convex_sum(prove) -> None:
    # c q^x = ε²; ln ε² − ln(c q^k) = (k − x) ln(1 + p): c q^k < ε² for k > x, ≥ ε² for k ≤ x (so k* = ⌊x⌋ + 1,
    # a remark: Goh's ⌈x⌉ is one short at integer x);
    # f(k) = Σ c_i q_i^k is nonincreasing when q_i ≤ 1 and convex for all q_i ≥ 0
    result = prove(dynamics.exact_step_count())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
