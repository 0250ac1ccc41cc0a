"""When has a run's training loss plateaued?  A pure rule over its per-epoch losses.

ℓ_e is the mean training cross-entropy over the minibatches of epoch e (training mode, as the optimiser sees it;
the data loss, without the weight-decay term).  Let b_e = min_{j ≤ e} ℓ_j be the best loss so far.  Counting
epochs from the start of the current learning rate (the start of training, or the last drop), the loss has
*plateaued* at epoch e when

* at least K = `window` epochs have passed and the best loss improved by less than a fraction δ = `tolerance`
  over the last K of them:  b_{e−K} − b_e ≤ δ · b_{e−K};  or
* the training set is fitted: b_e < `floor` (a relative rule is meaningless near 0), or the minibatch training
  error of each of the last K epochs was at most `fitted_error` (0.2%: two images of an epoch of 1,152 digits;
  the training error cannot meaningfully improve any more).

A run that has plateaued with learning-rate drops left has its rate divided by 10 (He et al. 2016, §4.2, divide
the rate by 10 when the error plateaus) and the count restarts; a run that plateaus with no drops left is done.
A run that reaches the epoch budget first is reported as not plateaued.  The rule is local: a net stuck near
chance whose loss has not moved for K epochs has plateaued by it, and a later escape is not excluded (the reduced
tiers of `hfx verify` use K = 4 or 5 and δ = 0.02; `hfx run degradation` and `--full` use K = 10, δ = 0.01 and
up to 100 epochs; the settings are reported with every result).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PlateauRule:
    window: int = 10  # K: epochs over which the best loss must still improve
    tolerance: float = 0.01  # δ: relative improvement of the best loss over K epochs below which it plateaued
    floor: float = 1e-3  # a best loss below this is fitted (plateaued whatever the window says)
    fitted_error: float = 0.002  # minibatch training error at most this for K epochs: fitted

    def __post_init__(self) -> None:
        if self.window < 1 or not 0 <= self.tolerance < 1 or self.floor < 0:
            raise ValueError(f"plateau rule needs window ≥ 1, 0 ≤ tolerance < 1, floor ≥ 0, got {self}")


def plateaued(losses: Sequence[float], errors: Sequence[float], rule: PlateauRule) -> bool:
    """Whether the losses ℓ_0 … ℓ_e (and minibatch training errors) of the current learning rate have plateaued
    at their last epoch e (module docstring).  Non-finite losses are never a plateau (the run diverged)."""
    if len(losses) != len(errors):
        raise ValueError("one training error per epoch loss")
    if not losses or any(not math.isfinite(v) for v in losses):
        return False
    best_now = min(losses)
    if best_now < rule.floor or (len(errors) >= rule.window and max(errors[-rule.window:]) <= rule.fitted_error):
        return True
    if len(losses) <= rule.window:
        return False
    best_before = min(losses[: len(losses) - rule.window])
    return best_before - best_now <= rule.tolerance * best_before
