"""The degradation study's jobs: in this process, over a local pool, or on a Dask cluster; each one kept on disk.

`numerics.experiments.degradation.run_with(config, mapper, progress)` runs round 0, then the widening rounds of
learning rates; a round's jobs (one arm at some rates for all seeds: `train_job`, a pure function of the job and
the configuration) are independent, and `mapper` runs them.  `run_study` gives it a mapper that

* submits every job of the round at once: to the Dask client (`hfx run degradation --workers N | --scheduler
  ADDRESS`, `hfx verify --workers N | --scheduler ADDRESS`; `hfx.cluster`), to a local pool of one process per
  core (`hfx.pool.worker_pool`: workers ignore Ctrl-C and die with this process), or, on a CUDA device, runs
  them here one after the other;
* hands each finished job to the store at once (`JobStore`), whatever order the jobs finish in;
* gives the results back in job order, so the records, the next round's rates and the summaries are those of a
  run in this process, bit for bit: every job is seeded from its own identity (`numerics.degradation.fit.
  seed_generator`: the base seed, the stream, the replicate), never from the order in which jobs run, and
  trains on one torch thread wherever it runs (a local pool's workers, a Dask task), as float rounding may
  depend on the thread count.

The store (`JobStore`: `hfx.store`'s folder ``DIR/chunks/`` with its header, and `hfx.chunkcodec`'s lossless
encoding) holds one file per finished job, ``<round>-<key>.json``, written atomically: the key is a SHA-256 of
the run's config hash (every parameter of the study: data, widths, epochs, schedule, base seed, device, …) and
of the job itself (model, architecture, depth, width, norm, shortcut, initialisation, rates, seeds, round), and
the file repeats both, checked on loading.  ``hfx run degradation --resume`` after a kill thus loads exactly the
jobs of this configuration that finished (as the rounds depend only on results, a resumed run asks for the same
jobs), computes only the others, and writes what an uninterrupted run writes: no job lost, none twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hfx.encoding import parse_json
from hfx.readfile import read_small_text
from hfx.store import CHUNK_MAX_BYTES, ChunkStore, StoreKey

if TYPE_CHECKING:
    from distributed import Client

    from numerics.degradation.fit import FitRun
    from numerics.experiments.contract import Progress
    from numerics.experiments.degradation import Config, Job, Result

    Runs = tuple[FitRun, ...]
    Train = Callable[[Job], Runs]


def planned_jobs(config: Config) -> int:
    """The jobs of round 0 (a store's header records them, as a chunked experiment's store its chunks)."""
    from numerics.experiments.degradation import initial_jobs

    return len(initial_jobs(config))


def job_key(config_hash: str, job: Job) -> str:
    """SHA-256 (hex) of the run's configuration and the job: the identity of the job's result."""
    from hfx.chunkcodec import encode

    text = json.dumps({"config_hash": config_hash, "job": encode(job)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class JobStore(ChunkStore):
    """The chunk store of a degradation run: one file per finished job (module docstring).  Opening it without
    resume empties it (`ChunkStore`); `resumed` counts the jobs taken from it, `computed` those saved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.computed = 0

    def _name(self, job: Job) -> str:
        return f"{job.round:03d}-{job_key(self.key.config_hash, job)[:32]}.json"

    def load_job(self, job: Job) -> Runs | None:
        """The job's runs if a usable file holds them; None (computed again) otherwise."""
        from hfx.chunkcodec import decode
        from numerics.degradation.fit import FitRun

        path = self.root / self._name(job)
        if not path.is_file():
            return None
        try:
            document = parse_json(read_small_text(path, CHUNK_MAX_BYTES))
            if not isinstance(document, dict) or document.get("config_hash") != self.key.config_hash:
                raise ValueError("of another configuration")
            if decode(document.get("job")) != job:
                raise ValueError("of another job")
            runs = decode(document.get("result"))
            pairs = [(s, lr) for s in job.seeds for lr in job.lrs]
            if not isinstance(runs, tuple) or not all(type(r) is FitRun for r in runs) \
                    or [(r.seed, r.lr) for r in runs] != pairs:
                raise ValueError("not the job's runs")
        except (OSError, ValueError) as exc:
            print(f"hfx: {path} cannot be used ({exc}): computing that job again", file=sys.stderr)
            return None
        self.resumed += 1
        self._files.append(path)
        return runs

    def save_job(self, job: Job, runs: Runs) -> None:
        """Persist a finished job now, atomically (`hfx.store`)."""
        from hfx.chunkcodec import encode
        from hfx.output import write_bytes_atomic
        from hfx.store import _sync_folder

        document = {"config_hash": self.key.config_hash, "job": encode(job), "result": encode(runs)}
        path = self.root / self._name(job)
        write_bytes_atomic(path, json.dumps(document, separators=(",", ":")).encode("utf-8"))
        _sync_folder(self.root)
        self._files.append(path)
        self.computed += 1


