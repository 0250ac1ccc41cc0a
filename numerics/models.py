"""The public import surface of the batched blocks, split by topic in `numerics/blocks/`.

Blocks, variants and their papers: `numerics/blocks/spec.py`; initialisations: `init.py`; the forward pass
and loss (autograd, any device): `stack.py`; the fused CPU engine: `fused.py`; data and targets: `data.py`.
"""

from __future__ import annotations

from numerics.blocks.data import apply_target, data_with_covariance, linear_target, spectrum_matrix
from numerics.blocks.init import balanced_linear, init_params, init_weight, orthogonal
from numerics.blocks.spec import (
    ACTIVATIONS,
    BLOCKS,
    INITS,
    TARGETS,
    VARIANTS,
    BlockSpec,
    Params,
    num_params,
)
from numerics.blocks.stack import activation, end_to_end, forward, half_mean_sq, loss_per_run

__all__ = [
    "ACTIVATIONS", "BLOCKS", "INITS", "TARGETS", "VARIANTS", "BlockSpec", "Params", "activation", "apply_target",
    "balanced_linear", "data_with_covariance", "end_to_end", "forward", "half_mean_sq", "init_params",
    "init_weight", "linear_target", "loss_per_run", "num_params", "orthogonal", "spectrum_matrix",
]
