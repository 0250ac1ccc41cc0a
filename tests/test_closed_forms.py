"""Numeric cross-checks of the closed forms of theory/ as numerics/closed_forms.py evaluates them.

Each closed form is compared with an independent computation in float64: simulated gradient descent
(numpy) for the linear block, SciPy-integrated gradient-flow trajectories of the *full* weight chain (not
the reduced end-to-end ODE) for the deep chains, and simulated small-step GD for the time convention
t = kη.  Random parameters come from hypothesis; numpy generators are seeded from hypothesis draws.
These are numeric checks (evidence), not proofs; the proofs are in proofs/.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from numerics import closed_forms
from theory import hardt_ma, learning_time, linear_block
from theory.derivation import Derivation, Equal, Inequality, Status, Step, verify

# ceil/floor of ln(ε²/c)/ln r² in float64 can land one step either side of the simulated count when
# ‖E_k‖ is within rounding of ε at the boundary step
STEP_SLACK = 1
# relative agreement of the closed-form error energy with the simulated one: the simulation accumulates
# ~k float64 roundings of relative size 1e-16 each; k ≤ 10⁴ here
ENERGY_RTOL = 1e-9
# solve_ivp runs at rtol 1e-11, atol 1e-13 with an exact event; the event time is then accurate to ~1e-9
# relative; 1e-6 leaves room for stiff starts near u₀ → 0
FLOW_TIME_RTOL = 1e-6
# two independent float64 evaluations of the same integral (closed form vs split quadrature at epsrel 1e-12)
QUAD_RTOL = 1e-9
# GD with step η is the explicit Euler scheme of the flow: first-crossing time kη differs from t by O(η)
# per unit time; with η = 1e-3 and t ≤ 4, 3% bounds the measured gap (≈ 0.1–1%) with room
EULER_RTOL = 3e-2

SETTINGS = settings(max_examples=25, deadline=None)


def _random_spd(rng: np.random.Generator, n: int, low: float, high: float) -> tuple[NDArray, NDArray]:
    """Σ = Q diag(σ) Qᵀ with σ_i ∈ [low, high] and a random orthogonal Q; returns (Σ, σ)."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    sig = rng.uniform(low, high, size=n)
    return (Q * sig) @ Q.T, sig


def _gd_step(M: NDArray, Sigma: NDArray, eta: float, lam: float, residual: bool) -> NDArray:
    """One GD step on ½tr((M − I)Σ(M − I)ᵀ) + (λ/2)‖θ‖², θ = M (plain) or M − I (residual)."""
    n = M.shape[0]
    theta = M - np.eye(n) if residual else M
    return M - eta * ((M - np.eye(n)) @ Sigma + lam * theta)


def _simulated_steps(M0: NDArray, Sigma: NDArray, eta: float, lam: float, eps: float, residual: bool,
                     limit: int) -> int | None:
    M_star = closed_forms.fixed_point(Sigma, lam, residual)
    M = M0.copy()
    for k in range(limit + 1):
        err = np.linalg.norm(M - M_star)
        if err < eps:
            return k
        if not np.isfinite(err) or err > 1e12:
            return None
        M = _gd_step(M, Sigma, eta, lam, residual)
    return None


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4), eta_frac=st.floats(0.1, 0.98),
       lam=st.floats(0.0, 1.0), log_eps=st.floats(-6.0, -1.0), residual=st.booleans(), zero_start=st.booleans())
def test_linear_gd_steps_match_simulated_gradient_descent(seed: int, n: int, eta_frac: float, lam: float,
                                                          log_eps: float, residual: bool, zero_start: bool) -> None:
    rng = np.random.default_rng(seed)
    Sigma, sig = _random_spd(rng, n, 0.2, 2.0)
    eta = eta_frac * closed_forms.stability_limit(sig, lam)
    eps = 10.0**log_eps
    # zero weights: W₀ = 0 is M₀ = 0 (plain), A₀ = 0 is M₀ = I (residual)
    M0 = (np.eye(n) if residual else np.zeros((n, n))) if zero_start else rng.normal(size=(n, n))
    predicted = closed_forms.linear_gd_steps(M0, Sigma, eta, lam, eps, residual)
    assert predicted is not None  # 0 < η < 2/(σ_max + λ): every mode contracts
    simulated = _simulated_steps(M0, Sigma, eta, lam, eps, residual, limit=predicted + 10)
    assert simulated is not None
    assert abs(predicted - simulated) <= STEP_SLACK
    if residual and zero_start:
        assert predicted == 0  # A₀ = 0 is M₀ = I = M*: done before the first step


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4), eta_frac=st.floats(0.1, 1.2),
       lam=st.floats(0.0, 1.0), residual=st.booleans())
