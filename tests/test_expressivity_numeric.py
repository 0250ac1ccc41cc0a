"""Numeric cross-checks of theory/expressivity.py and theory/tanh_block.py (C5, C11): constructions in float64 PyTorch,
regularised optima against integrated gradient-flow trajectories (SciPy), over random parameters.

Evidence only: the proofs are in proofs/test_expressivity.py and proofs/test_tanh_block.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar

from theory import tanh_block

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FLOAT64_EXACT = 1e-12  # relative slack for identities that hold exactly but are evaluated in float64
FLOW_RTOL = 1e-10  # solve_ivp tolerances for the gradient-flow trajectories
CRITICAL = 1e-8  # |∇J| at the end of a trajectory that counts as a critical point (flows reach ~1e-15)
ROOT_SLACK = 1e-7  # |s_flow − s_root|: end points sit within ~|∇J|/curvature of the root (measured ~1e-15)


def _relu_block(V: torch.Tensor, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # f(x) = V relu(Wx), batched over the columns of x
    return V @ torch.relu(W @ x)


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS, n=st.integers(min_value=1, max_value=6))
def test_width_2n_relu_block_is_exactly_the_identity(seed: int, n: int) -> None:
    # W = [I; −I], V = [I, −I]: V relu(Wx) = relu(x) − relu(−x) = x; exact in floating point
    gen = torch.Generator().manual_seed(seed)
    eye = torch.eye(n, dtype=torch.float64)
    W, V = torch.cat([eye, -eye]), torch.cat([eye, -eye], dim=1)
    x = torch.randn(n, 64, generator=gen, dtype=torch.float64) * 10
    assert torch.equal(_relu_block(V, W, x), x)


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS, n=st.integers(min_value=1, max_value=6))
def test_width_n_relu_block_splits_into_odd_part_VWx_and_even_part_V_abs_Wx(seed: int, n: int) -> None:
    # the two identities the impossibility proof rests on, for random V, W
    gen = torch.Generator().manual_seed(seed)
    V, W = (torch.randn(n, n, generator=gen, dtype=torch.float64) for _ in range(2))
    x = torch.randn(n, 64, generator=gen, dtype=torch.float64)
    f_plus, f_minus = _relu_block(V, W, x), _relu_block(V, W, -x)
    scale = 1 + float((V.abs() @ (W.abs() @ x.abs())).max())
    assert torch.allclose(f_plus - f_minus, V @ W @ x, rtol=0, atol=FLOAT64_EXACT * scale)
    assert torch.allclose(f_plus + f_minus, V @ (W @ x).abs(), rtol=0, atol=FLOAT64_EXACT * scale)


@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_width_1_relu_block_on_symmetric_data_cannot_beat_a_quarter_of_the_second_moment(seed: int) -> None:
    # n = 1: v relu(wx) = c relu(±x); on data closed under x ↦ −x the best fit is c = 1 on one half,
    # so ½ mean (f(x) − x)² ≥ ¼ mean x² > 0.  Simulated GD (float64) from 64 random inits stays above it.
    rng = np.random.default_rng(seed)
    half = rng.normal(size=32)
    xs = np.concatenate([half, -half])  # (N,)
    w, v = rng.normal(size=(2, 64, 1))  # (inits, 1) each; gradients written out, simulated GD in float64
    for _ in range(300):
        h = np.maximum(w * xs, 0.0)  # (inits, N)
        r = v * h - xs
        grad_w = np.mean(r * v * xs * (h > 0), axis=1, keepdims=True)
        grad_v = np.mean(r * h, axis=1, keepdims=True)
        w, v = w - 0.1 * grad_w, v - 0.1 * grad_v
    final = 0.5 * np.mean((v * np.maximum(w * xs, 0.0) - xs) ** 2, axis=1)
    bound = 0.25 * float((xs**2).mean())
    assert final.min() >= bound * (1 - FLOAT64_EXACT)
    assert final.min() <= bound * 1.01  # and GD does get there: the bound is the optimum


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.3, 1.0, 2.0])
def test_tanh_block_series_matches_the_next_taylor_coefficient(x: float) -> None:
    # ((1/ε) tanh(εx) − x + ε²x³/3)/ε⁴ → 2x⁵/15; the next term of the series is −17ε²x⁷/315
    eps = 1e-2
    remainder = (np.tanh(eps * x) / eps - x + eps**2 * x**3 / 3) / eps**4
    cancellation = 1e3 * np.finfo(float).eps * abs(x) / eps**4  # float64 rounding of O(1) terms, magnified
    assert remainder == pytest.approx(2 * x**5 / 15, abs=2 * 17 / 315 * eps**2 * abs(x) ** 7 + cancellation)


def test_tanh_block_l2_cost_of_accuracy_grows_like_one_over_the_error() -> None:
    # sup error on [−1, 1] of (1/ε) tanh(εx) is 1 − tanh(ε)/ε ≈ ε²/3 = δ; cost ε² + 1/ε² ≈ 1/(3δ)
    products = []
    for delta in (1e-2, 1e-3, 1e-4):
        eps = brentq(lambda e, d=delta: 1 - np.tanh(e) / e - d, 1e-6, 3.0, xtol=1e-14)
        products.append((eps**2 + 1 / eps**2) * delta)
    assert products[-1] == pytest.approx(1 / 3, rel=1e-3)  # leading-order prediction, O(δ) corrections
    assert abs(products[-1] - 1 / 3) < abs(products[0] - 1 / 3)  # converging as δ → 0


@settings(max_examples=20, deadline=None)
@given(a=st.floats(0.2, 2.0), ratio=st.floats(1.2, 3.0))
def test_two_magnitudes_are_fitted_only_in_the_limit_at_the_series_rate(a: float, ratio: float) -> None:
    # data {±a, ±b}, b = ratio·a: with w₂ chosen by least squares (independent of theory/), the unregularised loss
    # is > 0 at every w₁ > 0 and behaves as C w₁⁴ with C = mean((x³ − (E x⁴/E x²) x)²)/18 (the −ε²x³/3 term)
    xs = np.array([a, -a, ratio * a, -ratio * a])
    C = np.mean((xs**3 - np.mean(xs**4) / np.mean(xs**2) * xs) ** 2) / 18
    for w_1 in np.geomspace(1.0, 1e-2, 9) / (ratio * a):
        T = np.tanh(w_1 * xs)
        w_2 = np.sum(xs * T) / np.sum(T**2)
        loss = 0.5 * np.mean((w_2 * T - xs) ** 2)
        assert loss > 0
    # at the smallest w₁ (w₁·max|x| = 1e-2) the relative O(w₁²) correction measures ≤ 1e-4; allow 1e-3
    assert loss / w_1**4 == pytest.approx(C, rel=1e-3)


def _flow(grad, w0: np.ndarray, horizon: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    # gradient flow ẇ = −∇J(w), integrated with SciPy (LSODA switches to a stiff method when needed)
    sol = solve_ivp(lambda _t, w: -grad(w), (0.0, horizon), w0, method="LSODA", rtol=FLOW_RTOL, atol=FLOW_RTOL)
    assert sol.success, sol.message
    return sol.y[:, -1]


def _two_point_grad(a: float, lam: float):  # type: ignore[no-untyped-def]
    # ∇J for J = ½(w₂ tanh(w₁a) − a)² + (λ/2)‖w‖², written out independently of theory/
    def grad(w: np.ndarray) -> np.ndarray:
        T = np.tanh(w[0] * a)
        r = w[1] * T - a
        return np.array([r * w[1] * a * (1 - T**2) + lam * w[0], r * T + lam * w[1]])

    return grad


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, a=st.floats(0.6, 2.0), ratio=st.floats(0.05, 0.7))
def test_two_point_tanh_optimum_matches_the_gradient_flow_end_point(seed: int, a: float, ratio: float) -> None:
    # λ = ratio·a² < a²: the origin is a saddle, the flow ends at a nonzero critical point (±s*)
    lam = ratio * a**2
    opt = tanh_block.tanh_block_regularised_optimum(sp.Float(a), sp.Float(lam))
    g = sp.lambdify(opt.s, opt.stationarity, "numpy")
    w2_of, err_of = (sp.lambdify(opt.s, e, "numpy") for e in (opt.w2, opt.error))
    rng = np.random.default_rng(seed)
    grad = _two_point_grad(a, lam)
    w = _flow(grad, rng.normal(size=2) + np.array([0.5, 0.5]), horizon=400.0 / lam)
    assert np.linalg.norm(grad(w)) < CRITICAL
    s_flow = w[0] * a
    if abs(s_flow) < 1e-3:  # a measure-zero start on the saddle's stable manifold; nothing to compare
        return
    sign = np.sign(s_flow)  # J is invariant under w ↦ −w
    s_root = brentq(g, 1e-9, 50.0, xtol=1e-14)  # g(0⁺) > 0 when λ < a², g(s) < 0 for large s
    assert abs(sign * s_flow - s_root) < ROOT_SLACK
    assert sign * w[1] == pytest.approx(w2_of(s_root), abs=ROOT_SLACK * (1 + a**2 / lam))
    error = w[1] * np.tanh(w[0] * a) - a
    assert error == pytest.approx(err_of(s_root), abs=ROOT_SLACK * (1 + a**2 / lam))
    assert abs(error) > a * lam / (1 + lam)  # the floor of the theorem


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS, a=st.floats(0.3, 1.5), ratio=st.floats(1.2, 4.0))
def test_two_point_tanh_block_switches_off_when_decay_exceeds_a_squared(seed: int, a: float, ratio: float) -> None:
    # λ > a²: origin a strict minimum (proved); no other critical point (numerically checked here only):
    # g(s) < 0 on a grid of s > 0, and the gradient flow from a random start ends at w = 0
    lam = ratio * a**2
    opt = tanh_block.tanh_block_regularised_optimum(sp.Float(a), sp.Float(lam))
    g = sp.lambdify(opt.s, opt.stationarity, "numpy")
    grid = np.linspace(1e-6, 20.0, 4001)
    assert np.all(g(grid) < 0)
    w = _flow(_two_point_grad(a, lam), np.random.default_rng(seed).normal(size=2) * 2, horizon=200.0 / lam)
    assert np.linalg.norm(w) < CRITICAL


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS, lam=st.floats(0.01, 1.0))
def test_weight_decay_floor_holds_for_random_data_and_residual_block_goes_to_zero(seed: int, lam: float) -> None:
    # any data: with w₂ minimising J(w₁, ·) (found numerically, not from the closed form) the plain block's
    # data loss is ≥ ½E[x²](λ/(1+λ))², at random w₁ and at the end of the gradient flow; the residual flow ends at 0
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=16) * rng.uniform(0.3, 3.0)
    floor = float(tanh_block.tanh_block_error_floor(sp.Float(np.mean(xs**2)), sp.Float(lam)))

    def plain_objective(w_1: float, w_2: float) -> float:
        return float(0.5 * np.mean((w_2 * np.tanh(w_1 * xs) - xs) ** 2) + lam / 2 * (w_1**2 + w_2**2))

    def plain_grad(w: np.ndarray) -> np.ndarray:
        T = np.tanh(w[0] * xs)
        r = w[1] * T - xs
        return np.array([np.mean(r * w[1] * xs * (1 - T**2)) + lam * w[0], np.mean(r * T) + lam * w[1]])

    def residual_grad(w: np.ndarray) -> np.ndarray:
        T = np.tanh(w[0] * xs)
        r = w[1] * T  # (x + w₂T) − x
        return np.array([np.mean(r * w[1] * xs * (1 - T**2)) + lam * w[0], np.mean(r * T) + lam * w[1]])

    w0 = rng.normal(size=2) + np.array([1.0, 1.0])
    w_1_end = _flow(plain_grad, w0, horizon=400.0 / lam)[0]
    for w_1 in [w_1_end, *rng.normal(size=8) * 3]:
        best = minimize_scalar(lambda w_2, w_1=w_1: plain_objective(w_1, w_2), bracket=(-10.0, 10.0), tol=1e-12)
        data_loss = 0.5 * np.mean((best.x * np.tanh(w_1 * xs) - xs) ** 2)
        assert data_loss >= floor
    w_res = _flow(residual_grad, w0, horizon=400.0 / lam)  # J ≥ (λ/2)‖w‖²: exponential decay at rate ≥ λ near 0
    assert np.linalg.norm(w_res) < CRITICAL
