"""Proofs of theory/learning_time.py (C11, C12): learning times of balanced deep linear chains."""

from __future__ import annotations

from theory import learning_time
from theory.derivation import Status


def test_learning_time_has_closed_forms_at_depths_one_to_four_and_a_general_integral(prove) -> None:
    # t_N = G_N(u_f) − G_N(u₀) vanishes at u_f = u₀ and has dt_N/du_f = 1/(N u_f^{2−2/N}(s − u_f)) = 1/u̇, N = 1…4
    # (N = 2: Saxe Eq. (11)); any N: power + integrable rest
    result = prove(learning_time.closed_forms())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_plain_chain_time_diverges_from_small_init_log_at_depth_two_power_beyond(prove) -> None:
    # t − ln(1/u₀)/(2s) → finite (N = 2); u₀^{1/3}G₃, u₀^{1/2}G₄ → finite; divergent part u₀^{−(N−2)/N}/(s(N − 2))
    # (N ≥ 3); u₀ = w₀^N ⇒ exponential in depth
    result = prove(learning_time.small_init_divergence())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_residual_chain_time_to_nearby_target_shrinks_like_one_over_depth(prove) -> None:
    # u̇ > 0 below s; 1 ≤ u^{2−2/N} ≤ s² on [1, s]; comparison times ln(1/ρ)/N and ln(1/ρ)/(N s²), ordered, meeting
    # as δ → 0⁺
    result = prove(learning_time.residual_time_near_target())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