def test_per_mode_error_energy_matches_simulation(seed: int, n: int, eta_frac: float, lam: float,
                                                  residual: bool) -> None:
    # ‖E_k‖²_F = Σ_i r_i^{2k} c_i at every k, also past the stability limit (η_frac > 1 diverges)
    rng = np.random.default_rng(seed)
    Sigma, sig = _random_spd(rng, n, 0.2, 2.0)
    eta = eta_frac * closed_forms.stability_limit(sig, lam)
    M0 = rng.normal(size=(n, n))
    M_star = closed_forms.fixed_point(Sigma, lam, residual)
    M = M0.copy()
    for k in range(30):
        simulated = float(np.sum((M - M_star) ** 2))
        predicted = closed_forms.linear_gd_error_sq(k, M0, Sigma, eta, lam, residual)
        assert predicted == pytest.approx(simulated, rel=ENERGY_RTOL, abs=1e-12)
        M = _gd_step(M, Sigma, eta, lam, residual)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4), eta_frac=st.floats(0.1, 0.98),
       lam=st.floats(0.0, 1.0), residual=st.booleans(), k=st.integers(0, 60))
def test_closed_form_iterate_matches_simulated_iterate(seed: int, n: int, eta_frac: float, lam: float,
                                                       residual: bool, k: int) -> None:
    # M_k = M* + (M_0 − M*) Q diag(r_i^k) Qᵀ
    rng = np.random.default_rng(seed)
    Sigma, sig = _random_spd(rng, n, 0.2, 2.0)
    eta = eta_frac * closed_forms.stability_limit(sig, lam)
    M0 = rng.normal(size=(n, n))
    M = M0.copy()
    for _ in range(k):
        M = _gd_step(M, Sigma, eta, lam, residual)
    scale = 1.0 + float(np.abs(M0).max())
    assert np.allclose(closed_forms.linear_gd_iterate(k, M0, Sigma, eta, lam, residual), M,
                       rtol=0.0, atol=ENERGY_RTOL * scale)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4), lam=st.floats(0.0, 1.0), residual=st.booleans())
def test_fixed_point_is_stationary_and_rates_contract_each_eigen_mode(seed: int, n: int, lam: float,
                                                                      residual: bool) -> None:
    rng = np.random.default_rng(seed)
    Sigma, _ = _random_spd(rng, n, 0.2, 2.0)
    M_star = closed_forms.fixed_point(Sigma, lam, residual)
    eye = np.eye(n)
    grad = (M_star - eye) @ Sigma + lam * (M_star - eye if residual else M_star)
    assert np.allclose(grad, 0.0, atol=1e-12)
    # one GD step multiplies E Q column i by r_i
    sig, Q = np.linalg.eigh(Sigma)
    eta = 0.7 * closed_forms.stability_limit(sig, lam)
    M0 = rng.normal(size=(n, n))
    E1 = _gd_step(M0, Sigma, eta, lam, residual) - M_star
    expected = ((M0 - M_star) @ Q) * np.array(closed_forms.mode_rates(sig, eta, lam))
    assert np.allclose(E1 @ Q, expected, atol=1e-12)


def test_stability_limit_separates_convergence_from_divergence() -> None:
    Sigma = np.diag([2.0, 0.5])
    lam = 0.5
    limit = closed_forms.stability_limit([2.0, 0.5], lam)
    assert limit == pytest.approx(2.0 / 2.5)
    M0 = np.eye(2) * 3.0
    assert closed_forms.linear_gd_steps(M0, Sigma, 0.99 * limit, lam, 1e-6, residual=False) is not None
    assert closed_forms.linear_gd_steps(M0, Sigma, 1.01 * limit, lam, 1e-6, residual=False) is None
    assert _simulated_steps(M0, Sigma, 1.01 * limit, lam, 1e-6, residual=False, limit=20_000) is None


