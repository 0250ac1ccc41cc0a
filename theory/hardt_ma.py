r"""Hardt & Ma 2017 on small instances: the gradient lower bound near the identity, and the plain
parameterisation's bad critical point at zero (C11, C12).

Conventions.  Hardt & Ma's objective is the expected squared error *without* a ½,
f(A) = E‖(I + A_ℓ)⋯(I + A_1)x − y‖², with Σ = E[xxᵀ]; this project's loss is L = f/2 (CONTRIBUTING.md),
so ∇L = ∇f/2 and a bound ‖∇f‖² ≥ K (f − C_opt) reads ‖∇L‖² ≥ (K/2)(L − C_opt/2).  The identity task has
y = x, R = I and C_opt = 0.  "Size n" means n×n layers; "depth ℓ" counts trainable layers.

References:
  Hardt & Ma, *Identity Matters in Deep Learning*, ICLR 2017 (arXiv:1611.04231): Thm 2.2 (every critical
    point with max‖A_i‖ ≤ τ < 1 is a global minimum); Eq. (2.3), quoted in REFERENCES.md as
    ‖∇f(A)‖²_F ≥ 4ℓ(1 − τ)^{ℓ−1} σ_min(Σ)² (f(A) − C_opt); and "setting A_i = 0 will always lead to a bad
    critical point in the standard parameterization".
  Kawaguchi, *Deep Learning without Poor Local Minima*, NeurIPS 2016: deep linear nets have no spurious local
    minima, but saddles whose Hessian has no negative eigenvalue once there are three or more weight layers.
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Inequality, MatrixGradient, Substitute

HARDT_MA_2017 = "Hardt & Ma, Identity Matters in Deep Learning, ICLR 2017 (arXiv:1611.04231)"
KAWAGUCHI_2016 = "Kawaguchi, Deep Learning without Poor Local Minima, NeurIPS 2016 (arXiv:1605.07110)"

a1, a2, a3, t = sp.symbols("a_1 a_2 a_3 t", real=True)  # scalar layer weights; a step along a direction
sigma = sp.Symbol("sigma", positive=True)  # Σ = E[x²] of a scalar input (σ_min(Σ) = σ)
c = sp.Symbol("c", positive=True)  # c = 1 − τ > 0 (τ < 1)
p1, p2 = sp.symbols("p_1 p_2", nonnegative=True)  # 1 + a_i = (1 − τ) + p_i covers every a_i ≥ −τ ⊇ |a_i| ≤ τ
n = sp.Symbol("n", integer=True, positive=True)  # layer size
A1 = sp.MatrixSymbol("A_1", n, n)  # plain (standard-parameterisation) layers, ŷ = A_2 A_1 x
A2 = sp.MatrixSymbol("A_2", n, n)
Sigma = sp.MatrixSymbol("Sigma", n, n)  # input covariance
Id = sp.Identity(n)

SPD = Assumption("Σ ≻ 0", "the input covariance is symmetric positive definite",
                 facts={Sigma.T: Sigma}, matrix_kinds={Sigma: "spd"})


def residual_objective_depth2() -> sp.Expr:
    """f(a₁, a₂) = σ((1 + a₂)(1 + a₁) − 1)²: Hardt & Ma's objective, size 1, depth 2, identity task."""
    return sigma * ((1 + a2) * (1 + a1) - 1) ** 2


