"""Proofs of theory/conv_bn.py (C8): zero-sets of convolution and batch-norm blocks."""

from __future__ import annotations

from theory import conv_bn
from theory.derivation import Status


def test_convolution_vanishes_exactly_at_zero_kernel_and_bias(prove) -> None:
    # y = T(k)·vec(x) + β₀𝟙;  y(0) = β₀𝟙;  y(δ_c) = flipped k_c;  (k, β₀) = 0 ⇒ y = 0
    result = prove(conv_bn.convolution_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_batch_norm_block_vanishes_at_zero_scale_and_shift(prove) -> None:
    # (γ, β) = 0 ⇒ y ≡ 0 for every w;  mean(y) = β;  Σ(y − β)² = γ²·Nv/(v + ε)
    result = prove(conv_bn.batch_norm_zero_set())
    assert result.status is Status.PROVED, result.report()
