"""Batched optimisation of R independent runs, with convergence and divergence detection.

Optimisers are pure pairs (optax style): `opt_init(params) -> state` and
`opt_step(params, grads, state, lr, hp) -> (params, state)`; no hidden state.
They return new tensors (no in-place updates; gd's θ − ηg is one fused `addcmul`).
`train` owns the layout: it keeps the parameters layer-major (`models.to_layers`)
for the whole loop and hands the optimiser (R, L, …) views, whose elementwise
results keep that layout, so no step re-lays the parameters out.
The runs are independent, so the gradient of Σ_r L_r with respect to run r's
parameters is ∇L_r: one backward pass gives every run's gradient.

Weight decay, λ per run:
* ``l2``: (λ/2)‖θ‖² is added to the loss (CONTRIBUTING.md), so the gradient gains λθ;
* ``decoupled``: after the optimiser's update, θ ← θ − ηλθ (Loshchilov & Hutter,
  *Decoupled Weight Decay Regularization*, ICLR 2019, Eq. (1) with their λ = ηλ here;
  PyTorch's AdamW uses the same factor 1 − ηλ).  For plain (S)GD the two coincide.

Convergence (CONTRIBUTING.md): the run's *metric* at θ_k is strictly below ε; the
step count is the smallest such k (k = 0 is the initialisation).  The metric is
the training data loss L(θ_k) = (1/2N)Σ_j‖H(x_j) − y_j‖² without the decay term
(``criterion="loss"``), or a caller-supplied distance such as ‖M_k − M*‖_F.
A run is *diverged* at the first k where the loss is not finite or exceeds
``divergence_factor·(L(θ_0) + 1)``; a run that neither converges nor diverges
within ``max_steps`` updates is *censored*.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.models import BlockSpec, Layers, Params, from_layers, loss_per_run_layers, to_layers

OPTIMIZERS = ("gd", "sgd", "momentum", "adam")
DECAY_MODES = ("l2", "decoupled")
CONVERGED, CENSORED, DIVERGED = "converged", "censored", "diverged"

OptState = dict[str, object]


@dataclass(frozen=True)
class OptimizerSpec:
    """Hyper-parameters shared by every run of a batch (the learning rate and λ are per run)."""

    name: str = "gd"  # one of OPTIMIZERS; gd = full batch, sgd = minibatches, momentum = heavy ball (full batch)
    momentum: float = 0.9  # β of heavy-ball momentum: v ← βv + g, θ ← θ − ηv
    beta1: float = 0.9  # Adam β₁ (Kingma & Ba, ICLR 2015, Algorithm 1)
    beta2: float = 0.999  # Adam β₂
    adam_eps: float = 1e-8  # Adam ε added to √v̂
    decay_mode: str = "l2"  # one of DECAY_MODES
    batch_size: int = 0  # minibatch size for sgd (0 = full batch); samples drawn with replacement per run

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.name!r}")
        if self.decay_mode not in DECAY_MODES:
            raise ValueError(f"decay_mode must be one of {DECAY_MODES}, got {self.decay_mode!r}")
        if self.batch_size < 0:
            raise ValueError(f"batch_size must be ≥ 0, got {self.batch_size}")


def _per_run(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(R,) → (R, 1, …, 1) broadcastable against `like`."""
    return v.view(-1, *([1] * (like.dim() - 1)))


def opt_init(spec: OptimizerSpec, params: Params) -> OptState:
    """Initial optimiser state: zero buffers and the step counter t = 0."""
    if spec.name == "momentum":
        return {"v": {k: torch.zeros_like(p) for k, p in params.items()}}
    if spec.name == "adam":
        return {
            "t": 0,
            "m": {k: torch.zeros_like(p) for k, p in params.items()},
            "v": {k: torch.zeros_like(p) for k, p in params.items()},
        }
    return {}


def opt_step(
    spec: OptimizerSpec, params: Params, grads: Params, state: OptState, lr: torch.Tensor, lam: torch.Tensor
) -> tuple[Params, OptState]:
    """One update of every run; lr and λ are (R,).  `grads` already include λθ under l2 decay."""
    new: Params = {}
    if spec.name in ("gd", "sgd"):
        for k, p in params.items():
            new[k] = torch.addcmul(p, _per_run(lr, p), grads[k], value=-1)  # θ − η g, one fused kernel
        new_state: OptState = {}
    elif spec.name == "momentum":
        vs = {k: spec.momentum * state["v"][k] + grads[k] for k in params}  # type: ignore[index]
        for k, p in params.items():
            new[k] = p - _per_run(lr, p) * vs[k]
        new_state = {"v": vs}
    else:
        t = int(state["t"]) + 1  # type: ignore[call-overload]
        b1, b2 = spec.beta1, spec.beta2
        ms = {k: b1 * state["m"][k] + (1 - b1) * grads[k] for k in params}  # type: ignore[index]
        vs = {k: b2 * state["v"][k] + (1 - b2) * grads[k] ** 2 for k in params}  # type: ignore[index]
        for k, p in params.items():
            m_hat = ms[k] / (1 - b1**t)
            v_hat = vs[k] / (1 - b2**t)
            new[k] = p - _per_run(lr, p) * m_hat / (v_hat.sqrt() + spec.adam_eps)
        new_state = {"t": t, "m": ms, "v": vs}
    if spec.decay_mode == "decoupled":
        for k, p in params.items():
            new[k] = new[k] - _per_run(lr * lam, p) * p  # θ ← θ − ηλθ, with θ before the step
    return new, new_state


