"""The chunked execution contract: an experiment's grid as independent tasks, merged in a fixed order.

An experiment's runs are split into *chunks* (`contract.Chunk`): one *part* of the experiment (an architecture
— a variant, a depth, an activation —, i.e. one batched tensor program of the batched experiments) × a block of
`Replicates.chunk_seeds` consecutive replicates.  `plan` makes the list from the configuration alone, parts in
the experiment's order and, within a part, seed blocks in order; a chunk's records are its part's runs of those
replicates in the experiment's run order, so concatenating the chunks in list order gives every run once, in
run order.

A chunk is a pure task: ``run_chunk(config, chunk, device)`` computes its `ChunkResult` from its arguments alone,
so any process, on any machine with the same packages, gives the same bytes.  ``merge(config, parts)`` orders the
parts by chunk index (`ordered` checks that every planned chunk is there exactly once, with its planned number of
records), then computes every summary (Kaplan–Meier, bootstrap — from a NumPy generator seeded by the base seed)
and theory cross-check on the merged records.  Hence results are identical (bitwise, in float64) whatever the
number of workers and whatever order the chunks finish in; only wall-clock fields (`wall_seconds`,
`batch_seconds`, `seconds`) are measurements of the machine.

Randomness.  No generator is shared between chunks: every random stream is derived from the base seed and a
*position* — never from the order of execution — with NumPy's `SeedSequence` spawn keys (NumPy documentation,
"Parallel Random Number Generation": `SeedSequence(entropy, spawn_key=…)` gives independent, reproducible
streams for distinct keys):

* `replicate_generator(seed, s)`: the data of replicate s (inputs, Σ and its eigenvectors, targets), the same
  for every part, so that every architecture sees the same data for a given seed;
* `init_generator(seed, chunk, s)`: the initial parameters of replicate s in the chunk's part, the same for
  every learning rate and whatever the chunk size;
* `chunk_generator(seed, chunk)`: what a batch draws while it trains (sgd minibatches), per chunk.

A part's key is its coordinates in the experiment's *full* grid (e.g. the variant's index in `VARIANTS` and the
depth), not its position in the configured lists, so a run of a sub-grid (`--set variants=residual`) gives its
runs the same numbers as the full grid does (with the same `chunk_seeds`).

Changing `chunk_seeds` changes which runs share a batch (and so the sgd minibatch stream and the batch's float
rounding); it is part of the configuration (and of its hash), never chosen by the number of workers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import torch

from numerics.experiments.contract import Chunk, ChunkResult, Curves, Progress

if TYPE_CHECKING:
    from numerics.experiments.blocks import Replicates
    from numerics.experiments.contract import AnyResult, ChunkedExperiment, Experiment, Study

R = TypeVar("R")

DATA, INIT, TRAIN = 0, 1, 2  # the first spawn-key entry of each kind of stream


@dataclass(frozen=True)
class Part:
    """One part of an experiment's grid (one architecture: one batch per seed block)."""

    label: str  # e.g. "residual L=4"
    key: tuple[int, ...]  # its coordinates in the full grid (e.g. the variant's index in VARIANTS and the depth)
    runs_per_seed: int  # runs of one replicate in this part (inits × settings)
    units: int | None = None  # units of work of one chunk (its steps budget); None: one unit per run


def seed_blocks(seeds: int, per_chunk: int) -> list[range]:
    """[0, seeds) in consecutive blocks of `per_chunk` (the last may be shorter)."""
    return [range(a, min(a + per_chunk, seeds)) for a in range(0, seeds, per_chunk)]


def plan(parts: Sequence[Part], replicates: Replicates) -> tuple[Chunk, ...]:
    """Every part × every seed block, parts first (module docstring); run indices accumulate in that order."""
    chunks: list[Chunk] = []
    first_run = 0
    for p, part in enumerate(parts):
        for block in seed_blocks(replicates.seeds, replicates.chunk_seeds):
            runs = len(block) * part.runs_per_seed
            chunks.append(Chunk(index=len(chunks), part=p, key=part.key, label=part.label, first_seed=block.start,
                                stop_seed=block.stop, first_run=first_run, runs=runs,
                                units=runs if part.units is None else part.units))
            first_run += runs
    return tuple(chunks)


def derived_seed(base_seed: int, *key: int) -> int:
    """A 64-bit seed for the stream at `key` under `base_seed` (NumPy SeedSequence spawn key; module docstring)."""
    words = np.random.SeedSequence(base_seed, spawn_key=tuple(key)).generate_state(2, np.uint32)
    return int(words[0]) | (int(words[1]) << 32)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def replicate_generator(base_seed: int, replicate: int) -> torch.Generator:
    """The data of replicate `replicate` (the same for every part)."""
    return _generator(derived_seed(base_seed, DATA, replicate))