def test_stuck_mode_at_the_stability_limit_never_converges() -> None:
    # σ = (1, ½), λ = 0, η = 2: r = (−1, 0) exactly in float64; mode 1 oscillates with constant amplitude
    Sigma = np.diag([1.0, 0.5])
    M0 = np.diag([0.0, 1.0])  # error −1 on the stuck mode (plain, M* = I)
    assert closed_forms.mode_rates([1.0, 0.5], 2.0, 0.0).tolist() == [-1.0, 0.0]
    assert closed_forms.linear_gd_steps(M0, Sigma, 2.0, 0.0, 0.5, residual=False) is None
    assert _simulated_steps(M0, Sigma, 2.0, 0.0, 0.5, residual=False, limit=1000) is None
    # energy below ε² on the stuck mode: reached at once
    assert closed_forms.linear_gd_steps(np.diag([0.9, 1.0]), Sigma, 2.0, 0.0, 0.5, residual=False) == 0


def test_strict_threshold_needs_floor_plus_one_not_the_ceiling() -> None:
    # c = 1, r = ½, ε² = 4⁻³: x = ln(ε²/c)/ln r² = 3 exactly; after 3 steps the energy is exactly ε² (not < ε²)
    c, r, eps = 1.0, 0.5, 0.125
    x = math.log(eps**2 / c) / math.log(r * r)
    assert x == 3.0
    assert math.ceil(x) == 3  # Goh's ceiling
    assert closed_forms.single_mode_steps(c, r, eps) == 4
    Sigma = np.array([[1.0]])
    # plain, λ = 0: r = 1 − η = ½ at η = ½; M* = 1, start M₀ = 0 gives c = 1
    assert closed_forms.linear_gd_steps(np.zeros((1, 1)), Sigma, 0.5, 0.0, eps, residual=False) == 4
    assert _simulated_steps(np.zeros((1, 1)), Sigma, 0.5, 0.0, eps, residual=False, limit=10) == 4


def test_divergent_run_can_still_cross_below_epsilon_first() -> None:
    # mode 2 decays fast from a large error while mode 1 grows slowly from a tiny one: f dips below ε², then
    # grows for ever (convexity); the first hitting time is reported
    Sigma = np.diag([2.2, 1.0])
    eta = 1.0  # r = (−1.2, 0)
    M0 = np.eye(2) + np.diag([1e-3, 5.0])  # residual form: M* = I
    predicted = closed_forms.linear_gd_steps(M0, Sigma, eta, 0.0, 0.01, residual=True)
    assert predicted == _simulated_steps(M0, Sigma, eta, 0.0, 0.01, residual=True, limit=100) == 1
    assert closed_forms.linear_gd_steps(M0, Sigma, eta, 0.0, 1e-4, residual=True) is None


# --- deep linear chains ------------------------------------------------------------------------------------


def _chain_crossing_time(weights0: NDArray, s: float, uf: float, residual: bool) -> float:
    """Integrate the full weight flow ẇ_i = (s − u)∏_{j≠i} w_j (residual: w = 1 + a, a trained) until u = uf."""

    def rhs(_t: float, theta: NDArray) -> NDArray:
        w = 1.0 + theta if residual else theta
        u = float(np.prod(w))
        others = np.array([np.prod(np.delete(w, i)) for i in range(w.size)])
        return (s - u) * others  # ∂w/∂a = 1, so the branch flow equals the weight flow

    def event(_t: float, theta: NDArray) -> float:
        return float(np.prod(1.0 + theta if residual else theta)) - uf

    event.terminal = True  # type: ignore[attr-defined]
    sol = solve_ivp(rhs, (0.0, 1e6), weights0, events=event, rtol=1e-11, atol=1e-13, method="DOP853")
    assert sol.t_events[0].size == 1, "the trajectory never reached u_f"
    return float(sol.t_events[0][0])


@SETTINGS
@given(depth=st.integers(1, 6), s=st.floats(0.5, 3.0), start=st.floats(0.02, 0.9), end=st.floats(0.1, 0.95))
def test_learning_time_matches_integrated_full_chain(depth: int, s: float, start: float, end: float) -> None:
    # u₀ = start·s, u_f between u₀ and s: both from below s
    u0 = start * s
    uf = u0 + end * (s - u0)
    w0 = np.full(depth, u0 ** (1.0 / depth))  # balanced start
    measured = _chain_crossing_time(w0, s, uf, residual=False)
    assert closed_forms.learning_time(depth, s, u0, uf) == pytest.approx(measured, rel=FLOW_TIME_RTOL)


