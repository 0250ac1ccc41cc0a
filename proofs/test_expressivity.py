"""Proofs of theory/expressivity.py (C5, C11): what single blocks can represent, and at what cost."""

from __future__ import annotations

from theory import expressivity
from theory.derivation import Status


def test_relu_layer_of_width_n_cannot_represent_the_identity(prove) -> None:
    # odd part ½VWx, even part ½V|Wx|: f = id ⇒ VW = 2I (W invertible) and, at x = W⁻¹y with y ≥ 0, V = 0:
    # a contradiction
    result = prove(expressivity.relu_width_n_cannot_be_identity())
    assert result.status is Status.PROVED, result.report()


def test_relu_layer_of_width_2n_represents_the_identity(prove) -> None:
    # x = relu(x) − relu(−x): for every real t, and entry by entry for n = 1, 2, 3
    result = prove(expressivity.relu_width_2n_identity())
    assert result.status is Status.PROVED, result.report()
