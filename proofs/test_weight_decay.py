"""Proofs of theory/weight_decay.py (C10), and the float helpers against independent simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory import weight_decay
from theory.derivation import Status

FLOAT_RTOL = 1e-12  # float64 products of ≤ 60 factors: ~60 ulp ≈ 1e-14, far below any formula error
LINALG_RTOL = 1e-10  # LAPACK solve / eigvalsh on 3×3 with cond(Σ + λI) ≲ 1e3: errors ~1e-13


def test_weight_decay_alone_shrinks_weights_geometrically(prove) -> None:
    # ∇(λ/2)‖W‖² = λW;  Ẇ = −λW ⇒ W(t) = e^{−λt}W₀;  W_{k+1} = (1 − ηλ)W_k ⇒ W_k = (1 − ηλ)^k W₀
    result = prove(weight_decay.decay_alone())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_weight_decay_gd_converges_iff_eta_lambda_below_two(prove) -> None:
    # |1 − u|² − 1 = u(u − 2): negative on (0, 2), nonnegative on (−∞, 0] and [2, ∞)
    result = prove(weight_decay.decay_convergence())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established


def test_weight_decay_residual_minimiser_is_zero(prove) -> None:
    # ∇J = W(Σ + λI) = 0 at W = 0 (every n); Hessian I ⊗ Σ + λI ⪰ λI ≻ 0 ⇒ unique (checked entrywise for n = 2)
    result = prove(weight_decay.residual_minimiser())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
    assert result.derivation.instance == "n = 2"


def test_weight_decay_pulls_plain_minimiser_away_from_identity(prove) -> None:
    # ∇J = W(Σ + λI) − Σ = 0 at W* = Σ(Σ + λI)⁻¹;  I − W* = λ(Σ + λI)⁻¹, per mode λ/(σ + λ) > 0 (every n);
    # W* the unique minimiser: Hessian ⪰ λI checked entrywise for n = 2
    result = prove(weight_decay.plain_minimiser())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
    assert result.derivation.instance == "n = 2"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decay_helpers_match_simulated_gradient_descent(seed: int) -> None:
    # independent answer: iterate w ← w − ηλw in float64 and solve (Σ + λI)Wᵀ = Σ with numpy
    rng = np.random.default_rng(seed)
    eta, lam, steps = rng.uniform(0.01, 0.5), rng.uniform(0.1, 3.0), int(rng.integers(1, 60))
    w = 1.0
    for _ in range(steps):
        w -= eta * lam * w
    assert math.isclose(weight_decay.decay_factor(eta, lam, steps), w, rel_tol=FLOAT_RTOL)
    assert weight_decay.flow_decay_factor(lam, 0.0) == 1.0
    root = rng.normal(size=(3, 3))
    sigma = root @ root.T + 0.1 * np.eye(3)
    w_star = np.linalg.solve(sigma + lam * np.eye(3), sigma).T  # Σ(Σ + λI)⁻¹, Σ symmetric
    eigs = np.linalg.eigvalsh(sigma)
    assert np.allclose(np.sort(np.linalg.eigvalsh((w_star + w_star.T) / 2)),
                       sorted(weight_decay.plain_ridge_minimiser(eigs.tolist(), lam)), rtol=LINALG_RTOL, atol=0)
    gap = np.eye(3) - w_star
    fro = np.linalg.norm(gap, "fro")
    assert math.isclose(weight_decay.plain_ridge_distance(eigs.tolist(), lam), fro, rel_tol=LINALG_RTOL)
    assert math.isclose(weight_decay.plain_ridge_distance(eigs.tolist(), lam, "spectral"), np.linalg.norm(gap, 2),
                        rel_tol=LINALG_RTOL)
