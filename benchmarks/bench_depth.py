"""Time per step and peak memory of deep residual stacks, depth 8 to 10,000, and their slopes in depth.

The stack (C13; Fixup and ReZero train 10,000 layers): deep-stack's defaults, residual two-layer tanh
blocks x + W₂ tanh(W₁x), width 4, hidden 8, 32 samples, float64, Adam; 12 runs (4 seeds × 3 learning
rates).  Each depth runs in a fresh process, which reports its peak resident memory (ru_maxrss) and the
wall time of `--steps` training steps; the same process's resident memory before it builds anything is
the baseline (Python and torch).  Wall and CPU time per step are both printed (the CPU time is the cost when
the machine is shared); the target is judged on wall time.  The slopes are least-squares fits over the
depths: seconds per step per layer and bytes per layer.  Targets (issue 12): 10,000 layers in under 1 GB
and under 1 s per step.

    .venv/bin/python benchmarks/bench_depth.py [--depths 8 100 1000 3000 10000] [--engine auto|torch] [--json F]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from numerics.models import BlockSpec, init_params
from numerics.train import OptimizerSpec, train


def _rss_bytes() -> int:
    """This process's current resident set size (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def one_depth(depth: int, steps: int, engine: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    torch.set_num_threads(1)
    base = _rss_bytes()
    g = torch.Generator().manual_seed(0)
    spec = BlockSpec(block="mlp", variant="residual", depth=depth, width=4, hidden=8, activation="tanh")
    seeds, lrs = 4, (0.003, 0.01, 0.03)
    p = init_params(spec, seeds, "xavier", 1.0, g)
    p = {k: v.repeat_interleave(len(lrs), 0) for k, v in p.items()}  # (12, L, …)
    x = torch.randn((seeds, 32, 4), generator=g, dtype=torch.float64).repeat_interleave(len(lrs), 0)
    y = x + 0.5 * torch.tanh(x)
    lr = torch.tensor(lrs, dtype=torch.float64).repeat(seeds)
    t, c = time.perf_counter(), time.process_time()
    res = train(spec, p, x, y, OptimizerSpec("adam"), lr, torch.zeros_like(lr), steps, 0.0, g, record_every=steps,
                stop_when_converged=False, engine=engine)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    queue.put({"depth": depth, "seconds_per_step": seconds / steps, "cpu_seconds_per_step": cpu / steps,
               "peak_rss": peak, "baseline_rss": base,
               "engine": res.engine, "finite": bool(np.isfinite(res.final_loss).all())})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[8, 100, 1000, 3000, 10000])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--engine", choices=("auto", "torch"), default="auto")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if min(args.depths) < 1 or args.steps < 1:
        ap.error("--depths and --steps must be ≥ 1")
    ctx = mp.get_context("spawn")
    rows = []
    print(f"host {platform.node()}, torch {torch.__version__}, 1 thread; 12 runs, residual tanh mlp blocks, width 4, "
          f"hidden 8, 32 samples, float64, Adam, {args.steps} steps; engine {args.engine}")
    print(f"{'depth':>7} {'engine':>6} {'s/step':>9} {'CPU s/step':>10} {'peak RSS':>10} {'baseline':>10}")
    for depth in args.depths:
        q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        proc = ctx.Process(target=one_depth, args=(depth, args.steps, args.engine, q))
        proc.start()
        row = q.get()
        proc.join()
        rows.append(row)
        print(f"{depth:7d} {row['engine']:>6} {row['seconds_per_step']:9.4f} {row['cpu_seconds_per_step']:10.4f} "
              f"{row['peak_rss'] / 2**20:8.1f} MB "
              f"{row['baseline_rss'] / 2**20:8.1f} MB", flush=True)
    d = np.array([r["depth"] for r in rows], dtype=float)
    slope_t, icpt_t = np.polyfit(d, [r["seconds_per_step"] for r in rows], 1)
    slope_m, icpt_m = np.polyfit(d, [r["peak_rss"] for r in rows], 1)
    slope_c, _ = np.polyfit(d, [r["cpu_seconds_per_step"] for r in rows], 1)
    print(f"slope: {slope_t * 1e6:.2f} µs per step per layer (+{icpt_t * 1e3:.1f} ms; CPU time "
          f"{slope_c * 1e6:.2f} µs), "
          f"{slope_m / 1e3:.2f} kB per layer (+{icpt_m / 2**20:.0f} MB)")
    deepest = rows[int(np.argmax(d))]
    ok = deepest["peak_rss"] < 1e9 and deepest["seconds_per_step"] < 1.0
    print(f"depth {deepest['depth']}: {deepest['peak_rss'] / 1e9:.3f} GB peak, "
          f"{deepest['seconds_per_step']:.3f} s/step ({'meets' if ok else 'misses'} the target: < 1 GB, < 1 s/step)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "seconds_per_step_per_layer": slope_t,
                                         "cpu_seconds_per_step_per_layer": slope_c, "load_average": os.getloadavg(),
                                         "bytes_per_layer": slope_m, "meets_target": ok}, indent=2) + "\n")
    return 0 if ok and all(r["finite"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
