"""Memory before work: `hfx run` refuses what this machine cannot hold, and announces what is large."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hfx.errors import UsageError

if TYPE_CHECKING:
    from hfx.sweep import Point
    from numerics.experiments import Experiment

MEMORY_HEADROOM = 0.9  # refuse a run whose estimate exceeds this share of the available memory
ANNOUNCE_BYTES = 10**9  # say on stderr how much memory a run will take from this estimate on
# A Dask worker process before its first chunk: Python, torch, NumPy and hfx imported.  Measured here as 350–360 MB
# resident per LocalCluster worker (ps, while it trained a small deep-stack chunk); `--workers N` needs N of them.
WORKER_PROCESS_BYTES = 350 * 2**20


def check_worker_processes(workers: int, available: int | None) -> None:
    """UsageError if `workers` worker processes of a LocalCluster cannot fit in the available memory (before any
    is started: 1,000 processes of torch would take ~350 GB).  Standard library only: called before torch."""
    need = workers * WORKER_PROCESS_BYTES
    if available is not None and need > MEMORY_HEADROOM * available:
        most = max(1, int(MEMORY_HEADROOM * available // WORKER_PROCESS_BYTES))
        raise UsageError(f"--workers {workers}: {workers} worker processes need about {_size(need)} of memory "
                         f"(~{_size(WORKER_PROCESS_BYTES)} each) but {_size(available)} available; use at most "
                         f"--workers {most}")


def _size(n: float) -> str:
    """As `numerics.experiments.resources.describe_bytes` (which would import torch)."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def available_memory() -> int | None:
    """Bytes this process may still allocate: MemAvailable, lowered by a cgroup limit; None if unknown."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="utf-8").strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text(encoding="utf-8").strip()
        if limit != "max":
            found.append(int(limit) - int(used))
    except (OSError, ValueError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            return None
    return max(0, min(found))


def check_resources(module: Experiment, points: list[Point], available: int | None, concurrent: int = 1,
                    local: bool = True, process_bytes: int = 0) -> int:
    """UsageError if a point's estimated memory does not fit; returns the total units of work.

    `concurrent`: processes of this machine that each run one chunk at a time (a pool, a LocalCluster);
    `local=False`: the chunks run elsewhere (`--scheduler`), so only the work is counted here;
    `process_bytes`: what each of those processes takes before its chunk (`WORKER_PROCESS_BYTES` for Dask's).
    """
    from numerics.experiments.resources import describe_bytes

    units, peak = 0, 0
    for point in points:
        cost = module.cost(point.config)
        units += cost.units
        need = concurrent * (cost.memory_bytes + process_bytes)
        peak = max(peak, need)
        if local and available is not None and need > MEMORY_HEADROOM * available:
            where = f" ({point.folder})" if point.swept else ""
            processes = f" ({concurrent} processes)" if concurrent > 1 else ""
            raise UsageError(
                f"{module.NAME}{where}: needs about {describe_bytes(need)} of memory{processes} (estimated from "
                f"its shapes) but {describe_bytes(available)} available, of which at most "
                f"{MEMORY_HEADROOM:.0%} may be used; reduce widths, depths, seeds, chunk_seeds, grids, max_steps"
                f"{' or --workers' if concurrent > 1 else ''}")
    if local and peak >= ANNOUNCE_BYTES:
        known = f"; {describe_bytes(available)} available" if available is not None else ""
        print(f"hfx run: {module.NAME} needs about {describe_bytes(peak)} of memory (estimate){known}",
              file=sys.stderr)
    return units


def check_worker_memory(module: Experiment, points: list[Point], limit: int | None) -> None:
    """UsageError if a chunk's estimate exceeds a cluster worker's memory limit (`limit`, bytes; None: unknown)."""
    from numerics.experiments.resources import describe_bytes

    if limit is None:
        return
    for point in points:
        need = module.cost(point.config).memory_bytes
        if need > MEMORY_HEADROOM * limit:
            where = f" ({point.folder})" if point.swept else ""
            raise UsageError(f"{module.NAME}{where}: a chunk needs about {describe_bytes(need)} of memory but the "
                             f"cluster's workers have {describe_bytes(limit)}; lower chunk_seeds or the grid")
