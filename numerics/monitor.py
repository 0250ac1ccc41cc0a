"""The training loop's bookkeeping as a pure step: which runs converged, diverged, or still move.

Convergence (CONTRIBUTING.md): a run's *metric* at θ_k is strictly below ε; the step count is the
smallest such k (k = 0 is the initialisation).  A run is *diverged* at the first k where its loss or
metric is not finite or its loss exceeds ``divergence_factor·(L(θ_0) + 1)``; a run that neither
converges nor diverges within the budget is *censored*.  A diverged run is frozen (it stops moving);
with ``stop_when_converged`` a converged run is frozen too, as a researcher would stop it.  Without it a
converged run keeps moving and is still watched: should it blow up later (a rate beyond the stability
limit from a start already within ε, a minibatch that throws it out), its diverging step is recorded and it
is frozen there, while its status stays *converged* at its first converging step (both steps are reported).

`monitor_step(state, k, loss_k, metric_k, seconds, rule) -> state` is pure (new tensors, the
argument is not changed); every tensor is (R,) on the runs' device, so a step needs no copy to the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CONVERGED, CENSORED, DIVERGED = "converged", "censored", "diverged"


@dataclass(frozen=True)
class StopRule:
    """When a run is decided."""

    eps: float  # ε: converged when the metric is < ε
    divergence_factor: float = 1e6  # diverged when the loss > factor·(L(θ₀) + 1), or not finite
    stop_when_converged: bool = True  # freeze converged runs


@dataclass(frozen=True)
class MonitorState:
    """Per run (R,): what has been decided so far."""

    active: torch.Tensor  # bool: neither converged nor diverged
    moving: torch.Tensor  # bool: still updated (not frozen)
    steps_to_converge: torch.Tensor  # int64: the converging step, −1 until then
    diverged_step: torch.Tensor  # int64: the diverging step, −1 until then
    wall_seconds: torch.Tensor  # float64: batch wall time at convergence, NaN until then
    last_loss: torch.Tensor  # float64: loss at the last step the run took
    last_metric: torch.Tensor  # float64: metric at the last step the run took
    bound: torch.Tensor  # float64: the divergence threshold, set at k = 0 (NaN before)


def monitor_init(R: int, device: torch.device | str | None = None) -> MonitorState:
    """Nothing decided, every run moving."""
    nan = torch.full((R,), float("nan"), dtype=torch.float64, device=device)
    minus_one = torch.full((R,), -1, dtype=torch.int64, device=device)
    true = torch.ones(R, dtype=torch.bool, device=device)
    return MonitorState(active=true, moving=true, steps_to_converge=minus_one, diverged_step=minus_one,
                        wall_seconds=nan, last_loss=nan, last_metric=nan, bound=nan)


def monitor_step(state: MonitorState, k: int, loss_k: torch.Tensor, metric_k: torch.Tensor, seconds: float,
                 rule: StopRule) -> MonitorState:
    """Decide the runs at step k from the loss and metric at θ_k (float64, (R,)); `seconds`: batch time so far."""
    bound = state.bound
    if k == 0:
        bound = rule.divergence_factor * (torch.nan_to_num(loss_k, nan=0.0, posinf=0.0) + 1.0)
    # every run that moves is watched, a converged one that kept moving included (moving runs have not diverged)
    blown = state.moving & (~torch.isfinite(loss_k) | ~torch.isfinite(metric_k) | (loss_k > bound))
    done = state.active & ~blown & (metric_k < rule.eps)
    k_t = torch.full_like(state.steps_to_converge, k)
    frozen_now = blown | done if rule.stop_when_converged else blown
    return MonitorState(
        active=state.active & ~blown & ~done,
        moving=state.moving & ~frozen_now,
        steps_to_converge=torch.where(done, k_t, state.steps_to_converge),
        diverged_step=torch.where(blown, k_t, state.diverged_step),
        wall_seconds=torch.where(done, torch.full_like(state.wall_seconds, seconds), state.wall_seconds),
        last_loss=torch.where(state.moving, loss_k, state.last_loss),  # frozen runs keep their last step's value
        last_metric=torch.where(state.moving, metric_k, state.last_metric),
        bound=bound,
    )


def statuses(state: MonitorState) -> list[str]:
    """converged / diverged / censored for each run."""
    conv = state.steps_to_converge.cpu().tolist()
    div = state.diverged_step.cpu().tolist()
    return [CONVERGED if c >= 0 else DIVERGED if d >= 0 else CENSORED for c, d in zip(conv, div, strict=True)]
