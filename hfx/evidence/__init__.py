"""Evidence for the claim audit from the measured experiments: pure rules over typed results.

`degradation` holds the rules for the degradation study (C1, C2, C3, C13), `convergence` those for the five
convergence experiments (C5, C10–C13), `dynamics` those for what GD does near the identity (C8, C9, C12).
`Measurements` holds one typed result per audited experiment, so that
every rule reads its experiment's own record and group types (a renamed field fails mypy); `hfx.measure` runs
them, `experiment_evidence` applies the rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from hfx.audit import Evidence
from hfx.evidence import convergence, dynamics
from hfx.evidence.degradation import degradation_evidence, trainable_depth_evidence
from numerics.experiments import AnyResult
from numerics.experiments import branch_norms as branch_norms_experiment
from numerics.experiments import branch_rate as branch_rate_experiment
from numerics.experiments import deep_linear as deep_linear_experiment
from numerics.experiments import deep_stack as deep_stack_experiment
from numerics.experiments import degradation as degradation_experiment
from numerics.experiments import hardt_ma as hardt_ma_experiment
from numerics.experiments import identity_init as identity_init_experiment
from numerics.experiments import linear_block as linear_block_experiment
from numerics.experiments import nonlinear_block as nonlinear_block_experiment
from numerics.experiments import trainable_depth as trainable_depth_experiment
from numerics.experiments import weight_decay as weight_decay_experiment

AUDITED = ("degradation", "linear-block", "weight-decay", "deep-linear", "nonlinear-block", "deep-stack",
           "trainable-depth", "branch-norms", "branch-rate", "identity-init", "hardt-ma-bound")


@dataclass(frozen=True)
class Measurements:
    """The results the audit reads, one per audited experiment (None: not measured)."""

    degradation: degradation_experiment.Result | None = None
    linear_block: linear_block_experiment.Result | None = None
    weight_decay: weight_decay_experiment.Result | None = None
    deep_linear: deep_linear_experiment.Result | None = None
    nonlinear_block: nonlinear_block_experiment.Result | None = None
    deep_stack: deep_stack_experiment.Result | None = None
    trainable_depth: trainable_depth_experiment.Result | None = None
    degradation_cnn: degradation_experiment.Result | None = None  # He et al.'s CIFAR ResNet (hfx verify --full)
    branch_norms: branch_norms_experiment.Result | None = None
    branch_rate: branch_rate_experiment.Result | None = None
    identity_init: identity_init_experiment.Result | None = None
    hardt_ma: hardt_ma_experiment.Result | None = None

    def results(self) -> dict[str, AnyResult]:
        """Every measured result by the name of its tables (the experiment's, `degradation-cnn` for the CNN
        study), in the order of `AUDITED`."""
        found: list[tuple[str, AnyResult | None]] = [
            ("degradation", self.degradation), ("degradation-cnn", self.degradation_cnn),
            ("linear-block", self.linear_block), ("weight-decay", self.weight_decay),
            ("deep-linear", self.deep_linear), ("nonlinear-block", self.nonlinear_block),
            ("deep-stack", self.deep_stack), ("trainable-depth", self.trainable_depth),
            ("branch-norms", self.branch_norms), ("branch-rate", self.branch_rate),
            ("identity-init", self.identity_init), ("hardt-ma-bound", self.hardt_ma)]
        return {name: r for name, r in found if r is not None}


def experiment_evidence(m: Measurements) -> dict[str, list[Evidence]]:
    """Evidence per claim from every measured result, by the rules of `degradation` and `convergence`."""
    parts = [
        degradation_evidence(m.degradation) if m.degradation else {},
        degradation_evidence(m.degradation_cnn) if m.degradation_cnn else {},
        convergence.linear_block(m.linear_block) if m.linear_block else {},
        convergence.weight_decay(m.weight_decay) if m.weight_decay else {},
        convergence.deep_linear(m.deep_linear) if m.deep_linear else {},
        convergence.nonlinear_block(m.nonlinear_block) if m.nonlinear_block else {},
        convergence.deep_stack(m.deep_stack) if m.deep_stack else {},
        trainable_depth_evidence(m.trainable_depth) if m.trainable_depth else {},
        dynamics.branch_norms(m.branch_norms) if m.branch_norms else {},
        dynamics.branch_rate(m.branch_rate) if m.branch_rate else {},
        dynamics.identity_init(m.identity_init) if m.identity_init else {},
        dynamics.hardt_ma(m.hardt_ma) if m.hardt_ma else {},
    ]
    by_claim: dict[str, list[Evidence]] = {}
    for part in parts:
        for claim, items in part.items():
            by_claim.setdefault(claim, []).extend(items)
    # how many claims each experiment bears on: a verdict's reason quotes the most specific one (`hfx.audit.because`)
    reach = Counter(e.id for items in by_claim.values() for e in {e.id: e for e in items}.values())
    return {claim: [replace(e, claims=reach[e.id]) for e in items] for claim, items in by_claim.items()}
