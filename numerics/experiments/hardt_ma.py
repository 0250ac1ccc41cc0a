"""hardt-ma-bound: Hardt & Ma's Eq. (2.3) on random instances of dimension n > 1 and depth ℓ > 2, float64.

Hardt & Ma, *Identity Matters in Deep Learning*, ICLR 2017, §2: for the linear residual network
ŷ = (I + A_ℓ)⋯(I + A_1)x and f(A) = E‖ŷ − y‖² (no ½: their convention), with Σ = E[xxᵀ] and y = Rx
(C_opt = 0), every A with max_i ‖A_i‖ ≤ τ < 1 (spectral norm) satisfies a gradient lower bound, Eq. (2.3).  As
printed it reads ‖∇f(A)‖²_F ≥ 4ℓ(1 − τ)^{ℓ−1}σ_min(Σ)²(f(A) − C_opt), which is false; what holds (theorem
`hardt-ma.gradient-lower-bound-small`, tight at A_i = −τI) is ‖∇f(A)‖²_F ≥ 4ℓ(1 − τ)^{2(ℓ−1)}σ_min(Σ)(f − C_opt)
(`numerics.closed_forms.hardt_ma_bound`, lambdified from `theory.hardt_ma`).

The theorem is shown on small exact instances; this experiment checks the corrected bound numerically (evidence,
never a proof) where the proof is not symbolic: n × n layers (n > 1) and depth ℓ > 2.  Each sample draws
Σ = Q diag(e) Qᵀ with e uniform in [sigma_low, sigma_high] and Q Haar-random, R = I (the identity task), and
layers A_i with ‖A_i‖ ≤ τ: half of them Gaussian matrices scaled to a spectral norm uniform in [τ/2, τ], half
near the tight point, −τI plus a small Gaussian perturbation rescaled into the ball.  f is
tr((P − R)Σ(P − R)ᵀ) with P the product; ∇f comes from autograd (independent of any hand-written gradient).
The check: ‖∇f‖²/bound ≥ 1 − `RATIO_TOLERANCE` on every sample; the printed form's violations are counted.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from numerics import closed_forms
from numerics.experiments.blocks import MAX_DEPTH, MAX_SCALE, MAX_WIDTH, Replicates
from numerics.experiments.contract import Cost, CrossCheck, ExperimentResult, Progress
from numerics.experiments.params import ConfigBase, Interval, at_least, nested, param, positive

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "hardt-ma-bound"
DESCRIPTION = "Hardt & Ma 2017 Eq. (2.3), printed and corrected, on random instances (n > 1, ℓ > 2), float64"
RATIO_TOLERANCE = 1e-9  # rounding of ‖∇f‖² and f in float64, relative
KINDS = ("random", "near-tight")


@dataclass(frozen=True)
class Config(ConfigBase):
    width: int = param(3, "n: the layers are n × n", interval=at_least(1, MAX_WIDTH))
    depths: tuple[int, ...] = param((3, 4, 6), "ℓ: residual layers", interval=at_least(1, MAX_DEPTH))
    taus: tuple[float, ...] = param((0.25, 0.5, 0.75), "τ: radius of the ball max‖A_i‖ ≤ τ",
                                    interval=Interval(0, 1, high_open=True))
    sigma_low: float = param(0.25, "smallest possible eigenvalue of Σ", interval=positive(MAX_SCALE))
    sigma_high: float = param(4.0, "largest possible eigenvalue of Σ", interval=positive(MAX_SCALE))
    perturbation: float = param(1e-3, "size of the perturbation of the near-tight samples (relative to τ)",
                                interval=at_least(0, 1))
    replicates: Replicates = nested(Replicates(seeds=200))  # samples per (depth, τ)

    def check(self) -> None:
        if self.sigma_high < self.sigma_low:
            raise ValueError("sigma_high must be ≥ sigma_low")


@dataclass(frozen=True, kw_only=True)
class BoundSample:
    """One random instance and the two forms of the bound on it."""

    experiment: str = NAME
    width: int
    depth: int
    tau: float
    kind: str  # random or near-tight
    seed: int  # sample index within its (depth, τ)
    sigma_min: float
    max_layer_norm: float  # max_i ‖A_i‖ (spectral), ≤ τ
    suboptimality: float  # f(A) − C_opt (C_opt = 0)
    grad_sq: float  # ‖∇f(A)‖²_F
    corrected_bound: float  # 4ℓ(1 − τ)^{2(ℓ−1)}σ_min(f − C_opt)
    printed_bound: float  # 4ℓ(1 − τ)^{ℓ−1}σ_min²(f − C_opt)
    corrected_ratio: float | None  # ‖∇f‖²/corrected bound: ≥ 1 is the theorem (None: f = C_opt, nothing to bound)
    printed_ratio: float | None  # < 1 is a counterexample to the printed form (None: f = C_opt)
    run: int


class Group(NamedTuple):
    depth: int
    tau: float


@dataclass(frozen=True)
class BoundSummary:
    """One (depth, τ): the smallest ratio of each form over its samples."""

    group: Group
    n: int
    corrected_ratio_min: float | None  # None: no sample with f > C_opt
    printed_ratio_min: float | None
    printed_violations: int  # samples with printed ratio < 1


Result = ExperimentResult[Config, BoundSample, BoundSummary]


def cost(config: Config) -> Cost:
    per = config.replicates.seeds * max(config.depths) * config.width**2 * 8 * 8  # layers, products, gradients
    return Cost(per, units=len(config.depths) * len(config.taus) * config.replicates.seeds, unit="sample")


def _layers(kind: str, S: int, depth: int, n: int, tau: float, perturbation: float,
            g: torch.Generator) -> torch.Tensor:
    """(S, ℓ, n, n) layers with spectral norm ≤ τ."""
    dtype = torch.float64
    if kind == "random":
        G = torch.randn((S, depth, n, n), generator=g, dtype=dtype)
        target = tau * (0.5 + 0.5 * torch.rand((S, depth, 1, 1), generator=g, dtype=dtype))
    else:
        G = -torch.eye(n, dtype=dtype) + perturbation * torch.randn((S, depth, n, n), generator=g, dtype=dtype)
        target = torch.full((S, depth, 1, 1), tau, dtype=dtype)
    norms = torch.linalg.matrix_norm(G, ord=2).unsqueeze(-1).unsqueeze(-1)
    return G * (target / norms)  # spectral norm exactly `target` ≤ τ


def run(config: Config, generator: torch.Generator, progress: Progress | None = None) -> Result:
    t_start = time.perf_counter()
    n, S, dtype = config.width, config.replicates.seeds, torch.float64
    records: list[BoundSample] = []
    for depth in config.depths:
        for tau in config.taus:
            half = S // 2
            A = torch.cat([_layers("random", S - half, depth, n, tau, config.perturbation, generator),
                           _layers("near-tight", half, depth, n, tau, config.perturbation, generator)])
            eigs = config.sigma_low + (config.sigma_high - config.sigma_low) * torch.rand((S, n), generator=generator,
                                                                                          dtype=dtype)
            Q, _ = torch.linalg.qr(torch.randn((S, n, n), generator=generator, dtype=dtype))  # Haar (up to signs)
            Sigma = Q @ torch.diag_embed(eigs) @ Q.transpose(-2, -1)  # (S, n, n), spectrum e
            A = A.requires_grad_(True)
            eye = torch.eye(n, dtype=dtype)
            P = eye.expand(S, n, n)
            for i in range(depth):
                P = (eye + A[:, i]) @ P  # (I + A_ℓ)⋯(I + A_1)
            E = P - eye  # P − R with R = I
            f = torch.einsum("sij,sjk,sik->s", E, Sigma, E)  # tr(EΣEᵀ)
            (grad,) = torch.autograd.grad(f.sum(), A)
            grad_sq = grad.pow(2).sum(dim=(1, 2, 3)).detach().numpy()
            fv = f.detach().numpy()
            smin = eigs.min(dim=1).values.numpy()
            norms = torch.linalg.matrix_norm(A.detach(), ord=2).max(dim=1).values.numpy()
            corrected = closed_forms.hardt_ma_bound(depth, tau, smin, fv)
            printed = closed_forms.hardt_ma_bound(depth, tau, smin, fv, printed=True)
            for s in range(S):
                records.append(BoundSample(
                    width=n, depth=depth, tau=tau, kind="random" if s < S - half else "near-tight", seed=s,
                    sigma_min=float(smin[s]), max_layer_norm=float(norms[s]), suboptimality=float(fv[s]),
                    grad_sq=float(grad_sq[s]), corrected_bound=float(corrected[s]), printed_bound=float(printed[s]),
                    corrected_ratio=_ratio(float(grad_sq[s]), float(corrected[s])),
                    printed_ratio=_ratio(float(grad_sq[s]), float(printed[s])),
                    run=len(records),
                ))
            if progress is not None:
                progress(S)
    return ExperimentResult(name=NAME, config=config, records=tuple(records), summaries=_summaries(records),
                            checks=_checks(records), seconds=time.perf_counter() - t_start)


def _ratio(grad_sq: float, bound: float) -> float | None:
    """‖∇f‖²/bound, None where the bound is 0 or the ratio not finite (f = C_opt: A = 0 at τ = 0; nothing to bound)."""
    return grad_sq / bound if bound > 0 and math.isfinite(grad_sq / bound) else None


def _min(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _summaries(records: list[BoundSample]) -> tuple[BoundSummary, ...]:
    groups: dict[Group, list[BoundSample]] = {}
    for r in records:
        groups.setdefault(Group(r.depth, r.tau), []).append(r)
    return tuple(BoundSummary(g, len(rs), _min([r.corrected_ratio for r in rs]), _min([r.printed_ratio for r in rs]),
                              sum(r.printed_ratio is not None and r.printed_ratio < 1 for r in rs))
                 for g, rs in groups.items())


def _checks(records: list[BoundSample]) -> tuple[CrossCheck, ...]:
    judged = [r for r in records if r.suboptimality > 0 and r.max_layer_norm <= r.tau * (1 + 1e-12)
              and r.corrected_ratio is not None and r.printed_ratio is not None]
    bad = [r for r in judged if (r.corrected_ratio or 0.0) < 1 - RATIO_TOLERANCE]
    printed_bad = [r for r in judged if (r.printed_ratio or 0.0) < 1]
    return (CrossCheck(
        name="corrected-eq-2.3",
        description="‖∇f‖²_F ≥ 4ℓ(1 − τ)^{2(ℓ−1)}σ_min(Σ)(f − C_opt) on every sample (Hardt & Ma 2017, Eq. (2.3) "
                    "corrected)",
        examined=len(judged), mismatches=len(bad),
        details={"tolerance_relative": RATIO_TOLERANCE,
                 "min_corrected_ratio": _min([r.corrected_ratio for r in judged]),
                 "printed_form_violations": len(printed_bad),
                 "min_printed_ratio": _min([r.printed_ratio for r in judged])},
        excluded=len(records) - len(judged), excluded_reason="f = C_opt (nothing to bound), or outside the ball",
    ),)


def figures(result: Result) -> dict[str, Figure]:
    from numerics.plots_dynamics import hardt_ma_ratios

    sigma, corrected, printed = ratios(result.records)
    depth = np.array([r.depth for r in result.records])
    return {"hardt-ma-bound": hardt_ma_ratios(sigma, corrected, printed, depth)}


def ratios(records: tuple[BoundSample, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(σ_min, corrected ratio, printed ratio) of every sample, for the figure."""
    def values(xs: list[float | None]) -> np.ndarray:
        return np.array([np.nan if x is None else x for x in xs], dtype=np.float64)  # NaN: not drawn

    return (np.array([r.sigma_min for r in records]), values([r.corrected_ratio for r in records]),
            values([r.printed_ratio for r in records]))
