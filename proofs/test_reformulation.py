"""Proofs of theory/reformulation.py (C6, C7)."""

from __future__ import annotations

from theory import reformulation
from theory.derivation import Status


def test_residual_reformulation_is_a_change_of_variable(prove) -> None:
    # F = H − x  ⟺  H = F + x;  with F := H − x, F + x = H
    result = prove(reformulation.residual_reformulation())
    assert result.status is Status.PROVED, result.report()


def test_identity_target_is_exactly_zero_residual(prove) -> None:
    # H = x  ⟺  F + x = x  ⟺  F = 0  (a chain; H = F + x is the residual block's definition)
    result = prove(reformulation.identity_iff_zero_residual())
    assert result.status is Status.PROVED, result.report()
