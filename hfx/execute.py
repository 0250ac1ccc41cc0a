"""Running experiments chunk by chunk: in this process, over a local process pool, or on a Dask cluster.

An experiment's chunks (`numerics.experiments.chunks`) are pure tasks.  Where they run is chosen here:

* with a Dask client (`--workers N`, `--scheduler ADDRESS`; `hfx.cluster`): every chunk is a task of the
  cluster, all experiments' chunks submitted at once;
* otherwise an experiment with ``LOCAL_POOL`` (degradation: one network per task) spreads its chunks over one
  process per core (`hfx.pool.worker_pool`: workers ignore Ctrl-C and die with this process);
* otherwise (the batched experiments) the chunks run one after the other in this process, as one tensor
  program each, reporting progress step by step.

Each finished chunk is handed to the experiment's store at once (`hfx.store`: written atomically, so that
`--resume` recomputes only what is missing); chunks already in the store are not run again.  The parts are
merged in chunk order by the experiment's `merge`, whatever order they finished in, so every backend gives the
same records, summaries and checks (bitwise; wall-clock fields aside).  A chunk runs on `threads` torch threads
wherever it runs (the float rounding of a kernel may depend on its thread count).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from hfx.pool import worker_pool
from numerics.experiments.chunks import with_seconds

if TYPE_CHECKING:
    from distributed import Client

    from hfx.store import ChunkStore
    from numerics.experiments import AnyChunkResult, AnyResult, Chunk, ChunkedExperiment, Progress


@dataclass(frozen=True)
class Backend:
    """Where chunks run."""

    device: str = "cpu"  # resolved: cpu or cuda (hfx.devices)
    threads: int = 1  # torch intra-op threads inside a chunk
    client: Client | None = None  # a Dask client; None: this machine (in process, or a pool for LOCAL_POOL)
    pool_workers: int | None = None  # processes of the local pool (None: one per core)


@dataclass(frozen=True)
class Job:
    """One experiment to run: its configuration and, where finished chunks are kept, its store."""

    experiment: ChunkedExperiment
    config: Any
    store: ChunkStore | None = None


def is_chunked(module: object) -> TypeGuard[ChunkedExperiment]:
    """Whether an experiment follows the chunked contract (`numerics.experiments.chunks`); the others (the
    degradation study, trainable-depth: rounds that depend on their results) run whole, in this process."""
    return callable(getattr(module, "run_chunk", None)) and callable(getattr(module, "chunks", None))


def chunk_task(name: str, config: Any, chunk: Chunk, device: str, threads: int) -> AnyChunkResult:
    """Run one chunk (in a worker process: a pool's or a Dask worker's)."""
    import torch

    from numerics.experiments import get

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    module = get(name)
    assert is_chunked(module), name
    return module.run_chunk(config, chunk, device)


def execute(job: Job, backend: Backend, progress: Progress | None = None) -> AnyResult:
    """Run one experiment (module docstring)."""
    return execute_all([job], backend, progress)[0]


def execute_all(jobs: Sequence[Job], backend: Backend, progress: Progress | None = None) -> list[AnyResult]:
    """Run every job; their results in order (module docstring)."""
    started = time.perf_counter()
    planned = [job.experiment.chunks(job.config) for job in jobs]
    done: list[dict[int, AnyChunkResult]] = []
    for job, chunks in zip(jobs, planned, strict=True):
        found = job.store.load(chunks) if job.store is not None else {}
        if found and progress is not None:
            progress(sum(c.units for c in chunks if c.index in found))
        done.append(found)
    todo = [(j, c) for j, chunks in enumerate(planned) for c in chunks if c.index not in done[j]]
    seconds = [0.0] * len(jobs)
    for j, part in _run(jobs, todo, backend, progress):
        store = jobs[j].store
        if store is not None:
            store.save(part)
        done[j][part.chunk.index] = part
        seconds[j] += part.seconds
    results = []
    for job, chunks, parts in zip(jobs, planned, done, strict=True):
        results.append(job.experiment.merge(job.config, [parts[c.index] for c in chunks]))
    if len(jobs) == 1:  # one experiment: its wall time; several sharing a cluster: each one's compute time
        return [with_seconds(results[0], time.perf_counter() - started)]
    return [with_seconds(r, s) for r, s in zip(results, seconds, strict=True)]


def _run(jobs: Sequence[Job], todo: list[tuple[int, Chunk]], backend: Backend,
         progress: Progress | None) -> Iterator[tuple[int, AnyChunkResult]]:
    if not todo:
        return
    if backend.client is not None:
        yield from _on_dask(jobs, todo, backend, progress)
        return
    for j, job in enumerate(jobs):
        mine = [c for i, c in todo if i == j]
        if not mine:
            continue
        if job.experiment.LOCAL_POOL:
            for part in _on_pool(job, mine, backend, progress):
                yield j, part
        else:
            for chunk in mine:
                yield j, job.experiment.run_chunk(job.config, chunk, backend.device, progress)


def _on_pool(job: Job, chunks: list[Chunk], backend: Backend,
             progress: Progress | None) -> Iterator[AnyChunkResult]:
    processes = max(1, min(len(chunks), backend.pool_workers or os.cpu_count() or 1))
    with worker_pool(processes) as pool:
        futures = {pool.submit(chunk_task, job.experiment.NAME, job.config, c, backend.device, backend.threads): c
                   for c in chunks}
        for future in as_completed(futures):
            part = future.result()
            if progress is not None:
                progress(futures[future].units)
            yield part


def _on_dask(jobs: Sequence[Job], todo: list[tuple[int, Chunk]], backend: Backend,
             progress: Progress | None) -> Iterator[tuple[int, AnyChunkResult]]:
    from distributed import as_completed as dask_completed

    from hfx.provenance import config_hash
    from hfx.serialise import config as flat_config

    client = backend.client
    assert client is not None
    keys = [f"hfx-{job.experiment.NAME}-{config_hash(flat_config(job.config))[:16]}" for job in jobs]
    futures = {}
    for j, chunk in todo:
        job = jobs[j]
        future = client.submit(chunk_task, job.experiment.NAME, job.config, chunk, backend.device, backend.threads,
                               key=f"{keys[j]}-{chunk.index}", pure=False)
        futures[future.key] = (j, chunk, future)
    try:
        for future in dask_completed([f for _, _, f in futures.values()]):
            j, chunk, _ = futures[future.key]
            part = future.result()
            if progress is not None:
                progress(chunk.units)
            yield j, part
    finally:
        pending = [f for _, _, f in futures.values() if not f.done()]
        if pending:
            client.cancel(pending, force=True)
