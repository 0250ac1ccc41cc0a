"""Proofs of theory/hardt_ma.py (C11, C12): Hardt & Ma 2017 on small instances."""

from __future__ import annotations

from theory import hardt_ma
from theory.derivation import Status


def test_gradient_dominates_suboptimality_near_identity_at_size_one_depth_two(prove) -> None:
    # ‖∇f‖² = 4σ²e²((1 + a₁)² + (1 + a₂)²) ≥ 4ℓ(1 − τ)^{2(ℓ−1)} σ f for a_i ≥ −τ;
    # the quoted (1 − τ)^{ℓ−1} σ² form fails at explicit points (proved strict inequalities there)
    result = prove(hardt_ma.gradient_lower_bound_small())
    assert result.status is Status.PROVED, result.report()


def test_plain_parameterisation_origin_is_a_critical_point_but_not_a_minimum(prove) -> None:
    # ∇f(0) = 0, f(0) = tr Σ > 0 = f(I, I); ℓ = 2 Hessian det −4σ² < 0; ℓ = 3 Hessian 0 but f(1,1,1) < f(0)
    result = prove(hardt_ma.plain_origin_not_minimum())
    assert result.status is Status.PROVED, result.report()
