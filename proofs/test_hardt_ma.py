"""Proofs of theory/hardt_ma.py (C11, C12): Hardt & Ma 2017 on small exact instances."""

from __future__ import annotations

from theory import hardt_ma
from theory.derivation import Status


def test_hardt_ma_eq_2_3_as_printed_is_false_and_the_corrected_bound_is_tight_at_size_one_depths_two_three(
    prove,
) -> None:
    # printed: ‖∇f‖² ≥ 4ℓ(1 − τ)^{ℓ−1}σ_min(Σ)² f fails at σ = 1, ℓ = 2, τ = ½, a_i = −½ (9/8 < 9/4);
    # σ_min(Σ)² with the exponent corrected fails at σ = 2 (9/2 < 9);
    # corrected: ‖∇f‖² = 4σ²e²Σ_iΠ_{j≠i}(1 + a_j)² ≥ 4ℓ(1 − τ)^{2(ℓ−1)}σ f for a_i ≥ −τ, ℓ = 2, 3; equality at a_i = −τ
    derivation = hardt_ma.gradient_lower_bound_small()
    assert derivation.instance == "size 1, depths $ℓ = 2$ and 3"
    result = prove(derivation)
    assert result.status is Status.PROVED, result.report()


def test_plain_parameterisation_origin_is_a_critical_point_but_not_a_minimum_at_depths_two_and_three(prove) -> None:
    # size n, ℓ = 2: every directional derivative at 0 vanishes, f(0) = tr Σ, f(I, I) = 0;
    # size 1: ℓ = 2 Hessian det −4σ² < 0; ℓ = 3 gradient and Hessian 0 but f(1, 1, 1) − f(0) = −σ < 0
    result = prove(hardt_ma.plain_origin_not_minimum())
    assert result.status is Status.PROVED, result.report()
