"""Evidence from the degradation experiment (C1, C2, C3, C13): pure rules over its typed result.

The numbers come from `numerics.experiments.degradation` (plain vs residual MLPs on the scikit-learn
digits, at each (architecture, depth)'s best learning rate); this module turns them into `Evidence` by fixed
rules, stated here and in each finding, so that a verdict is never typed in:

- C1 (deeper plain is worse on train and test): established when, in every seed, the 56-layer (else the
  deepest) vs 20-layer plain increase in both training and test error exceeds `MARGIN`.  Not seeing it on
  this data is *not reproduced* (not a refutation of He et al.'s CIFAR-10 result).
- C2 (not overfitting but optimisation): established when the same increase is seen on the *training* error.
- C3 (vanishing gradients are behind it): gradient norms at initialisation, first vs last trunk layer, in that
  deeper plain net, median over seeds.  Ratio < 1/`GRADIENT_FACTOR`: vanishing, supports; ratio >
  `GRADIENT_FACTOR`: exploding, qualifies (a gradient problem, but not vanishing); otherwise the norms are
  healthy while the net still degrades, which refutes C3 (as He et al. 2016 §4.1 argue for nets with BN).
  Seeds whose gradient norms are not finite are left out of the median (none left: not reproduced).
- C13 (residual removes degradation, very deep nets train): established when the plain nets do degrade (as
  for C2) and every residual net at every depth reaches training error within `MARGIN` of the 20-layer plain
  net; bearing *supports* only if depth ≥ 1000 was measured, otherwise *qualifies* (the depths measured are
  stated).

The rules need both architectures, depth `SHALLOW` and a deeper one; without them there is no evidence.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from hfx.audit import Evidence, EvidenceKind, ExperimentStatus
from numerics.experiments.degradation import DegradationRun, Result, best_runs
from theory.core.derivation import Bearing

MARGIN = 0.02  # 2 percentage points of error: well above the resolution 1/540 of the test set
GRADIENT_FACTOR = 10.0  # a tenfold change of gradient norm across the trunk counts as vanishing/exploding
SHALLOW = 20  # the reference depth (He et al.'s 20-layer plain net)
NOTE_DEPTH = 56  # the deeper plain net the note (C1) compares with it
CLAIMS = ("C1", "C2", "C3", "C13")


def _pick(runs: Sequence[DegradationRun], architecture: str, depth: int) -> dict[int, DegradationRun]:
    return {r.seed: r for r in runs if r.architecture == architecture and r.depth == depth}


def degradation_evidence(result: Result) -> dict[str, list[Evidence]]:
    """Evidence for C1, C2, C3 and C13 from the runs, by the rules of the module docstring."""
    runs = best_runs(result)
    depths = sorted({r.depth for r in runs})
    architectures = {r.architecture for r in runs}
    if SHALLOW not in depths or max(depths, default=0) <= SHALLOW or not {"plain", "residual"} <= architectures:
        return {}  # nothing these rules can compare
    deepest = max(depths)
    deep = NOTE_DEPTH if NOTE_DEPTH in depths else deepest  # the note compares 56 with 20 layers
    shallow_plain, deep_plain = _pick(runs, "plain", SHALLOW), _pick(runs, "plain", deep)
    seeds = sorted(shallow_plain.keys() & deep_plain.keys())
    d_train = [deep_plain[s].measurement.train_error - shallow_plain[s].measurement.train_error for s in seeds]
    d_test = [deep_plain[s].measurement.test_error - shallow_plain[s].measurement.test_error for s in seeds]

    def errors(arch: str, depth: int, train: bool) -> str:
        values = [r.measurement.train_error if train else r.measurement.test_error
                  for r in _pick(runs, arch, depth).values()]
        return "/".join(f"{100 * v:.1f}%" for v in values)

    numbers = (
        f"plain {SHALLOW} layers: train error {errors('plain', SHALLOW, True)}, "
        f"test {errors('plain', SHALLOW, False)}; plain {deep}: train {errors('plain', deep, True)}, "
        f"test {errors('plain', deep, False)} (per seed, {len(seeds)} seeds, sklearn digits, BN, SGD)"
    )
    degrade_train = bool(seeds) and min(d_train) > MARGIN
    degrade_test = bool(seeds) and min(d_test) > MARGIN
    c1 = _measured("C1", degrade_train and degrade_test, Bearing.SUPPORTS,
                   f"{numbers}; rule: every seed's increase > {MARGIN:.0%} on train and test")
    c2 = _measured("C2", degrade_train, Bearing.SUPPORTS,
                   f"the training error itself rises with depth, so it is not overfitting: {numbers}")

    ratios = [m.grad_norm_first / m.grad_norm_last for m in (r.measurement for r in deep_plain.values())
              if m.grad_norm_first is not None and m.grad_norm_last]
    if ratios:
        ratio = statistics.median(ratios)
        if ratio < 1 / GRADIENT_FACTOR:
            bearing, kind = Bearing.SUPPORTS, "vanishing"
        elif ratio > GRADIENT_FACTOR:
            bearing, kind = Bearing.QUALIFIES, "exploding, not vanishing"
        else:
            bearing, kind = Bearing.REFUTES, "healthy (neither vanishing nor exploding)"
        c3 = _measured("C3", degrade_train, bearing,
                       f"plain {deep}-layer net with BN at initialisation: ‖∂L/∂W‖ first/last trunk layer = "
                       f"{ratio:.3g} (median of {len(ratios)} seeds): gradients are {kind}, while the net degrades "
                       "as above")
    else:
        c3 = _measured("C3", False, Bearing.SUPPORTS,
                       f"plain {deep}-layer net: no finite gradient norms at initialisation to compare")

    shallow_train = statistics.median(r.measurement.train_error for r in shallow_plain.values())
    worst = max(r.measurement.train_error for r in runs if r.architecture == "residual")
    residual_ok = worst <= shallow_train + MARGIN
    c13 = _measured(
        "C13", residual_ok and degrade_train, Bearing.SUPPORTS if deepest >= 1000 else Bearing.QUALIFIES,
        f"residual nets at depths {depths}: worst training error {100 * worst:.1f}% vs plain {SHALLOW}-layer "
        f"{100 * shallow_train:.1f}%, while plain {deepest} reaches {errors('plain', deepest, True)}; "
        f"measured up to {deepest} layers only"
        + ("" if deepest >= 1000 else " (thousands of layers not measured here)"),
    )
    return {"C1": [c1], "C2": [c2], "C3": [c3], "C13": [c13]}


def _measured(claim: str, established: bool, bearing: Bearing, finding: str) -> Evidence:
    return Evidence(
        kind=EvidenceKind.EXPERIMENT,
        id="degradation",
        title=f"plain vs residual MLPs of increasing depth on real data ({claim})",
        status=ExperimentStatus.CONFIRMED if established else ExperimentStatus.NOT_REPRODUCED,
        bearing=bearing,
        finding=finding,
    )
