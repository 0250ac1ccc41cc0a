"""Whole GD trajectories: the data loss at every step and each weight tensor's norm along the way.

`numerics.train.train` records the loss and the norm of all parameters together.  The branch experiments need
each layer's norm (‖W₁‖ and ‖W₂‖ separately), so `gd_trajectory` runs `train` in chunks of `every` steps and
reads the parameters between chunks.  Plain gradient descent is memoryless (θ_{k+1} = θ_k − η∇L(θ_k), no
optimiser state), so the chunks are one trajectory, step for step; runs are never stopped early (the whole
trajectory is the measurement), and a run whose loss stops being finite is marked diverged at that step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from numerics.experiments.contract import Progress
from numerics.models import BlockSpec, Params
from numerics.train import OptimizerSpec, train


@dataclass(frozen=True)
class Trajectory:
    """R runs of full-batch GD, step by step."""

    loss: NDArray[np.float64]  # (K + 1, R) data loss at k = 0 … K (NaN after a divergence)
    norm_steps: NDArray[np.int64]  # (C + 1,) steps at which the norms were read: 0, every, 2·every, …, K
    norms: dict[str, NDArray[np.float64]]  # weight name → (C + 1, R) Frobenius norm per run
    diverged_step: NDArray[np.int64]  # (R,) first step whose loss was not finite, −1 if none
    final: Params  # the parameters after the last step, (R, …)

    def first_below(self, eps: float) -> list[int | None]:
        """Per run, the smallest k with loss < ε (None: never within the trajectory)."""
        below = self.loss < eps  # NaN compares False
        return [int(np.argmax(below[:, r])) if below[:, r].any() else None for r in range(self.loss.shape[1])]


def _norms(params: Params) -> dict[str, NDArray[np.float64]]:
    return {k: torch.linalg.vector_norm(v.flatten(1), dim=1).to(torch.float64).numpy() for k, v in params.items()}


def gd_trajectory(spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor,
                  lam: torch.Tensor, steps: int, every: int, g: torch.Generator,
                  progress: Progress | None = None) -> Trajectory:
    """`steps` GD steps of R runs (x, y: (R, N, …); lr, λ: (R,), L2 decay), norms read every `every` steps."""
    if steps < 0 or every < 1:
        raise ValueError("need steps ≥ 0 and every ≥ 1")
    losses: list[NDArray[np.float64]] = []
    norm_steps, norms = [0], [_norms(params)]
    done = 0
    current = {k: v.detach() for k, v in params.items()}
    while True:
        chunk = min(every, steps - done)
        res = train(spec, current, x, y, OptimizerSpec("gd"), lr, lam, chunk, 0.0, g, stop_when_converged=False,
                    divergence_factor=np.inf)
        curve = np.asarray(res.loss_curve, dtype=np.float64)  # (chunk + 1, R): k = done … done + chunk
        if curve.shape[0] < chunk + 1:  # `train` stops once every run has diverged: the rest of the chunk is NaN
            curve = np.concatenate([curve, np.full((chunk + 1 - curve.shape[0], curve.shape[1]), np.nan)])
        losses.append(curve if done == 0 else curve[1:])
        if chunk == 0:
            break
        current = {k: v.detach() for k, v in res.params.items()}
        done += chunk
        norm_steps.append(done)
        norms.append(_norms(current))
        if progress is not None:
            progress(chunk)
        if done >= steps:
            break
    loss = np.concatenate(losses, axis=0)
    bad = ~np.isfinite(loss)
    diverged = np.where(bad.any(axis=0), np.argmax(bad, axis=0), -1).astype(np.int64)
    for r in np.nonzero(diverged >= 0)[0]:
        loss[diverged[r]:, r] = np.nan
    return Trajectory(loss=loss, norm_steps=np.asarray(norm_steps, dtype=np.int64),
                      norms={k: np.stack([n[k] for n in norms]) for k in norms[0]}, diverged_step=diverged,
                      final=current)
