r"""Hardt & Ma 2017: their Eq. (2.3) corrected (C12), and the plain parameterisation's bad critical point at zero
(C11), on small exact instances.

Conventions.  Hardt & Ma's objective is the expected squared error *without* a ½,
f(A) = E‖(I + A_ℓ)⋯(I + A_1)x − y‖², with Σ = E[xxᵀ]; this project's loss is L = f/2 (CONTRIBUTING.md),
so ∇L = ∇f/2 and a bound ‖∇f‖² ≥ K (f − C_opt) reads ‖∇L‖² ≥ (K/2)(L − C_opt/2).  The identity task has
y = x, R = I and C_opt = 0.  "Size n" means n×n layers; "depth ℓ" counts trainable layers.  On the ball
max_i ‖A_i‖ ≤ τ < 1 each 1 + a_i of a scalar layer is ≥ 1 − τ; we write 1 + a_i = (1 − τ) + p_i with p_i ≥ 0,
which covers every a_i ≥ −τ (a larger set than the ball), and c = 1 − τ > 0.

Hardt & Ma's Eq. (2.3) is printed as ‖∇f(A)‖²_F ≥ 4ℓ(1 − τ)^{ℓ−1} σ_min(Σ)² (f(A) − C_opt).  It is false: its
proof squares 2(1 − τ)^{ℓ−1} to 4(1 − τ)^{ℓ−1} instead of 4(1 − τ)^{2(ℓ−1)}, and uses ‖E‖² ≥ f − C_opt, which
needs Σ ⪯ I.  What holds, with equality at A_i = −τI (Σ = σI), is
‖∇f(A)‖²_F ≥ 4ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ) (f(A) − C_opt)  (`EQ_2_3_CORRECTED`; the printed form is
`EQ_2_3_PRINTED`, both exported for numerics).

References:
  Hardt & Ma, *Identity Matters in Deep Learning*, ICLR 2017 (arXiv:1611.04231): Thm 2.2 (every critical
    point with max‖A_i‖ ≤ τ < 1 is a global minimum); Eq. (2.3), the gradient lower bound above; and "setting
    A_i = 0 will always lead to a bad critical point in the standard parameterization".
  Kawaguchi, *Deep Learning without Poor Local Minima*, NeurIPS 2016: deep linear nets have no spurious local
    minima, but saddles whose Hessian has no negative eigenvalue once there are three or more weight layers.
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Formula, Inequality, MatrixGradient, Step, Substitute
from theory.references import HARDT_MA_2017, KAWAGUCHI_2016

a1, a2, a3, t = sp.symbols("a_1 a_2 a_3 t", real=True)  # scalar layer weights; a step along a direction
sigma = sp.Symbol("sigma", positive=True)  # Σ = E[x²] of a scalar input (σ_min(Σ) = σ)
c = sp.Symbol("c", positive=True)  # c = 1 − τ > 0 (τ < 1)
p1, p2, p3 = sp.symbols("p_1 p_2 p_3", nonnegative=True)  # 1 + a_i = (1 − τ) + p_i covers every a_i ≥ −τ
n = sp.Symbol("n", integer=True, positive=True)  # layer size
A1 = sp.MatrixSymbol("A_1", n, n)  # plain (standard-parameterisation) layers, ŷ = A_2 A_1 x
A2 = sp.MatrixSymbol("A_2", n, n)
V1 = sp.MatrixSymbol("V_1", n, n)  # a direction in weight space
V2 = sp.MatrixSymbol("V_2", n, n)
Sigma = sp.MatrixSymbol("Sigma", n, n)  # input covariance
R = sp.MatrixSymbol("R", n, n)  # a Cholesky factor of Σ: Σ = RRᵀ
Id = sp.Identity(n)

# Eq. (2.3), printed and corrected, in the depth ℓ, the radius τ, σ_min(Σ) and the suboptimality f(A) − C_opt
ell = sp.Symbol("ell", integer=True, positive=True)  # depth ℓ
tau = sp.Symbol("tau", real=True)  # radius τ < 1 of the ball max‖A_i‖ ≤ τ
sigma_min = sp.Symbol("sigma_min", positive=True)  # σ_min(Σ)
gap = sp.Symbol("Delta", nonnegative=True)  # f(A) − C_opt
EQ_2_3_PRINTED = 4 * ell * (1 - tau) ** (ell - 1) * sigma_min**2 * gap  # as printed in Hardt & Ma 2017: false
EQ_2_3_CORRECTED = 4 * ell * (1 - tau) ** (2 * (ell - 1)) * sigma_min * gap  # what holds (proved below)

DEPTHS = "depths $ℓ = 2$ and 3"  # the depths the plain-parameterisation saddle is shown at
HM_INSTANCE = "size 1, " + DEPTHS  # where the corrected Eq. (2.3) is proved

SPD = Assumption("$Σ ≻ 0$", "the input covariance is symmetric positive definite, $Σ = RRᵀ$ (Cholesky)",
                 facts={Sigma: R * R.T}, matrix_kinds={Sigma: "spd"})


def gradient_bound(depth: sp.Expr, radius: sp.Expr, smallest_eigenvalue: sp.Expr, suboptimality: sp.Expr,
                   printed: bool = False) -> sp.Expr:
    """Hardt & Ma's Eq. (2.3) lower bound on ‖∇f(A)‖²_F: corrected (default) or as printed (false).

    corrected 4ℓ(1 − τ)^{2(ℓ−1)} σ_min(Σ)(f − C_opt); printed 4ℓ(1 − τ)^{ℓ−1} σ_min(Σ)²(f − C_opt).
    """
    values = {ell: depth, tau: radius, sigma_min: smallest_eigenvalue, gap: suboptimality}
    return (EQ_2_3_PRINTED if printed else EQ_2_3_CORRECTED).subs(values)


def residual_objective(depth: int) -> sp.Expr:
    """f(a) = σ((1 + a_ℓ)⋯(1 + a_1) − 1)²: Hardt & Ma's objective, size 1, identity task (C_opt = 0)."""
    return sigma * (sp.Mul(*(1 + a for a in (a1, a2, a3)[:depth])) - 1) ** 2


