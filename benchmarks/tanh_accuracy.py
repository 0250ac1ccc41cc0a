"""The fused engine's float32 tanh against a float64 tanh on every non-negative float, and its speed.

Every finite float x ≥ 0 (2^31 − 2^23 of them; the engine copies the sign, and the negative half is checked
to be the exact mirror) goes through `numerics.blocks.fused.tanh_f32`, the tanh the engine's forward pass
uses (on AVX2 CPUs without AVX-512 its own, `_fused.cpp`; elsewhere the C library's).  The error is
|tanh₃₂(x) − tanh(x)| in units of the last place of float32 at tanh(x) (2^(e−24) for tanh x = m·2^e,
m ∈ [½, 1); 2^-149 at least), tanh(x) from NumPy in float64 (glibc's tanh, below 1 float64 ulp: 2^-29 of
a float32 ulp).  Printed: the worst error and where, how many floats exceed ½ and 1 ulp, and the time per
512 values of the engine's tanh and of PyTorch's `torch.tanh` (SLEEF's vector tanhf) on one thread.
Takes about a minute on two cores.

    .venv/bin/python benchmarks/tanh_accuracy.py [--chunk-bits 24] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np
import torch

from numerics.blocks import fused


def ulp_errors(got: np.ndarray, x: np.ndarray) -> np.ndarray:
    """|got − tanh x| in float32 units in the last place at tanh x (float64 reference)."""
    want = np.tanh(x.astype(np.float64))
    _, exponent = np.frexp(want)
    ulp = np.ldexp(1.0, np.maximum(exponent - 24, -149))
    return np.abs(got.astype(np.float64) - want) / ulp


def per_512(fn, z: torch.Tensor, repeats: int = 20000) -> float:
    """Best of 7 timings of `repeats` calls, in ns per 512 values."""
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(repeats):
            fn(z)
        best = min(best, (time.perf_counter() - start) / repeats * 1e9 * 512 / z.numel())
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-bits", type=int, default=24, choices=range(16, 27), metavar="16..26")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    lib = fused._library()
    if lib is None:
        print("tanh_accuracy: the fused engine cannot be built here (no C++ compiler)", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    model, flags = fused.cpu_info()
    kind = fused.tanh_kind(lib)
    print(f"CPU: {model} ({platform.machine()}; avx512f: {'avx512f' in flags}, avx2: {'avx2' in flags}); "
          f"engine tanh: {kind}")
    top = 0x7F800000  # +inf: all non-negative finite floats lie below
    chunk = 1 << args.chunk_bits
    worst, worst_x, over_half, over_one, mirrored = 0.0, 0.0, 0, 0, True
    started = time.perf_counter()
    for lo in range(0, top, chunk):
        x = np.arange(lo, min(lo + chunk, top), dtype=np.uint32).view(np.float32)
        got = fused.tanh_f32(torch.from_numpy(x), lib).numpy()
        err = ulp_errors(got, x)
        i = int(np.argmax(err))
        if err[i] > worst:
            worst, worst_x = float(err[i]), float(x[i])
        over_half += int(np.count_nonzero(err > 0.5))
        over_one += int(np.count_nonzero(err > 1.0))
        neg = fused.tanh_f32(torch.from_numpy(-x), lib).numpy()
        mirrored &= bool(np.array_equal(neg.view(np.uint32), (-got).view(np.uint32)))
        if lo // chunk % 16 == 15:
            done = min(lo + chunk, top) / top
            print(f"  {done:6.1%} of the floats, worst so far {worst:.4f} ulp "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    special = torch.tensor([float("inf"), -float("inf"), float("nan"), -float("nan")])
    out = fused.tanh_f32(special, lib)
    specials = out[:2].tolist() == [1.0, -1.0] and bool(torch.isnan(out[2:]).all())
    z = torch.linspace(-6.4, 6.4, 1 << 15)  # 64 × 512 values a call: the ctypes call (~1 µs) is spread thin
    engine_ns = per_512(lambda v: fused.tanh_f32(v, lib), z, 500)
    torch_ns = per_512(torch.tanh, z, 500)
    result = {
        "cpu": model, "engine_tanh": kind, "floats": top, "worst_ulp": worst, "worst_at": worst_x,
        "over_half_ulp": over_half, "over_one_ulp": over_one, "negative_half_mirrored": mirrored,
        "inf_nan": specials, "ns_per_512_engine": engine_ns,
        "ns_per_512_torch_tanh": torch_ns,
    }
    print(f"all {top:,} non-negative finite floats: worst {worst:.4f} ulp at x = {worst_x:.9g}; "
          f"{over_half:,} over 1/2 ulp, {over_one:,} over 1 ulp; negative half mirrored: {mirrored}; "
          f"±inf, NaN: {'right' if specials else 'WRONG'}")
    print(f"time per 512 values (arrays of 32,768), 1 thread: engine {engine_ns:.0f} ns, torch.tanh {torch_ns:.0f} ns")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out_file:
            json.dump(result, out_file, indent=2)
    return 0 if mirrored and specials else 1


if __name__ == "__main__":
    sys.exit(main())
