"""Batched engine vs the per-run PyTorch loop a researcher would write, on the same grid.

Grid (the issue's): 1,024 runs of a residual stack of depth 8, width 16 (two-layer blocks
x + W₂σ(W₁x), hidden width 16, no biases, σ = tanh by default, `--activation relu|gelu`),
1,000 full-batch gradient-descent steps on ½·mean‖H(x) − y‖² toward a near-identity target
y = x + δ tanh(Bx), 32 samples; 256 seeds × 4 learning rates.

* batched: `numerics.train.train` on all 1,024 runs as one tensor program;
* per-run: one `nn.Module`, one `torch.optim.SGD`, one Python loop per run.  It takes seconds per run,
  so it is timed on a seeded random subset (≥ 16 runs) that starts from the *same* parameters and data
  as the batched runs; the final parameters and losses of the subset must agree to 1e-5.

Prints runs/s for each, their ratio, and the batched engine's achieved FLOP/s (counted analytically:
2·R·N·d·m·(6L − 1) per step — 2 matmuls forward and 4 backward per block, less the first block's input
gradient, which neither way computes) as a fraction of this machine's
large-matmul FLOP/s measured in the same process.  Run on demand (never inside the tests):

    .venv/bin/python benchmarks/bench_batched.py [--subset 16] [--threads 1 2] [--json out.json]

Both ways are measured at each thread count given (default: 1 and PyTorch's default thread count, the one
a researcher's loop runs with); every printed line and JSON record names its thread count.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from numerics.models import BlockSpec, init_params
from numerics.train import OptimizerSpec, train

AGREEMENT = 1e-5  # the tolerance between the two implementations


ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "gelu": nn.functional.gelu}


class Block(nn.Module):
    def __init__(self, d: int, m: int, activation: str) -> None:
        super().__init__()
        self.W1 = nn.Linear(d, m, bias=False)
        self.W2 = nn.Linear(m, d, bias=False)
        self.act = ACTIVATIONS[activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.W2(self.act(self.W1(x)))


def per_run(W1: torch.Tensor, W2: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int,
            activation: str) -> tuple[list[Block], float]:
    """The straightforward loop: one model, one optimiser, one Python loop.  W1: (L, m, d), W2: (L, d, m)."""
    L, m, d = W1.shape
    blocks = [Block(d, m, activation).to(x.dtype) for _ in range(L)]
    model = nn.Sequential(*blocks)
    with torch.no_grad():
        for layer, block in enumerate(blocks):
            block.W1.weight.copy_(W1[layer])
            block.W2.weight.copy_(W2[layer])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (model(x) - y).pow(2).sum(-1).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = float(0.5 * (model(x) - y).pow(2).sum(-1).mean())
    return blocks, final


def matmul_flops(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """This machine's large-matmul FLOP/s: the best of `repeats` n×n products (2n³ flops each)."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn((n, n), generator=g, dtype=dtype)
    b = torch.randn((n, n), generator=g, dtype=dtype)
    a @ b  # warm-up
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def measure(threads: int, spec: BlockSpec, p0: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
            lr: torch.Tensor, steps: int, subset: np.ndarray, g: torch.Generator) -> dict[str, object]:
    """Both ways at `threads` intra-op threads: the peak, the batched engine, the per-run loop on `subset`."""
    torch.set_num_threads(threads)
    dtype, R, L, N, d = x.dtype, x.shape[0], spec.depth, x.shape[1], spec.width
    tag = f"[{threads} thread{'s' if threads > 1 else ''}]"
    peak = matmul_flops(dtype)
    print(f"{tag} large-matmul peak: {peak / 1e9:.1f} GFLOP/s (2048×2048, best of 5)")

    t0 = time.perf_counter()
    res = train(spec, p0, x, y, OptimizerSpec("gd"), lr, torch.zeros(R, dtype=dtype), steps, 0.0, g,
                stop_when_converged=False, record_every=steps)
    t_batched = time.perf_counter() - t0
    # matmuls: per block 2 forward and 4 backward products of 2·N·d·m flops per run, less the input gradient of the
    # first block, which neither way computes; tanh, the loss and the updates are not counted
    flops = 2 * R * N * d * spec.hidden * (6 * L - 1) * steps
    batched_rate = R / t_batched
    print(f"{tag} batched : {R} runs in {t_batched:.2f} s = {batched_rate:.1f} runs/s; "
          f"{flops / t_batched / 1e9:.2f} GFLOP/s = {flops / t_batched / peak:.1%} of the matmul peak")

    max_param, max_loss = 0.0, 0.0
    t0 = time.perf_counter()
    for r in subset:
        blocks, final = per_run(p0["W1"][r], p0["W2"][r], x[r], y[r], float(lr[r]), steps, spec.activation)
        for layer, block in enumerate(blocks):
            for name in ("W1", "W2"):
                diff = (getattr(block, name).weight.detach() - res.params[name][r, layer]).abs().max()
                max_param = max(max_param, float(diff))
        ref = float(res.final_loss[r])
        max_loss = max(max_loss, abs(final - ref) / max(abs(ref), 1e-12))
    t_loop = time.perf_counter() - t0
    loop_rate = len(subset) / t_loop
    print(f"{tag} per-run : {len(subset)} runs in {t_loop:.2f} s = {loop_rate:.2f} runs/s "
          f"({t_loop / len(subset):.2f} s/run)")
    ratio = batched_rate / loop_rate
    agree = max_param <= AGREEMENT and max_loss <= AGREEMENT
    print(f"{tag} ratio   : {ratio:.1f}× (goal ≥ 50)")
    print(f"{tag} agreement on the subset: max |Δθ| = {max_param:.2e}, max relative |Δloss| = {max_loss:.2e} "
          f"({'OK' if agree else 'FAILED'}: tolerance {AGREEMENT:g})")
    return {
        "threads": threads, "batched_seconds": t_batched, "batched_runs_per_second": batched_rate,
        "per_run_seconds": t_loop, "per_run_runs_per_second": loop_rate, "ratio": ratio,
        "batched_flops_per_second": flops / t_batched, "matmul_peak_flops_per_second": peak,
        "fraction_of_peak": flops / t_batched / peak, "max_param_difference": max_param,
        "max_relative_loss_difference": max_loss, "agree": agree,
    }


