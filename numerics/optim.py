"""Per-run optimisers as pure pairs (optax style): `opt_init(spec, params) -> state` and
`opt_step(spec, params, grads, state, lr, lam) -> (params, state)`; no hidden state.

Each algorithm has its own typed state (as optax's `ScaleByAdamState`): `GDState` (none),
`MomentumState` (the velocity v), `AdamState` (t, m, v).  Learning rate η and decay λ are (R,),
one per run; parameters and gradients are `Params`, name ↦ (R, …).  Updates return new tensors.

* gd / sgd: θ ← θ − ηg.
* momentum (heavy ball, PyTorch's SGD(momentum=β) convention): v ← βv + g, θ ← θ − ηv.
* adam (Kingma & Ba, *Adam*, ICLR 2015, Algorithm 1): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
  θ ← θ − η m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).

Weight decay, λ per run:
* ``l2``: (λ/2)‖θ‖² is in the loss, so the gradient handed to `opt_step` already holds λθ;
* ``decoupled``: after the update, θ ← θ − ηλθ with θ before the step (Loshchilov & Hutter,
  *Decoupled Weight Decay Regularization*, ICLR 2019, Eq. (1) with their λ = ηλ here; PyTorch's
  AdamW uses the same factor 1 − ηλ).  For plain (S)GD the two coincide.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from numerics.blocks.spec import Params

OPTIMIZERS = ("gd", "sgd", "momentum", "adam")
DECAY_MODES = ("l2", "decoupled")


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


@dataclass(frozen=True)
class GDState:
    """Plain (S)GD keeps no state."""


@dataclass(frozen=True)
class MomentumState:
    """Heavy ball: the velocity v (same names and shapes as the parameters)."""

    v: Params


@dataclass(frozen=True)
class AdamState:
    """Adam: the number of updates made t and the first and second moment estimates m, v."""

    t: int
    m: Params
    v: Params


OptState = GDState | MomentumState | AdamState


def per_run(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(R,) → (R, 1, …, 1) broadcastable against `like`."""
    return v.view(-1, *([1] * (like.dim() - 1)))


def opt_init(spec: OptimizerSpec, params: Params) -> OptState:
    """Initial optimiser state: zero buffers and the step counter t = 0."""
    if spec.name == "momentum":
        return MomentumState(v={k: torch.zeros_like(p) for k, p in params.items()})
    if spec.name == "adam":
        return AdamState(t=0, m={k: torch.zeros_like(p) for k, p in params.items()},
                         v={k: torch.zeros_like(p) for k, p in params.items()})
    return GDState()


def opt_step(
    spec: OptimizerSpec, params: Params, grads: Params, state: OptState, lr: torch.Tensor, lam: torch.Tensor
) -> tuple[Params, OptState]:
    """One update of every run; lr and λ are (R,).  `grads` already include λθ under l2 decay."""
    check_state(spec, state)
    new: Params = {}
    new_state: OptState
    if isinstance(state, GDState):
        for k, p in params.items():
            new[k] = torch.addcmul(p, per_run(lr, p), grads[k], value=-1)  # θ − η g, one fused kernel
        new_state = state
    elif isinstance(state, MomentumState):
        vs = {k: torch.add(grads[k], state.v[k], alpha=spec.momentum) for k in params}  # v ← βv + g
        for k, p in params.items():
            new[k] = torch.addcmul(p, per_run(lr, p), vs[k], value=-1)
        new_state = MomentumState(v=vs)
    else:
        t = state.t + 1
        b1, b2 = spec.beta1, spec.beta2
        ms = {k: b1 * state.m[k] + (1 - b1) * grads[k] for k in params}
        vs = {k: b2 * state.v[k] + (1 - b2) * grads[k] ** 2 for k in params}
        for k, p in params.items():
            m_hat = ms[k] / (1 - b1**t)
            v_hat = vs[k] / (1 - b2**t)
            new[k] = p - per_run(lr, p) * m_hat / (v_hat.sqrt() + spec.adam_eps)
        new_state = AdamState(t=t, m=ms, v=vs)
    if spec.decay_mode == "decoupled":
        for k, p in params.items():
            new[k] = new[k] - per_run(lr * lam, p) * p  # θ ← θ − ηλθ, with θ before the step
    return new, new_state


def check_state(spec: OptimizerSpec, state: OptState) -> None:
    """Raise if `state` is not the kind of state `spec`'s algorithm keeps."""
    kind = {"gd": GDState, "sgd": GDState, "momentum": MomentumState, "adam": AdamState}[spec.name]
    if not isinstance(state, kind):
        raise TypeError(f"{spec.name} needs a {kind.__name__}, got {type(state).__name__}")


def opt_update_(spec: OptimizerSpec, params: Params, grads: Params, state: OptState, lr: torch.Tensor,
                lam: torch.Tensor, moving: torch.Tensor | None = None) -> OptState:
    """`opt_step` in place: overwrites `params` and the state's buffers, uses `grads` as scratch.

    The same update as `opt_step` (its pure twin; tests/test_train.py compares them), for a caller that owns
    every tensor it passes (the training loop): no tensor is allocated, so a step costs no page faults however
    large the stack.  Runs where `moving` (R,) is False keep their parameters exactly (their step is zeroed
    before it is applied, whatever it holds, NaN included).  Returns the new state (its buffers are the old ones).
    """
    check_state(spec, state)
    new_state: OptState = state
    t = state.t + 1 if isinstance(state, AdamState) else 0
    for k, p in params.items():
        step = grads[k]  # becomes the step Δ, then θ ← θ − Δ
        rate = per_run(lr.to(p.dtype), p)
        if isinstance(state, MomentumState):
            v = state.v[k].mul_(spec.momentum).add_(step)  # v ← βv + g
            torch.mul(v, rate, out=step)  # Δ = ηv
        elif isinstance(state, AdamState):
            b1, b2 = spec.beta1, spec.beta2
            m = state.m[k].mul_(b1).add_(step, alpha=1 - b1)  # m ← β₁m + (1−β₁)g
            v = state.v[k].mul_(b2).addcmul_(step, step, value=1 - b2)  # v ← β₂v + (1−β₂)g²
            torch.div(v, 1 - b2**t, out=step).sqrt_().add_(spec.adam_eps)  # √v̂ + ε
            torch.div(m, step, out=step).mul_(rate / (1 - b1**t))  # Δ = η m̂/(√v̂ + ε)
        else:
            step.mul_(rate)  # Δ = ηg
        if spec.decay_mode == "decoupled":
            step.addcmul_(rate * per_run(lam.to(p.dtype), p), p)  # Δ + ηλθ: θ ← θ − ηλθ − Δ, θ before the step
        if moving is not None:  # zeroed last, so that nothing (not even ηλ = inf) reaches a frozen run
            step.masked_fill_(~per_run(moving, step), 0.0)
        p.sub_(step)
    if isinstance(state, AdamState):
        new_state = AdamState(t=t, m=state.m, v=state.v)
    return new_state
