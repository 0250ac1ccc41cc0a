"""The architecture shared by every run of a batch, and the names of its parts.

R independent runs (seeds × learning rates × initialisations, flattened) share one set of tensors
whose leading axis is the run: a linear layer of R runs is one (R, d, d) tensor, a stack of L blocks
stores its layers along the second axis, (R, L, …).  That layout is the public one and the training
loop's own (`Params`): each run's parameters are one contiguous block.

Blocks (He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016,
Eq. (1): y = F(x, {W_i}) + x with F = W₂σ(W₁x)):

* ``linear``  F(x) = W x                              W: (R, L, d, d)
* ``mlp``     F(x) = W₂ σ(W₁ x), σ ∈ {relu, tanh, gelu}  W₁: (R, L, m, d), W₂: (R, L, d, m)
* ``conv``    F(x) = K₂ ⋆ σ(K₁ ⋆ x) on c×s×s images, 'same' padding, no bias
              K₁: (R, L, m, c, k, k), K₂: (R, L, c, m, k, k)

Variants (how the block output H is formed from the branch F):

* ``plain``     H = F(x)
* ``residual``  H = x + F(x)
* ``rezero``    H = x + α F(x), α scalar per block, α₀ = 0 (Bachlechner et al.,
                *ReZero is All You Need*, 2020, arXiv:2003.04887, Eq. (3))
* ``skipinit``  H = x + α F(x), α₀ = 0 (De & Smith, *Batch Normalization Biases
                Residual Blocks Towards the Identity Function in Deep Networks*,
                NeurIPS 2020, §4).  Without normalisation layers in the branch (as
                here) SkipInit and ReZero are the same parameterisation; the
                papers differ in whether the branch contains batch norm.
* ``fixup``     H = x + F(x) with Fixup's initialisation only: the last layer of
                each branch at 0, the others scaled by L^{−1/(2m−2)} for m layers
                per branch (Zhang, Dauphin, Ma, *Fixup Initialization*, ICLR 2019,
                §3, Eq. (3)); Fixup's scalar multipliers and biases are not used.

No layer has a bias.  Loss (CONTRIBUTING.md): the mean over samples with a ½,
L = (1/2N) Σ_j ‖H(x_j) − y_j‖², one value per run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

BLOCKS = ("linear", "mlp", "conv")
VARIANTS = ("plain", "residual", "rezero", "skipinit", "fixup")
ACTIVATIONS = ("relu", "tanh", "gelu")
INITS = ("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity", "balanced")
TARGETS = ("identity", "near-identity", "linear-pd", "linear-indefinite")

Params = dict[str, torch.Tensor]  # name ↦ (R, L, …) (alpha: (R, L)); dense weights as (out, in)


@dataclass(frozen=True)
class BlockSpec:
    """The architecture shared by every run of a batch."""

    block: str = "linear"  # one of BLOCKS
    variant: str = "residual"  # one of VARIANTS
    depth: int = 1  # L: number of blocks stacked
    width: int = 4  # d: features (linear, mlp) or channels c (conv)
    hidden: int = 8  # m: hidden width (mlp) or hidden channels (conv); unused for linear
    activation: str = "relu"  # σ for mlp and conv branches, one of ACTIVATIONS
    image_size: int = 6  # s: images are c × s × s (conv only)
    kernel_size: int = 3  # k: odd kernel side (conv only)

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {self.block!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name in ("depth", "width", "hidden", "image_size", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")

    @property
    def residual(self) -> bool:
        """Whether the block has an identity shortcut."""
        return self.variant != "plain"

    @property
    def scaled(self) -> bool:
        """Whether the branch is multiplied by a learnable scalar α (ReZero, SkipInit)."""
        return self.variant in ("rezero", "skipinit")

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-run shapes of the weight tensors (without the leading R)."""
        L, d, m, k = self.depth, self.width, self.hidden, self.kernel_size
        if self.block == "linear":
            return {"W": (L, d, d)}
        if self.block == "mlp":
            return {"W1": (L, m, d), "W2": (L, d, m)}
        return {"K1": (L, m, d, k, k), "K2": (L, d, m, k, k)}


def num_params(spec: BlockSpec) -> int:
    """Trainable parameters per run."""
    n = sum(math.prod(s) for s in spec.weight_shapes().values())
    return n + (spec.depth if spec.scaled else 0)