def init_generator(base_seed: int, chunk: Chunk, replicate: int) -> torch.Generator:
    """The initial parameters of replicate `replicate` in the chunk's part (keyed by the part's coordinates)."""
    return _generator(derived_seed(base_seed, INIT, replicate, *chunk.key))


def chunk_generator(base_seed: int, chunk: Chunk) -> torch.Generator:
    """What the chunk's batch draws while it trains (sgd minibatches): keyed by its part and its seed block."""
    return _generator(derived_seed(base_seed, TRAIN, chunk.first_seed, chunk.stop_seed, *chunk.key))


def ordered(planned: Sequence[Chunk], parts: Iterable[ChunkResult[R]]) -> list[ChunkResult[R]]:
    """The parts in planned order; ValueError unless each planned chunk is there exactly once, as planned, with
    at least its planned number of records (no record lost; a learning-rate search may add runs beyond the
    planned grid, `tasks.train_searched`)."""
    found: dict[int, ChunkResult[R]] = {}
    for part in parts:
        i = part.chunk.index
        if i in found:
            raise ValueError(f"chunk {i} ({part.chunk.label}) given twice")
        if not 0 <= i < len(planned) or part.chunk != planned[i]:
            raise ValueError(f"chunk {i} ({part.chunk.label}) is not a chunk of this configuration")
        if len(part.records) < part.chunk.runs:
            raise ValueError(f"chunk {i} ({part.chunk.label}) holds {len(part.records)} records, "
                             f"expected at least {part.chunk.runs}")
        found[i] = part
    missing = [c.index for c in planned if c.index not in found]
    if missing:
        raise ValueError(f"{len(missing)} of {len(planned)} chunks missing (first: {missing[0]})")
    return [found[c.index] for c in planned]


def merge_curves(panels: Sequence[Curves]) -> Curves:
    """One panel from the same panel of several chunks: their columns side by side, in chunk order.

    A batch stops once all its runs are decided, so chunks may have recorded different numbers of steps (every
    batch records every step from 0); a column is NaN past its batch's last step, as the curve of a decided run
    already is (numerics.train).
    """
    if len(panels) == 1:
        return panels[0]
    steps = max((p.steps for p in panels), key=len)
    columns = []
    for p in panels:
        if len(p.steps) and not np.array_equal(p.steps, steps[: len(p.steps)]):
            raise ValueError("panels to merge must record the same steps")
        padded = np.full((len(steps), p.values.shape[1]), np.nan)
        padded[: len(p.steps)] = p.values
        columns.append(padded)
    predicted = tuple(pred for p in panels for pred in (p.predicted or (None,) * len(p.labels)))
    return Curves(steps, np.concatenate(columns, axis=1), tuple(label for p in panels for label in p.labels),
                  predicted if any(pred is not None for pred in predicted) else (),
                  next((p.floor for p in panels if p.floor is not None), None))


def merged(planned: Sequence[Chunk], parts: Iterable[ChunkResult[R]]) -> tuple[list[R], dict[str, Curves]]:
    """All records in run order, and every panel with its chunks' columns merged (`ordered`, `merge_curves`)."""
    records: list[R] = []
    panels: dict[str, list[Curves]] = {}
    for part in ordered(planned, parts):
        records.extend(part.records)
        for name, panel in part.curves.items():
            panels.setdefault(name, []).append(panel)
    return records, {name: merge_curves(ps) for name, ps in panels.items()}


def run_local(experiment: Experiment, config: Any, progress: Progress | None = None,
              device: str = "cpu") -> AnyResult:
    """Every chunk of `config`, one after the other in this process, merged (a run without a cluster); a `Study`
    runs whole, from a generator seeded with its base seed."""
    t_start = time.perf_counter()
    if not callable(getattr(experiment, "run_chunk", None)):
        from numerics.experiments.contract import replicates

        study = cast("Study", experiment)
        return study.run(config, torch.Generator().manual_seed(replicates(config).seed), progress)
    chunked = cast("ChunkedExperiment", experiment)
    parts = [chunked.run_chunk(config, chunk, device, progress) for chunk in chunked.chunks(config)]
    result = chunked.merge(config, parts)
    return dataclasses.replace(result, seconds=time.perf_counter() - t_start)


def with_seconds(result: AnyResult, seconds: float) -> AnyResult:
    """`result` with its wall time set (the runner measures it)."""
    return dataclasses.replace(result, seconds=seconds)


def chunk_result(chunk: Chunk, records: Sequence[R], curves: Mapping[str, Curves], t_start: float) -> ChunkResult[R]:
    """A chunk's result, timed from `t_start` (time.perf_counter)."""
    return ChunkResult(chunk, tuple(records), dict(curves), time.perf_counter() - t_start)