@dataclass
class TrainResult:
    """What happened to each of R runs (numpy arrays, run axis first)."""

    status: np.ndarray  # (R,) str: converged / censored / diverged
    steps_to_converge: np.ndarray  # (R,) int64, −1 unless converged
    diverged_step: np.ndarray  # (R,) int64, −1 unless diverged
    wall_seconds: np.ndarray  # (R,) batch wall time when the run converged (NaN unless converged)
    final_loss: np.ndarray  # (R,) data loss at the last step taken by the run
    final_metric: np.ndarray  # (R,) metric at the last step taken by the run
    recorded_steps: np.ndarray  # (T,) step indices of the curves
    loss_curve: np.ndarray  # (T, R) data loss at recorded steps (NaN after a run diverged)
    metric_curve: np.ndarray  # (T, R) metric at recorded steps
    norm_curve: np.ndarray  # (T, R) ‖θ‖_F over all trainable parameters at recorded steps
    params: Params  # final parameters (detached)
    total_seconds: float  # wall time of the whole batch
    steps_run: int  # updates actually performed (the loop stops once every run is decided)
    extra: dict[str, object] = field(default_factory=dict)


Metric = Callable[[Params], torch.Tensor]  # params → (R,)


def param_sq_norm(params: Params) -> torch.Tensor:
    """‖θ‖²_F over every trainable tensor of each run: (R,) (no square root: differentiable at θ = 0)."""
    return sum(p.flatten(1).pow(2).sum(-1) for p in params.values())  # type: ignore[return-value]


def param_norm(params: Params) -> torch.Tensor:
    """‖θ‖_F over every trainable tensor of each run: (R,)."""
    return torch.sqrt(param_sq_norm(params))


def _run_major(layers: Layers) -> Params:
    """Views (R, L, …) of layer-major (L, R, …) tensors, for the per-run optimiser (no copy)."""
    return {name: p.transpose(0, 1) for name, p in layers.items()}


def _layer_major(params: Params) -> Layers:
    """Inverse of `_run_major`; no copy when the optimiser's elementwise results kept the layout."""
    return {name: p.transpose(0, 1).contiguous() for name, p in params.items()}


