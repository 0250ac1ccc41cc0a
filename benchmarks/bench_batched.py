"""hfx's batched engine against what a PyTorch expert writes instead: a torch.func ensemble, eager and compiled.

Grid (issue 12): R runs of a residual stack x ↦ x + W₂σ(W₁x) per block (no biases, σ = tanh), full-batch
gradient descent on ½·mean‖H(x) − y‖² toward y = x + ½tanh(Bx), N = 32 samples, seeds × 4 learning rates;
two configurations: width 16 (1,024 runs, depth 8, 1,000 steps) and width 64 (`--wide-*`).

Competitors, on the same parameters, data, rates and steps:
* ``hfx``            `numerics.train.train` (its default engine: fused on the CPU; convergence bookkeeping on);
* ``hfx-torch``      the same loop with `engine="torch"` (autograd through batched matmuls), `--torch-engine`;
* ``hfx-lockstep``   the same loop with one native call per step (`max_block=0`), `--lockstep`;
* ``vmap``           `torch.func`: one `nn.Module`, `stack_module_state` over the R runs,
                     `vmap(grad(loss))` through `functional_call`, a plain SGD update θ ← θ − ηg;
* ``compiled-vmap``  that step under `torch.compile` (compiled once before timing; the compile time is printed).

They run interleaved (every competitor once per round, `--rounds` ≥ 3 rounds) in three modes: 1 thread,
PyTorch's default thread count, and one single-threaded process per core (each process trains R/P runs;
the time is the wall time of the slowest).  Printed for each: runs/s (min/median/max over rounds), the
per-round ratios hfx/vmap and hfx/compiled-vmap (min/median/max), achieved FLOP/s (matmuls counted
analytically: 2·R·N·d·m·(6L − 1) per step, 2 products forward and 4 backward per block less the first
block's input gradient) as a fraction of the large-matmul FLOP/s measured in the same mode and run (2048² float32
products, measured at the start of every round; the best round counts); and
whether the final parameters and losses agree to 1e-5 on every run that float32 itself follows to 1e-5
(float32 vmap against a float64 run of the same grid; a run at the edge of stability amplifies rounding, and is
listed instead).  Run on demand (never inside the tests):

    .venv/bin/python benchmarks/bench_batched.py [--rounds 3] [--modes 1 default per-core] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from numerics.blocked import MAX_BLOCK
from numerics.blocks import fused
from numerics.models import BlockSpec, init_params
from numerics.train import OptimizerSpec, train

AGREEMENT = 1e-5  # the tolerance between implementations (float32, final parameters)
Result = tuple[float, dict[str, torch.Tensor], torch.Tensor]  # seconds, final W1/W2 (R, L, …), final loss (R,)


@dataclass(frozen=True)
class Grid:
    """One configuration of the benchmark."""

    runs: int  # R (a multiple of lrs)
    width: int  # d = m
    depth: int  # L
    steps: int  # GD steps
    samples: int = 32  # N
    lrs: int = 4  # learning rates per seed
    seed: int = 0

    def flops(self) -> float:
        return 2.0 * self.runs * self.samples * self.width**2 * (6 * self.depth - 1) * self.steps


def problem(grid: Grid, lo: int = 0, hi: int | None = None
            ) -> tuple[BlockSpec, dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spec, initial parameters (R, L, …), x, y (R, N, d) and rates (R,) in float32, runs [lo, hi)."""
    R, E, d, N = grid.runs, grid.lrs, grid.width, grid.samples
    S = R // E
    g = torch.Generator().manual_seed(grid.seed)
    spec = BlockSpec(block="mlp", variant="residual", depth=grid.depth, width=d, hidden=d, activation="tanh")
    seed_of = torch.arange(R) // E
    p0 = {k: v[seed_of].float() for k, v in init_params(spec, S, "xavier", 0.5, g, torch.float64).items()}
    x = torch.randn((S, N, d), generator=g, dtype=torch.float64)
    B = torch.randn((S, d, d), generator=g, dtype=torch.float64) / math.sqrt(d)
    y = x + 0.5 * torch.tanh(x @ B.transpose(-2, -1))
    lr = torch.tensor(np.geomspace(0.01, 0.1, E), dtype=torch.float32).repeat(S)
    sl = slice(lo, R if hi is None else hi)
    return spec, {k: v[sl].contiguous() for k, v in p0.items()}, x[seed_of][sl].float(), y[seed_of][sl].float(), lr[sl]


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.W1 = nn.Linear(d, d, bias=False)
        self.W2 = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.W2(torch.tanh(self.W1(x)))


