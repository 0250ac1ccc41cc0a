"""The training loop's blocked form: full-batch (S)GD on the fused engine, many steps per native call.

`numerics.train.train` takes this path where it changes nothing but the speed: plain full-batch (S)GD on
the fused CPU engine with the loss as the convergence metric.  Each native call (`fused_steps.gd_steps`)
takes a block of steps for every run, a run's steps back to back while its weights stay in cache; the
call also applies the stop rule, so a run stops moving at the step where the lock-step loop stops it.
Afterwards the block's losses are replayed through `numerics.monitor.monitor_step`, step by step, which
keeps the monitor the one place where statuses are decided; the native decisions must agree with it
(a disagreement is an internal error, never a silent difference).

Block length: the first block is one step; later blocks hold as many steps as fit in `BLOCK_SECONDS` of
the last block's pace (at most `max_block` steps), so that Ctrl-C and progress stay responsive even for
stacks of 10,000 layers.  Wall times: a run's `wall_seconds` is the batch's wall time when the loop learnt
that it had converged, at the end of the block that holds its converging step (the lock-step loop learns
it at that step).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from numerics.blocks import fused_steps
from numerics.blocks.spec import BlockSpec, Params
from numerics.monitor import MonitorState, StopRule, monitor_step

BLOCK_SECONDS = 0.25  # target wall time of one native call
MAX_BLOCK = 64  # steps per call at most: the cache saving is nearly all there by 16


@dataclass
class Recorded:
    """The curves at recorded steps, as the lock-step loop keeps them."""

    steps: list[int] = field(default_factory=list)
    loss: list[torch.Tensor] = field(default_factory=list)
    metric: list[torch.Tensor] = field(default_factory=list)
    norm: list[torch.Tensor] = field(default_factory=list)


def blocked_loop(spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor, rate: torch.Tensor,
                 decay: torch.Tensor, mon: MonitorState, rule: StopRule, max_steps: int, record_every: int,
                 t0: float, progress: Callable[[int], None] | None = None, segment: int | None = None,
                 max_block: int = MAX_BLOCK) -> tuple[MonitorState, Recorded, int]:
    """Train in place on `params` (contiguous CPU tensors of x's dtype); returns the monitor's final state,
    the recorded curves and the last step index reached (`TrainResult.steps_run`)."""
    R = x.shape[0]
    state = fused_steps.RunState.start(R)
    srule = fused_steps.StepRule(max_steps, record_every, rule.eps, rule.divergence_factor, rule.stop_when_converged)
    rec = Recorded()
    k0, K, k = 0, 1, 0
    while k0 <= max_steps:
        K = min(K, max_steps + 1 - k0)
        started = time.perf_counter()
        loss, norm2 = fused_steps.gd_steps(spec, params, x, y, rate, decay, state, srule, k0, K, segment)
        now = time.perf_counter()
        seconds, stop = now - t0, False
        for j in range(K):
            k = k0 + j
            moving_before = mon.moving
            mon = monitor_step(mon, k, loss[j], loss[j], seconds, rule)
            if k % record_every == 0 or k == max_steps:
                rec.steps.append(k)
                kept = torch.where(moving_before, loss[j], torch.nan)
                rec.loss.append(kept)
                rec.metric.append(kept)
                rec.norm.append(torch.sqrt(norm2[j]))
            stop = (rule.stop_when_converged and not bool(mon.active.any())) or not bool(mon.moving.any())
            if stop or k == max_steps:
                break
        agree = (torch.equal(mon.moving, state.moving.bool()) and torch.equal(mon.active, state.active.bool())
                 and torch.equal(mon.steps_to_converge, state.converged)
                 and torch.equal(mon.diverged_step, state.diverged))
        if not agree:
            raise RuntimeError("internal error: the native stop rule and numerics.monitor disagree")
        if stop or k == max_steps:
            break
        if progress is not None:
            progress(k + 1)
        k0 += K
        pace = (now - started) / K
        K = max(1, min(max_block, int(BLOCK_SECONDS / pace) if pace > 0 else max_block))
    return mon, rec, k