def _layers_sq_norm(layers: Layers) -> torch.Tensor:
    """`param_sq_norm` of layer-major (L, R, …) parameters: (R,)."""
    return sum(p.pow(2).sum([i for i in range(p.dim()) if i != 1]) for p in layers.values())  # type: ignore[return-value]


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
) -> TrainResult:
    """Run up to `max_steps` updates of R runs at once; x, y: (R, N, …).

    With `stop_when_converged` a converged run's parameters are frozen (it stops moving, as a
    researcher would stop it), and the loop ends as soon as every run has converged or diverged.
    `progress(k)` is called after each step (for a progress bar; it must not print to stdout).
    """
    if max_steps < 0 or eps < 0 or record_every < 1:
        raise ValueError("max_steps and eps must be ≥ 0 and record_every ≥ 1")
    R = lr.shape[0]
    N = x.shape[1]
    # Layout for the whole loop: layer-major (L, R, …), dense weights as Wᵀ (`to_layers`).  The forward pass
    # reads it without copying and the dense backward writes its gradients in it; the optimiser, which is
    # elementwise and per run, sees (R, L, …) views (`_run_major`), and its results keep the layout.
    layers = to_layers({k: p.detach() for k, p in params.items()})
    state = opt_init(opt, _run_major(layers))
    status = np.full(R, CENSORED, dtype=object)
    steps_to = np.full(R, -1, dtype=np.int64)
    div_step = np.full(R, -1, dtype=np.int64)
    wall = np.full(R, np.nan)
    active = torch.ones(R, dtype=torch.bool)  # neither converged nor diverged
    moving = torch.ones(R, dtype=torch.bool)  # still updated
    last_loss = torch.full((R,), float("nan"), dtype=torch.float64)
    last_metric = torch.full((R,), float("nan"), dtype=torch.float64)
    rec_steps: list[int] = []
    rec_loss: list[torch.Tensor] = []
    rec_metric: list[torch.Tensor] = []
    rec_norm: list[torch.Tensor] = []
    bound: torch.Tensor | None = None
    decays = bool((lam != 0).any())  # skip the (λ/2)‖θ‖² term entirely when no run decays
    t0 = time.perf_counter()
    k = 0
    for k in range(max_steps + 1):
        leaves = {name: p.detach().requires_grad_(True) for name, p in layers.items()}
        full = opt.name != "sgd" or opt.batch_size == 0 or opt.batch_size >= N
        loss_full = loss_per_run_layers(spec, leaves, x, y)  # (R,) data loss at θ_k, the convergence quantity
        if full:
            objective = loss_full
        else:
            idx = torch.randint(0, N, (R, opt.batch_size), generator=g)  # (R, B), per-run minibatch
            xb = torch.gather(x, 1, idx.view(R, -1, *([1] * (x.dim() - 2))).expand(R, -1, *x.shape[2:]))
            yb = torch.gather(y, 1, idx.view(R, -1, *([1] * (y.dim() - 2))).expand(R, -1, *y.shape[2:]))
            objective = loss_per_run_layers(spec, leaves, xb, yb)
        if opt.decay_mode == "l2" and decays:
            objective = objective + 0.5 * lam.to(objective.dtype) * _layers_sq_norm(leaves)
        need_grad = k < max_steps
        grads_t = torch.autograd.grad(objective.sum(), list(leaves.values())) if need_grad else None
        layers = {name: p.detach() for name, p in leaves.items()}
        loss_k = loss_full.detach().to(torch.float64)
        if metric is None:
            metric_k = loss_k
        else:
            metric_k = metric(from_layers(layers)).detach().to(torch.float64)
        if bound is None:
            bound = divergence_factor * (torch.nan_to_num(loss_k, nan=0.0, posinf=0.0) + 1.0)
        now = time.perf_counter() - t0
        blown = active & (~torch.isfinite(loss_k) | ~torch.isfinite(metric_k) | (loss_k > bound))
        done = active & ~blown & (metric_k < eps)
        if bool(blown.any()):
            ids = blown.nonzero().flatten().numpy()
            status[ids], div_step[ids] = DIVERGED, k
        if bool(done.any()):
            ids = done.nonzero().flatten().numpy()
            status[ids], steps_to[ids], wall[ids] = CONVERGED, k, now
        last_loss = torch.where(moving, loss_k, last_loss)  # frozen runs keep the value of their last step
        last_metric = torch.where(moving, metric_k, last_metric)
        active = active & ~blown & ~done
        if k % record_every == 0 or k == max_steps:
            rec_steps.append(k)
            rec_loss.append(loss_k)
            rec_metric.append(metric_k)
            rec_norm.append(torch.sqrt(_layers_sq_norm(layers)).to(torch.float64))
        moving = moving & ~blown & (~done if stop_when_converged else torch.ones_like(done))
        if stop_when_converged and not bool(active.any()):
            break
        if not bool(moving.any()):
            break
        if grads_t is None:
            break
        params = _run_major(layers)
        grads = _run_major(dict(zip(layers, grads_t, strict=True)))
        new, new_state = opt_step(opt, params, grads, state, lr, lam)
        if not bool(moving.all()):  # frozen (converged or diverged) runs keep their parameters
            new = {name: torch.where(_per_run(moving, p), new[name], p) for name, p in params.items()}
        layers = _layer_major(new)
        state = new_state
        if progress is not None:
            progress(k + 1)
    total = time.perf_counter() - t0
    loss_curve = torch.stack(rec_loss).numpy()
    metric_curve = torch.stack(rec_metric).numpy()
    # after divergence the curves carry NaN (no meaningful loss any more); after convergence too when the
    # run was stopped there (its frozen parameters would otherwise draw a flat line)
    ends = np.where(div_step >= 0, div_step, np.where(stop_when_converged & (steps_to >= 0), steps_to, -1))
    for r in np.nonzero(ends >= 0)[0]:
        after = np.asarray(rec_steps) > ends[r]
        loss_curve[after, r] = np.nan
        metric_curve[after, r] = np.nan
    return TrainResult(
        status=status,
        steps_to_converge=steps_to,
        diverged_step=div_step,
        wall_seconds=wall,
        final_loss=last_loss.numpy(),
        final_metric=last_metric.numpy(),
        recorded_steps=np.asarray(rec_steps, dtype=np.int64),
        loss_curve=loss_curve,
        metric_curve=metric_curve,
        norm_curve=torch.stack(rec_norm).numpy(),
        params=from_layers(layers),
        total_seconds=total,
        steps_run=k,
    )
