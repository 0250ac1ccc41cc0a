"""Proofs of theory/tanh_block.py (C5, C11): the tanh block and the identity."""

from __future__ import annotations

from theory import tanh_block
from theory.derivation import Status


def test_tanh_block_reaches_the_identity_only_in_the_limit(prove) -> None:
    # (1/ε) tanh(εx) = x − ε²x³/3 + 2ε⁴x⁵/15 + o(ε⁴); slope w₁w₂, third derivative −2w₁³w₂ at 0; L2 cost ~ 1/ε²
    result = prove(tanh_block.tanh_block_identity_only_in_the_limit())
    assert result.status is Status.PROVED, result.report()


def test_weight_decay_keeps_plain_tanh_block_off_the_identity_but_not_residual(prove) -> None:
    # data loss at the optimum ≥ ½E[x²](λ/(1+λ))²; residual optimum w = 0
    result = prove(tanh_block.tanh_block_weight_decay_error_floor())
    assert result.status is Status.PROVED, result.report()


def test_tanh_block_two_point_optimum_solves_one_scalar_equation(prove) -> None:
    # w₂ = aT/(T² + λ), g(s) = 0, g(0) = 0, error −aλ/(λ + T²), Hessian at 0 has eigenvalues λ ± a²
    result = prove(tanh_block.tanh_block_two_point_optimum())
    assert result.status is Status.PROVED, result.report()


def test_tanh_block_fits_two_magnitudes_only_in_the_limit(prove) -> None:
    # error at b ∝ φ(w₁b) − φ(w₁a), φ = tanh(u)/u, φ′ = (2u − sinh 2u)/(2u² cosh²u) < 0
    result = prove(tanh_block.tanh_block_exact_fit_needs_the_limit())
    # CHECKED, not PROVED: φ′ < 0 needs sinh 2u > 2u, which no exact engine here decides (SymPy's assumptions cannot
    # sign it, z3 has no sinh); sinh v − v = ∫₀^v 2sinh²(r/2) dr with a positive integrand is proved exactly, but
    # "the integral of a positive function is positive" is not a step. Every other step is exact.
    assert result.status is Status.CHECKED, result.report()
    checked = [r.index for r in result.steps if r.status is not Status.PROVED]
    assert checked == [3], result.report()
    assert result.steps[2].status is Status.CHECKED and result.steps[2].method.startswith("numeric"), result.report()
