"""Proofs of theory/deep_linear.py (C11, C12): end-to-end dynamics of balanced deep linear chains."""

from __future__ import annotations

from theory import deep_linear
from theory.derivation import Status


def test_balanced_chain_follows_saxe_arora_end_to_end_ode(prove) -> None:
    # ẇ_i = (s − u)∏_{j≠i} w_j, balance conserved ⇒ u̇ = N u^{2−2/N}(s − u); Saxe Eq. (10), (12), (15); Arora 2018
    result = prove(deep_linear.end_to_end_ode())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_residual_chain_from_zero_branches_follows_the_same_ode_from_one(prove) -> None:
    # w_i = 1 + a_i: ∂L/∂a_i = ∂L/∂w_i, a_i(0) = 0 ⇒ u(0) = 1, balanced; initial speed N(s − 1) = Nδ
    result = prove(deep_linear.residual_chain_same_ode())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
