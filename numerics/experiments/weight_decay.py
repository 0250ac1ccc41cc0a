"""weight-decay: weight-norm trajectories under weight decay against their closed forms.

Three settings (`parts`), each with L2 decay in the loss, (λ/2)‖θ‖², or decoupled decay θ ← θ − ηλθ
(Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019, Eq. (1), their λ = ηλ here):

* ``decay-only``: the inputs are x = 0 and no layer has a bias, so the data loss is identically 0 and
  only the decay acts: θ_k = (1 − ηλ)^k θ₀ exactly (Loshchilov & Hutter 2019, Eq. (1) with ∇f = 0;
  theory.weight_decay.decay_factor).  Exact for GD and SGD in both modes, and for momentum and Adam with
  decoupled decay (their data-gradient direction is 0); L2 with momentum or Adam has no prediction here.
* ``residual``: a residual linear block H = x + Ax learns the identity from data with covariance
  exactly Σ = σ²I, so A_{k+1} = A_k − η(A_kΣ + λA_k) = (1 − η(σ² + λ)) A_k under GD
  (Goh, *Why Momentum Really Works*, Distill 2017: GD on a quadratic of curvature σ² + λ).
* ``plain``: a plain linear block W learns the identity: W_k − W* = (1 − η(σ² + λ))^k (W₀ − W*) with the
  ridge minimiser W* = Σ(Σ + λI)⁻¹ = σ²/(σ² + λ) I (Hastie, Tibshirani, Friedman, *ESL* 2009, Eq. (3.44)),
  biased away from I, while the residual minimiser is A* = 0.

Converged: ‖θ_k − θ*‖_F < ε.  The check: the measured ‖θ_k‖_F equals the predicted one to 1e-6 relative
at every step up to the budget (float64) where the predicted norm is ≥ 1e-8·‖θ₀‖ (see FLOOR).
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
    param,
    run_records,
)
from numerics.models import BlockSpec, data_with_covariance, init_params
from numerics.train import DECAY_MODES, OPTIMIZERS, OptimizerSpec, train
from theory.weight_decay import decay_factor

NAME = "weight-decay"
DESCRIPTION = "weight norm vs step under L2 and decoupled weight decay, against (1 − ηλ)^k and the GD closed form"
PARTS = ("decay-only", "residual", "plain")
RELATIVE_TOLERANCE = 1e-6  # float64 rounding accumulates ~1e-16 per step; 1e-6 is the requirement
# Compare only where the predicted ‖θ_k‖ ≥ FLOOR·‖θ₀‖: below it the residual block's data gradient sits at
# float64's cancellation floor ((x + Ax) − x keeps only ~1e-16·‖x‖ of Ax): the data term is lost to
# rounding, only the decay (1 − ηλ) still acts, and the measured norm falls more slowly than the closed
# form (1 − η(σ² + λ))^k — a property of floating point, not of GD (visible in the weight-norm figure).
FLOOR = 1e-8


@dataclass(frozen=True)
class Config:
    parts: tuple[str, ...] = param(PARTS, "settings: no data (decay alone), residual block, plain block",
                                   choices=PARTS)
    decay_modes: tuple[str, ...] = param(DECAY_MODES, "l2: (λ/2)‖θ‖² in the loss; decoupled: θ ← θ − ηλθ",
                                         choices=DECAY_MODES)
    optimizer: str = param("gd", "optimiser (closed forms: see the module docstring)", choices=OPTIMIZERS)
    weight_decays: tuple[float, ...] = param((0.1, 0.5), "λ grid")
    lrs: tuple[float, ...] = param((0.05, 0.2), "η grid")
    sigma_sq: float = param(1.0, "σ²: the input covariance is Σ = σ²I exactly (residual and plain parts)")
    width: int = param(4, "d: the block maps R^d → R^d")
    init_scale: float = param(1.0, "Xavier initialisation multiplier")
    eps: float = param(1e-4, "ε: converged when ‖θ_k − θ*‖_F < ε")
    max_steps: int = param(600, "steps per run (every run takes all of them)")
    samples: int = param(16, "N: samples, N ≥ d")
    seeds: int = param(3, "independent seeds (initialisation and data)")
    seed: int = param(0, "base seed of the torch.Generator")

    def __post_init__(self) -> None:
        check_choices(self)
        check_positive(self, ("weight_decays", "lrs", "sigma_sq", "width", "init_scale", "eps", "max_steps",
                              "seeds"))
        if self.samples < self.width:
            raise ValueError(f"samples must be ≥ width ({self.width}), got {self.samples}")


def predicted_norms(part: str, mode: str, optimizer: str, W0: np.ndarray, eta: float, lam: float, sigma_sq: float,
                    steps: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(‖θ_k‖_F, ‖θ_k − θ*‖_F) at `steps` from the closed form, or None where none applies."""
    factor = decay_factor
    if part == "decay-only":
        exact = optimizer in ("gd", "sgd") or mode == "decoupled"
        if not exact:
            return None
        f = np.array([factor(eta, lam, int(k)) for k in steps])
        n0 = float(np.linalg.norm(W0))
        return f * n0, f * n0
    if optimizer != "gd":
        return None
    curvature = sigma_sq + lam  # GD on ½σ²‖θ − θ_data‖² + (λ/2)‖θ‖²: every eigen-direction has curvature σ² + λ
    f = np.array([factor(eta, curvature, int(k)) for k in steps])
    if part == "residual":
        n0 = float(np.linalg.norm(W0))
        return f * n0, f * n0
    d = W0.shape[0]
    Wstar = sigma_sq / (sigma_sq + lam) * np.eye(d)  # ESL Eq. (3.44) with Σ = σ²I
    E0 = W0 - Wstar
    traj = Wstar[None] + f[:, None, None] * E0[None]  # (T, d, d)
    return np.linalg.norm(traj, axis=(1, 2)), np.abs(f) * float(np.linalg.norm(E0))


