"""`--device cpu|cuda|auto`: where the experiments train.

``auto`` picks CUDA when there is a device (on every worker, with `--scheduler`), else the CPU; ``cuda``
without one is bad input (exit 2, one line).  A chunk's tensors are always drawn on the CPU and moved
(`numerics.experiments.devices`), so the device changes float rounding, not the random draws; the resolved
device is part of what a resumed run must share with its store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfx.errors import UsageError

if TYPE_CHECKING:
    from distributed import Client

CHOICES = ("cpu", "cuda", "auto")


def resolve(option: str, client: Client | None = None) -> str:
    """The device to train on, ``"cpu"`` or ``"cuda"`` (module docstring)."""
    if option not in CHOICES:
        raise UsageError(f"--device must be one of {', '.join(CHOICES)}, got {option!r}")
    if option == "cpu":
        return "cpu"
    if client is not None:
        from hfx.cluster import workers_have_cuda

        available, where = workers_have_cuda(client), "on every worker of the cluster"
    else:
        import torch

        available, where = bool(torch.cuda.is_available()), "on this machine"
    if option == "cuda" and not available:
        import torch

        cuda = torch.version.cuda
        build = "a CPU-only build of torch" if cuda is None else f"torch built for CUDA {cuda}"
        raise UsageError(f"--device cuda: no CUDA device {where} ({build}); use --device cpu or auto")
    return "cuda" if available else "cpu"
