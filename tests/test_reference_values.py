"""hfx's numbers against reference values computed here, independently of hfx's code: closed forms written out
from the papers' equations (REFERENCES.md) and tiny float64 gradient-descent loops.

Each test states the convention it converts (½ in the loss, mean vs sum, t = kη) and fails on the defect it guards
(a crash or a wrong finite number at a hostile setting, a false FAILED check, a step count off by one).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics import closed_forms
from numerics.experiments import branch_rate, get, identity_init, run
from numerics.experiments.contract import CheckStatus
from numerics.experiments.params import replace_flat


def _first_below(values: list[float], target: float) -> int | None:
    return next((k for k, v in enumerate(values) if v < target), None)


# --- single_mode_steps: the least k with c r^{2k} < ε², also where the crossing is an integer ----------------------

@pytest.mark.parametrize("c", [1.0, 2.0, 3.7, 16.0])
@pytest.mark.parametrize("r", [0.5, -0.5, 0.25, 0.2, 0.1, 0.9, -0.999])
def test_single_mode_steps_is_the_least_k_even_at_an_integer_crossing(c: float, r: float) -> None:
    # ε = √c |r|^j puts the crossing x = ln(ε²/c)/ln r² at the integer j (up to rounding), where ⌊x⌋ + 1 built on a
    # rounded x can be one step off; the reference evaluates c q^k (q = r²) step by step, the definition itself
    q = r * r
    for j in range(1, 30):
        eps = math.sqrt(c) * abs(r) ** j
        expected = next(k for k in range(10**6) if c * q**k < eps * eps)
        assert closed_forms.single_mode_steps(c, r, eps) == expected, (c, r, j)


# --- branch-rate: a run that blows up, and a loss that underflows -------------------------------------------------

def test_branch_rate_survives_a_diverging_rate_and_marks_the_divergence() -> None:
    # Xavier-initialised two-layer branch at η = 5 blows up within a few steps: before the fix the trajectory
    # was shorter than the budget and indexing it crashed; now the run carries its divergence step and no ratio
    config = replace_flat(branch_rate.Config(), {"depths": (2,), "inits": ("xavier",), "lr": 5.0, "max_steps": 50,
                                                 "seeds": 2})
    result = run(get("branch-rate"), config)
    diverged = [r for r in result.records if r.diverged_step is not None]
    assert diverged, "η = 5 should blow up a Xavier two-layer branch"
    for r in diverged:
        assert r.first_layer_ratio is None and r.last_layer_ratio is None and r.final_loss is None
        assert r.loss_exponent is None and r.loss_factor is None


def test_branch_rate_one_layer_matches_the_geometric_closed_form_and_reports_no_factor_after_underflow() -> None:
    # N = 1 branch u = w, loss (d/2)u² (½·mean over whitened samples, d modes of ½u²): GD is u_{k+1} = (1 − η)u_k
    # exactly, so the loss factor per step is (1 − η)² and the first k with (d/2)u₀²(1 − η)^{2k} < ε is found by
    # hand.  Over 2000 steps the loss underflows to 0 in float64 (0.08·0.64^k < 5e-324 from k ≈ 1660) while at
    # K/2 = 1000 it is still a normal float: a factor 0 (or an exponent) would be a wrong finite number, so none may
    # be reported.
    d, u0, eta, eps = 4, 0.2, 0.2, 1e-4
    losses = [(d / 2) * (u0 * (1 - eta) ** k) ** 2 for k in range(200)]
    expected_steps = _first_below(losses, eps)
    short = replace_flat(branch_rate.Config(), {"depths": (1,), "inits": ("balanced",), "max_steps": 200,
                                                "seeds": 1, "width": d, "u0": u0, "lr": eta, "eps": eps})
    (rec,) = run(get("branch-rate"), short).records
    assert rec.steps_to_eps == expected_steps
    assert rec.loss_factor == pytest.approx((1 - eta) ** 2, rel=1e-9)
    long = replace_flat(short, {"max_steps": 2000})
    assert (d / 2) * (u0 * (1 - eta) ** 1000) ** 2 > np.finfo(np.float64).tiny  # L(K/2) normal ...
    assert (d / 2) * (u0 * (1 - eta) ** 2000) ** 2 == 0.0  # ... L(K) underflowed
    (rec,) = run(get("branch-rate"), long).records
    assert rec.loss_factor is None and rec.loss_exponent is None


# --- identity-init: the flow's learning time, and no false FAILED ---------------------------------------------------

def test_identity_init_learning_steps_at_depth_one_is_the_linear_flow_time() -> None:
    # L = 1: u̇ = λ − u from u(0) = 1 (loss ½(λ − u)², t = kη), so each mode reaches |λ − u| = g = √(2ε/d) at
    # t = ln(|λ − 1|/g); the run's time is the slowest mode's, in steps t/η
    eigs, eps, lr = [0.5, 1.0, 1.5, -0.5], 1e-6, 0.05
    g = math.sqrt(2 * eps / len(eigs))
    expected = max(math.log(abs(lam - 1) / g) for lam in eigs if abs(lam - 1) >= g) / lr
    assert identity_init.learning_steps(eigs, 1, eps, lr) == pytest.approx(expected, rel=1e-12)
    # depth ≥ 2: a negative eigenvalue is never learnt (the floor), so there is no time
    assert identity_init.learning_steps(eigs, 2, eps, lr) is None


def test_identity_init_learning_steps_at_depth_two_is_saxes_eq_11_from_one() -> None:
    # L = 2, u(0) = 1 (the residual chain from A = 0): Saxe et al. 2014 Eq. (11) with τ = 1,
    # t = (1/2s) ln[u_f(s − u₀)/(u₀(s − u_f))] with s = λ, u₀ = 1, u_f = λ ∓ g
    eigs, eps, lr = [0.5, 2.0], 1e-6, 0.01
    g = math.sqrt(2 * eps / len(eigs))

    def eq_11(s: float) -> float:
        uf = s - math.copysign(g, s - 1)
        return math.log(uf * (s - 1) / (1 * (s - uf))) / (2 * s)

    assert identity_init.learning_steps(eigs, 2, eps, lr) == pytest.approx(max(map(eq_11, eigs)) / lr, rel=1e-9)


@pytest.mark.parametrize("values", [
    {"depths": (2,), "seeds": 1, "max_steps": 50},  # a budget shorter than the plateau the check asks for
    {"depths": (1, 2), "lr": 2.0, "seeds": 1, "max_steps": 100},  # a step size where GD need not converge
])
def test_identity_init_never_fails_a_check_it_cannot_judge(values: dict[str, object]) -> None:
    result = run(get("identity-init"), replace_flat(identity_init.Config(), values))
    for check in result.checks:
        assert check.status is not CheckStatus.FAILED, (check.name, check.details, check.excluded_reason)


def test_identity_init_floor_check_still_fails_a_run_that_drops_below_the_floor() -> None:
    # the check must still be able to fail: a record that falls below the floor without a plateau is a mismatch
    import dataclasses

    config = replace_flat(identity_init.Config(), {"depths": (2,), "targets": ("linear-indefinite",), "seeds": 1,
                                                   "max_steps": 300, "plateau_steps": 100})
    result = run(get("identity-init"), config)
    (rec,) = result.records
    assert rec.floor_applies
    fake = dataclasses.replace(rec, min_loss=0.5 * rec.predicted_floor, plateau_steps=3, escape_step=10)
    floor, _ = identity_init._checks([fake], config)
    assert floor.status is CheckStatus.FAILED


def test_identity_init_floor_is_half_the_squared_negative_eigenvalue() -> None:
    # Bartlett et al. 2018 with our ½: a mode with λ < 0 keeps ½λ² per mode; eig_low = 0.5 gives 0.125
    config = replace_flat(identity_init.Config(), {"depths": (2,), "targets": ("linear-indefinite",), "seeds": 1,
                                                   "max_steps": 10})
    (rec,) = run(get("identity-init"), config).records
    assert rec.predicted_floor == pytest.approx(0.5 * 0.5**2, rel=1e-15)
    assert np.isfinite(rec.predicted_floor)


# --- hardt-ma-bound: the bounds written out from Hardt & Ma 2017 Eq. (2.3), and nothing to bound at A = 0 ----------

def test_hardt_ma_bounds_are_eq_2_3_printed_and_corrected() -> None:
    # f without ½ (Hardt & Ma's convention); printed 4ℓ(1 − τ)^{ℓ−1}σ_min²(f − C_opt), corrected
    # 4ℓ(1 − τ)^{2(ℓ−1)}σ_min(f − C_opt) (REFERENCES.md, erratum), C_opt = 0 for the identity task
    from numerics.experiments import hardt_ma

    config = replace_flat(hardt_ma.Config(), {"depths": (3,), "taus": (0.5,), "seeds": 6})
    result = run(get("hardt-ma-bound"), config)
    for r in result.records:
        ell, tau, smin, gap = r.depth, r.tau, r.sigma_min, r.suboptimality
        assert r.corrected_bound == pytest.approx(4 * ell * (1 - tau) ** (2 * (ell - 1)) * smin * gap, rel=1e-13)
        assert r.printed_bound == pytest.approx(4 * ell * (1 - tau) ** (ell - 1) * smin**2 * gap, rel=1e-13)
        assert r.corrected_ratio is not None and r.corrected_ratio >= 1 - 1e-9


def test_hardt_ma_at_radius_zero_reports_no_ratio_and_no_evidence() -> None:
    # τ = 0 forces A = 0: f = C_opt = 0 and both bounds are 0, so ‖∇f‖²/bound is 0/0 — no number, not NaN
    from numerics.experiments import hardt_ma

    config = replace_flat(hardt_ma.Config(), {"depths": (3,), "taus": (0.0,), "seeds": 4})
    result = run(get("hardt-ma-bound"), config)
    assert all(r.corrected_ratio is None and r.printed_ratio is None for r in result.records)
    assert result.checks[0].status is CheckStatus.NO_EVIDENCE
    assert all(s.corrected_ratio_min is None for s in result.summaries)


# --- degradation: one seed has no interval --------------------------------------------------------------------

def test_one_seed_is_not_shown_with_a_zero_width_interval() -> None:
    # the 95% Student-t interval needs n ≥ 2 (t with n − 1 = 0 degrees of freedom does not exist); with two seeds
    # it is mean ± t_{0.975,1}·s/√2 with t_{0.975,1} = tan(0.475π) = 12.706…, written out here
    from numerics.degradation.findings import pct
    from numerics.degradation.summary import seed_interval

    assert pct(seed_interval([0.3])) == "30.0% (1 seed, no interval)"
    a, b = 0.30, 0.34
    mean, s = (a + b) / 2, abs(a - b) / math.sqrt(2)
    half = math.tan(0.475 * math.pi) * s / math.sqrt(2)
    assert pct(seed_interval([a, b])) == f"{100 * mean:.1f}% [{100 * max(0.0, mean - half):.1f}, " \
                                        f"{100 * min(1.0, mean + half):.1f}]"


# --- linear-block: step counts from the modes' energies, which these starts fix whatever Σ's eigenvectors ----------

def _hand_steps(c: list[float], r: list[float], eps: float, budget: int) -> int | None:
    """Least k ≤ budget with Σ_i c_i r_i^{2k} < ε² (Goh 2017, per mode; ‖E_k‖²_F = Σ_i c_i r_i^{2k}), by stepping."""
    energy = list(c)
    for k in range(budget + 1):
        if math.fsum(energy) < eps * eps:
            return k
        energy = [e * ri * ri for e, ri in zip(energy, r, strict=True)]
    return None


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_linear_block_step_counts_equal_the_hand_computed_mode_sums(lam: float) -> None:
    # loss ½tr((M − I)Σ(M − I)ᵀ) + (λ/2)‖θ‖², θ = W (plain) or A (residual); per mode r_i = 1 − η(σ_i + λ).
    # Zero and identity starts make c_i = ‖E_0 q_i‖² independent of Σ's eigenvectors: plain W₀ = 0: E₀ = −W*,
    # c_i = (σ_i/(σ_i + λ))²; plain W₀ = I: c_i = (λ/(σ_i + λ))²; residual A₀ = I (M₀ = 2I, M* = I): c_i = 1;
    # residual A₀ = 0: E₀ = 0, converged at k = 0.  η = f·2/(σ_max + λ).
    from numerics.experiments import linear_block

    d, eps, budget = 3, 1e-6, 3000
    factors = (0.3, 0.9, 1.2)
    config = replace_flat(linear_block.Config(), {"width": d, "inits": ("zero", "identity"), "weight_decay": lam,
                                                  "lr_factors": factors, "seeds": 2, "sigma_min": 0.5,
                                                  "sigma_max": 2.0, "eps": eps, "max_steps": budget})
    result = run(get("linear-block"), config)
    sigma = [0.5 + (2.0 - 0.5) * i / (d - 1) for i in range(d)]
    limit = 2 / (max(sigma) + lam)
    energies = {("plain", "zero"): [(s / (s + lam)) ** 2 for s in sigma],
                ("plain", "identity"): [(lam / (s + lam)) ** 2 for s in sigma],
                ("residual", "identity"): [1.0] * d, ("residual", "zero"): [0.0] * d}
    for rec in result.records:
        eta = rec.lr_factor * limit
        assert rec.lr == pytest.approx(eta, rel=1e-12) and rec.stability_limit == pytest.approx(limit, rel=1e-12)
        r = [1 - eta * (s + lam) for s in sigma]
        expected = _hand_steps(energies[(rec.variant, rec.init)], r, eps, budget)
        assert rec.predicted_steps == expected, (rec.variant, rec.init, rec.lr_factor)
        if expected is not None and expected < budget:
            assert rec.outcome.steps_to_converge is not None
            assert abs(rec.outcome.steps_to_converge - expected) <= linear_block.STEP_SLACK
        assert rec.predicted_stable == (rec.lr_factor < 1)
        if rec.lr_factor > 1 and expected is None:  # an unstable rate with energy on the top mode blows up
            assert rec.outcome.status.value == "diverged"