class Competitors:
    """The competitors on one slice of the grid, set up once (untimed); `run(name)` trains and times one."""

    def __init__(self, grid: Grid, lo: int = 0, hi: int | None = None, device: str = "cpu") -> None:
        self.grid, self.device = grid, torch.device(device)
        self.spec, self.p0, self.x, self.y, self.lr = problem(grid, lo, hi)
        self.x, self.y, self.lr = self.x.to(device), self.y.to(device), self.lr.to(device)
        R, L, d = self.x.shape[0], grid.depth, grid.width
        models = []
        for r in range(R):  # what the expert writes: R modules, stacked
            blocks = [Block(d) for _ in range(L)]
            model = nn.Sequential(*blocks)
            with torch.no_grad():
                for layer, block in enumerate(blocks):
                    block.W1.weight.copy_(self.p0["W1"][r, layer])
                    block.W2.weight.copy_(self.p0["W2"][r, layer])
            models.append(model)
        stacked, _ = stack_module_state(models)  # name ↦ (R, …)
        self.stacked = {k: v.detach().to(device) for k, v in stacked.items()}
        self.base = nn.Sequential(*[Block(d) for _ in range(L)]).to("meta")

        def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return 0.5 * (functional_call(self.base, p, (x,)) - y).pow(2).sum(-1).mean()

        grads = vmap(grad(loss))
        self.loss = vmap(loss)

        def step(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                 lr: torch.Tensor) -> dict[str, torch.Tensor]:
            g = grads(p, x, y)
            return {k: v - lr.view(-1, *([1] * (v.dim() - 1))) * g[k] for k, v in p.items()}

        self.step = step
        self.compiled = torch.compile(step, fullgraph=True)
        self.compile_seconds = math.nan

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def warm_up(self) -> None:
        fused.available()  # hfx's engine is compiled once per machine (and source): never inside a timed round
        t = time.perf_counter()
        self.compiled({k: v.clone() for k, v in self.stacked.items()}, self.x, self.y, self.lr)
        self.sync()
        self.compile_seconds = time.perf_counter() - t

    def run(self, name: str) -> Result:
        if name.startswith("hfx"):
            t = time.perf_counter()
            res = train(self.spec, self.p0, self.x, self.y, OptimizerSpec("gd"), self.lr, torch.zeros_like(self.lr),
                        self.grid.steps, 0.0, torch.Generator(), stop_when_converged=False,
                        record_every=self.grid.steps, engine="torch" if name == "hfx-torch" else "auto",
                        device=self.device, max_block=0 if name == "hfx-lockstep" else MAX_BLOCK)
            self.sync()
            return time.perf_counter() - t, {k: res.params[k] for k in ("W1", "W2")}, torch.from_numpy(res.final_loss)
        fn = self.compiled if name == "compiled-vmap" else self.step
        t = time.perf_counter()
        p = dict(self.stacked)
        for _ in range(self.grid.steps):
            p = fn(p, self.x, self.y, self.lr)
        with torch.no_grad():
            final = self.loss(p, self.x, self.y)
        self.sync()
        seconds = time.perf_counter() - t
        L = self.grid.depth
        W = {k: torch.stack([p[f"{layer}.{k}.weight"] for layer in range(L)], dim=1).cpu() for k in ("W1", "W2")}
        return seconds, W, final.cpu()


def float64_reference(grid: Grid) -> Result:
    """The same runs in float64 (untimed; the torch engine, whose products are vmap's), from the same float32
    starting point: where float32 itself departs from it by more than AGREEMENT (a run at the edge of
    stability amplifies rounding), no two float32 implementations can be asked to agree to AGREEMENT."""
    spec, p0, x, y, lr = problem(grid)
    t = time.perf_counter()
    res = train(spec, {k: v.double() for k, v in p0.items()}, x.double(), y.double(), OptimizerSpec("gd"), lr.double(),
                torch.zeros_like(lr, dtype=torch.float64), grid.steps, 0.0, torch.Generator(),
                stop_when_converged=False, record_every=grid.steps, engine="torch")
    return time.perf_counter() - t, {k: res.params[k] for k in ("W1", "W2")}, torch.from_numpy(res.final_loss)


def per_run_difference(a: Result, b: Result) -> torch.Tensor:
    """max |Δ| per run (R,) over the final parameters and the final loss."""
    diffs = [(a[1][k].double() - b[1][k].double()).abs().flatten(1).amax(1) for k in ("W1", "W2")]
    return torch.stack([*diffs, (a[2].double() - b[2].double()).abs()]).amax(0)


