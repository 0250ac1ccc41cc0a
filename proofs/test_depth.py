"""Proofs of theory/depth.py (C4): identity layers embed a shallow network in a deeper one."""

from __future__ import annotations

from theory import depth
from theory.derivation import Status


def test_deeper_residual_net_is_not_worse(prove) -> None:
    # u + W₂σ(W₁u + b₁) + b₂ = u at (W₂, b₂) = 0  ⇒  N_deep = N,  L_deep = L for every ℓ;
    # the all-zero block adds no L2 penalty
    result = prove(depth.residual_identity_layers())
    assert result.status is Status.PROVED, result.report()


def test_deeper_plain_linear_net_is_not_worse_only_at_identity_weights(prove) -> None:
    # Wu = u ⟺ W = I (W·I = W);  W = 0 is the zero map;  N_deep = N at W = I;  (λ/2)‖W‖² = λn/2 at W = I
    result = prove(depth.plain_linear_identity_layers())
    assert result.status is Status.PROVED, result.report()


def test_deeper_plain_relu_net_is_not_worse_only_with_identity_constructions(prove) -> None:
    # n = 2: relu(relu(z)) = relu(z);  relu(s) ≥ 0 > q;  relu(t) − relu(−t) = t for every real t;
    # N(g(x)) = N(x);  pair penalty (λ/2)(‖R‖² + ‖S‖²) = 4λ at R = [I; −I], S = [I, −I]
    result = prove(depth.plain_relu_identity_layers())
    assert result.status is Status.PROVED, result.report()
