"""Proofs of theory/landscape.py (C9, C11): loss, gradient and Hessian at zero weights."""

from __future__ import annotations

from theory import landscape
from theory.derivation import Status


def test_residual_one_layer_zero_weights_are_the_strict_global_minimum(prove) -> None:
    # M = I + W: L = ½tr(WΣWᵀ), ∇L(0) = 0·Σ = 0, L(0) = 0 (every n); Hessian I ⊗ Σ ≻ 0 (spectrum of Σ, twice) at n = 2
    result = prove(landscape.residual_one_layer())
    assert result.status is Status.PROVED, result.report()


def test_plain_one_layer_origin_is_not_critical_and_identity_is_the_convex_minimum(prove) -> None:
    # M = W: ∇L = (W − I)Σ, ∇L(0) = −Σ, ∇LΣ⁻¹ = W − I (every n); same Hessian I ⊗ Σ ≻ 0 at n = 2
    result = prove(landscape.plain_one_layer())
    assert result.status is Status.PROVED, result.report()


def test_plain_two_layer_zero_weights_are_a_strict_saddle(prove) -> None:
    # M = W₂W₁: directional derivatives 0 at 0, curvature −2tr(V₂V₁Σ) (every n); at n = 2: eigenvalues ±σ_i,
    # vᵀHv = −2tr Σ < 0 < ½tr Σ = L(0)
    result = prove(landscape.plain_two_layer())
    assert result.status is Status.PROVED, result.report()


def test_residual_two_layer_zero_weights_are_a_flat_global_minimum(prove) -> None:
    # M = I + W₂W₁: quartic ⇒ gradient and curvature 0 at the origin, L = 0 on W₂ = 0 (every n);
    # L = ½‖W₂W₁R‖² ≥ 0 = L(0) at n = 2
    result = prove(landscape.residual_two_layer())
    assert result.status is Status.PROVED, result.report()