def main() -> int:
    default_threads = torch.get_num_threads()  # PyTorch's default: what a researcher's loop gets
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1024)
    ap.add_argument("--lrs", type=int, default=4, help="learning rates in the grid (runs = seeds × lrs)")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--subset", type=int, default=16, help="per-run loop on this many runs (≥ 16)")
    ap.add_argument("--threads", type=int, nargs="+", default=sorted({1, default_threads}),
                    help=f"intra-op thread counts, each measured both ways (default: 1 and PyTorch's default, "
                         f"here {default_threads})")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--activation", choices=tuple(ACTIVATIONS), default="tanh")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    if args.subset < 16 or args.runs % args.lrs or min(args.threads) < 1:
        ap.error("--subset must be ≥ 16, --runs a multiple of --lrs and --threads ≥ 1")
    dtype = getattr(torch, args.dtype)
    R, E, d, L, N = args.runs, args.lrs, args.width, args.depth, args.samples
    S = R // E
    g = torch.Generator().manual_seed(args.seed)
    spec = BlockSpec(block="mlp", variant="residual", depth=L, width=d, hidden=d, activation=args.activation)
    seed_of = torch.arange(R) // E
    p0 = {k: v[seed_of].to(dtype) for k, v in init_params(spec, S, "xavier", 0.5, g, torch.float64).items()}
    x = torch.randn((S, N, d), generator=g, dtype=torch.float64)
    B = torch.randn((S, d, d), generator=g, dtype=torch.float64) / math.sqrt(d)
    y = x + 0.5 * torch.tanh(x @ B.transpose(-2, -1))
    x, y = x[seed_of].to(dtype), y[seed_of].to(dtype)  # (R, N, d)
    lr = torch.tensor(np.geomspace(0.01, 0.1, E), dtype=dtype).repeat(S)  # (R,)
    subset = np.sort(np.random.default_rng(args.seed).choice(R, size=min(args.subset, R), replace=False))

    print(f"host {platform.node()}, torch {torch.__version__}, {args.dtype}, cpu "
          f"(PyTorch's default: {default_threads} threads); {R} runs: residual {args.activation} blocks, "
          f"depth {L}, width {d}, {N} samples, {args.steps} GD steps; per-run loop on {len(subset)} of them")
    results = [measure(t, spec, p0, x, y, lr, args.steps, subset, g) for t in args.threads]
    if args.json:
        args.json.write_text(json.dumps({
            "runs": R, "activation": args.activation, "width": d, "depth": L, "steps": args.steps, "samples": N,
            "dtype": args.dtype, "device": "cpu", "default_threads": default_threads,
            "subset": [int(s) for s in subset], "results": results,
        }, indent=2) + "\n")
    return 0 if all(r["agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