def matmul_flops(n: int = 2048, repeats: int = 5, device: str = "cpu") -> float:
    """Large-matmul FLOP/s (float32) at the current thread count: the best of `repeats` n×n products."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn((n, n), generator=g).to(device), torch.randn((n, n), generator=g).to(device)
    cuda = torch.device(device).type == "cuda"
    a @ b
    best = math.inf
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t = time.perf_counter()
        a @ b
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def _worker(conn: Connection, grid: Grid, lo: int, hi: int) -> None:
    """One single-threaded process of the per-core mode: set up, then answer commands until 'stop'."""
    torch.set_num_threads(1)
    comp = Competitors(grid, lo, hi)
    comp.warm_up()
    conn.send(comp.compile_seconds)
    while (cmd := conn.recv()) != "stop":
        conn.send(matmul_flops() if cmd == "peak" else comp.run(cmd))


def _merge(parts: list[Result]) -> Result:
    return (max(p[0] for p in parts), {k: torch.cat([p[1][k] for p in parts]) for k in ("W1", "W2")},
            torch.cat([p[2] for p in parts]))


def measure(grid: Grid, mode: str, names: list[str], rounds: int, ref64: Result, device: str = "cpu"
            ) -> dict[str, object]:
    """Every competitor once per round, interleaved, in one mode: '1', 'default' or 'per-core'."""
    default = torch.get_num_threads()
    procs: list[tuple[BaseProcess, Connection]] = []
    if mode == "per-core":
        P = os.cpu_count() or 1
        ctx = mp.get_context("spawn")
        bounds = [grid.runs * i // P for i in range(P + 1)]
        for a, b in itertools.pairwise(bounds):
            parent, child = ctx.Pipe()
            worker = ctx.Process(target=_worker, args=(child, grid, a, b), daemon=True)
            worker.start()
            procs.append((worker, parent))
        compile_s = max(c.recv() for _, c in procs)

        def across(cmd: str) -> Result:
            for _, c in procs:
                c.send(cmd)
            return _merge([c.recv() for _, c in procs])

        call: Callable[[str], Result] = across

        def peak_now() -> float:
            for _, c in procs:
                c.send("peak")
            return sum(c.recv() for _, c in procs)  # all cores at once
    else:
        torch.set_num_threads(1 if mode == "1" else default)
        comp = Competitors(grid, device=device)
        comp.warm_up()
        compile_s = comp.compile_seconds
        call = comp.run

        def peak_now() -> float:
            return matmul_flops(n=8192 if device == "cuda" else 2048, device=device)
    tag = f"[width {grid.width}, {device}, {mode}{' thread' if mode == '1' else ''}]"
    print(f"{tag} compile of the vmap step {compile_s:.1f} s", flush=True)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    peaks: list[float] = []
    diff = torch.zeros(grid.runs, dtype=torch.float64)  # max over rounds and competitors of |Δ| against hfx
    float32_error = torch.zeros(grid.runs, dtype=torch.float64)  # vmap in float32 against float64
    for i in range(rounds):
        peaks.append(peak_now())  # measured every round, interleaved too: the machine is shared
        results = {n: call(n) for n in names}
        for n, (s, _, _) in results.items():
            seconds[n].append(s)
        for n, res in results.items():
            diff = torch.maximum(diff, per_run_difference(res, results[names[0]]))
            if n == "vmap":
                float32_error = torch.maximum(float32_error, per_run_difference(res, ref64))
        print(f"{tag} round {i + 1}: " + ", ".join(f"{n} {grid.runs / s:.1f} runs/s" for n, s in
                                                   ((n, seconds[n][-1]) for n in names)), flush=True)
    for proc, c in procs:
        c.send("stop")
        proc.join(timeout=30)
    peak = max(peaks)  # the machine's large-matmul FLOP/s: the best round (load only lowers it)
    print(f"{tag} large-matmul peak {peak / 1e9:.1f} GFLOP/s (best of the rounds; each: "
          + ", ".join(f"{p / 1e9:.1f}" for p in peaks) + ")")
    torch.set_num_threads(default)
    rate = {n: [grid.runs / s for s in seconds[n]] for n in names}
    out: dict[str, object] = {"mode": mode, "device": device, "width": grid.width, "peak_flops": peak, "peaks": peaks,
                              "compile_seconds": compile_s, "seconds": seconds}
    stats = {n: (min(r), statistics.median(r), max(r)) for n, r in rate.items()}
    out["runs_per_second"] = stats
    out["fraction_of_peak"] = {n: [grid.flops() / s / peak for s in seconds[n]] for n in names}
    for n in names:
        r_lo, r_med, r_hi = stats[n]
        frac = statistics.median(out["fraction_of_peak"][n])  # type: ignore[index]
        print(f"{tag} {n:14s} runs/s {r_lo:8.1f} / {r_med:8.1f} / {r_hi:8.1f} (min/median/max)   "
              f"{frac:6.1%} of the matmul peak (median)")
    ratios = {}
    for other in ("vmap", "compiled-vmap", "hfx-torch", "hfx-lockstep"):
        if other in names and other != "hfx":
            r = [a / b for a, b in zip(rate["hfx"], rate[other], strict=True)]  # paired by round
            ratios[f"hfx/{other}"] = (min(r), statistics.median(r), max(r))
            print(f"{tag} hfx/{other:14s} {min(r):.2f} / {statistics.median(r):.2f} / {max(r):.2f} (min/median/max)")
    out["ratios"] = ratios
    fit = float32_error <= AGREEMENT  # runs that float32 follows to AGREEMENT
    worst = float(diff[fit].max()) if bool(fit.any()) else math.nan
    agree = bool(fit.any()) and worst <= AGREEMENT
    print(f"{tag} agreement with hfx on the {int(fit.sum())} runs that float32 follows to {AGREEMENT:g} (vmap float32 "
          f"vs float64): max |Δ| of final parameters and losses {worst:.2e} ({'OK' if agree else 'FAILED'})")
    if not bool(fit.all()):
        bad = (~fit).nonzero().flatten()
        print(f"{tag} {len(bad)} run(s) excluded, where float32 itself departs from float64 (edge of stability): "
              f"runs {bad.tolist()[:10]}, float32 error up to {float(float32_error.max()):.2e}, "
              f"competitors differ there by up to {float(diff[bad].max()):.2e}")
    out |= {"agree": agree, "max_difference": worst, "runs_compared": int(fit.sum()),
            "excluded_runs": (~fit).nonzero().flatten().tolist(), "float32_error_max": float(float32_error.max()),
            "excluded_difference_max": float(diff[~fit].max()) if not bool(fit.all()) else 0.0}
    return out


def _cpu_model() -> str:
    """The CPU's model name and its widest x86 vector extension."""
    model, flags = fused.cpu_info()
    widest = next((f for f in ("avx512f", "avx2", "avx", "sse2") if f in flags), "no x86 vector flags")
    return f"{model} ({widest})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1024)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--wide-width", type=int, default=64, help="width of the second configuration (0: skip it)")
    ap.add_argument("--wide-runs", type=int, default=128)
    ap.add_argument("--wide-steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modes", nargs="+", choices=("1", "default", "per-core"), default=["1", "default", "per-core"])
    ap.add_argument("--torch-engine", action="store_true", help="also time hfx's torch engine (hfx-torch)")
    ap.add_argument("--lockstep", action="store_true", help="also time one native call per step (hfx-lockstep)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cuda: one process, --modes default")
    ap.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = ap.parse_args()
    P = os.cpu_count() or 1
    if args.rounds < 3 or min(args.runs, args.steps, args.depth) < 1 or args.runs % (4 * P):
        ap.error(f"--rounds must be ≥ 3, --runs a multiple of 4·cores ({4 * P}), steps and depth ≥ 1")
    if args.device == "cuda" and (args.modes != ["default"] or not torch.cuda.is_available()):
        ap.error("--device cuda needs a CUDA device and --modes default")
    names = ["hfx", "vmap", "compiled-vmap"] + (["hfx-torch"] if args.torch_engine else [])
    names += ["hfx-lockstep"] if args.lockstep else []
    grids = [Grid(args.runs, 16, args.depth, args.steps)]
    if args.wide_width:
        grids.append(Grid(args.wide_runs, args.wide_width, args.depth, args.wide_steps))
    load = os.getloadavg()
    print(f"host {platform.node()}, {P} cores, torch {torch.__version__}, float32, {args.device}, PyTorch's default "
          f"{torch.get_num_threads()} threads; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    cpu, geometry = _cpu_model(), fused.vector_geometry()
    tiles = f"{geometry[0]}-byte vectors × {geometry[1]} registers" if geometry else "not built (no C++ compiler)"
    print(f"CPU {cpu}; hfx's engine built for {tiles}")
    for gr in grids:
        print(f"grid: {gr.runs} runs, residual tanh blocks, width {gr.width}, depth {gr.depth}, {gr.samples} samples, "
              f"{gr.steps} GD steps")
    results = []
    for gr in grids:
        ref64 = float64_reference(gr)
        print(f"[width {gr.width}] float64 reference (torch engine, untimed): {ref64[0]:.1f} s", flush=True)
        results += [measure(gr, mode, names, args.rounds, ref64, args.device) for mode in args.modes]
    load_after = os.getloadavg()
    print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "host": platform.node(), "cores": P, "torch": torch.__version__, "dtype": "float32", "device": args.device,
            "default_threads": torch.get_num_threads(), "load_before": load, "load_after": load_after,
            "cpu": cpu, "engine_vector_geometry": geometry,
            "grids": [asdict(g) for g in grids], "results": results,
        }, indent=2) + "\n")
    return 0 if all(r["agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
