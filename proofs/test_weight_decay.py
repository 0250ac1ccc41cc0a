"""Proofs of theory/weight_decay.py (C10).  Its float evaluators are checked in tests/test_closed_forms.py."""

from __future__ import annotations

from theory import weight_decay
from theory.derivation import Status


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
    assert result.derivation.instance == "$n = 2$"


def test_weight_decay_pulls_plain_minimiser_away_from_identity(prove) -> None:
    # ∇J = W(Σ + λI) − Σ = 0 at W* = Σ(Σ + λI)⁻¹;  I − W* = λ(Σ + λI)⁻¹, per mode λ/(σ + λ) > 0 (every n);
    # W* the unique minimiser: Hessian ⪰ λI checked entrywise for n = 2
    result = prove(weight_decay.plain_minimiser())
    assert result.status is Status.PROVED, result.report()
    assert result.derivation.proves and result.statement_established
    assert result.derivation.instance == "$n = 2$"
