"""Numeric cross-checks of theory/jacobian.py (C3): Jacobians of linear stacks computed by
autograd (float64 PyTorch) against the closed forms, Monte Carlo means of the random-init
gain, and the measured spread of singular values through depth (which is not proved).

Evidence only: the proofs are in proofs/test_jacobian.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import jacobian

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FLOAT64_EXACT = 1e-12  # relative slack for identities evaluated in float64 (products of ≤ 5 small matrices)
MC_SIGMAS = 6  # Monte Carlo means must sit within 6 standard errors (two-sided miss probability ~2e-9)


def _stack(scale: float, branches: torch.Tensor):  # type: ignore[no-untyped-def]
    # x_i = λ x_{i−1} + A_i x_{i−1} (λ = 1: residual; A_i = 0 and λ = 1: identity), branches (L, n, n)
    def forward(x: torch.Tensor) -> torch.Tensor:
        for A in branches:
            x = scale * x + A @ x
        return x

    return forward


def _expansion(scale: float, branches: torch.Tensor) -> torch.Tensor:
    # J = Σ over subsets {i₁ < … < i_k} of λ^(L−k) A_{i_k}⋯A_{i₁}: the direct term λ^L I plus branch terms
    depth, n, _ = branches.shape
    total = torch.zeros(n, n, dtype=torch.float64)
    for k in range(depth + 1):
        for subset in itertools.combinations(range(depth), k):
            term = torch.eye(n, dtype=torch.float64)
            for i in subset:
                term = branches[i] @ term
            total = total + scale ** (depth - k) * term
    return total


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, n=st.integers(2, 5), depth=st.integers(1, 5), scale=st.sampled_from([1.0, 0.5, 2.0, -0.7]))
def test_autograd_jacobian_equals_the_subset_expansion(seed: int, n: int, depth: int, scale: float) -> None:
    # He et al. 2016b Eq. (4)–(5): J = ∏(λI + A_i) = λ^L I + Σ λ^(L−1) A_i + …; autograd is the independent answer
    gen = torch.Generator().manual_seed(seed)
    branches = torch.randn(depth, n, n, generator=gen, dtype=torch.float64) / n
    x0 = torch.randn(n, generator=gen, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(_stack(scale, branches), x0)
    expected = _expansion(scale, branches)
    assert torch.allclose(J, expected, rtol=0, atol=FLOAT64_EXACT * (1 + float(expected.abs().max())))
    J0 = torch.autograd.functional.jacobian(_stack(scale, torch.zeros_like(branches)), x0)
    direct = float(jacobian.scaled_shortcut_direct_gain(sp.Float(scale), depth))
    assert torch.allclose(J0, direct * torch.eye(n, dtype=torch.float64), rtol=FLOAT64_EXACT, atol=0)
    values = [float(v) for v in jacobian.jacobian_singular_values("scaled-shortcut", depth, n, sp.Float(scale))]
    assert np.allclose(np.linalg.svd(J0.numpy(), compute_uv=False), values, rtol=FLOAT64_EXACT, atol=0)


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, n=st.integers(2, 5), depth=st.integers(1, 5))
def test_input_gradient_is_jacobian_transpose_times_output_gradient(seed: int, n: int, depth: int) -> None:
    # E = ½‖x_L − y‖²: ∇_{x_0}E = Jᵀ(x_L − y); a zero residual stack passes x_L − y through unchanged,
    # a plain stack with every layer scaled by s passes ~ s^L of it
    gen = torch.Generator().manual_seed(seed)
    branches = torch.randn(depth, n, n, generator=gen, dtype=torch.float64) / n
    x0, y = (torch.randn(n, generator=gen, dtype=torch.float64) for _ in range(2))

    def input_gradient(forward) -> torch.Tensor:  # type: ignore[no-untyped-def]
        x = x0.clone().requires_grad_(True)
        (0.5 * ((forward(x) - y) ** 2).sum()).backward()
        assert x.grad is not None
        return x.grad

    residual = _stack(1.0, branches)
    J = _expansion(1.0, branches)
    g = input_gradient(residual)
    assert torch.allclose(g, J.T @ (residual(x0) - y).detach(), rtol=0, atol=FLOAT64_EXACT * (1 + float(g.abs().max())))
    assert torch.allclose(input_gradient(_stack(1.0, torch.zeros_like(branches))), x0 - y, rtol=FLOAT64_EXACT, atol=0)
    s = 1e-2
    plain = torch.randn(depth, n, n, generator=gen, dtype=torch.float64)
    P = _expansion(0.0, plain)  # W_L⋯W_1
    g_small = input_gradient(_stack(0.0, s * plain))
    # ∇ = s^L Pᵀ(s^L P x_0 − y) = −s^L Pᵀy + O(s^(2L))
    expected = -(s**depth) * (P.T @ y)
    second_order = s ** (2 * depth) * float((P.T @ P).abs().sum(dim=1).max()) * float(x0.abs().max())
    assert torch.allclose(g_small, expected, rtol=FLOAT64_EXACT, atol=second_order * (1 + FLOAT64_EXACT))


GAIN_GRID = [  # (residual, n·σ²): the inits of the theorem
    (False, 1.0),  # Xavier, plain: preserved
    (False, 2.0),  # Kaiming on a linear plain stack: doubles per layer
    (False, 0.5),
    (True, 1.0),  # Xavier branches on a residual stack: doubles per layer
    (True, 0.25),
]


@pytest.mark.parametrize(("residual", "gain"), GAIN_GRID)
@pytest.mark.parametrize("depth", [1, 3])
@settings(max_examples=3, deadline=None)
@given(seed=SEEDS)
def test_monte_carlo_mean_square_gain_matches_closed_form(residual: bool, gain: float, depth: int, seed: int) -> None:
    # E‖Jx‖²/‖x‖² = (1/n) E‖J‖²_F = (nσ²)^L plain, (1 + nσ²)^L residual
    n, samples = 4, 20000
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(samples, depth, n, n)) * np.sqrt(gain / n)
    J = np.broadcast_to(np.eye(n), (samples, n, n)).copy()
    for i in range(depth):
        layer = weights[:, i] + (np.eye(n) if residual else 0.0)
        J = layer @ J
    x = rng.normal(size=n)
    ratio = np.sum((J @ x) ** 2, axis=1) / np.sum(x**2)
    frob = np.sum(J**2, axis=(1, 2)) / n
    expected = float(jacobian.mean_squared_singular_value(depth, n, sp.Rational(gain) / n, residual))
    for values in (ratio, frob):
        standard_error = values.std(ddof=1) / np.sqrt(samples)
        assert abs(values.mean() - expected) < MC_SIGMAS * standard_error


@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_isometric_inits_keep_every_singular_value_at_one_for_any_depth(seed: int) -> None:
    # zero-init residual: J = I exactly; orthogonal plain: JᵀJ = I up to rounding growing ~ linearly in depth
    n, depth = 8, 64
    rng = np.random.default_rng(seed)
    J = np.eye(n)
    for _ in range(depth):
        Q, R = np.linalg.qr(rng.normal(size=(n, n)))
        J = (Q * np.sign(np.diag(R))) @ J  # Haar-distributed orthogonal layer
    sv = np.linalg.svd(J, compute_uv=False)
    exact = [float(v) for v in jacobian.jacobian_singular_values("orthogonal", depth, n)]
    assert np.allclose(sv, exact, rtol=0, atol=depth * 10 * np.finfo(float).eps)
    x0 = torch.tensor(rng.normal(size=n))
    J0 = torch.autograd.functional.jacobian(_stack(1.0, torch.zeros(depth, n, n, dtype=torch.float64)), x0)
    assert torch.equal(J0, torch.eye(n, dtype=torch.float64))


LOG_COND_GROWTH = 0.5  # measured ≈ 1.7 per layer for n = 8 Xavier plain stacks; we require less than a third of it
LOG_COND_DRIFT = 1.0  # measured median change ≈ −0.2 from L = 1 to 16 for depth-scaled residual branches


def _median_log_condition(rng: np.random.Generator, n: int, depth: int, residual: bool, samples: int = 64) -> float:
    out = []
    for _ in range(samples):
        J = np.eye(n)
        for _ in range(depth):
            if residual:  # branch variance c/(nL) with c = 1 (the (1 + c/L)^L → e^c regime)
                J = (np.eye(n) + rng.normal(size=(n, n)) / np.sqrt(n * depth)) @ J
            else:  # Xavier, σ² = 1/n
                J = rng.normal(size=(n, n)) / np.sqrt(n) @ J
        sv = np.linalg.svd(J, compute_uv=False)
        out.append(np.log(sv[0] / sv[-1]))
    return float(np.median(out))


@settings(max_examples=3, deadline=None)
@given(seed=SEEDS)
def test_singular_value_spread_grows_with_depth_for_plain_but_not_depth_scaled_residual(seed: int) -> None:
    # measured, not proved: the mean square is preserved (theorem) but the spread of a plain product widens
    rng = np.random.default_rng(seed)
    n, shallow, deep = 8, 1, 16
    plain_growth = _median_log_condition(rng, n, deep, False) - _median_log_condition(rng, n, shallow, False)
    residual_growth = _median_log_condition(rng, n, deep, True) - _median_log_condition(rng, n, shallow, True)
    assert plain_growth > LOG_COND_GROWTH * (deep - shallow)
    assert residual_growth < LOG_COND_DRIFT


def test_singular_values_are_refused_where_they_are_random() -> None:
    # Gaussian inits have no deterministic singular values: the function says so instead of guessing
    with pytest.raises(ValueError, match="no exact singular values"):
        jacobian.jacobian_singular_values("gaussian", 3, 4)
