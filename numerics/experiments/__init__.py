"""Named experiments: the registry, as plain imports (mypy checks each module against the contract).

Each experiment is a module of this package that satisfies `contract.Experiment` (NAME, DESCRIPTION, Config,
cost, chunks, run_chunk, merge, figures); `run(experiment, config)` runs every chunk in this process and merges
them (`chunks.run_local`; `hfx` also runs them on a pool or a Dask cluster).  The shared pieces are `chunks`
(the chunked execution contract and the derived random streams), `contract` (the protocol and the result types),
`params` and `blocks` (configuration fields, constraints and shared blocks), `records` (typed run records and
summaries), `grid` (the seeds × inits × settings batch), `tasks` (data and targets of the non-linear experiments),
`devices` (where a chunk trains) and `resources` (memory estimates).  A new experiment adds one import and one
entry below.
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
from numerics.experiments.chunks import run_local as run
from numerics.experiments.contract import (
    AnyChunkResult,
    AnyResult,
    CheckStatus,
    Chunk,
    ChunkedExperiment,
    ChunkResult,
    CrossCheck,
    Experiment,
    ExperimentResult,
    Progress,
    Study,
)
from numerics.experiments.params import parameters

__all__ = ["EXPERIMENTS", "AnyChunkResult", "AnyResult", "CheckStatus", "Chunk", "ChunkResult", "ChunkedExperiment",
           "CrossCheck", "Experiment", "ExperimentResult", "Progress", "Study", "get", "parameters", "run"]

_branch_norms: Study = branch_norms
_branch_rate: Study = branch_rate
_deep_linear: ChunkedExperiment = deep_linear
_deep_stack: ChunkedExperiment = deep_stack
_degradation: Study = degradation
_hardt_ma: Study = hardt_ma
_identity_init: Study = identity_init
_linear_block: ChunkedExperiment = linear_block
_nonlinear_block: ChunkedExperiment = nonlinear_block
_trainable_depth: ChunkedExperiment = trainable_depth
_weight_decay: ChunkedExperiment = weight_decay

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
