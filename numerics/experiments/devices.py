"""Where a chunk trains: its tensors are built on the CPU (from CPU generators, so that every device starts
from the same numbers) and moved to the chosen device for training (`numerics.train.train(device=…)`: the
fused engine on the CPU, the autograd engine elsewhere).  The generators are CPU generators on every device,
and say so: a CUDA generator would draw other numbers, and the draws of a run must not depend on where it
trains.

`device` is a resolved name, ``"cpu"`` or ``"cuda"`` (`hfx.devices` turns ``auto`` into one of them, and refuses
``cuda`` where there is none).
"""

from __future__ import annotations

from typing import Any

import torch

from numerics.models import BlockSpec, Params
from numerics.train import OptimizerSpec, TrainResult, train

DEVICES = ("cpu", "cuda")


def torch_device(device: str) -> torch.device:
    """The torch device of a resolved name; ValueError for anything else."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    return torch.device(device)


def train_on(device: str, spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor, opt: OptimizerSpec,
             lr: torch.Tensor, lam: torch.Tensor, max_steps: int, eps: float, g: torch.Generator,
             **options: Any) -> TrainResult:
    """`numerics.train.train` on `device` (`g`, the minibatch stream, stays a CPU generator; the parameters and
    data, drawn on the CPU, are moved by the engine).

    A `metric` in `options` receives the parameters on `device`: the tensors it closes over must be there too.
    """
    return train(spec, params, x, y, opt, lr, lam, max_steps, eps, g, device=torch_device(device), **options)
