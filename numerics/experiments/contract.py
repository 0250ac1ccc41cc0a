"""The experiment contract: what every named experiment module provides, and what its run returns.

A module of `numerics/experiments/` is an experiment when it satisfies `Experiment` (mypy checks the registry in
`numerics/experiments/__init__.py` against it):

* ``NAME`` (the command-line name, e.g. ``"linear-block"``) and ``DESCRIPTION`` (one line);
* ``Config``: a frozen dataclass deriving from `params.ConfigBase`, every field declared with `param(…)` (help
  text, constraints) or as a shared block (`blocks`), one of them `Replicates`;
* ``cost(config) -> Cost``: memory (of one chunk) and work, estimated before anything is allocated;
* the chunked execution contract (`numerics.experiments.chunks`):
  ``chunks(config) -> tuple[Chunk, ...]`` (the grid split into independent tasks, in merge order),
  ``run_chunk(config, chunk, device="cpu", progress=None) -> ChunkResult`` (pure: the chunk's typed records,
  from its arguments alone) and ``merge(config, parts) -> ExperimentResult`` (summaries and checks computed
  on the merged records, in chunk order); ``LOCAL_POOL``: whether a local run spreads the chunks over one
  process per core (True) or runs them in this process (False: batched tensor programs);
* ``figures(result) -> dict[str, Figure]``.

`numerics.experiments.run(experiment, config)` runs every chunk in this process and merges them; `hfx` runs
them over a process pool or a Dask cluster, and keeps finished chunks on disk (`hfx run --resume`).
Its result holds typed records (one per run), group summaries and the theory cross-checks (`CrossCheck`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from numerics.experiments.blocks import Replicates
from numerics.experiments.params import ConfigBase

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure

    from numerics.experiments.rate_search import SearchedGrid

C = TypeVar("C")  # the Config
R = TypeVar("R")  # a run record
S = TypeVar("S")  # a group summary

Progress = Callable[[int], None]  # called with a number of newly completed units of work (see `Cost.units`)
Detail = int | float | str | bool | None | Mapping[str, float | None]  # a check's descriptive numbers


class CheckStatus(StrEnum):
    """The verdict of one theory cross-check."""

    PASSED = "passed"  # every run it could judge agrees with the theory
    FAILED = "failed"  # some run disagrees
    NO_EVIDENCE = "no evidence"  # it could judge no run (not a failure of the theory; not a confirmation)


@dataclass(frozen=True)
class CrossCheck:
    """One comparison of measured runs with theory's prediction."""

    name: str  # e.g. "gd-steps-exact"
    description: str  # one line: what is compared, with its tolerance
    examined: int  # runs the check could judge
    mismatches: int  # of those, runs that disagree with the theory
    details: Mapping[str, Detail] = field(default_factory=dict)  # tolerance, counts, largest error, …
    excluded: int = 0  # runs it cannot judge (decided at step 0, predicted beyond the budget, …)
    excluded_reason: str = ""  # why they were left out

    @property
    def status(self) -> CheckStatus:
        if self.examined == 0:
            return CheckStatus.NO_EVIDENCE
        return CheckStatus.PASSED if self.mismatches == 0 else CheckStatus.FAILED


@dataclass(frozen=True)
class Curves:
    """Arrays for one panel of a figure: a quantity at the recorded steps, one column per run."""

    steps: NDArray[np.int64]  # (T,) recorded step indices
    values: NDArray[np.float64]  # (T, R') loss or norm per recorded step and run
    labels: tuple[str, ...]  # (R',) legend label of each column (e.g. its learning rate)
    predicted: tuple[NDArray[np.float64] | None, ...] = ()  # (R',) theory's curve per column, where known
    floor: float | None = None  # a level below which the check does not compare (drawn as a line)


