"""Several full-batch (S)GD steps of R dense stacks in one native call, each run's steps taken back to back.

The lock-step loop (`numerics.train`, one `fused.loss_and_grads` call per step) walks through every run's
weights once per step: at 1,024 runs of width 16 and depth 8 that is 17 MB read and written per step, more
than the caches hold, and about a fifth of the step's time.  Here the loop over steps sits inside the loop
over runs (`dense_gd_steps` in `_fused.cpp`): a run's weights, gradients and activations stay in L1/L2 for
all K steps of the call.  The runs are independent, so this changes no number: every step is the lock-step
loop's step (the same native loss and gradient, the same update θ ← θ − (ηG + cθ), c = ηλ), and the stop
rule of `numerics.monitor` (metric = the loss) is applied run by run at every step, so that a run stops
moving at the same step as there.  tests/test_fused_steps.py checks equality with the lock-step loop, bit
for bit.

What the call returns for steps k = k0 … k0+K−1 (rows) and runs r (columns), float64: the loss L(θ_k) as
computed in the batch's dtype (NaN once the run stopped moving), and ‖θ_k‖² (sums in float64) at recorded
steps (k % every = 0 or k = max_steps; NaN elsewhere).  `RunState` holds the monitor's per-run state (moving,
active, the divergence threshold set at k = 0, the converging and diverging steps), updated in place.
"""

from __future__ import annotations

import ctypes
import itertools
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch

from numerics.blocks import fused
from numerics.blocks.spec import BlockSpec, Params


class _Steps(ctypes.Structure):
    _fields_ = [("k0", ctypes.c_int64), ("K", ctypes.c_int64), ("max_steps", ctypes.c_int64),
                ("every", ctypes.c_int64), ("eps", ctypes.c_double), ("factor", ctypes.c_double),
                ("freeze_converged", ctypes.c_int)]


@dataclass(frozen=True)
class StepRule:
    """What the native loop needs of the training loop's settings (see `numerics.monitor.StopRule`)."""

    max_steps: int  # no update is taken at k = max_steps
    record_every: int  # ‖θ_k‖² is returned where k % record_every = 0 or k = max_steps
    eps: float  # converged: loss < eps
    divergence_factor: float  # diverged: loss not finite or > factor·(L(θ₀) + 1)
    freeze_converged: bool  # a converged run stops moving


@dataclass
class RunState:
    """The monitor's per-run state as the native loop reads and writes it: (R,) CPU tensors, updated in place."""

    moving: torch.Tensor  # uint8
    active: torch.Tensor  # uint8
    bound: torch.Tensor  # float64 (NaN before k = 0)
    converged: torch.Tensor  # int64: the step at which the run converged, −1 until then
    diverged: torch.Tensor  # int64: the step at which it diverged, −1 until then

    @classmethod
    def start(cls, R: int) -> RunState:
        return cls(torch.ones(R, dtype=torch.uint8), torch.ones(R, dtype=torch.uint8),
                   torch.full((R,), float("nan"), dtype=torch.float64), torch.full((R,), -1, dtype=torch.int64),
                   torch.full((R,), -1, dtype=torch.int64))


@cache
def _functions(lib: ctypes.CDLL) -> dict[torch.dtype, Any]:
    p, i64 = ctypes.c_void_p, ctypes.c_int64
    out = {}
    for dtype, name in ((torch.float32, "hfx_dense_steps_f32"), (torch.float64, "hfx_dense_steps_f64")):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.POINTER(fused._Shape), ctypes.POINTER(_Steps), i64, i64, *([p] * 14)]
        fn.restype = ctypes.c_int
        out[dtype] = fn
    return out


def gd_steps(spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor, rate: torch.Tensor,
             decay: torch.Tensor, state: RunState, rule: StepRule, k0: int, K: int,
             segment: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Steps k0 … k0+K−1 of every run, in place on `params` and `state`; returns loss and ‖θ‖², (K, R) float64.

    params: contiguous tensors of x's dtype in the layout of `fused.loss_and_grads`; x, y: (R, N, d);
    rate η and decay c = ηλ: (R,).  Requires `fused.supports(spec, x)`.
    """
    lib = fused._library()
    if lib is None or not fused.supports(spec, x):
        raise RuntimeError("the fused engine does not support this batch (see numerics.blocks.fused.supports)")
    if K < 1 or k0 < 0 or k0 + K > rule.max_steps + 1 or rule.record_every < 1:
        raise ValueError(f"steps {k0}…{k0 + K - 1} are outside 0…{rule.max_steps} (or record_every < 1)")
    dtype, R = x.dtype, x.shape[0]
    names = ("W1", "W2") if spec.block == "mlp" else ("W",)
    expected = fused.weight_shapes(spec, R)
    held = [*names, *(("alpha",) if spec.scaled else ())]
    for k in held:
        t = params[k]
        if tuple(t.shape) != expected[k] or t.dtype != dtype or not t.is_contiguous() or t.device.type != "cpu":
            raise ValueError(f"{k} must be a contiguous CPU {dtype} tensor of shape {expected[k]}")
    shape = fused.native_shape(spec, x, y, segment)
    x, y = x.detach().contiguous(), y.detach().to(dtype).contiguous()
    rate, decay = (t.detach().to(dtype).contiguous() for t in (rate, decay))
    for what, t, want in (("moving", state.moving, torch.uint8), ("active", state.active, torch.uint8),
                          ("bound", state.bound, torch.float64), ("converged", state.converged, torch.int64),
                          ("diverged", state.diverged, torch.int64), ("rate", rate, dtype), ("decay", decay, dtype)):
        if tuple(t.shape) != (R,) or t.dtype != want or not t.is_contiguous() or t.device.type != "cpu":
            raise ValueError(f"{what} must be a contiguous CPU {want} tensor of shape ({R},)")
    steps = _Steps(k0, K, rule.max_steps, rule.record_every, rule.eps, rule.divergence_factor,
                   int(rule.freeze_converged))
    loss = torch.empty((K, R), dtype=torch.float64)
    norm2 = torch.full((K, R), float("nan"), dtype=torch.float64)
    fn = _functions(lib)[dtype]
    alpha = params["alpha"] if spec.scaled else None
    args = [t.data_ptr() if t is not None else None for t in (
        x, y, params[names[0]], params[names[-1]], alpha, rate, decay, state.moving, state.active, state.bound,
        state.converged, state.diverged, loss, norm2)]

    def call(r0: int, r1: int) -> None:
        if fn(ctypes.byref(shape), ctypes.byref(steps), r0, r1, *args) != 0:
            raise RuntimeError("the fused engine failed")

    threads = max(1, min(torch.get_num_threads(), R))
    if threads == 1:
        call(0, R)
    else:  # more pieces than threads: runs that stop early leave their thread free for another piece
        pieces = min(R, 4 * threads)
        bounds = [R * i // pieces for i in range(pieces + 1)]
        for f in [fused._pool(threads).submit(call, a, b) for a, b in itertools.pairwise(bounds)]:
            f.result()
    return loss, norm2
