"""Proofs of theory/landscape_smooth.py (C9, C11): zero weights of a smooth two-layer block (n = 1, x = ±a)."""

from __future__ import annotations

from theory import landscape_smooth
from theory.derivation import Status


def test_plain_smooth_two_layer_zero_weights_are_a_strict_saddle(prove) -> None:
    # H = w₂σ(w₁x), x = ±a: L(0) = ½a², ∇L(0) = 0, Hessian eigenvalues ±a²σ′(0) = ±a² for tanh
    result = prove(landscape_smooth.plain_two_layer_smooth())
    assert result.status is Status.PROVED, result.report()


def test_residual_smooth_two_layer_zero_weights_are_a_flat_global_minimum(prove) -> None:
    # H = x + w₂σ(w₁x): L = ½E(w₂σ(w₁x))² ≥ 0 = L(0), ∇L(0) = 0, Hessian at 0 = 0, L = 0 on w₂ = 0
    result = prove(landscape_smooth.residual_two_layer_smooth())
    assert result.status is Status.PROVED, result.report()