def _grad_sq(f: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.Expr:
    return sum(sp.diff(f, a) ** 2 for a in params)


@theorem
def gradient_lower_bound_small() -> Derivation:
    # ‖∇f‖² = 4σ²e²((1 + a₁)² + (1 + a₂)²) ≥ 4·2·(1 − τ)²·σ·f  when 1 + a_i ≥ 1 − τ; the quoted form fails
    f = residual_objective_depth2()
    e = (1 + a2) * (1 + a1) - 1
    grad_sq = _grad_sq(f, (a1, a2))
    on_ball = {a1: c + p1 - 1, a2: c + p2 - 1}  # 1 + a_i = c + p_i
    bound = 4 * 2 * c**2 * sigma * f  # 4ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ) (f − C_opt), ℓ = 2, C_opt = 0
    quoted = 4 * 2 * c * sigma**2 * f  # 4ℓ(1 − τ)^{ℓ−1} σ_min(Σ)² (f − C_opt), as quoted
    instance = {a1: -sp.S.Half, a2: -sp.S.Half, c: sp.S.Half}  # τ = ½, both layers at −τ
    return Derivation(
        id="hardt-ma.gradient-lower-bound-small",
        title="Hardt & Ma's gradient lower bound near the identity, checked at size 1, depth 2",
        claims=("C12",),
        statement=(
            "Size 1, depth ℓ = 2, identity task: f = σ((1 + a₂)(1 + a₁) − 1)², ‖∇f‖² = 4σ²e²((1 + a₁)² + (1 + a₂)²) "
            "with e = (1 + a₂)(1 + a₁) − 1.  If |a_i| ≤ τ < 1 (indeed if a_i ≥ −τ), ‖∇f‖² ≥ 4ℓ(1 − τ)^{2(ℓ−1)} "
            "σ_min(Σ) f: every critical point there is a global minimum (Thm 2.2).  In our ½ convention: "
            "‖∇L‖² ≥ 2ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ) L.  The form quoted in REFERENCES.md, with (1 − τ)^{ℓ−1} "
            "σ_min(Σ)², is false at σ = 1 and at σ = 2 with a₁ = a₂ = −τ = −½ (exponent and power of σ differ)."
        ),
        steps=(
            Equal(grad_sq, 4 * sigma**2 * e**2 * ((1 + a1) ** 2 + (1 + a2) ** 2), "the gradient of f, layer by layer"),
            Inequality(grad_sq.subs(on_ball) - bound.subs(on_ball), sp.S.Zero,
                       "1 + a_i = (1 − τ) + p_i, p_i ≥ 0: ‖∇f‖² ≥ 4ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ) f",
                       HARDT_MA_2017 + ", Eq. (2.3) (exponent 2(ℓ − 1), σ_min(Σ) to the first power)", relation="≥"),
            Equal((grad_sq / 4) - 2 * 2 * c**2 * sigma * (f / 2), (grad_sq - bound) / 4,
                  "L = f/2, ∇L = ∇f/2: the same bound reads ‖∇L‖² ≥ 2ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ) L"),
            Inequality(grad_sq.subs(instance).subs(sigma, 1), quoted.subs(instance).subs(sigma, 1),
                       "σ = 1, τ = ½, a₁ = a₂ = −½: ‖∇f‖² = 9/8 < 9/4, the quoted bound fails",
                       HARDT_MA_2017 + ", Eq. (2.3) as quoted in REFERENCES.md", relation="<"),
            Inequality(grad_sq.subs(instance).subs(sigma, 2), quoted.subs(instance).subs(sigma, 2),
                       "σ = 2 (same point): 9/2 < 18", HARDT_MA_2017 + ", Eq. (2.3) as quoted in REFERENCES.md",
                       relation="<"),
            Equal(grad_sq.subs(instance).subs(sigma, 2), bound.subs(instance).subs(sigma, 2),
                  "while the corrected bound is attained with equality there (it is tight)"),
        ),
        references=(HARDT_MA_2017,),
        conclusion=(
            "Near the identity (A_i small) the residual landscape has no bad critical points and a gradient that "
            "dominates the suboptimality, supporting C12; the constant must be 4ℓ(1 − τ)^{2(ℓ−1)}σ_min(Σ) — the "
            "quoted (1 − τ)^{ℓ−1}σ_min(Σ)² overstates it (check the quote against the paper)."
        ),
    )


@theorem
def plain_origin_not_minimum() -> Derivation:
    # standard parameterisation ŷ = A_ℓ⋯A_1 x: ∇f(0) = 0 for ℓ ≥ 2, f(0) = tr Σ > 0 = f(I, …, I): a saddle
    f2 = sigma * (a2 * a1 - 1) ** 2
    f3 = sigma * (a3 * a2 * a1 - 1) ** 2
    zero2 = {a1: 0, a2: 0}
    zero3 = {a1: 0, a2: 0, a3: 0}
    f_mat = sp.Trace((A2 * A1 - Id) * Sigma * (A2 * A1 - Id).T)
    Z = sp.ZeroMatrix(n, n)
    return Derivation(
        id="hardt-ma.plain-origin-not-minimum",
        title="Plain (standard) parameterisation: A = 0 is a critical point but not a minimum",
        claims=("C11",),
        statement=(
            "For ŷ = A_ℓ⋯A_1 x and the identity task, f = tr((A_ℓ⋯A_1 − I)Σ(A_ℓ⋯A_1 − I)ᵀ).  Size n, ℓ = 2: "
            "∂f/∂A_1 = 2A_2ᵀ(A_2A_1 − I)Σ vanishes at A = 0, f(0) = tr Σ > 0 = f(I, I).  Size 1: at ℓ = 2 the "
            "Hessian at 0 is [[0, −2σ], [−2σ, 0]] (determinant −4σ² < 0: a strict saddle); at ℓ = 3 it is zero "
            "(Kawaguchi's saddle without a negative eigenvalue), yet f(t, t, t) − f(0) = σt³(t³ − 2) < 0 at t = 1."
        ),
        steps=(
            MatrixGradient(f_mat, 2 * A2.T * (A2 * A1 - Id) * Sigma, "term by term, Σᵀ = Σ", wrt=A1),
            Substitute(2 * A2.T * (A2 * A1 - Id) * Sigma, Z, "at A_1 = A_2 = 0 the gradient vanishes",
                       HARDT_MA_2017, subs={A1: Z, A2: Z}),
            Substitute(f_mat, sp.Trace(Sigma), "f(0) = tr Σ", subs={A1: Z, A2: Z}),
            Substitute(f_mat, sp.S.Zero, "f(I, I) = 0 < tr Σ: the origin is not a minimum", subs={A1: Id, A2: Id}),
            Substitute(sp.hessian(f2, (a1, a2)).det(), -4 * sigma**2, "size 1, ℓ = 2: det Hessian at 0",
                       subs=zero2),
            Inequality(-4 * sigma**2, sp.S.Zero, "negative determinant: indefinite, a strict saddle", relation="<"),
            Substitute(sp.hessian(f3, (a1, a2, a3)), sp.zeros(3, 3), "ℓ = 3: the Hessian at 0 vanishes",
                       KAWAGUCHI_2016, subs=zero3),
            Equal(f3.subs({a1: t, a2: t, a3: t}) - f3.subs(zero3), sigma * t**3 * (t**3 - 2),
                  "along a₁ = a₂ = a₃ = t"),
            Substitute(sigma * t**3 * (t**3 - 2), -sigma, "at t = 1", subs={t: 1}),
            Inequality(-sigma, sp.S.Zero, "f decreases: the origin is not a minimum", HARDT_MA_2017,
                       relation="<"),
        ),
        assumptions=(SPD,),
        references=(HARDT_MA_2017, KAWAGUCHI_2016),
        conclusion=(
            "C11 in the linear case: the plain chain's natural start (A = 0) is a saddle, flat to second order "
            "from three layers on, so GD from near zero must escape it (the plateaus of "
            "`learning-time.small-init-divergence`); the residual chain's A = 0 is the identity itself."
        ),
    )
