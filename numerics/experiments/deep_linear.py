"""deep-linear: time for a deep linear stack to learn Φ = sI, against the gradient-flow formula.

A depth-L linear stack M = W_L ⋯ W_1 (plain, balanced initialisation W_l = c O_l O_{l−1}ᵀ with
c = u₀^{1/L}) or H_l = I + A_l (residual, A_l = 0 so u₀ = 1) learns the target Φ = sI from
whitened data (XᵀX/N = I exactly) by full-batch GD on L = ½ tr((M − Φ)(M − Φ)ᵀ) (no decay).
Every mode is then a balanced scalar chain u = w^L with per-mode loss ½(s − u)², whose gradient flow is

    du/dt = L u^{2 − 2/L} (s − u)        (Arora, Cohen, Hazan, ICML 2018, Eq. (6)/Thm 1, scalar case;
                                          for L = 2 Saxe, McClelland, Ganguli, ICLR 2014, Eq. (10)
                                          with τ = 1/η, i.e. t = kη as in CONTRIBUTING.md)

and the learning time from u₀ to u_f is t = ∫ du / (L u^{2−2/L}(s − u)) (Saxe et al. Eq. (11) for
L = 2).  The residual chain w_l = 1 + a_l, a_l(0) = 0 follows the same ODE started at u₀ = 1
(Arora et al. 2018, §4).  Converged: the data loss (d/2)(s − u)² < ε, i.e. u reaches
u_f = s ∓ √(2ε/d).  Predicted steps = t/η.

Discretisation: GD on the layers is forward Euler for w' = (s − w^L) w^{L−1} (the balanced form is
preserved exactly by the discrete steps), so k*η − t = O(η): the relative error shrinks linearly
with η — in units of the flow's stiffness.  "Small η" is therefore stated without units: the
dimensionless step h = η·|f′(u*)| = η·L·u*^{2−2/L}, u* = max(s, u₀) (the linearised rate of the
flow near the target, which sets Euler's error).  The check requires |k* − t/η| ≤ 2% of t/η for every
run with h ≤ `check_max_step`; the measured error of every run is in its record (`relative_error`,
`dimensionless_step`), and the check reports the largest error per learning rate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import integrate

from numerics.experiments._common import (
    ExperimentResult,
    Progress,
    check_choices,
    check_positive,
    config_to_json,
    group_summaries,
    mark_best_lr,
    param,
    run_records,
)
from numerics.models import BlockSpec, balanced_linear, data_with_covariance
from numerics.train import CONVERGED, OptimizerSpec, train
from theory.deep_linear import learning_time

NAME = "deep-linear"
DESCRIPTION = "GD on deep linear stacks (balanced plain vs zero-init residual) vs the gradient-flow learning time"
FLOW_TOLERANCE = 0.02  # |k* − t/η| / (t/η): forward Euler's O(η) error must be below 2% at small η


@dataclass(frozen=True)
class Config:
    depths: tuple[int, ...] = param((1, 2, 4, 8), "L: depths of the stack")
    variants: tuple[str, ...] = param(("plain", "residual"), "plain (balanced init) or residual (A_l = 0)",
                                      choices=("plain", "residual"))
    width: int = param(3, "d: width of every layer")
    target_scale: float = param(2.0, "s: the target map is Φ = sI")
    plain_u0: float = param(0.05, "u₀ of the plain balanced init (product c^L = u₀, c = u₀^{1/L})")
    lrs: tuple[float, ...] = param((0.001, 0.002, 0.005, 0.01), "learning rates η (GD)")
    check_max_step: float = param(0.05, "the 2% flow check applies where η·L·max(s, u₀)^{2−2/L} ≤ this")
    eps: float = param(1e-3, "ε: converged when the data loss (d/2)(s − u)² < ε")
    max_steps: int = param(20000, "budget of GD steps per run")
    samples: int = param(16, "N: samples, N ≥ d, with XᵀX/N = I exactly")
    seeds: int = param(2, "seeds (random orthogonal factors of the balanced init; times are seed-invariant)")
    seed: int = param(0, "base seed of the torch.Generator")

    def __post_init__(self) -> None:
        check_choices(self)
        check_positive(self, ("depths", "width", "target_scale", "plain_u0", "lrs", "check_max_step", "eps",
                              "max_steps", "seeds"))
        if self.samples < self.width:
            raise ValueError(f"samples must be ≥ width ({self.width}), got {self.samples}")
        if self.eps >= 0.5 * self.width * self.target_scale**2:
            raise ValueError("eps must be below the loss at u = 0, (d/2)s²")


def flow_time(depth: int, s: float, u0: float, uf: float) -> float:
    """t = ∫_{u₀}^{u_f} du / (L u^{2−2/L} (s − u)) by adaptive quadrature (Arora et al. 2018, Eq. (6)).

    An independent numerical evaluation of theory.deep_linear.learning_time (used by the tests).
    """
    L = depth
    val, _ = integrate.quad(lambda u: 1.0 / (L * u ** (2.0 - 2.0 / L) * (s - u)), u0, uf, limit=200,
                            epsabs=0.0, epsrel=1e-12)
    return float(val)


def work_units(config: Config) -> int:
    """Batches `run` performs (one progress unit each)."""
    return len(config.variants) * len(config.depths)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> ExperimentResult:
    t_start = time.perf_counter()
    dtype = torch.float64
    d, S, E = config.width, config.seeds, len(config.lrs)
    s = config.target_scale
    source = "theory.deep_linear.learning_time"
    X = torch.stack([data_with_covariance(torch.eye(d, dtype=dtype), config.samples, generator)
                     for _ in range(S)])  # (S, N, d), XᵀX/N = I
    records: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    for variant in config.variants:
        for L in config.depths:
            spec = BlockSpec(block="linear", variant=variant, depth=L, width=d)
            R = S * E
            seed_of = torch.arange(R) // E
            u0 = config.plain_u0 if variant == "plain" else 1.0
            if variant == "plain":
                W = balanced_linear(S, L, d, u0 ** (1.0 / L), generator, dtype)  # (S, L, d, d)
            else:
                W = torch.zeros((S, L, d, d), dtype=dtype)  # A_l = 0: the residual chain starts at u₀ = 1
            p0 = {"W": W[seed_of]}
            lrs = torch.tensor(config.lrs, dtype=dtype).repeat(S)
            x = X[seed_of]  # (R, N, d)
            y = s * x  # Φx with Φ = sI
            res = train(spec, p0, x, y, OptimizerSpec("gd"), lrs, torch.zeros(R, dtype=dtype), config.max_steps,
                        config.eps, generator)
            gap = math.sqrt(2 * config.eps / d)
            uf = s - math.copysign(gap, s - u0)
            if abs(s - u0) <= gap:
                t_pred = 0.0
            else:
                t_pred = learning_time(L, s, u0, uf)
            pred_steps = [t_pred / float(lr) for lr in lrs]
            rel = [
                (int(k) - p) / p if k >= 0 and p > 0 else None
                for k, p in zip(res.steps_to_converge, pred_steps, strict=True)
            ]
            records += run_records(
                res,
                {
                    "experiment": NAME, "variant": variant, "block": "linear", "depth": L, "width": d,
                    "init": "balanced" if variant == "plain" else "zero-branch", "u0": u0, "target_scale": s,
                    "optimizer": "gd", "weight_decay": 0.0, "criterion": "loss", "eps": config.eps,
                    "max_steps": config.max_steps, "u_final": uf, "predicted_time": t_pred,
                    "prediction_source": source,
                },
                {
                    "seed": [int(v) for v in seed_of],
                    "lr": [float(v) for v in lrs],
                    "predicted_steps": pred_steps,
                    "measured_time": [float(k) * float(lr) if k >= 0 else None
                                      for k, lr in zip(res.steps_to_converge, lrs, strict=True)],
                    "relative_error": rel,
                    "dimensionless_step": [float(lr) * L * max(s, u0) ** (2 - 2 / L) for lr in lrs],
                },
            )
            curves[f"{variant} L={L}"] = {"steps": res.recorded_steps, "loss": res.loss_curve,
                                          "lr": [float(v) for v in lrs]}
            if progress is not None:
                progress(1)
    for i, rec in enumerate(records):
        rec["run"] = i
    rng = np.random.default_rng(config.seed)
    summaries = group_summaries(records, ("variant", "depth", "lr"), rng)
    mark_best_lr(summaries, ("variant", "depth"))
    for row in summaries:  # carry the prediction beside the measured median
        match = next(r for r in records if (r["variant"], r["depth"], r["lr"]) == (row["variant"], row["depth"],
                                                                                   row["lr"]))
        row["predicted_steps"] = match["predicted_steps"]
        row["predicted_time"] = match["predicted_time"]
    checks = _checks(records, config)
    return ExperimentResult(
        name=NAME, config=config_to_json(config), records=records, summaries=summaries, checks=checks,
        curves=curves, seconds=time.perf_counter() - t_start, work_units=work_units(config),
    )


def _checks(records: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    small = [r for r in records if float(r["dimensionless_step"]) <= config.check_max_step]  # type: ignore[arg-type]
    errs = [abs(float(r["relative_error"])) for r in small if r["relative_error"] is not None]  # type: ignore[arg-type]
    bad = [r for r in small if r["status"] != CONVERGED or abs(float(r["relative_error"])) > FLOW_TOLERANCE]  # type: ignore[arg-type]
    by_lr: dict[float, float] = {}
    for r in records:
        if r["relative_error"] is not None:
            lr = float(r["lr"])  # type: ignore[arg-type]
            by_lr[lr] = max(by_lr.get(lr, 0.0), abs(float(r["relative_error"])))  # type: ignore[arg-type]
    return [
        {
            "name": "deep-linear-flow-time",
            "description": "GD steps × η match the gradient-flow learning time within 2% for small η "
                           "(dimensionless step η·L·max(s, u₀)^{2−2/L} ≤ check_max_step)",
            "passed": bool(small) and not bad,
            "tolerance_relative": FLOW_TOLERANCE,
            "runs_checked": len(small),
            "max_relative_error": max(errs, default=None),
            "max_relative_error_by_lr": {f"{k:g}": v for k, v in sorted(by_lr.items())},
            "discretisation": "forward Euler on the balanced chain: k*η − t = O(η)",
            "mismatches": len(bad),
        }
    ]


def figures(result: ExperimentResult) -> dict[str, Any]:
    from numerics.plots import loss_curves, time_vs_depth

    return {
        "deep-linear-time-vs-depth": time_vs_depth(result.summaries, "GD on deep linear stacks (best η per depth)",
                                                   predicted_key="predicted_steps"),
        "deep-linear-loss": loss_curves(result.curves, "deep linear: loss curves", label_key="lr"),
    }
