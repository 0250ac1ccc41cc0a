"""Batched optimisation of R independent runs, with convergence and divergence detection.

One step, for every run at once: the loss L(θ_k) (the convergence quantity) and the gradient of the
objective, the bookkeeping (`numerics.monitor`, a pure step), then the optimiser (`numerics.optim`,
a pure pair).  The runs are independent, so the gradient of Σ_r L_r with respect to run r's
parameters is ∇L_r: one backward pass gives every run's gradient.

Engines (the `engine` argument): ``fused`` computes the loss and the gradients of a dense stack in one
native call on the CPU (`numerics.blocks.fused`); ``torch`` uses autograd through plain batched tensor
operations (`numerics.blocks.stack`) on any device; ``auto`` takes the fused engine where it applies.
The two are independent implementations of the same mathematics, compared in tests/test_fused.py.

Objective: the data loss L(θ) = (1/2N)Σ_j‖H(x_j) − y_j‖² (on a minibatch for sgd), plus (λ/2)‖θ‖² under
``l2`` decay, whose gradient λθ the fused engine adds in closed form (see `numerics.optim` for
decoupled decay).  Convergence, divergence and freezing: `numerics.monitor` and docs/experiments.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.blocked import MAX_BLOCK, blocked_loop
from numerics.blocks import fused
from numerics.blocks.spec import BlockSpec, Params
from numerics.blocks.stack import loss_per_run
from numerics.monitor import (
    CENSORED,
    CONVERGED,
    DIVERGED,
    MonitorState,
    StopRule,
    monitor_init,
    monitor_step,
    statuses,
)
from numerics.optim import (
    DECAY_MODES,
    OPTIMIZERS,
    AdamState,
    GDState,
    MomentumState,
    OptimizerSpec,
    OptState,
    opt_init,
    opt_step,
    opt_update_,
    per_run,
)

__all__ = [
    "CENSORED", "CONVERGED", "DECAY_MODES", "DIVERGED", "ENGINES", "OPTIMIZERS", "AdamState", "GDState",
    "MomentumState", "OptState", "OptimizerSpec", "TrainResult", "opt_init", "opt_step", "opt_update_", "param_norm",
    "param_sq_norm", "train",
]

ENGINES = ("auto", "fused", "torch")


@dataclass
class TrainResult:
    """What happened to each of R runs (numpy arrays, run axis first; parameters on the CPU)."""

    status: np.ndarray  # (R,) str: converged / censored / diverged
    steps_to_converge: np.ndarray  # (R,) int64, −1 unless converged
    diverged_step: np.ndarray  # (R,) int64, −1 unless it blew up (a converged run that kept moving too)
    wall_seconds: np.ndarray  # (R,) batch wall time when the run converged (NaN unless converged); see blocked.py
    final_loss: np.ndarray  # (R,) data loss at the last step taken by the run
    final_metric: np.ndarray  # (R,) metric at the last step taken by the run
    recorded_steps: np.ndarray  # (T,) step indices of the curves
    loss_curve: np.ndarray  # (T, R) data loss at recorded steps (NaN after a run diverged)
    metric_curve: np.ndarray  # (T, R) metric at recorded steps
    norm_curve: np.ndarray  # (T, R) ‖θ‖_F over all trainable parameters at recorded steps
    params: Params  # final parameters (detached, on the CPU)
    total_seconds: float  # wall time of the whole batch
    steps_run: int  # updates actually performed (the loop stops once every run is decided)
    engine: str = "torch"  # the engine that ran: fused or torch
    extra: dict[str, object] = field(default_factory=dict)


Metric = Callable[[Params], torch.Tensor]  # params → (R,)


def param_sq_norm(params: Params) -> torch.Tensor:
    """‖θ‖²_F over every trainable tensor of each run: (R,) (no square root: differentiable at θ = 0)."""
    return torch.stack([p.flatten(1).pow(2).sum(-1) for p in params.values()]).sum(0)


def param_norm(params: Params) -> torch.Tensor:
    """‖θ‖_F over every trainable tensor of each run: (R,)."""
    return torch.sqrt(param_sq_norm(params))


def _gather(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows idx (R, B) of t (R, N, …) → (R, B, …)."""
    R = t.shape[0]
    return torch.gather(t, 1, idx.view(R, -1, *([1] * (t.dim() - 2))).expand(R, -1, *t.shape[2:]))