def store_key(config: Config, config_hash: str, device: str) -> StoreKey:
    return StoreKey("degradation", config_hash, device, planned_jobs(config))


Submit = Callable[["Train", "Job"], Any]  # a future with .result() and .done()


class _Mapper:
    """`run_with`'s mapper (module docstring): `submit` None runs the jobs here, in order."""

    def __init__(self, store: JobStore | None, submit: Submit | None = None,
                 completed: Callable[[list[Any]], Iterable[Any]] | None = None,
                 cancel: Callable[[list[Any]], None] | None = None) -> None:
        self.store, self.submit, self.completed, self.cancel = store, submit, completed, cancel

    def __call__(self, train: Train, todo: list[Job]) -> Iterator[Runs]:
        ready: dict[int, Runs] = {}
        if self.store is not None:
            for i, job in enumerate(todo):
                found = self.store.load_job(job)
                if found is not None:
                    ready[i] = found
        if self.submit is None:
            for i, job in enumerate(todo):
                yield ready.pop(i) if i in ready else self._keep(job, train(job))
            return
        futures: dict[Hashable, tuple[int, Any]] = {}
        for i, job in enumerate(todo):
            if i not in ready:
                future = self.submit(train, job)
                futures[_ident(future)] = (i, future)
        following = 0
        try:
            while following in ready:
                yield ready.pop(following)
                following += 1
            assert self.completed is not None
            for future in self.completed([f for _, f in futures.values()]):
                i, _ = futures[_ident(future)]
                ready[i] = self._keep(todo[i], future.result())
                while following in ready:
                    yield ready.pop(following)
                    following += 1
        finally:
            pending = [f for _, f in futures.values() if not f.done()]
            if pending and self.cancel is not None:
                self.cancel(pending)

    def _keep(self, job: Job, runs: Runs) -> Runs:
        if self.store is not None:
            self.store.save_job(job, runs)
        return runs


def _ident(future: Any) -> Hashable:
    key = getattr(future, "key", None)  # a Dask future's key; a concurrent.futures Future is its own identity
    return key if key is not None else id(future)


def _cancel_local(futures: list[Any]) -> None:
    for future in futures:  # (the pool itself kills running tasks when its block raises: `hfx.pool`)
        future.cancel()


def train_on_one_thread(train: Train, job: Job) -> Runs:
    """Run one job in a Dask worker, on one torch thread (as a local pool's workers do)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    return train(job)


def run_study(config: Config, progress: Progress | None = None, client: Client | None = None,
              store: JobStore | None = None) -> Result:
    """The degradation study (module docstring): on `client`'s cluster if given, else over a local pool of one
    process per core (in this process on a CUDA device); every finished job into `store` if given."""
    from hfx.pool import worker_pool
    from numerics.experiments import degradation

    with contextlib.ExitStack() as stack:
        if client is not None:
            import uuid

            from distributed import as_completed

            from hfx.provenance import config_hash
            from hfx.serialise import config as flat_config

            # one key per task of this run (a key still held from an earlier run would be taken as this task)
            prefix = f"hfx-degradation-{config_hash(flat_config(config))[:16]}-{uuid.uuid4().hex[:8]}"

            def on_dask(train: Train, job: Job) -> Any:
                return client.submit(train_on_one_thread, train, job, pure=False,
                                     key=f"{prefix}-{job_key(prefix, job)[:16]}")

            mapper = _Mapper(store, on_dask, lambda fs: as_completed(fs),
                             lambda fs: client.cancel(fs, force=True))
        elif degradation.resolve_device(config.device) == "cuda":
            mapper = _Mapper(store)
        else:
            from concurrent.futures import as_completed as local_completed

            pool = stack.enter_context(worker_pool(degradation.workers(config),
                                                   initializer=degradation.init_worker))
            mapper = _Mapper(store, pool.submit, local_completed, _cancel_local)
        return degradation.run_with(config, mapper, progress)
