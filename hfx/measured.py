"""Measured evidence for the claim audit: the degradation experiment (C1, C2, C3, C13).

The numbers come from `numerics.degradation` (plain vs residual MLPs on the
scikit-learn digits); this module turns them into `Evidence` by fixed rules,
stated here and in each finding, so that a verdict is never typed in:

- C1 (deeper plain is worse on train and test): established when, in every
  seed, the 56-layer (else the deepest) vs 20-layer plain increase in both training and test error
  exceeds `MARGIN`.  Not seeing it on this data is *not reproduced* (not a
  refutation of He et al.'s CIFAR-10 result).
- C2 (not overfitting but optimisation): established when the same increase is
  seen on the *training* error.
- C3 (vanishing gradients are behind it): gradient norms at initialisation,
  first vs last trunk layer, in that deeper plain net, median over seeds.
  Ratio < 1/`GRADIENT_FACTOR`: vanishing, supports; ratio > `GRADIENT_FACTOR`:
  exploding, qualifies (a gradient problem, but not vanishing); otherwise the
  norms are healthy while the net still degrades, which refutes C3 (as He et al.
  2016 §4.1 argue for nets with BN).
- C13 (residual removes degradation, very deep nets train): established when
  the plain nets do degrade (as for C2) and every residual net at every depth
  reaches training error within `MARGIN` of the 20-layer plain net; bearing
  *supports* only if depth ≥ 1000 was measured, otherwise *qualifies* (the
  depths measured are stated).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, replace

import numpy as np

from hfx.audit import Evidence
from hfx.pool import worker_pool
from hfx.progress import report
from numerics.degradation import DegradationConfig, DegradationRun, load_digits_split, train_one

MARGIN = 0.02  # 2 percentage points of error: well above the resolution 1/540 of the test set
GRADIENT_FACTOR = 10.0  # a tenfold change of gradient norm across the trunk counts as vanishing/exploding
DATA_SEED = 0  # the train/test split is fixed, so seeds vary only initialisation and batch order
SHALLOW = 20  # the reference depth (He et al.'s 20-layer plain net)
NOTE_DEPTH = 56  # the deeper plain net the note (C1) compares with it

FULL = DegradationConfig(depths=(20, 56, 110), epochs=30, seeds=3)
QUICK = replace(FULL, depths=(20, 56), epochs=20, seeds=1)


def _run(job: tuple[str, int, DegradationConfig, int]) -> DegradationRun:
    import torch

    torch.set_num_threads(1)  # one process per core instead of two threads on tiny matrices
    architecture, depth, config, seed = job
    data = load_digits_split(np.random.default_rng(DATA_SEED))
    return train_one(architecture, depth, config, seed, data)


def run_degradation(config: DegradationConfig, progress: bool = True) -> list[DegradationRun]:
    """Every (architecture, depth, seed) of `config`, over the machine's cores."""
    jobs = [(a, d, config, s) for s in range(config.seeds) for d in config.depths for a in ("plain", "residual")]
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    runs: list[DegradationRun] = []
    started = time.monotonic()
    with worker_pool(workers) as pool:  # Ctrl-C: pending work cancelled, workers stopped
        for i, run in enumerate(pool.map(_run, jobs), start=1):
            runs.append(run)
            if progress:
                report(i, len(jobs), "degradation runs", started)
    return runs


def _pick(runs: Sequence[DegradationRun], architecture: str, depth: int) -> dict[int, DegradationRun]:
    return {r.seed: r for r in runs if r.architecture == architecture and r.depth == depth}


def degradation_evidence(runs: Sequence[DegradationRun]) -> dict[str, list[Evidence]]:
    """Evidence for C1, C2, C3 and C13 from the runs, by the rules of the module docstring."""
    depths = sorted({r.depth for r in runs})
    deepest = max(depths)
    deep = NOTE_DEPTH if NOTE_DEPTH in depths else deepest  # the note compares 56 with 20 layers
    if SHALLOW not in depths or deep <= SHALLOW:
        raise ValueError(f"need depth {SHALLOW} and a deeper one, got {depths}")
    shallow_plain, deep_plain = _pick(runs, "plain", SHALLOW), _pick(runs, "plain", deep)
    seeds = sorted(shallow_plain.keys() & deep_plain.keys())
    d_train = [deep_plain[s].train_error - shallow_plain[s].train_error for s in seeds]
    d_test = [deep_plain[s].test_error - shallow_plain[s].test_error for s in seeds]

    def errors(arch: str, depth: int, key: str) -> str:
        values = [getattr(r, key) for r in _pick(runs, arch, depth).values()]
        return "/".join(f"{100 * v:.1f}%" for v in values)

    numbers = (
        f"plain {SHALLOW} layers: train error {errors('plain', SHALLOW, 'train_error')}, "
        f"test {errors('plain', SHALLOW, 'test_error')}; plain {deep}: train {errors('plain', deep, 'train_error')}, "
        f"test {errors('plain', deep, 'test_error')} (per seed, {len(seeds)} seeds, sklearn digits, BN, SGD)"
    )
    degrade_train = bool(seeds) and min(d_train) > MARGIN
    degrade_test = bool(seeds) and min(d_test) > MARGIN
    c1 = _measured(
        "C1",
        degrade_train and degrade_test,
        "supports",
        f"{numbers}; rule: every seed's increase > {MARGIN:.0%} on train and test",
    )
    c2 = _measured(
        "C2",
        degrade_train,
        "supports",
        f"the training error itself rises with depth, so it is not overfitting: {numbers}",
    )

    ratios = [r.grad_norm_first / r.grad_norm_last for r in deep_plain.values()]
    ratio = statistics.median(ratios)
    if ratio < 1 / GRADIENT_FACTOR:
        bearing, kind = "supports", "vanishing"
    elif ratio > GRADIENT_FACTOR:
        bearing, kind = "qualifies", "exploding, not vanishing"
    else:
        bearing, kind = "refutes", "healthy (neither vanishing nor exploding)"
    c3 = _measured(
        "C3",
        degrade_train,
        bearing,
        f"plain {deep}-layer net with BN at initialisation: ‖∂L/∂W‖ first/last trunk layer = {ratio:.3g} "
        f"(median of {len(ratios)} seeds): gradients are {kind}, while the net degrades as above",
    )

    shallow_train = statistics.median(r.train_error for r in shallow_plain.values())
    residual = [r for r in runs if r.architecture == "residual"]
    worst = max(r.train_error for r in residual)
    residual_ok = worst <= shallow_train + MARGIN
    c13_bearing = "supports" if deepest >= 1000 else "qualifies"
    c13 = _measured(
        "C13",
        residual_ok and degrade_train,
        c13_bearing,
        f"residual nets at depths {depths}: worst training error {100 * worst:.1f}% vs plain {SHALLOW}-layer "
        f"{100 * shallow_train:.1f}%, while plain {deepest} reaches {errors('plain', deepest, 'train_error')}; "
        f"measured up to {deepest} layers only"
        + ("" if deepest >= 1000 else " (thousands of layers not measured here)"),
    )
    return {"C1": [c1], "C2": [c2], "C3": [c3], "C13": [c13]}


def _measured(claim: str, established: bool, bearing: str, finding: str) -> Evidence:
    return Evidence(
        kind="experiment",
        id="degradation",
        title=f"plain vs residual MLPs of increasing depth on real data ({claim})",
        status="confirmed" if established else "not reproduced",
        bearing=bearing,
        finding=finding,
    )


def runs_to_rows(runs: Sequence[DegradationRun]) -> list[dict[str, object]]:
    return [asdict(r) for r in runs]