def _loss_and_grads(spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor, use_fused: bool,
                    need_grad: bool, skip: torch.Tensor, segment: int | None, out: Params | None = None,
                    step: fused.PendingStep | None = None) -> tuple[torch.Tensor, Params | None]:
    """Data loss (R,) and, with `need_grad`, its gradient per run (the fused engine writes it into `out`,
    after taking the pending `step` on `params`)."""
    if use_fused:
        return fused.loss_and_grads(spec, params, x, y, want_grads=need_grad, skip=skip, segment=segment, out=out,
                                    step=step)
    if not need_grad:
        with torch.no_grad():
            return loss_per_run(spec, params, x, y, segment), None
    leaves = {k: p.detach().requires_grad_(True) for k, p in params.items()}
    loss = loss_per_run(spec, leaves, x, y, segment)
    grads = torch.autograd.grad(loss.sum(), list(leaves.values()))
    return loss.detach(), dict(zip(leaves, grads, strict=True))


def train(
    spec: BlockSpec,
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    opt: OptimizerSpec,
    lr: torch.Tensor,
    lam: torch.Tensor,
    max_steps: int,
    eps: float,
    g: torch.Generator,
    metric: Metric | None = None,
    divergence_factor: float = 1e6,
    record_every: int = 1,
    stop_when_converged: bool = True,
    progress: Callable[[int], None] | None = None,
    engine: str = "auto",
    device: torch.device | str | None = None,
    segment: int | None = None,
    max_block: int = MAX_BLOCK,
) -> TrainResult:
    """Run up to `max_steps` updates of R runs at once; x, y: (R, N, …).

    With `stop_when_converged` a converged run's parameters are frozen (it stops moving, as a
    researcher would stop it), and the loop ends as soon as every run has converged or diverged.
    `progress(k)` is called after each step (for a progress bar; it must not print to stdout).
    `device`: where the runs train (default: x's device); `g` stays a CPU generator (minibatch indices
    are drawn on the CPU and moved).  `engine`: one of ENGINES.  `segment`: layers per activation
    checkpoint (default: the fused engine's choice, `fused.segment_length`; no checkpointing for torch).
    Full-batch (S)GD on the fused engine with the loss as the metric takes up to `max_block` steps per native
    call (`numerics.blocked`; the same numbers, faster); `max_block=0` keeps one call per step.
    """
    if max_steps < 0 or eps < 0 or record_every < 1 or max_block < 0:
        raise ValueError("max_steps, eps and max_block must be ≥ 0 and record_every ≥ 1")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    mixed = sorted(k for k, p in params.items() if p.dtype != x.dtype)
    if mixed:
        raise ValueError(f"parameters {', '.join(mixed)} are {params[mixed[0]].dtype} but x is {x.dtype}: "
                         "train in one dtype")
    dev = torch.device(device) if device is not None else x.device
    x, y = x.to(dev), y.to(dev)
    lr, lam = lr.to(dev), lam.to(dev)
    use_fused = engine != "torch" and fused.supports(spec, x)
    if engine == "fused" and not use_fused:
        raise ValueError("the fused engine does not support this batch (dense CPU float32/float64 only)")
    R, N = lr.shape[0], x.shape[1]
    # the loop owns its parameters, state and gradient buffers and updates them in place (`opt_update_`):
    # a step allocates nothing of the size of the parameters
    params = {k: p.detach().to(dev, copy=True).contiguous() for k, p in params.items()}
    # plain (S)GD on the fused engine: each step is taken by the next native call, run by run while the run's
    # weights are in cache (`fused.PendingStep`), instead of by a pass over all the parameters in memory; with
    # the full batch and the loss as the metric, a block of steps per call (`numerics.blocked`)
    fused_step = use_fused and opt.name in ("gd", "sgd")
    full = opt.name != "sgd" or opt.batch_size == 0 or opt.batch_size >= N
    blocked = fused_step and full and metric is None and max_block > 0
    buffers = {k: torch.empty_like(p) for k, p in params.items()} if use_fused and not blocked else None
    pending: fused.PendingStep | None = None
    state: OptState = opt_init(opt, params)
    mon: MonitorState = monitor_init(R, dev)
    rule = StopRule(eps=eps, divergence_factor=divergence_factor, stop_when_converged=stop_when_converged)
    decays = bool((lam != 0).any())  # skip the (λ/2)‖θ‖² term entirely when no run decays
    rec_steps: list[int] = []
    rec_loss: list[torch.Tensor] = []
    rec_metric: list[torch.Tensor] = []
    rec_norm: list[torch.Tensor] = []
    t0 = time.perf_counter()
    k = 0
    rate = lr.to(x.dtype)  # the fused engine's (S)GD step θ ← θ − (ηG + cθ): η and c = ηλ in the batch's dtype
    decay = rate * lam.to(x.dtype) if decays else torch.zeros_like(rate)
    if blocked:
        mon, rec, k = blocked_loop(spec, params, x, y, rate, decay, mon, rule, max_steps, record_every, t0, progress,
                                   segment, max_block)
        rec_steps, rec_loss, rec_metric, rec_norm = rec.steps, rec.loss, rec.metric, rec.norm
    else:
        for k in range(max_steps + 1):
            need_grad = k < max_steps
            skip = ~mon.moving  # frozen runs: the fused engine does no work for them
            loss_full, grads = _loss_and_grads(spec, params, x, y, use_fused, need_grad and full, skip, segment,
                                               buffers, pending)
            pending = None
            if need_grad and not full:
                idx = torch.randint(0, N, (R, opt.batch_size), generator=g).to(dev)  # (R, B), per-run minibatch
                _, grads = _loss_and_grads(spec, params, _gather(x, idx), _gather(y, idx), use_fused, True, skip,
                                           segment, buffers)
            if grads is not None and opt.decay_mode == "l2" and decays and not fused_step:
                for n, gr in grads.items():
                    gr.addcmul_(per_run(lam.to(gr.dtype), gr), params[n])  # + λθ, the gradient of (λ/2)‖θ‖²
            loss_k = loss_full.to(torch.float64)
            metric_k = loss_k if metric is None else metric(params).detach().to(torch.float64)
            moving_before = mon.moving
            mon = monitor_step(mon, k, loss_k, metric_k, time.perf_counter() - t0, rule)
            if k % record_every == 0 or k == max_steps:
                rec_steps.append(k)
                rec_loss.append(torch.where(moving_before, loss_k, torch.nan))
                rec_metric.append(torch.where(moving_before, metric_k, torch.nan))
                rec_norm.append(param_norm(params).to(torch.float64))
            if stop_when_converged and not bool(mon.active.any()):
                break
            if not bool(mon.moving.any()) or grads is None:
                break
            # frozen (converged or diverged) runs keep their parameters
            if fused_step:
                pending = fused.PendingStep(rate, decay, grads, None if bool(mon.moving.all()) else mon.moving)
            else:
                state = opt_update_(opt, params, grads, state, lr, lam, None if bool(mon.moving.all()) else mon.moving)
            if progress is not None:
                progress(k + 1)
    total = time.perf_counter() - t0
    loss_curve = torch.stack(rec_loss).cpu().numpy()
    metric_curve = torch.stack(rec_metric).cpu().numpy()
    steps_to = mon.steps_to_converge.cpu().numpy()
    div_step = mon.diverged_step.cpu().numpy()
    # after divergence the curves carry NaN (no meaningful loss any more); after convergence too when the
    # run was stopped there (its frozen parameters would otherwise draw a flat line)
    ends = np.where(div_step >= 0, div_step, np.where(stop_when_converged & (steps_to >= 0), steps_to, -1))
    after = (np.asarray(rec_steps)[:, None] > ends[None, :]) & (ends[None, :] >= 0)
    loss_curve[after] = np.nan
    metric_curve[after] = np.nan
    return TrainResult(
        status=np.asarray(statuses(mon), dtype=object),
        steps_to_converge=steps_to,
        diverged_step=div_step,
        wall_seconds=mon.wall_seconds.cpu().numpy(),
        final_loss=mon.last_loss.cpu().numpy(),
        final_metric=mon.last_metric.cpu().numpy(),
        recorded_steps=np.asarray(rec_steps, dtype=np.int64),
        loss_curve=loss_curve,
        metric_curve=metric_curve,
        norm_curve=torch.stack(rec_norm).cpu().numpy(),
        params={n: p.cpu() for n, p in params.items()},
        total_seconds=total,
        steps_run=k,
        engine="fused" if use_fused else "torch",
    )
