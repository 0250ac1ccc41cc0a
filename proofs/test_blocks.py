"""Proofs of theory/blocks.py (C8): zero-sets of block families."""

from __future__ import annotations

from theory import blocks
from theory.derivation import Status


def test_linear_block_vanishes_exactly_at_zero_weights(prove) -> None:
    # W=0, b=0 ⇒ Wx + b = 0;  F(0) = b;  (Wx + b) − b = Wx;  W·I = W  ⇒  F ≡ 0 ⟺ (W, b) = 0
    result = prove(blocks.linear_block_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_two_layer_block_needs_only_its_last_layer_zero(prove) -> None:
    # (W₂, b₂) = 0 ⇒ F ≡ 0 for every σ and all sizes;  at n = h = m = 2: W₁ = 0 ⇒ σ(0)W₂𝟙 (no biases), = 0 at
    # σ(0) := 0;  duplicate hidden units: F ≡ 0 with W₁, b₁, W₂ entrywise nonzero;  F(0) = σ(0)W₂𝟙 + b₂ without b₁
    result = prove(blocks.two_layer_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_identity_block_zero_set(prove) -> None:
    # σ = id: W₁ = 0 suffices without biases; nothing is necessary;  F(x) = (W₂W₁)x, zero set W₂W₁ = 0
    result = prove(blocks.identity_block_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_relu_block_zero_set(prove) -> None:
    # σ = ReLU = max(0, t): relu(0) = 0, relu(1) = 1 (evaluated by the checker, not at construction);
    # dead units (W₁, b₁ < 0, b₂ = 0) give F ≡ 0 on x ≥ 0 only:
    # at x = (−1, −1) the same kind of weights give F = 𝟙
    result = prove(blocks.relu_block_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_tanh_block_zero_set(prove) -> None:
    # σ = tanh: tanh(0) = 0, tanh(1) > 0
    result = prove(blocks.tanh_block_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_sigmoid_block_zero_set_where_zeroing_the_first_layer_fails(prove) -> None:
    # σ(0) = ½: W₁ = 0 leaves F ≡ ½W₂𝟙 (= ½𝟙 at W₂ = I);  σ(t) + σ(−t) = 1 gives b₂ = −𝟙 ≠ 0 on the zero set
    result = prove(blocks.sigmoid_block_zero_set())
    assert result.status is Status.PROVED, result.report()


def test_gelu_block_zero_set(prove) -> None:
    # σ = GELU = tΦ(t): GELU(0) = 0, GELU(1) = Φ(1) > 0
    result = prove(blocks.gelu_block_zero_set())
    assert result.status is Status.PROVED, result.report()