@SETTINGS
@given(depth=st.integers(1, 6), s=st.floats(0.5, 3.0), start=st.floats(0.02, 2.0), t=st.floats(0.01, 5.0))
def test_chain_trajectory_matches_integrated_full_chain(depth: int, s: float, start: float, t: float) -> None:
    # u(t) by inverting the closed-form time vs the full weight flow integrated to time t (from either side of s)
    u0 = start * s

    def rhs(_t: float, w: NDArray) -> NDArray:
        u = float(np.prod(w))
        return (s - u) * np.array([np.prod(np.delete(w, i)) for i in range(w.size)])

    sol = solve_ivp(rhs, (0.0, t), np.full(depth, u0 ** (1.0 / depth)), rtol=1e-11, atol=1e-13, method="DOP853")
    measured = float(np.prod(sol.y[:, -1]))
    assert closed_forms.chain_trajectory(depth, s, u0, t) == pytest.approx(measured, rel=FLOW_TIME_RTOL)


@SETTINGS
@given(depth=st.integers(1, 8), delta=st.floats(-0.6, 1.5).filter(lambda d: abs(d) > 0.05),
       end=st.floats(0.1, 0.95))
def test_residual_chain_from_zero_branches_times_like_u0_equal_one(depth: int, delta: float, end: float) -> None:
    s = 1.0 + delta  # target on either side of 1
    uf = 1.0 + end * delta
    measured = _chain_crossing_time(np.zeros(depth), s, uf, residual=True)
    assert closed_forms.residual_learning_time(depth, s, uf) == pytest.approx(measured, rel=FLOW_TIME_RTOL)
    assert closed_forms.learning_time(depth, s, 1.0, uf) == closed_forms.residual_learning_time(depth, s, uf)


@SETTINGS
@given(depth=st.integers(3, 4), s=st.floats(0.3, 4.0), start=st.floats(1e-4, 0.9), end=st.floats(0.05, 0.99),
       above=st.booleans())
def test_closed_forms_agree_with_split_quadrature(depth: int, s: float, start: float, end: float,
                                                  above: bool) -> None:
    # independent formulas for the same integral: antiderivatives G₃, G₄ vs the split integral with quad
    u0 = start * s if not above else s * (1.0 + 3.0 * start)
    uf = u0 + end * (s - u0)
    closed = closed_forms.antiderivative(depth, s, uf) - closed_forms.antiderivative(depth, s, u0)
    assert closed == pytest.approx(closed_forms.learning_time_quadrature(depth, s, u0, uf), rel=QUAD_RTOL)


@settings(max_examples=8, deadline=None)
@given(depth=st.integers(1, 4), s=st.floats(0.5, 2.0), start=st.floats(0.05, 0.5), end=st.floats(0.3, 0.9))
def test_small_step_gradient_descent_time_is_k_eta(depth: int, s: float, start: float, end: float) -> None:
    # t = kη: GD on the chain weights with a small η crosses u_f after ≈ t/η steps
    eta = 1e-3
    u0 = start * s
    uf = u0 + end * (s - u0)
    t = closed_forms.learning_time(depth, s, u0, uf)
    w = np.full(depth, u0 ** (1.0 / depth))
    k = 0
    while np.prod(w) < uf:
        u = np.prod(w)
        w = w + eta * (s - u) * np.array([np.prod(np.delete(w, i)) for i in range(depth)])
        k += 1
        assert k < 10 * t / eta + 100
    assert k * eta == pytest.approx(t, rel=EULER_RTOL)


@pytest.mark.parametrize("depth", [2, 3, 4, 6])
def test_small_init_time_grows_like_the_proved_leading_term(depth: int) -> None:
    # t(u₀) − leading(u₀) converges as u₀ → 0: its change from u₀ = 1e-10 to 1e-14 is tiny next to the lead
    s, uf = 1.5, 1.0
    gaps = [closed_forms.learning_time(depth, s, u0, uf) - closed_forms.small_init_time_leading(depth, s, u0)
            for u0 in (1e-10, 1e-14)]
    lead = closed_forms.small_init_time_leading(depth, s, 1e-14)
    assert abs(gaps[0] - gaps[1]) < 1e-3 * lead
    if depth == 2:  # the proved finite remainder ln(s u_f/(s − u_f))/(2s)
        assert gaps[1] == pytest.approx(math.log(s * uf / (s - uf)) / (2 * s), abs=1e-9)


