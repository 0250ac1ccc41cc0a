"""`hfx verify`'s measurements and their figures, in a process of their own beside the derivations.

On this project's reference machine (two cores) the derivations keep both cores busy for about half a
minute (two fork-server workers), then the measurements ran on one torch thread, then their figures were
drawn: one after the other, `hfx verify --quick` took 85 s.  Here the measurements and the drawing of their
figures run in one worker process (`hfx.pool.worker_pool`: it ignores Ctrl-C and dies with hfx; its own
degradation pool likewise) *while* the derivations are verified and their documents typeset, and the progress
of both reaches one `hfx.progress.Board`.  The numbers do not change: the experiments are seeded by their
configurations, run on one torch thread wherever they run, and the figures are drawn from the results.

With a Dask cluster (`--workers`, `--scheduler`) or on a CUDA device the measurements run from this process
after the derivations, as before (a client does not cross a fork; CUDA must not be initialised in a parent
that forks), and the figures are drawn here, over `jobs` processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.queues
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hfx import progress
from hfx.pool import worker_pool

if TYPE_CHECKING:
    from distributed import Client

    from hfx.evidence import Measurements
    from hfx.execute import Backend
    from numerics.experiments import AnyResult

FIGURED = ("degradation", "degradation-cnn", "trainable-depth")  # results whose figures REPORT.md embeds
DRAIN_TIMEOUT_S = 10.0  # how long the last progress events may take to arrive after the result


@dataclass(frozen=True)
class Place:
    """Where the measurements train: the resolved device, and the Dask client (None: this machine)."""

    device: str = "cpu"
    client: Client | None = None

    def backend(self) -> Backend:
        from hfx.execute import Backend  # (imports torch and every experiment: in the process that measures)

        return Backend(device=self.device, client=self.client)


@dataclass(frozen=True)
class Drawn:
    """The measurements, and every file of their figures, ready to be written."""

    measured: Measurements
    files: tuple[tuple[str, bytes], ...]  # (path relative to the output folder, content): PDF, PNG, CSV
    pictures: tuple[str, ...]  # the paths of the studies' figures (FIGURED), which REPORT.md embeds
    figures: tuple[str, ...]  # the names of the experiments' figures (figures/<name>.pdf|png|csv)


def _result_files(item: tuple[str, AnyResult]) -> tuple[list[tuple[str, bytes]], list[str], list[str]]:
    """One result's figure files; the paths of a study's figures (REPORT.md embeds them); the names of an
    experiment's figures."""
    from hfx.figures import experiment_files
    from hfx.figures_out import csv_bytes, figure_files
    from numerics.experiments import get

    name, result = item
    if name in FIGURED:
        module = get(result.name)
        data = getattr(module, "figure_data", None)
        files = figure_files(module.figures(result), data(result) if data is not None else None,
                             prefix=f"figures/{name}")
        return files, [path for path, _ in files], []
    files, names = [], []
    for fig_name, pdf, png, rows in experiment_files(item):
        files += [(f"figures/{fig_name}.pdf", pdf), (f"figures/{fig_name}.png", png),
                  (f"figures/{fig_name}.csv", csv_bytes(rows))]
        names.append(fig_name)
    return files, [], names


def draw(measured: Measurements, jobs: int = 1) -> Drawn:
    """The figures of every measured result, over `jobs` processes: the studies' under figures/<name>/, the
    experiments' under figures/ (a figure is a second or so of CPU: laying out, font subsetting, rasterising)."""
    items = list(measured.results().items())
    if jobs <= 1 or len(items) <= 1:
        parts = [_result_files(item) for item in items]
    else:
        with worker_pool(min(jobs, len(items))) as pool:
            parts = list(pool.map(_result_files, items))
    return Drawn(measured, tuple(f for files, _, _ in parts for f in files),
                 tuple(p for _, pictures, _ in parts for p in pictures),
                 tuple(n for _, _, names in parts for n in names))


def measure(tier: str, place: Place) -> Measurements:
    """Every audited measurement at the size of `tier` (`hfx.measure.run_audited`)."""
    from hfx.measure import run_audited

    return run_audited(tier, backend=place.backend())


def measure_and_draw(tier: str, place: Place, jobs: int = 1) -> Drawn:
    """`measure`, and the figures of what it measured."""
    return draw(measure(tier, place), jobs)


_EVENTS: list[multiprocessing.queues.Queue[progress.Event | None]] = []  # the worker's way to the board


def _init(events: multiprocessing.queues.Queue[progress.Event | None]) -> None:
    _EVENTS.append(events)
    progress.route(events.put)


def _in_worker(tier: str, place: Place, jobs: int) -> Drawn:
    try:
        return measure_and_draw(tier, place, jobs)
    finally:
        _EVENTS[-1].put(None)  # after every event of this task: the board has seen them all


def _drain(events: multiprocessing.queues.Queue[progress.Event | None], board: progress.Board) -> None:
    for event in iter(events.get, None):
        board(event)


def concurrent(place: Place) -> bool:
    """Whether the measurements can run in a process of their own (module docstring)."""
    return place.client is None and place.device == "cpu"


@contextlib.contextmanager
def measuring(tier: str, place: Place | None,
              jobs: int) -> Iterator[tuple[Callable[[], Drawn] | None, progress.Board]]:
    """Start the measurements (in a worker process when `concurrent`; none when `place` is None: --no-experiments);
    yields a function that returns them when done, and the board that shows this process's progress too while
    the block runs."""
    board = progress.Board()
    if place is None:
        with progress.routed(board):
            yield None, board
        return
    if not concurrent(place):
        with progress.routed(board):
            yield (lambda: measure_and_draw(tier, place, jobs)), board
        return
    # forked before this process starts a thread, imports torch (the worker does) or SymPy (the derivations'
    # server does): the worker inherits only what hfx imported to read its command line
    context = multiprocessing.get_context("fork")
    events: multiprocessing.queues.Queue[progress.Event | None] = context.Queue()
    with worker_pool(1, initializer=_init, initargs=(events,), mp_context=context) as pool:
        future = pool.submit(_in_worker, tier, place, jobs)
        drain = threading.Thread(target=_drain, args=(events, board), daemon=True, name="hfx-progress")
        drain.start()

        def result() -> Drawn:
            drawn = future.result()
            drain.join(DRAIN_TIMEOUT_S)
            return drawn

        with progress.routed(board):
            yield result, board
    with contextlib.suppress(queue.Full, ValueError, OSError):
        events.close()