@dataclass(frozen=True)
class Cost:
    """What a configuration will need, estimated from its shapes before anything is allocated."""

    memory_bytes: int  # peak resident memory of the largest batch plus what is kept across batches
    units: int  # units of work reported to `Progress` (steps summed over batches, or runs)
    unit: str = "step"  # what one unit is (for the progress bar)


@dataclass(frozen=True)
class Chunk:
    """One task of an experiment: one part (an architecture: one batch) × a block of consecutive replicates.

    Made by the experiment's ``chunks(config)`` (`chunks.plan`), a function of the configuration alone.
    """

    index: int  # position in the experiment's chunk list: the merge order, and the key of its training stream
    part: int  # which part of the experiment (index into its own list of architectures / batches)
    key: tuple[int, ...]  # the part's coordinates in the experiment's full grid (its random streams' key)
    label: str  # the part in words, e.g. "residual L=4" (messages, the store)
    first_seed: int  # replicates first_seed … stop_seed − 1
    stop_seed: int
    first_run: int  # the run index of its first record
    runs: int  # records it returns
    units: int  # units of work it accounts for (see `Cost.units`)

    @property
    def seeds(self) -> range:
        return range(self.first_seed, self.stop_seed)


@dataclass(frozen=True)
class ChunkResult(Generic[R]):
    """What one chunk measured: its records (run order) and its columns of the figures' panels."""

    chunk: Chunk
    records: tuple[R, ...]
    curves: Mapping[str, Curves] = field(default_factory=dict)  # panel name → this chunk's columns
    seconds: float = 0.0  # wall time of run_chunk


@dataclass(frozen=True)
class ExperimentResult(Generic[C, R, S]):
    """Everything an experiment measured, ready to be audited (hfx.evidence) or written (hfx.serialise)."""

    name: str  # the experiment's NAME
    config: C  # the configuration it ran
    records: tuple[R, ...]  # one per run, in run order
    summaries: tuple[S, ...]  # one per group of runs
    checks: tuple[CrossCheck, ...] = ()  # theory cross-checks (empty where no closed form exists)
    curves: Mapping[str, Curves] = field(default_factory=dict)  # panels for the figures
    seconds: float = 0.0  # wall time of the whole run (every chunk, and the merge)
    grids: tuple[SearchedGrid, ...] = ()  # per architecture: its learning-rate grid before and after widening

    @property
    def passed(self) -> bool:
        """No theory cross-check failed (a check without evidence is not a failure)."""
        return all(c.status is not CheckStatus.FAILED for c in self.checks)


def replicates(config: ConfigBase) -> Replicates:
    """The `Replicates` block of an experiment's Config (every experiment has one; `hfx run --seeds` sets it)."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, Replicates):
            return value
    raise TypeError(f"{type(config).__qualname__} has no Replicates block")


AnyResult = ExperimentResult[Any, Any, Any]
AnyChunkResult = ChunkResult[Any]


class Experiment(Protocol):
    """A named experiment module (see the module docstring): what every experiment has."""

    NAME: str
    DESCRIPTION: str

    @property
    def Config(self) -> type[ConfigBase]: ...

    def cost(self, config: Any) -> Cost: ...

    def figures(self, result: Any) -> dict[str, Figure]: ...


class ChunkedExperiment(Experiment, Protocol):
    """An experiment whose grid splits into chunks (`numerics.experiments.chunks`): every batched experiment."""

    LOCAL_POOL: bool

    def chunks(self, config: Any) -> tuple[Chunk, ...]: ...

    def run_chunk(self, config: Any, chunk: Chunk, device: str = "cpu",
                  progress: Progress | None = None) -> AnyChunkResult: ...

    def merge(self, config: Any, parts: Sequence[AnyChunkResult]) -> AnyResult: ...


class Study(Experiment, Protocol):
    """An experiment that runs whole (the degradation study: rounds of rates decided by the previous rounds'
    results), seeded from `generator` or from its own configuration."""

    def run(self, config: Any, generator: torch.Generator, progress: Progress | None = None) -> AnyResult: ...
