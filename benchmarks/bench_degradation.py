"""Time of the degradation part of `hfx verify` per tier: the degradation study and the trainable-depth stacks.

Runs what `hfx.measure.run_audited(tier)` runs for C1–C3 and C13 (the MLP study over a pool of one process per
core, then the stacks on one thread), at the tier's configuration (`hfx.measure.tier_configs`), and prints the
wall time, the CPU time of this process and of its pool workers (the cost when the machine is shared), the number
of trained networks, and every arm at its best rate (training and test error, mean and 95% interval over seeds).
The budget (issue 10): the whole of `hfx verify` within 3 minutes on defaults and 60 s with `--quick` on two
cores; this part is aimed at ≤ 60 s of CPU time on defaults.  `--full` is hours on two cores (not a default).

    .venv/bin/python benchmarks/bench_degradation.py [--tier quick|default|full] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import torch

from hfx.measure import TIERS, run_degradation, tier_configs
from numerics.experiments import run, trainable_depth


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=TIERS, default="default")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    mlp, cnn, stacks = tier_configs(args.tier)
    load = os.getloadavg()[0]
    out: dict[str, object] = {"tier": args.tier, "load_average_1min": load}
    t0, c0, k0 = time.perf_counter(), time.process_time(), _cpu_children()
    result = run_degradation(mlp)
    t1, c1, k1 = time.perf_counter(), time.process_time(), _cpu_children()
    out["degradation"] = {"wall_s": round(t1 - t0, 2), "cpu_s": round(c1 - c0 + k1 - k0, 2),
                          "networks": len(result.records)}
    if cnn is not None:
        result_cnn = run_degradation(cnn)
        t2, c2, k2 = time.perf_counter(), time.process_time(), _cpu_children()
        out["degradation_cnn"] = {"wall_s": round(t2 - t1, 2), "cpu_s": round(c2 - c1 + k2 - k1, 2),
                                  "networks": len(result_cnn.records)}
        t1, c1 = t2, c2
    td = run(trainable_depth, stacks)
    t3, c3 = time.perf_counter(), time.process_time()
    out["trainable_depth"] = {"wall_s": round(t3 - t1, 2), "cpu_s": round(c3 - c1, 2), "runs": len(td.records)}
    arms = []
    for s in result.summaries:
        if s.best_lr:
            arms.append({"norm": s.norm, "architecture": s.architecture, "shortcut": s.shortcut, "depth": s.depth,
                         "lr": s.lr, "n": s.n, "train_error": [s.train_error_mean, s.train_error_low,
                                                               s.train_error_high],
                         "test_error": [s.test_error_mean, s.test_error_low, s.test_error_high],
                         "grid_limited": s.grid_limited, "plateaued": s.n_plateaued, "diverged": s.n_diverged})
    out["arms"] = arms
    print(f"tier {args.tier} (load average {load:.1f} at the start):")
    for key in ("degradation", "degradation_cnn", "trainable_depth"):
        if key in out:
            print(f"  {key}: {out[key]}")
    print(f"  {'norm':5} {'arch':9} {'depth':>5} {'lr':>7} {'train % [95% CI]':>22} {'test % [95% CI]':>22} "
          f"plateaued grid-limited")
    for a in arms:
        tr, te = a["train_error"], a["test_error"]
        assert isinstance(tr, list) and isinstance(te, list)
        print(f"  {a['norm']:5} {a['architecture']:9} {a['depth']:>5} {a['lr']:>7.3g} "
              f"{100 * tr[0]:6.1f} [{100 * tr[1]:5.1f}, {100 * tr[2]:5.1f}] {100 * te[0]:6.1f} [{100 * te[1]:5.1f}, "
              f"{100 * te[2]:5.1f}] {a['plateaued']}/{a['n']:<7} {a['grid_limited']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
