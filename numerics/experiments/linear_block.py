"""linear-block: gradient descent on one linear block toward the identity, plain vs residual.

Plain H(x) = Wx (θ = W = M) and residual H(x) = x + Ax (θ = A = M − I), trained by full-batch
gradient descent on L = ½ tr((M − I) Σ (M − I)ᵀ) + (λ/2)‖θ‖²_F (CONTRIBUTING.md conventions).
The data have empirical covariance exactly Σ (XᵀX/N = Σ), so GD on the sample loss is GD on
the population loss and the closed form applies step for step:

    M_k − M* = (M_0 − M*) (I − η(Σ + λI))^k,   M* = Σ(Σ + λI)⁻¹ (plain),  M* = I (residual)

(Goh, *Why Momentum Really Works*, Distill 2017, the eigen-decomposition of GD on a quadratic;
Hastie, Tibshirani, Friedman, *ESL* 2009, Eq. (3.44) for the ridge minimiser).  Converged: the
distance ‖M_k − M*‖_F < ε; the predicted count is the smallest such k.  GD is stable iff
η < 2/(σ_max + λ) (Goh 2017); learning rates are set as multiples of that limit so that the grid
straddles it.  Float64 throughout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

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
from numerics.models import BlockSpec, data_with_covariance, end_to_end, init_params, spectrum_matrix
from numerics.train import CONVERGED, DIVERGED, OptimizerSpec, train
from theory import dynamics as theory_dynamics

NAME = "linear-block"
DESCRIPTION = "GD on one linear block toward the identity, plain vs residual; exact step counts and the stability limit"
STEP_SLACK = 1  # the smallest k with ‖e_k‖ < ε can move by one step when ‖e_k‖ lands within rounding of ε


@dataclass(frozen=True)
class Config:
    width: int = param(4, "d: the block maps R^d → R^d")
    variants: tuple[str, ...] = param(("plain", "residual"), "block variants", choices=("plain", "residual"))
    inits: tuple[str, ...] = param(
        ("xavier",), "initialisations of W (plain) or A (residual), batched together",
        choices=("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity"),
    )
    init_scale: float = param(1.0, "multiplier of the initialisation")
    sigma_min: float = param(0.5, "smallest eigenvalue of the input covariance Σ")
    sigma_max: float = param(2.0, "largest eigenvalue of Σ (eigenvalues evenly spaced)")
    weight_decay: float = param(0.0, "λ of the L2 penalty (λ/2)‖θ‖²")
    lr_factors: tuple[float, ...] = param(
        (0.1, 0.5, 0.9, 1.1, 1.5), "learning rates as multiples of the stability limit 2/(σ_max + λ)"
    )
    eps: float = param(1e-6, "ε: converged when ‖M_k − M*‖_F < ε")
    max_steps: int = param(3000, "budget of GD steps per run")
    samples: int = param(32, "N: samples (rows of X), N ≥ d")
    seeds: int = param(8, "independent seeds (initialisation and Σ's eigenvectors)")
    seed: int = param(0, "base seed of the torch.Generator")

    def __post_init__(self) -> None:
        check_choices(self)
        check_positive(self, ("width", "init_scale", "sigma_min", "sigma_max", "lr_factors", "eps", "seeds"))
        check_positive(self, ("weight_decay", "max_steps"), strict=False)
        if self.sigma_max < self.sigma_min:
            raise ValueError("sigma_max must be ≥ sigma_min")
        if self.samples < self.width:
            raise ValueError(f"samples must be ≥ width ({self.width}), got {self.samples}")


# The prediction comes from theory.dynamics.  The two functions below are an independent numpy
# implementation of the same closed form, kept for the tests (tests/test_experiments.py checks it against
# brute-force iteration and against theory.dynamics.linear_gd_steps).


def fixed_point(Sigma: np.ndarray, lam: float, residual: bool) -> np.ndarray:
    """M* = I (residual, the penalty is on A = M − I) or Σ(Σ + λI)⁻¹ (plain; ESL 2009 Eq. (3.44))."""
    d = Sigma.shape[0]
    if residual:
        return np.eye(d)
    return Sigma @ np.linalg.inv(Sigma + lam * np.eye(d))


def closed_form_steps(
    M0: np.ndarray, Sigma: np.ndarray, eta: float, lam: float, eps: float, residual: bool, max_steps: int = 10**6
) -> int | None:
    """Smallest k with ‖M_k − M*‖_F < ε from the closed form (no simulation); None if never (or past max_steps).

    e_k = e_0 V diag(r_j^k) Vᵀ with Σ + λI = V diag(σ_j + λ) Vᵀ and r_j = 1 − η(σ_j + λ), so
    ‖e_k‖²_F = Σ_j c_j r_j^{2k}, c_j = ‖(e_0 V)_{:, j}‖² (Goh 2017).
    """
    evals, V = np.linalg.eigh(Sigma)
    r = 1.0 - eta * (evals + lam)
    c = np.sum(((M0 - fixed_point(Sigma, lam, residual)) @ V) ** 2, axis=0)  # (d,)
    live = c > 0
    if not live.any():
        return 0
    if np.any(np.abs(r[live]) >= 1):
        return None
    c, a = c[live], np.abs(r[live])

    def err2(k: int) -> float:  # ‖e_k‖²_F, non-increasing in k since every |r_j| < 1
        return float(np.sum(c * a ** (2 * k)))

    if err2(0) < eps**2:
        return 0
    hi = 1
    while err2(hi) >= eps**2:  # doubling, then bisection on the monotone ‖e_k‖
        hi *= 2
        if hi > 2 * max_steps:
            return None
    lo = hi // 2  # err2(lo) ≥ ε² (lo = 0 was checked above)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if err2(mid) < eps**2 else (mid, hi)
    return hi if hi <= max_steps else None


def work_units(config: Config) -> int:
    """Batches `run` performs (one progress unit each)."""
    return len(config.variants)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> ExperimentResult:
    """Seeds × initialisations × learning rates as one batch per variant; records carry predicted_steps."""
    t_start = time.perf_counter()
    dtype = torch.float64
    d, S, F = config.width, config.seeds, len(config.lr_factors)
    lam = config.weight_decay
    eigs = torch.linspace(config.sigma_min, config.sigma_max, d, dtype=dtype)
    limit = float(theory_dynamics.stability_limit(eigs.numpy(), lam))  # 2/(σ_max + λ)
    predict, source = theory_dynamics.linear_gd_steps, "theory.dynamics.linear_gd_steps"
    Sigmas = [spectrum_matrix(eigs, generator) for _ in range(S)]  # one Σ per seed (random eigenvectors)
    X = torch.stack([data_with_covariance(Sig, config.samples, generator) for Sig in Sigmas])  # (S, N, d)
    records: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    for variant in config.variants:
        spec = BlockSpec(block="linear", variant=variant, depth=1, width=d)
        residual = variant == "residual"
        n_init = len(config.inits)
        R = S * n_init * F
        r_idx = torch.arange(R)
        seed_of, init_of = r_idx // (n_init * F), (r_idx // F) % n_init  # run r: lr factor r % F
        per_init = [init_params(spec, S, init, config.init_scale, generator, dtype) for init in config.inits]
        p0 = {k: torch.stack([p[k] for p in per_init], 1)[seed_of, init_of] for k in per_init[0]}  # (R, …)
        lrs = torch.tensor([f * limit for f in config.lr_factors], dtype=dtype).repeat(S * n_init)  # (R,)
        x = X[seed_of]  # (R, N, d)
        Mstar = torch.stack(
            [torch.from_numpy(fixed_point(Sig.numpy(), lam, residual)) for Sig in Sigmas]
        )[seed_of]  # (R, d, d)

        def distance(p: dict[str, torch.Tensor], spec: BlockSpec = spec, Mstar: torch.Tensor = Mstar) -> torch.Tensor:
            return torch.linalg.matrix_norm(end_to_end(spec, p) - Mstar)  # (R,) Frobenius

        res = train(
            spec, p0, x, x.clone(), OptimizerSpec("gd"), lrs, torch.full((R,), lam, dtype=dtype),
            config.max_steps, config.eps, generator, metric=distance,
        )
        M0 = end_to_end(spec, p0).numpy()
        predicted = [
            predict(M0[r], Sigmas[int(seed_of[r])].numpy(), float(lrs[r]), lam, config.eps, residual)
            for r in range(R)
        ]
        predicted = [None if p is None or p > config.max_steps else int(p) for p in predicted]
        records += run_records(
            res,
            {
                "experiment": NAME, "variant": variant, "block": "linear", "depth": 1, "width": d,
                "optimizer": "gd", "weight_decay": lam, "criterion": "distance",
                "eps": config.eps, "max_steps": config.max_steps, "stability_limit": limit,
                "prediction_source": source,
            },
            {
                "seed": [int(s) for s in seed_of],
                "init": [config.inits[int(i)] for i in init_of],
                "lr_factor": [config.lr_factors[r % F] for r in range(R)],
                "lr": [float(v) for v in lrs],
                "predicted_steps": predicted,
                "predicted_stable": [bool(float(v) < limit) for v in lrs],
            },
        )
        curves[variant] = {
            "steps": res.recorded_steps, "loss": res.loss_curve, "lr_factor": np.tile(config.lr_factors, S * n_init),
        }
        if progress is not None:
            progress(1)
    for i, rec in enumerate(records):
        rec["run"] = i
    rng = np.random.default_rng(config.seed)
    summaries = group_summaries(records, ("variant", "init", "lr_factor"), rng)
    mark_best_lr(summaries, ("variant", "init"), lr_key="lr_factor")
    checks = _checks(records, config)
    return ExperimentResult(
        name=NAME, config=config_to_json(config), records=records, summaries=summaries, checks=checks,
        curves=curves, seconds=time.perf_counter() - t_start, work_units=work_units(config),
    )


def _checks(records: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    with_pred = [r for r in records if r["predicted_steps"] is not None]
    misses = [
        r for r in with_pred
        if r["status"] != CONVERGED or abs(int(r["steps_to_converge"]) - int(r["predicted_steps"])) > STEP_SLACK  # type: ignore[arg-type]
    ]
    unexpected = [r for r in records if r["predicted_steps"] is None and r["status"] == CONVERGED]
    worst = max((abs(int(r["steps_to_converge"]) - int(r["predicted_steps"])) for r in with_pred  # type: ignore[arg-type]
                 if r["status"] == CONVERGED), default=0)
    stab_wrong = [r for r in records if r["predicted_stable"] == (r["status"] == DIVERGED)]
    return [
        {
            "name": "gd-steps-exact",
            "description": "GD step counts on a linear block equal the closed form (±1 step for the ceiling)",
            "passed": not misses and not unexpected and bool(with_pred),
            "tolerance_steps": STEP_SLACK,
            "runs_with_prediction": len(with_pred),
            "max_abs_step_difference": worst,
            "mismatches": len(misses) + len(unexpected),
        },
        {
            "name": "stability-limit",
            "description": "η < 2/(σ_max + λ) separates converging from diverging runs",
            "passed": not stab_wrong,
            "runs": len(records),
            "predicted_stable": sum(bool(r["predicted_stable"]) for r in records),
            "diverged": sum(r["status"] == DIVERGED for r in records),
            "mismatches": len(stab_wrong),
        },
    ]


def figures(result: ExperimentResult) -> dict[str, Any]:
    from numerics.plots import loss_curves

    return {"linear-block-loss": loss_curves(result.curves, "GD on a linear block (lr as × stability limit)",
                                             label_key="lr_factor", label_fmt="{:g}×")}

