"""Named experiments: the registry, as plain imports (mypy checks each module against the contract).

Each experiment is a module of this package that satisfies `contract.Experiment` (NAME, DESCRIPTION, Config,
cost, run, figures); the shared pieces are `contract` (the protocol and the result types), `params` and
`blocks` (configuration fields, constraints and shared blocks), `records` (typed run records and summaries),
`grid` (the seeds × inits × settings batch), `tasks` (data and targets of the non-linear experiments) and
`resources` (memory estimates).  A new experiment adds one import and one entry below.
"""

from __future__ import annotations

from numerics.experiments import (
    branch_norms,
    branch_rate,
    deep_linear,
    deep_stack,
    degradation,
    hardt_ma,
    identity_init,
    linear_block,
    nonlinear_block,
    trainable_depth,
    weight_decay,
)
from numerics.experiments.contract import AnyResult, CheckStatus, CrossCheck, Experiment, ExperimentResult, Progress
from numerics.experiments.params import parameters

__all__ = ["EXPERIMENTS", "AnyResult", "CheckStatus", "CrossCheck", "Experiment", "ExperimentResult", "Progress",
           "get", "parameters"]

_branch_norms: Experiment = branch_norms
_branch_rate: Experiment = branch_rate
_deep_linear: Experiment = deep_linear
_deep_stack: Experiment = deep_stack
_degradation: Experiment = degradation
_hardt_ma: Experiment = hardt_ma
_identity_init: Experiment = identity_init
_linear_block: Experiment = linear_block
_nonlinear_block: Experiment = nonlinear_block
_trainable_depth: Experiment = trainable_depth
_weight_decay: Experiment = weight_decay

EXPERIMENTS: dict[str, Experiment] = {
    e.NAME: e for e in (_branch_norms, _branch_rate, _deep_linear, _deep_stack, _degradation, _hardt_ma,
                        _identity_init, _linear_block, _nonlinear_block, _trainable_depth, _weight_decay)
}  # sorted by name


def get(name: str) -> Experiment:
    """The experiment called `name`; KeyError lists the known names."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}") from None
