"""Proofs of theory/jacobian.py (C3): Jacobians of linear stacks through depth."""

from __future__ import annotations

from theory import jacobian
from theory.derivation import Status


def test_residual_jacobian_is_identity_plus_branch_terms_while_plain_is_a_product(prove) -> None:
    # (I + A_L)⋯(I + A_1) = I + Σ A_i + …  (He et al. 2016b Eq. 4–5), L = 2, 3 and the inductive step;
    # ∇_{x_0}E = Jᵀ∇_{x_L}E; W_L⋯W_1 → 0 as W → 0 and scales as s^L
    result = prove(jacobian.residual_jacobian_expansion())
    assert result.status is Status.PROVED, result.report()


def test_scaled_shortcut_multiplies_the_direct_term_by_lambda_to_the_depth(prove) -> None:
    # ∏(λ_i I + A_i) at A = 0 is (∏λ_i) I = λ^L I; λ^L → 0 for every λ < 1 and → ∞ for every λ > 1
    result = prove(jacobian.scaled_shortcut_direct_term())
    assert result.status is Status.PROVED, result.report()


def test_zero_residual_and_orthogonal_inits_give_all_singular_values_one(prove) -> None:
    # A = 0 ⇒ J = I;  QᵀQ = I ⇒ (QJ)ᵀ(QJ) = JᵀJ (Q sampled exactly orthogonal)
    result = prove(jacobian.isometric_inits())
    assert result.status is Status.PROVED, result.report()


def test_random_init_mean_squared_singular_value_is_gain_to_the_depth(prove) -> None:
    # E[w²] = σ², E[ww′] = 0 (Gaussian density) ⇒ E‖Wx‖² = nσ²‖x‖², E‖(I + A)x‖² = (1 + nσ²)‖x‖²
    # ⇒ (nσ²)^L plain, (1 + nσ²)^L residual
    result = prove(jacobian.gaussian_init_mean_square_gain())
    assert result.status is Status.PROVED, result.report()
