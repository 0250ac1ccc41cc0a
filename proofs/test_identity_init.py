"""Proofs of theory/identity_init.py (C9, C12): a branch's algebraic decay to F = 0; negative modes never learnt."""

from __future__ import annotations

from theory import identity_init
from theory.derivation import Status


def test_zero_weights_of_a_deep_branch_are_reached_only_algebraically(prove) -> None:
    # ẇ = −w^{2N−1} ⇒ u̇ = −N u^{3−2/N} ⇒ u = (u₀^{−p} + Npt)^{−1/p}, ½u² ~ t^{−N/(N−1)} (N ≥ 2); u₀e^{−t} (N = 1)
    result = prove(identity_init.branch_decays_algebraically())
    assert result.status is Status.PROVED, result.report()


def test_residual_chain_from_identity_never_learns_a_negative_eigenvalue(prove) -> None:
    # ½(λ − u)² − ½λ² = u(u/2 − λ) ≥ 0 for u ≥ 0 > λ; the flow vanishes at w = 0 for L ≥ 2 (Bartlett et al. 2018)
    result = prove(identity_init.negative_mode_never_learnt())
    assert result.status is Status.PROVED, result.report()
