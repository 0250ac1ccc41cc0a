"""Proofs of theory/linear_block.py (C11, C12): GD on one linear block fitting the identity."""

from __future__ import annotations

from theory import linear_block
from theory.derivation import Status


def test_gd_iterate_of_plain_and_residual_blocks_is_exact_per_eigen_mode(prove) -> None:
    # ∇ = (W − I)Σ + λW, AΣ + λA  ⇒  E_{k+1} = E_k(I − η(Σ + λI));  w_k = w* + r^k(w_0 − w*),  a_k = r^k a_0
    result = prove(linear_block.gd_iterate())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_gd_converges_iff_step_below_two_over_top_hessian_eigenvalue(prove) -> None:
    # r = 1 − η(σ + λ):  r² < 1 ⟺ 0 < η(σ + λ) < 2;  all modes ⟺ η < 2/(σ_max + λ)
    result = prove(linear_block.stability())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_one_layer_residual_form_is_a_change_of_variable_with_the_same_rate(prove) -> None:
    # M = I + A: same loss (λ = 0) and GD map in M; same contraction I − η(Σ + λI); only start and decay target differ
    result = prove(linear_block.residual_is_change_of_variable())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