@SETTINGS
@given(depth=st.integers(1, 12), delta=st.floats(0.01, 1.0), rho=st.floats(0.01, 0.9))
def test_residual_time_lies_between_proved_bounds(depth: int, delta: float, rho: float) -> None:
    s = 1.0 + delta
    t = closed_forms.residual_learning_time(depth, s, s - rho * delta)
    log_term = math.log(1.0 / rho)
    assert log_term / (depth * s**2) * (1 - 1e-12) <= t <= log_term / depth * (1 + 1e-12)


@SETTINGS
@given(delta=st.floats(0.01, 1.0), rho=st.floats(0.01, 0.9))
def test_residual_time_to_a_target_above_one_falls_with_depth(delta: float, rho: float) -> None:
    # for u ≥ 1 the rate N u^{2−2/N}(s − u) grows with N, so the time from u = 1 strictly falls
    s = 1.0 + delta
    times = [closed_forms.residual_learning_time(depth, s, s - rho * delta) for depth in range(1, 10)]
    assert all(later < earlier for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize(("s", "u0", "uf"), [(1.0, 0.2, 0.8), (2.0, 0.5, 1.9), (1.0, 3.0, 1.5)])
def test_depth_times_learning_time_tends_to_the_deep_limit(s: float, u0: float, uf: float) -> None:
    # N·t_N → ∫ du/(u²(s − u)) = [−1/(su) + ln|u/(s − u)|/s²]; the gap closes like 1/N
    def g_inf(u: float) -> float:
        return -1.0 / (s * u) + math.log(abs(u / (s - u))) / s**2

    limit = g_inf(uf) - g_inf(u0)
    gaps = [abs(depth * closed_forms.learning_time(depth, s, u0, uf) - limit) for depth in (50, 100, 200, 400)]
    assert all(later < earlier for earlier, later in itertools.pairwise(gaps))
    assert gaps[-1] < 0.05 * abs(limit)


def test_end_to_end_rate_conventions() -> None:
    # depth 2: Saxe Eq. (10) with τ = 1: 2u(s − u); depth 1: s − u
    assert closed_forms.end_to_end_rate(2, 0.3, 1.0) == pytest.approx(2 * 0.3 * 0.7)
    assert closed_forms.end_to_end_rate(1, 0.3, 1.0) == pytest.approx(0.7)
    assert closed_forms.end_to_end_rate(4, 0.25, 1.0) == pytest.approx(4 * 0.25**1.5 * 0.75)


@pytest.mark.parametrize(
    ("depth", "s", "u0", "uf"),
    [(2, 1.0, 0.5, 1.5), (3, 1.0, 0.5, 0.2), (2, -1.0, 0.5, 0.6), (0, 1.0, 0.5, 0.6), (2, 1.0, 1.0, 0.9)],
)
def test_learning_time_rejects_unreachable_or_invalid_intervals(depth: int, s: float, u0: float, uf: float) -> None:
    with pytest.raises(ValueError):
        closed_forms.learning_time(depth, s, u0, uf)


def test_learning_time_edge_values() -> None:
    assert closed_forms.learning_time(3, 1.0, 0.4, 0.4) == 0.0
    assert closed_forms.learning_time(3, 1.0, 0.4, 1.0) == math.inf


# --- weight decay, and the GD step count against brute force (moved from proofs/ and test_experiments) -------

FLOAT_RTOL = 1e-12  # float64 products of ≤ 60 factors: ~60 ulp ≈ 1e-14, far below any formula error
LINALG_RTOL = 1e-10  # LAPACK solve / eigvalsh on 3×3 with cond(Σ + λI) ≲ 1e3: errors ~1e-13


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decay_helpers_match_simulated_gradient_descent(seed: int) -> None:
    # independent answer: iterate w ← w − ηλw in float64 and solve (Σ + λI)Wᵀ = Σ with numpy
    rng = np.random.default_rng(seed)
    eta, lam, steps = rng.uniform(0.01, 0.5), rng.uniform(0.1, 3.0), int(rng.integers(1, 60))
    w = 1.0
    for _ in range(steps):
        w -= eta * lam * w
    assert math.isclose(closed_forms.decay_factor(eta, lam, steps), w, rel_tol=FLOAT_RTOL)
    assert closed_forms.flow_decay_factor(lam, 0.0) == 1.0
    root = rng.normal(size=(3, 3))
    sigma = root @ root.T + 0.1 * np.eye(3)
    w_star = np.linalg.solve(sigma + lam * np.eye(3), sigma).T  # Σ(Σ + λI)⁻¹, Σ symmetric
    eigs = np.linalg.eigvalsh(sigma)
    assert np.allclose(np.sort(np.linalg.eigvalsh((w_star + w_star.T) / 2)),
                       sorted(closed_forms.ridge_shrinkage(eigs.tolist(), lam)), rtol=LINALG_RTOL, atol=0)
    assert np.allclose(closed_forms.fixed_point(sigma, lam, residual=False), w_star, rtol=LINALG_RTOL, atol=1e-14)
    gap = np.eye(3) - w_star
    fro = np.linalg.norm(gap, "fro")
    assert math.isclose(closed_forms.ridge_distance(eigs.tolist(), lam), fro, rel_tol=LINALG_RTOL)
    assert math.isclose(closed_forms.ridge_distance(eigs.tolist(), lam, "spectral"), np.linalg.norm(gap, 2),
                        rel_tol=LINALG_RTOL)


@pytest.mark.parametrize("k", [0, 1, 7, 50])
def test_oscillating_decay_keeps_its_sign_and_overflow_is_infinite_not_an_error(k: int) -> None:
    # 1 − ηλ = −0.5 < 0 (stable but oscillating): the factor alternates in sign; 1 − ηλ = −3: |factor| grows
    w = 1.0
    for _ in range(k):
        w -= 1.5 * w
    assert closed_forms.decay_factor(1.5, 1.0, k) == pytest.approx(w, rel=FLOAT_RTOL)
    assert math.isinf(closed_forms.decay_factor(4.0, 1.0, 10**6))  # (−3)^(10⁶) overflows float64: inf, no error
    assert math.isinf(closed_forms.linear_gd_error_sq(10**6, np.eye(2) * 3, np.eye(2), 3.0, 0.0, residual=False))


def test_gd_step_count_equals_a_brute_force_numpy_simulation() -> None:
    # independent: iterate e ← e(I − η(Σ + λI)) until ‖e‖_F < ε, with M* = Σ(Σ + λI)⁻¹ from numpy's inverse
    rng = np.random.default_rng(0)
    for residual in (False, True):
        for _ in range(5):
            Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
            Sigma = Q @ np.diag(rng.uniform(0.3, 2.0, 3)) @ Q.T
            M0 = np.eye(3) + rng.normal(scale=0.5, size=(3, 3))
            eta, lam, eps = float(rng.uniform(0.05, 0.8)), float(rng.uniform(0, 0.3)), 1e-5
            Mstar = np.eye(3) if residual else Sigma @ np.linalg.inv(Sigma + lam * np.eye(3))
            e, k = M0 - Mstar, 0
            while np.linalg.norm(e) >= eps:
                e = e @ (np.eye(3) - eta * (Sigma + lam * np.eye(3)))
                k += 1
            predicted = closed_forms.linear_gd_steps(M0, Sigma, eta, lam, eps, residual)
            assert predicted is not None and abs(predicted - k) <= STEP_SLACK
    assert closed_forms.linear_gd_steps(np.eye(2) * 3, np.eye(2), 2.5, 0.0, 1e-3, False) is None  # |1 − 2.5| > 1


def test_learning_time_equals_an_independent_quadrature_of_the_raw_integrand() -> None:
    # two independent evaluations of t = ∫ du / (L u^{2−2/L}(s − u)): scipy quadrature of the integrand as typed
    # here vs the closed forms / split quadrature of numerics.closed_forms
    from scipy import integrate

    def flow_time(L: int, s: float, u0: float, uf: float) -> float:
        val, _ = integrate.quad(lambda u: 1.0 / (L * u ** (2.0 - 2.0 / L) * (s - u)), u0, uf, limit=200,
                                epsabs=0.0, epsrel=1e-12)
        return float(val)

    for L in (1, 2, 3, 4, 6):
        for u0, uf in ((0.05, 1.9), (1.0, 1.98), (0.3, 0.5)):
            assert flow_time(L, 2.0, u0, uf) == pytest.approx(closed_forms.learning_time(L, 2.0, u0, uf), rel=1e-8)


# --- Hardt & Ma, size 2 (numeric check only) ---------------------------------------------------------------


def _product(mats: list[NDArray]) -> NDArray:
    out = np.eye(mats[0].shape[0])
    for m in mats:
        out = m @ out  # (I + A_ℓ)⋯(I + A_1): later layers on the left
    return out


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3), tau=st.floats(0.05, 0.9))
def test_hardt_ma_gradient_bound_holds_on_random_two_by_two_instances(seed: int, depth: int, tau: float) -> None:
    # f = tr((M − R)Σ(M − R)ᵀ), M = Π(I + A_i), ‖A_i‖₂ ≤ τ: ‖∇f‖² ≥ 4ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ) f
    rng = np.random.default_rng(seed)
    Sigma, sig = _random_spd(rng, 2, 0.1, 3.0)
    R = rng.normal(size=(2, 2))
    A = []
    for _ in range(depth):
        B = rng.normal(size=(2, 2))
        A.append(B * (tau * rng.uniform(0.0, 1.0) / np.linalg.norm(B, 2)))
    layers = [np.eye(2) + a for a in A]
    E = _product(layers) - R
    f = float(np.trace(E @ Sigma @ E.T))
    grads = []
    for i in range(depth):
        before = _product(layers[:i]) if i else np.eye(2)
        after = _product(layers[i + 1:]) if i + 1 < depth else np.eye(2)
        grads.append(2 * after.T @ E @ Sigma @ before.T)
    # the analytic gradient agrees with central differences (step 1e-6, error O(1e-12) relative)
    h = 1e-6
    for i in range(depth):
        fd = np.zeros((2, 2))
        for j in range(2):
            for k in range(2):
                for sign in (1, -1):
                    shifted = [m.copy() for m in layers]
                    shifted[i][j, k] += sign * h
                    Es = _product(shifted) - R
                    fd[j, k] += sign * float(np.trace(Es @ Sigma @ Es.T)) / (2 * h)
        assert np.allclose(fd, grads[i], rtol=1e-5, atol=1e-6)
    grad_sq = sum(float(np.sum(g**2)) for g in grads)
    bound = 4 * depth * (1 - tau) ** (2 * (depth - 1)) * sig.min() * f
    assert grad_sq >= bound * (1 - 1e-12)