def residual_objective_depth2() -> sp.Expr:
    """f(a₁, a₂) = σ((1 + a₂)(1 + a₁) − 1)²."""
    return residual_objective(2)


def _grad_sq(f: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.Expr:
    """‖∇f‖² = Σ_i (∂f/∂a_i)², unevaluated: the checker differentiates."""
    return sp.Add(*(sp.Derivative(f, a) ** 2 for a in params))


def _hessian(f: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.ImmutableMatrix:
    """The Hessian ∂²f/∂a_i∂a_j, unevaluated: the checker differentiates."""
    return sp.ImmutableMatrix(len(params), len(params), lambda i, j: sp.Derivative(f, params[i], params[j]))


def _at(expr: sp.Expr, params: tuple[sp.Symbol, ...], values: tuple[sp.Expr, ...]) -> sp.Expr:
    """expr at params = values, by `subs` (derivatives stay unevaluated, one variable per `Subs`).

    Not one `Subs(expr, params, values)` with several parameters sent to the same value: SymPy 1.14 compares
    such a `Subs` after identifying those parameters, so Subs(∂²f/∂a₁∂a₂, (a₁, a₂), (0, 0)) ==
    Subs(∂²f/∂a₁², (a₁, a₂), (0, 0)), and a matrix of them is evaluated with equal entries merged.
    """
    return expr.subs(dict(zip(params, values, strict=True)))  # at a symmetric point equal terms merge (2(∂f/∂a)²)


def _objective_on_ball(depth: int) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """f at 1 + a_i = (1 − τ) + p_i, as a function of p (then ∂f/∂a_i = ∂f/∂p_i), and the p_i."""
    ps = (p1, p2, p3)[:depth]
    return residual_objective(depth).subs({a: c + p - 1 for a, p in zip((a1, a2, a3)[:depth], ps, strict=True)}), ps


def _bound_steps(depth: int) -> tuple[Formula, Step, tuple[Step, ...]]:
    """The corrected Eq. (2.3) at size 1 and this depth: a chain from ‖∇f‖² to the bound, and its equality case."""
    f, ps = _objective_on_ball(depth)
    grad_sq = _grad_sq(f, ps)
    e = sp.Mul(*(c + p for p in ps)) - 1
    others = sp.Add(*(sp.Mul(*((c + q) ** 2 for q in ps if q is not p)) for p in ps))  # Σ_i Π_{j≠i}(1 + a_j)²
    middle = 4 * sigma**2 * e**2 * others
    bound = gradient_bound(depth, 1 - c, sigma, f)
    cite = HARDT_MA_2017 + ", Eq. (2.3), corrected: exponent $2(ℓ − 1)$, $σ_{\\min}(Σ)$ to the first power"
    steps = (
        Equal(grad_sq, middle, f"$ℓ = {depth}$, $1 + a_i = (1 − τ) + p_i$ (so $∂f/∂a_i = ∂f/∂p_i$): "
              "$∂f/∂a_i = 2σe \\prod_{j≠i}(1 + a_j)$ with $e = \\prod_j (1 + a_j) − 1$"),
        Inequality(middle, bound, f"$(1 + a_j)² = ((1 − τ) + p_j)² ≥ (1 − τ)²$ for each of the $ℓ − 1 = {depth - 1}$ "
                   f"factors of each of the $ℓ = {depth}$ terms; $f = σe²$ ($C_{{\\text{{opt}}}} = 0$)", cite,
                   relation="≥"),
    )
    tight = Substitute(middle - bound, sp.S.Zero, f"tight ($ℓ = {depth}$): at $p_i = 0$ ($a_i = −τ$) the inequality is "
                       "an equality, for every $τ < 1$ and $σ > 0$ (and $f > 0$ there unless $τ = 0$)",
                       subs=dict.fromkeys(ps, 0))
    return Formula(grad_sq, "≥", bound), tight, steps


@theorem
def gradient_lower_bound_small() -> Derivation:
    # Eq. (2.3) as printed fails (σ = 1, ℓ = 2, τ = ½, a_i = −½: 9/8 < 9/4); the corrected bound holds, tight at −τ
    f2, params2 = residual_objective(2), (a1, a2)
    bound2, tight2, chain2 = _bound_steps(2)
    bound3, tight3, chain3 = _bound_steps(3)
    # the counterexample to the printed form: σ = 1, ℓ = 2, τ = ½, a₁ = a₂ = −½
    half = -sp.S.Half
    grad_cx = _at(_grad_sq(f2, params2), (a1, a2, sigma), (half, half, 1))
    f_cx = sp.Subs(f2, (a1, a2, sigma), (half, half, 1))
    printed_cx = gradient_bound(2, sp.S.Half, 1, f_cx, printed=True)
    printed_fails = (
        Equal(grad_cx, sp.Rational(9, 8), "$σ = 1$, $τ = ½$, $a₁ = a₂ = −½$: $e = −¾$, "
              "$\\|∇f\\|² = 2(∂f/∂a₂)² = 4e²(¼ + ¼) = 9/8$ ($f$ is symmetric)"),
        Inequality(sp.Rational(9, 8), sp.Rational(9, 4), "$9/8 < 9/4$", relation="<"),
        Equal(sp.Rational(9, 4), printed_cx, "the printed bound $4ℓ(1 − τ)^{ℓ−1} σ_{\\min}(Σ)² f = 4 ⋅ 9/16 = 9/4$ "
                                             "there",
              HARDT_MA_2017 + ", Eq. (2.3) as printed"),
    )
    # with the exponent corrected but σ_min(Σ)² kept, it still fails once σ > 1 (it needs Σ ⪯ I): σ = 2, same point
    grad_s2 = _at(_grad_sq(f2, params2), (a1, a2, sigma), (half, half, 2))
    squared_sigma = gradient_bound(2, sp.S.Half, 2**2, sp.Subs(f2, (a1, a2, sigma), (half, half, 2)))  # σ_min²
    return Derivation(
        id="hardt-ma.gradient-lower-bound-small",
        title=("Hardt and Ma's Eq. (2.3) corrected: $\\|∇f\\|² ≥ 4ℓ(1 − τ)^{2(ℓ−1)} σ_{\\min}(Σ)(f − "
               "C_{\\text{opt}})$, "
               f"tight; the printed form is false ({HM_INSTANCE})"),
        claims=("C12",),
        statement=(
            "Hardt and Ma [@hardt2017identity] print Eq. (2.3) as "
            "$\\|∇f(A)\\|²_F ≥ 4ℓ(1 − τ)^{ℓ−1} σ_{\\min}(Σ)²(f(A) − C_{\\text{opt}})$ for $\\max_i \\|A_i\\| ≤ τ < 1$. "
            "That is "
            "false: at size 1, $σ = 1$, $ℓ = 2$, $τ = ½$, $a₁ = a₂ = −½$, $\\|∇f\\|² = 9/8 < 9/4$; and keeping "
            "$σ_{\\min}(Σ)²$ with the exponent corrected fails at $σ = 2$ ($9/2 < 9$). The corrected form "
            "$\\|∇f(A)\\|²_F ≥ 4ℓ(1 − τ)^{2(ℓ−1)} σ_{\\min}(Σ)(f(A) − C_{\\text{opt}})$ is proved exactly "
            f"({HM_INSTANCE}) for the identity task ($C_{{\\text{{opt}}}} = 0$), on every $a_i ≥ −τ$, a set "
            "containing the ball $|a_i| ≤ τ$, with equality at $a_i = −τ$."
        ),
        steps=(
            *chain2,
            *chain3,
            tight2,
            tight3,
            *printed_fails,
            Inequality(grad_s2, squared_sigma,
                       "$σ = 2$, $τ = ½$, $a₁ = a₂ = −½$: $\\|∇f\\|² = 9/2 < 9 = 4ℓ(1 − τ)^{2(ℓ−1)} σ_{\\min}(Σ)² f$: "
                       "$σ_{\\min}(Σ)²$ overstates the bound once $σ_{\\min}(Σ) > 1$", HARDT_MA_2017 + ", proof of Eq. "
                                                                                                       "(2.3)",
                       relation="<"),
        ),
        references=(HARDT_MA_2017,),
        conclusion=(
            f"Near the identity the residual chain's gradient dominates its suboptimality ({HM_INSTANCE} proved "
            "here), which supports C12 only under conditions: every branch stays in the ball $\\|A_i\\| ≤ τ < 1$, "
            "and the constant $4ℓ(1 − τ)^{2(ℓ−1)} σ_{\\min}(Σ)$ shrinks geometrically with depth unless $τ = O(1/ℓ)$. "
            "Eq. (2.3) as printed, with $(1 − τ)^{ℓ−1} σ_{\\min}(Σ)²$, is false; Thm 2.2 (no bad critical point in the "
            "ball) is unaffected, since any positive constant gives it."
        ),
        bearing={"C12": "qualifies"},
        proves=(
            bound2,
            bound3,
            tight2,
            tight3,
            Formula(grad_cx, "<", printed_cx),
            Formula(grad_s2, "<", squared_sigma),
        ),
        instance=HM_INSTANCE,
        remarks=(
            "In this project's convention with the factor $½$ ($L = f/2$, so $∇L = ∇f/2$) the corrected bound reads "
            "$\\|∇L\\|² ≥ 2ℓ(1 − τ)^{2(ℓ−1)} σ_{\\min}(Σ)(L − C_{\\text{opt}}/2)$: a rescaling, not a step.",
            "In every dimension $d$ the printed form fails too: $A_i = −½I$, $Σ = I$ scale the size-1 counterexample "
            "by $d$ on both sides (not a step).",
            "A numeric check at size 2 and depths 1–3, with general targets $R$ and $Σ$, is part of the test suite "
            "(evidence, not a proof).",
            "Thm 2.2 needs only some positive constant; that it follows from the corrected bound is not a step.",
        ),
    )


@theorem
def plain_origin_not_minimum() -> Derivation:
    # standard parameterisation ŷ = A_ℓ⋯A_1 x: ∇f(0) = 0, f(0) = tr Σ > 0 = f(I, I): a saddle
    f2 = sigma * (a2 * a1 - 1) ** 2
    f3 = sigma * (a3 * a2 * a1 - 1) ** 2
    params3 = (a1, a2, a3)
    f_mat = sp.Trace((A2 * A1 - Id) * Sigma * (A2 * A1 - Id).T)
    Z = sp.ZeroMatrix(n, n)
    along = (sp.Trace(Sigma) - 2 * t**2 * sp.Trace(V2 * V1 * Sigma)
             + t**4 * sp.Trace(V2 * V1 * Sigma * V1.T * V2.T))
    hess2 = sp.ImmutableMatrix([[0, -2 * sigma], [-2 * sigma, 0]])  # the Hessian at 0, size 1, ℓ = 2
    grad3 = sp.ImmutableMatrix([sp.Derivative(f3, a) for a in params3])
    zero3 = dict.fromkeys(params3, 0)
    drop = sp.Subs(f3, params3, (1, 1, 1)) - sp.Subs(f3, params3, (0, 0, 0))
    steps = (
        MatrixGradient(f_mat, 2 * A2.T * (A2 * A1 - Id) * Sigma, "term by term, $Σᵀ = Σ$", wrt=A1),
        Substitute(f_mat, along, "$f$ along $A_1 = tV_1$, $A_2 = tV_2$, for any direction $(V_1, V_2)$",
                   subs={A1: t * V1, A2: t * V2}),
        Substitute(sp.Derivative(along, t), sp.S.Zero,
                   "every directional derivative at $A = 0$ vanishes: $∇f(0) = 0$ in both layers, a critical point",
                   HARDT_MA_2017, subs={t: 0}),
        Substitute(f_mat, sp.Trace(Sigma), "$f(0) = \\tr Σ$", subs={A1: Z, A2: Z}),
        Substitute(f_mat, sp.S.Zero, "$f(I, I) = 0$: the origin is not a minimum ($\\tr Σ > "
                                     "0$)", subs={A1: Id, A2: Id}),
        Substitute(_hessian(f2, (a1, a2)), hess2, "size 1, $ℓ = 2$: the Hessian at $0$", subs={a1: 0, a2: 0}),
        Equal(sp.Determinant(hess2), -4 * sigma**2, "its determinant"),
        Inequality(-4 * sigma**2, sp.S.Zero, "negative determinant: indefinite, a strict saddle", relation="<"),
        Substitute(grad3, sp.zeros(3, 1), "size 1, $ℓ = 3$: the gradient at $0$ vanishes", HARDT_MA_2017, subs=zero3),
        Substitute(_hessian(f3, params3), sp.zeros(3, 3), "$ℓ = 3$: the Hessian at $0$ vanishes", KAWAGUCHI_2016,
                   subs=zero3),
        Equal(sp.Subs(f3, params3, (t, t, t)) - sp.Subs(f3, params3, (0, 0, 0)), sigma * t**3 * (t**3 - 2),
              "along $a₁ = a₂ = a₃ = t$: negative for $0 < t < 2^{1/3}$"),
        Equal(drop, -sigma, "at $t = 1$"),
        Inequality(-sigma, sp.S.Zero, "$f$ decreases: the origin is not a minimum", HARDT_MA_2017, relation="<"),
    )
    return Derivation(
        id="hardt-ma.plain-origin-not-minimum",
        title=f"Plain (standard) parameterisation: $A = 0$ is a critical point but not a minimum ({DEPTHS})",
        claims=("C11",),
        statement=(
            "For $ŷ = A_ℓ ⋯ A_1 x$ and the identity task, $f = \\tr((A_ℓ ⋯ A_1 − I)Σ(A_ℓ ⋯ A_1 − I)ᵀ)$; shown at "
            f"{DEPTHS}. Size $n$, $ℓ = 2$: $∂f/∂A_1 = 2A_2ᵀ(A_2A_1 − I)Σ$; "
            "$f(tV₁, tV₂) = \\tr Σ − 2t² \\tr(V₂V₁Σ) + t⁴ \\tr(V₂V₁ΣV₁ᵀV₂ᵀ)$, so $∇f(0) = 0$, while $f(0) = \\tr Σ$ "
            "and $f(I, I) = 0$. Size 1: at $ℓ = 2$ the Hessian at $0$ has determinant $−4σ² < 0$ (a strict saddle); "
            "at $ℓ = 3$ gradient and Hessian at $0$ vanish (a saddle without a negative eigenvalue "
            "[@kawaguchi2016deep]), yet $f(t, t, t) − f(0) = σt³(t³ − 2)$, $−σ < 0$ at $t = 1$."
        ),
        steps=steps,
        assumptions=(SPD,),
        references=(HARDT_MA_2017, KAWAGUCHI_2016),
        conclusion=(
            f"C11 in the linear case, at {DEPTHS}: the plain chain's natural start ($A = 0$) is a saddle, flat to "
            "second order from three layers on, so gradient descent from near zero must escape it (the plateaus of "
            "derivation learning-time.small-init-divergence); the residual chain's $A = 0$ is the identity itself."
        ),
        proves=(
            steps[0],
            steps[1],
            steps[2],
            steps[3],
            steps[4],
            steps[5],
            Formula(sp.Determinant(hess2), "<", 0),
            steps[8],
            steps[9],
            steps[10],
            Formula(drop, "<", 0),
        ),
        instance=DEPTHS,
        remarks=(
            "$\\tr Σ > 0$ for $Σ ≻ 0$, so $f(0) = \\tr Σ > 0 = f(I, I)$ at every size $n$: the sign is not a step "
            "(at size 1, $ℓ = 3$, $f(1, 1, 1) − f(0) = −σ < 0$ is).",
            "Hardt and Ma's statement is for every depth $ℓ ≥ 2$; depths beyond 3 are not shown here.",
        ),
    )