def work_units(config: Config) -> int:
    """Batches `run` performs (one progress unit each)."""
    return len(config.parts)


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> ExperimentResult:
    t_start = time.perf_counter()
    dtype = torch.float64
    d, S = config.width, config.seeds
    grid = [(mode, lr, lam) for mode in config.decay_modes for lr in config.lrs for lam in config.weight_decays]
    G = len(grid)
    source = "theory.weight_decay.decay_factor"
    records: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    worst: dict[str, float] = {}
    Sigma = config.sigma_sq * torch.eye(d, dtype=dtype)
    X = torch.stack([data_with_covariance(Sigma, config.samples, generator) for _ in range(S)])  # (S, N, d)
    for part in config.parts:
        spec = BlockSpec(block="linear", variant="plain" if part == "plain" else "residual", depth=1, width=d)
        R = S * G
        seed_of = torch.arange(R) // G
        p0 = init_params(spec, S, "xavier", config.init_scale, generator, dtype)
        p0 = {k: v[seed_of] for k, v in p0.items()}
        x = torch.zeros_like(X[seed_of]) if part == "decay-only" else X[seed_of]  # (R, N, d)
        lr = torch.tensor([g[1] for g in grid], dtype=dtype).repeat(S)
        lam = torch.tensor([g[2] for g in grid], dtype=dtype).repeat(S)
        modes = [grid[r % G][0] for r in range(R)]
        Wstar = (config.sigma_sq / (config.sigma_sq + lam)).view(R, 1, 1) * torch.eye(d, dtype=dtype)
        target_W = Wstar if part == "plain" else torch.zeros((R, d, d), dtype=dtype)
        results = {}
        for mode in config.decay_modes:  # one batch per decay mode (the mode is a property of the optimiser)
            idx = torch.tensor([r for r in range(R) if modes[r] == mode])
            opt = OptimizerSpec(config.optimizer, decay_mode=mode, batch_size=max(1, config.samples // 4))

            def distance(p: dict[str, torch.Tensor], tw: torch.Tensor = target_W[idx]) -> torch.Tensor:
                return torch.linalg.matrix_norm(p["W"][:, 0] - tw)

            results[mode] = (idx, train(spec, {k: v[idx] for k, v in p0.items()}, x[idx], x[idx].clone(), opt,
                                        lr[idx], lam[idx], config.max_steps, config.eps, generator, metric=distance,
                                        stop_when_converged=False))
        for mode, (idx, res) in results.items():
            W0 = p0["W"][idx, 0].numpy()
            preds: list[np.ndarray | None] = []
            pred_steps: list[int | None] = []
            rel_err: list[float | None] = []
            compared: list[int | None] = []
            for j, r in enumerate(idx.tolist()):
                pn = predicted_norms(part, mode, config.optimizer, W0[j], float(lr[r]), float(lam[r]),
                                     config.sigma_sq, res.recorded_steps)
                if pn is None:
                    preds.append(None)
                    compared.append(None)
                    pred_steps.append(None)
                    rel_err.append(None)
                    continue
                norms, dist = pn
                below = np.nonzero(dist < config.eps)[0]
                pred_steps.append(int(res.recorded_steps[below[0]]) if len(below) else None)
                ok = norms >= FLOOR * float(np.linalg.norm(W0[j]))
                err = float(np.max(np.abs(res.norm_curve[ok, j] - norms[ok]) / norms[ok]))
                compared.append(int(ok.sum()))
                rel_err.append(err)
                preds.append(norms)
                key = f"{part}/{mode}"
                worst[key] = max(worst.get(key, 0.0), err)
            records += run_records(
                res,
                {
                    "experiment": NAME, "part": part, "variant": spec.variant, "block": "linear", "depth": 1,
                    "width": d, "init": "xavier", "optimizer": config.optimizer, "decay_mode": mode,
                    "criterion": "distance", "eps": config.eps, "max_steps": config.max_steps,
                    "sigma_sq": config.sigma_sq, "prediction_source": source,
                },
                {
                    "seed": [int(seed_of[r]) for r in idx.tolist()],
                    "lr": [float(lr[r]) for r in idx.tolist()],
                    "weight_decay": [float(lam[r]) for r in idx.tolist()],
                    "predicted_steps": pred_steps,
                    "norm_relative_error": rel_err,
                    "steps_compared": compared,
                    "initial_norm": [float(np.linalg.norm(W0[j])) for j in range(len(idx))],
                    "final_norm": [float(res.norm_curve[-1, j]) for j in range(len(idx))],
                },
            )
            first = [j for j, r in enumerate(idx.tolist()) if int(seed_of[r]) == 0]  # seed 0 for the figure
            curves[f"{part} / {mode}"] = {
                "steps": res.recorded_steps,
                "norm": res.norm_curve[:, first],
                "predicted": [preds[j] for j in first],
                "label": [f"η={float(lr[idx[j]]):g}, λ={float(lam[idx[j]]):g}" for j in first],
                "floor": FLOOR * float(np.linalg.norm(W0[first[0]])) if first and part == "residual" else None,
            }
        if progress is not None:
            progress(1)
    for i, rec in enumerate(records):
        rec["run"] = i
    summaries = group_summaries(records, ("part", "decay_mode", "lr", "weight_decay"),
                                np.random.default_rng(config.seed))
    checked = [r for r in records if r["norm_relative_error"] is not None]
    bad = [r for r in checked if float(r["norm_relative_error"]) > RELATIVE_TOLERANCE]  # type: ignore[arg-type]
    with_steps = [r for r in checked if r["predicted_steps"] is not None]
    steps_bad = [
        r for r in with_steps
        if r["steps_to_converge"] is None
        or abs(int(r["steps_to_converge"]) - int(r["predicted_steps"])) > 1  # type: ignore[arg-type]
    ]
    checks = [
        {
            "name": "weight-decay-trajectory",
            "description": "‖θ_k‖ under weight decay equals the closed form to 1e-6 relative at every step "
                           "(where the predicted norm ≥ 1e-8·‖θ₀‖)",
            "passed": bool(checked) and not bad,
            "tolerance_relative": RELATIVE_TOLERANCE,
            "runs_checked": len(checked),
            "max_relative_error": max((float(r["norm_relative_error"]) for r in checked), default=None),  # type: ignore[arg-type]
            "max_relative_error_by_part": worst,
            "mismatches": len(bad),
        },
        {
            "name": "weight-decay-steps",
            "description": "steps until ‖θ_k − θ*‖ < ε equal the closed form (±1 step)",
            "passed": bool(with_steps) and not steps_bad,  # a check that examined nothing does not pass
            "runs_checked": len(with_steps),
            "mismatches": len(steps_bad),
        },
    ]
    return ExperimentResult(
        name=NAME, config=config_to_json(config), records=records, summaries=summaries, checks=checks, curves=curves,
        seconds=time.perf_counter() - t_start, work_units=work_units(config),
    )


def figures(result: ExperimentResult) -> dict[str, Any]:
    from numerics.plots import norm_vs_step

    return {"weight-decay-norm": norm_vs_step(result.curves, "weight norm under decay (seed 0): measured vs theory")}