# --- planted errors: the checker must reject wrong versions of these closed forms --------------------------


def _planted(step: Step) -> Status:
    return verify(Derivation(id="planted", title="planted", claims=("C12",), statement="", steps=(step,))).status


def test_planted_wrong_closed_forms_fail() -> None:
    lb, lt, hm = linear_block, learning_time, hardt_ma
    k = lb.k
    wrong_rate = 1 - lb.eta * lb.sigma  # forgets the decay's λ in the contraction factor
    wrong_iterate = lb.w_star + wrong_rate**k * (lb.w0 - lb.w_star)
    assert _planted(Equal(wrong_iterate.subs(k, k + 1),
                          wrong_iterate - lb.eta * sp.diff(lb.mode_loss(lb.w), lb.w).subs(lb.w, wrong_iterate),
                          "planted")) is Status.FAILED
    wrong_g2 = sp.log(lt.u / (lt.s - lt.u)) / lt.s  # 1/s instead of Saxe's 1/(2s)
    assert _planted(Equal(sp.diff(wrong_g2, lt.u), lt.integrand(sp.S(2)), "planted")) is Status.FAILED
    # Hardt & Ma's bound as quoted, (1 − τ)^{ℓ−1} σ², claimed on the whole ball: a counterexample exists
    f = hm.residual_objective_depth2()
    ball = {hm.a1: hm.c + hm.p1 - 1, hm.a2: hm.c + hm.p2 - 1}
    grad_sq = sum(sp.diff(f, a) ** 2 for a in (hm.a1, hm.a2))
    quoted = 8 * hm.c * hm.sigma**2 * f
    # On the whole ball the counterexample region is small (c < σ with small p_i); the inequality sampler draws
    # magnitudes over several scales and finds it.  At the explicit point of `hardt-ma.gradient-lower-bound-small`
    # it is refuted exactly.
    assert _planted(Inequality(grad_sq.subs(ball), quoted.subs(ball), "planted", relation="≥")) is Status.FAILED
    point = {hm.a1: -sp.S.Half, hm.a2: -sp.S.Half, hm.c: sp.S.Half, hm.sigma: 1}
    assert _planted(Inequality(grad_sq.subs(point), quoted.subs(point), "planted", relation="≥")) is Status.FAILED
