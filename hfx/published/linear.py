"""Rows of the published-vs-measured table for the linear closed forms: Saxe et al. 2014, Arora et al. 2018,
Goh 2017, the ridge bias (ESL), Loshchilov & Hutter 2019.

Conventions (CONTRIBUTING.md) and their conversions, stated in each row:
- Saxe, McClelland & Ganguli (ICLR 2014) write τ du/dt = … with t counted in GD steps and τ = 1/η, so their
  time t_S is our step count k, and our t = kη = t_S/τ.  Their loss is ½Σ‖y − ŷ‖² over whitened inputs; ours is
  ½·mean, and with XᵀX/N = I both are ½(s − u)² per mode, so the ODE is the same.  Their N_l counts layers of
  units; our N = N_l − 1 counts weight matrices.
- Arora, Cohen & Hazan (ICML 2018): ẇ = −N|w|^{2−2/N}L′(w) with L′(u) = u − s for our ½ loss.
- Goh (Distill 2017): GD on a quadratic, per-mode factor 1 − ηλ_i; our curvature is σ_i + λ (Σ's eigenvalues plus
  the L2 decay), and steps to ε count the smallest k with ‖M_k − M*‖_F < ε (strict).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hfx.published import TIER_WORDS, Agreement, Row, absent, said
from numerics import closed_forms
from numerics.experiments import CheckStatus, CrossCheck
from theory.core.derivation import TheoremRecord

if TYPE_CHECKING:
    from hfx.evidence import Measurements
    from numerics.experiments import deep_linear, linear_block, weight_decay

SAXE = "Saxe, McClelland & Ganguli, ICLR 2014"
ARORA = "Arora, Cohen & Hazan, ICML 2018"
GOH = "Goh, Distill 2017"
ESL = "Hastie, Tibshirani & Friedman, ESL 2009"
TOLERANCE = 0.02  # forward Euler's O(η) error of GD against gradient flow, at the small steps the check judges


def _check(checks: Sequence[CrossCheck], name: str) -> CrossCheck | None:
    return next((c for c in checks if c.name == name), None)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _small(result: deep_linear.Result, depth: int, variant: str) -> deep_linear.DeepLinearRun | None:
    """The run at the smallest rate (seed 0) of a (variant, depth): closest to gradient flow."""
    runs = [r for r in result.records if r.depth == depth and r.variant == variant and r.seed == 0
            and r.relative_error is not None]
    return min(runs, key=lambda r: r.lr) if runs else None


def _time(r: deep_linear.DeepLinearRun) -> str:
    return (f"{r.variant} (u₀ = {r.u0:g}): k* = {r.outcome.steps_to_converge} steps at η = {r.lr:g} vs "
            f"t/η = {r.predicted_steps:.1f} ({r.relative_error:+.2%})")


def _within(runs: Sequence[deep_linear.DeepLinearRun | None], result: deep_linear.Result) -> bool:
    found = [r for r in runs if r is not None]
    return bool(found) and all(r.relative_error is not None and abs(r.relative_error) <= TOLERANCE
                               and r.dimensionless_step <= result.config.check_max_step for r in found)


def saxe_rows(result: deep_linear.Result, tier: str) -> list[Row]:
    c = result.config
    s, d = c.target_scale, c.width
    two = [_small(result, 2, v) for v in ("plain", "residual")]
    rows = [Row(SAXE, "Eq. (11)", "learning time of a two-layer linear net, u₀ → u_f",
                "t = (τ/2s) ln[u_f(s − u₀)/(u₀(s − u_f))] steps, τ = 1/η (our t = kη is their t/τ)",
                "; ".join(_time(r) for r in two if r is not None) + f" (s = {s:g}, u_f = s ∓ √(2ε/d), ε = "
                f"{c.budget.eps:g}, d = {d})",
                Agreement.AGREES if _within(two, result) else Agreement.DISAGREES,
                said(_within(two, result), "GD is forward Euler for the flow: at η·N·max(s, u₀)^{2−2/N} ≤ "
                     f"{c.check_max_step:g} the step count is t/η to within {TOLERANCE:.0%}",
                     f"a step count differs from t/η by more than {TOLERANCE:.0%}, or the step was too large to "
                     "judge"), "deep-linear",
                TIER_WORDS.get(tier, tier))]
    plain2 = two[0]
    curve = result.curves.get("plain L=2")
    if plain2 is not None and curve is not None:
        cols = [j for j, lab in enumerate(curve.labels) if lab == f"{plain2.lr:g}"]
        loss = curve.values[:, cols[0]] if cols else np.array([])
        ok = np.isfinite(loss)
        pred = np.array([(d / 2) * (s - closed_forms.two_layer_trajectory(s, plain2.u0, float(k) * plain2.lr)) ** 2
                         for k in curve.steps[ok]])
        sup = float(np.max(np.abs(loss[ok] - pred)) / pred[0]) if len(pred) else math.nan
        rows.append(Row(SAXE, "Eq. (12)", "trajectory u(t) of a two-layer linear net (loss along training)",
                        "u(t) = s e^{2st/τ}/(e^{2st/τ} − 1 + s/u₀), τ = 1/η; loss (d/2)(s − u)² with all modes equal",
                        f"plain, u₀ = {plain2.u0:g}, η = {plain2.lr:g}: sup_k |L_k − L(kη)|/L(0) = {sup:.2%} over "
                        f"{int(ok.sum())} steps",
                        Agreement.AGREES if sup <= TOLERANCE else Agreement.DISAGREES,
                        said(sup <= TOLERANCE, "the measured loss curve follows the closed-form trajectory step by "
                             "step, within Euler's O(η) error",
                             f"the measured loss departs from the closed-form trajectory by {sup:.1%} of L(0)"),
                        "deep-linear", TIER_WORDS.get(tier, tier)))
    deep = [_small(result, L, v) for L in sorted({r.depth for r in result.records}) if L >= 3
            for v in ("plain", "residual")]
    if any(r is not None for r in deep):
        rows.append(Row(SAXE, "Eq. (15)", "learning time of a deep linear net (N = N_l − 1 weights)",
                        "τ du/dt = (N_l − 1)u^{2−2/(N_l−1)}(s − u), integrated from u₀ to u_f (τ = 1/η)",
                        "; ".join(f"N = {r.depth} {_time(r)}" for r in deep if r is not None),
                        Agreement.AGREES if _within(deep, result) else Agreement.DISAGREES,
                        said(_within(deep, result), "per-layer GD on N weights takes the ODE's time, at every depth "
                             "measured", f"at some depth per-layer GD's step count differs from the ODE's time by "
                             f"more than {TOLERANCE:.0%}"), "deep-linear",
                        TIER_WORDS.get(tier, tier)))
    plain = sorted((r for r in (_small(result, L, "plain") for L in sorted({r.depth for r in result.records}))
                    if r is not None and r.measured_time is not None), key=lambda r: r.depth)
    if plain:
        uf = plain[0].u_final
        limit = closed_forms.deep_limit_time(s, plain[0].u0, uf)
        measured = [r.depth * (r.measured_time or math.nan) for r in plain]
        gaps = [abs(m - limit) for m, r in zip(measured, plain, strict=True) if r.depth >= 2]
        approaching = len(gaps) >= 2 and all(b < a for a, b in itertools.pairwise(gaps))
        rows.append(Row(SAXE, "Eq. (17)", "depth-scaled learning time N·t as N → ∞, plain chains from fixed u₀",
                        "N·t_N → ∫_{u₀}^{u_f} du/(u²(s − u)) = [−1/(su) + ln(u/(s − u))/s²] (our t = kη)",
                        "measured N·k*η: " + ", ".join(f"N = {r.depth}: {m:.2f}" for r, m in
                                                      zip(plain, measured, strict=True))
                        + f"; limit {limit:.2f} (u₀ = {plain[0].u0:g})",
                        Agreement.AGREES if approaching else Agreement.PARTLY,
                        "from two layers on, N·t grows toward the infinite-depth limit, as the closed form says"
                        if approaching else "the measured N·t does not approach the limit monotonically",
                        "deep-linear", TIER_WORDS.get(tier, tier)))
    return rows


def arora_row(result: deep_linear.Result, tier: str) -> Row:
    flow = _check(result.checks, "deep-linear-flow-time")
    err = _number(flow.details.get("max_relative_error")) if flow else None
    ok = flow is not None and flow.status is CheckStatus.PASSED
    return Row(ARORA, "Eq. (6), Thm 1; §4 (residual chain)",
               "end-to-end dynamics of a balanced chain vs its per-layer GD",
               "ẇ = −N|w|^{2−2/N}L′(w) (L′(u) = u − s for our ½ loss); the residual chain 1 + a_i from a_i = 0 "
               "follows it from u(0) = 1",
               f"per-layer GD (plain balanced and residual from zero, depths "
               f"{', '.join(map(str, result.config.depths))}) takes the end-to-end ODE's time within "
               f"{'—' if err is None else f'{err:.2%}'} on {flow.examined if flow else 0} runs",
               Agreement.AGREES if ok else Agreement.DISAGREES,
               said(ok, "the end-to-end ODE predicts the per-layer dynamics' time at small η, for both "
                    "parameterisations", "per-layer GD's time departs from the end-to-end ODE's beyond the check's "
                    "tolerance"),
               "deep-linear", TIER_WORDS.get(tier, tier))


def goh_rows(result: linear_block.Result, tier: str) -> list[Row]:
    steps, stable = _check(result.checks, "gd-steps-exact"), _check(result.checks, "stability-limit")
    judged = [r for r in result.records if r.predicted_steps is not None and r.outcome.steps_to_converge]
    sample = ", ".join(
        f"{v} at {f:g}×: median {statistics.median(r.outcome.steps_to_converge or 0 for r in rs):.0f} measured vs "
        f"{statistics.median(r.predicted_steps or 0 for r in rs):.0f} predicted"
        for v in ("plain", "residual") for f in sorted({r.lr_factor for r in judged})[:2]
        if (rs := [r for r in judged if r.variant == v and r.lr_factor == f]))
    worst = _number(steps.details.get("max_abs_step_difference")) if steps else None
    exact = steps is not None and steps.status is CheckStatus.PASSED
    limit = stable is not None and stable.status is CheckStatus.PASSED
    return [
        Row(GOH, "GD on a quadratic", "GD steps to ε on one linear block",
            "k* = ⌈ln(ε/‖e₀‖)/ln r⌉ per mode, r = |1 − η(σ_i + λ)| (exact least k over modes: "
            "`dynamics.exact-step-count`)",
            f"{sample}; largest |k − k*| = {'—' if worst is None else f'{worst:.0f}'} over "
            f"{steps.examined if steps else 0} runs",
            Agreement.AGREES if exact else Agreement.DISAGREES,
            said(exact, "every step count equals the closed form (±1 step allowed for the ceiling)",
                 "some step count differs from the closed form"), "linear-block",
            TIER_WORDS.get(tier, tier)),
        Row(GOH, "stability condition", "largest stable learning rate",
            "GD converges iff 0 < η(σ_i + λ) < 2 for every mode: η < 2/(σ_max + λ)",
            f"{stable.details.get('diverged') if stable else '—'} of {stable.details.get('runs') if stable else '—'} "
            f"runs diverged, exactly those with η above the limit ({stable.mismatches if stable else '—'} "
            "misclassified)",
            Agreement.AGREES if limit else Agreement.DISAGREES,
            said(limit, "plain and residual blocks diverge beyond the same η, as the shared per-mode rate implies",
                 "some run diverged, or converged, on the wrong side of the limit"),
            "linear-block", TIER_WORDS.get(tier, tier)),
    ]


def decay_rows(result: weight_decay.Result, tier: str) -> list[Row]:
    trajectory = _check(result.checks, "weight-decay-trajectory")
    by_part = trajectory.details.get("max_relative_error_by_part") if trajectory else None
    parts = by_part if isinstance(by_part, dict) else {}
    alone = max((v for k, v in parts.items() if k.startswith("decay-only") and v is not None), default=None)
    plain = [r for r in result.records if r.part == "plain" and r.outcome.final_metric is not None]
    residual = [r for r in result.records if r.part == "residual" and r.final_norm is not None]
    lams = sorted({r.weight_decay for r in plain})
    c = result.config
    shrink = list(closed_forms.ridge_shrinkage([c.sigma_sq] * len(lams), np.array(lams))) if lams else []
    distance = max((r.outcome.final_metric or 0.0 for r in plain), default=math.nan)
    ok = trajectory is not None and trajectory.status is CheckStatus.PASSED
    return [
        Row(ESL, "Eq. (3.44), (3.47)", "minimiser of a plain linear block "
            "fitting the identity under L2", "W* = Σ(Σ + λI)⁻¹, shrinking each eigen-direction by σ_i/(σ_i + λ); "
            "residual (penalty on A = W − I): A* = 0",
            f"Σ = {c.sigma_sq:g}·I: " + ", ".join(f"λ = {lam:g}: W* = {w:.4f}·I" for lam, w in
                                                  zip(lams, shrink, strict=True))
            + f"; GD's plain W_K is within {distance:.1e} of W* (Frobenius, after {c.budget.max_steps} steps); "
            f"residual ‖A_K‖ ≤ {max((r.final_norm or 0.0 for r in residual), default=math.nan):.1e}",
            Agreement.AGREES if ok and distance < c.budget.eps else Agreement.DISAGREES,
            said(ok and distance < c.budget.eps, "GD converges to the ridge point, biased away from I by λ/(σ + λ), "
                 "while the residual block's minimiser is exactly A = 0", "GD did not reach the ridge point within "
                 "ε, or a trajectory departs from its closed form"), "weight-decay", TIER_WORDS.get(tier, tier)),
        Row("Loshchilov & Hutter, ICLR 2019", "Eq. (1)", "weights under decay alone (no data gradient)",
            "θ_{t+1} = (1 − λ)θ_t − α∇f_t; with ∇f = 0, θ_k = (1 − ηλ)^kθ₀ (their λ = our ηλ; L2 and decoupled "
            "coincide for (S)GD)",
            f"‖θ_k‖ equals (1 − ηλ)^k‖θ₀‖ to {'—' if alone is None else f'{alone:.1e}'} relative at every step, "
            "in both decay modes",
            Agreement.AGREES if ok else Agreement.DISAGREES,
            said(ok, "the measured norms follow the closed form to rounding error, and the two decay modes agree for "
                 "GD", "the measured norms depart from the closed form"),
            "weight-decay", TIER_WORDS.get(tier, tier)),
    ]


def linear_rows(measured: Measurements, theorems: Sequence[TheoremRecord], tier: str) -> list[Row]:
    """The rows of the linear closed forms; one saying "not measured in this run" per result whose experiment
    did not run."""
    rows: list[Row] = []
    if measured.deep_linear is not None:
        rows += saxe_rows(measured.deep_linear, tier)
        rows.append(arora_row(measured.deep_linear, tier))
    else:
        rows += [absent(SAXE, f"Eq. ({eq})", what, "learning time / trajectory of deep linear nets", "deep-linear",
                        tier) for eq, what in (("11", "two-layer learning time"), ("12", "two-layer trajectory"),
                                               ("15", "deep learning time"), ("17", "depth-scaled time as N → ∞"))]
        rows.append(absent(ARORA, "Eq. (6), Thm 1", "end-to-end dynamics vs per-layer GD", "ẇ = −N|w|^{2−2/N}L′(w)",
                           "deep-linear", tier))
    if measured.linear_block is not None:
        rows += goh_rows(measured.linear_block, tier)
    else:
        rows.append(absent(GOH, "GD on a quadratic", "GD steps to ε; stability limit",
                           "k* = ⌈ln(ε/‖e₀‖)/ln r⌉; η < 2/(σ_max + λ)", "linear-block", tier))
    if measured.weight_decay is not None:
        rows += decay_rows(measured.weight_decay, tier)
    else:
        rows.append(absent(ESL, "Eq. (3.44), (3.47)", "ridge minimiser of a plain block fitting I",
                           "W* = Σ(Σ + λI)⁻¹", "weight-decay", tier))
    return rows
