"""One competitor of `bench_batched.py` alone (one process, one thread, R runs) and as two such processes at once.

Does a second process on the other core slow it down, and how does its per-run cost depend on R?  The per-core mode
of `bench_batched.py` splits the grid over one process per core, so both matter there.  Each trial starts the
processes, lets each train once untimed (the compile of the vmap step included), then times one training with the
processes released together (a barrier); 3 trials of "alone" and "two at once" each, interleaved.

    .venv/bin/python benchmarks/scaling_two_processes.py hfx|compiled-vmap|vmap [--steps 250] [--runs 512]

Measured 2026-12-02 (benchmarks/results/README.md): hfx 2.11-2.20 s either way at 250 steps and 512 runs; the
compiled vmap 4.95-5.16 s alone and 5.27-6.39 s beside a second process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_batched, beside this file

TRIALS = 3


def _work(results: mp.Queue, runs: int, steps: int, which: str, start: Barrier) -> None:
    import torch
    from bench_batched import Competitors, Grid

    torch.set_num_threads(1)
    competitors = Competitors(Grid(runs=runs, width=16, depth=8, steps=steps))
    if which == "compiled-vmap":
        competitors.warm_up()
    competitors.run(which)  # untimed: first-call costs
    start.wait()
    t = time.perf_counter()
    competitors.run(which)
    results.put(time.perf_counter() - t)


def trial(processes: int, runs: int, steps: int, which: str) -> list[float]:
    """Seconds of one timed training in each of `processes` processes started together."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    start = ctx.Barrier(processes)
    workers = [ctx.Process(target=_work, args=(results, runs, steps, which, start)) for _ in range(processes)]
    for w in workers:
        w.start()
    seconds = [results.get() for _ in workers]
    for w in workers:
        w.join()
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", choices=("hfx", "compiled-vmap", "vmap"))
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--runs", type=int, default=512)
    args = ap.parse_args()
    for _ in range(TRIALS):
        alone = trial(1, args.runs, args.steps, args.which)
        both = trial(2, args.runs, args.steps, args.which)
        print(f"{args.which}: alone {alone[0]:.2f} s, two at once {', '.join(f'{s:.2f}' for s in both)} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
