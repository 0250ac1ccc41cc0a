r"""The loss landscape of the identity task at zero weights, residual vs plain (claims C9, C11).

Conventions (CONTRIBUTING.md): L(M) = ½ tr((M − I) Σ (M − I)ᵀ) for the end-to-end linear map M and
input covariance Σ = XXᵀ/N ≻ 0 (mean over samples, with a ½).  Blocks: plain one layer M = W,
residual one layer M = I + W, plain two layers M = W₂W₁, residual two layers M = I + W₂W₁, all
n×n; smooth two-layer blocks H(x) = w₂σ(w₁x) (plain) and x + w₂σ(w₁x) (residual) with n = 1, a smooth
σ with σ(0) = 0, and the symmetric input x = ±a (a > 0) with probability ½ each (so E x = 0,
E x² = a² = Σ), which makes every expectation an exact finite average.

General-n statements use matrix symbols; Hessians and their eigenvalues are computed exactly on
n = 2 with *every* 2×2 SPD Σ, written by its Cholesky factor Σ = RRᵀ, R = [[r₁, 0], [r₂, r₃]],
r₁, r₃ > 0 (Golub & Van Loan, Matrix Computations, 4th ed. 2013, §4.2).  Parameters are flattened
row-major: w = vec(W) = (w₁₁, w₁₂, w₂₁, w₂₂), and (vec W₁, vec W₂) for two layers.

References:
  He, Zhang, Ren, Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016, §3.1, Eq. (1).
  Saxe, McClelland, Ganguli, *Exact solutions to the nonlinear dynamics of learning in deep linear
    neural networks*, ICLR 2014, §2: the origin of a deep linear net is a saddle (unstable fixed point).
  Hardt & Ma, *Identity Matters in Deep Learning*, ICLR 2017, §2: "Setting A_i = 0 will always lead to
    a bad critical point in the standard parameterization."
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Formula, Inequality, MatrixGradient, Step, Substitute
from theory.references import GOLUB_VAN_LOAN, HARDT_MA_2017, HE_2016, SAXE_2014

n = sp.Symbol("n", integer=True, positive=True)  # width of the block
Sigma = sp.MatrixSymbol("Sigma", n, n)  # input covariance Σ
R = sp.MatrixSymbol("R", n, n)  # a Cholesky factor of Σ: Σ = RRᵀ
M = sp.MatrixSymbol("M", n, n)  # the block's end-to-end map
W, W1, W2 = (sp.MatrixSymbol(s, n, n) for s in ("W", "W_1", "W_2"))  # weights
V1, V2 = (sp.MatrixSymbol(s, n, n) for s in ("V_1", "V_2"))  # a direction in weight space
Id, Zero = sp.Identity(n), sp.ZeroMatrix(n, n)
tau = sp.Symbol("tau", real=True)  # distance along the direction (V₁, V₂)
mu = sp.Symbol("mu", real=True)  # eigenvalue variable of characteristic polynomials
r1, r3 = sp.symbols("r_1 r_3", positive=True)  # Cholesky diagonal of the explicit 2×2 Σ
r2 = sp.Symbol("r_2", real=True)  # Cholesky off-diagonal

SPD = Assumption("$Σ ≻ 0$", "$Σ$ is symmetric positive definite, $Σ = RRᵀ$ with $R$ invertible (Cholesky)",
                 facts={Sigma: R * R.T}, matrix_kinds={Sigma: "spd"})
R2 = sp.Matrix([[r1, 0], [r2, r3]])  # explicit Cholesky factor, n = 2
S2 = R2 * R2.T  # the general 2×2 SPD Σ
I2 = sp.eye(2)


def loss(m: sp.MatrixExpr) -> sp.Expr:
    """½ tr((M − I)Σ(M − I)ᵀ) for a symbolic n×n end-to-end map M."""
    return sp.Rational(1, 2) * sp.Trace((m - Id) * Sigma * (m - Id).T)


def _loss2(m: sp.Matrix) -> sp.Expr:
    """½ tr((M − I)Σ(M − I)ᵀ) for an explicit 2×2 M, expanded to a polynomial (an exact rewrite)."""
    return sp.expand(sp.Rational(1, 2) * ((m - I2) * S2 * (m - I2).T).trace())


def _weights2(name: str) -> tuple[tuple[sp.Symbol, ...], sp.Matrix]:
    ws = sp.symbols(f"{name}_11 {name}_12 {name}_21 {name}_22", real=True)
    return ws, sp.Matrix(2, 2, ws)


def hessian(f: sp.Expr, params: tuple[sp.Symbol, ...]) -> sp.Matrix:
    """The Hessian, unevaluated: the verifier differentiates."""
    return sp.Matrix(len(params), len(params), lambda i, j: sp.Derivative(f, params[i], params[j]))


def charpoly(k: sp.Matrix) -> sp.Expr:
    """det(μI − K), unevaluated."""
    return sp.Determinant(sp.ImmutableMatrix(mu * sp.eye(k.rows) - k))


def _p_sigma(m: sp.Expr) -> sp.Expr:
    """The characteristic polynomial of the 2×2 Σ: μ² − tr Σ μ + det Σ."""
    return m**2 - (r1**2 + r2**2 + r3**2) * m + r1**2 * r3**2


def _sigma2_positive() -> tuple[Step, ...]:
    return (
        Equal(sp.Determinant(sp.ImmutableMatrix(S2)), r1**2 * r3**2, "$\\det Σ$ for $Σ = RRᵀ$",
              GOLUB_VAN_LOAN + ", §4.2"),
        Inequality(r1**2 * r3**2, sp.S.Zero, "$\\det Σ > 0$", relation=">"),
        Inequality(S2.trace(), sp.S.Zero, "$\\tr Σ > 0$: with $\\det Σ > 0$, both eigenvalues of $Σ$ are positive",
                   relation=">"),
    )


def _one_layer_hessian(m_of_w: sp.Matrix, ws: tuple[sp.Symbol, ...]) -> tuple[Step, ...]:
    """n = 2: the Hessian of ½tr((M − I)Σ(M − I)ᵀ) in w is I ⊗ Σ; its spectrum is Σ's, twice; ≻ 0."""
    hess = sp.kronecker_product(I2, S2)
    return (
        Equal(hessian(_loss2(m_of_w), ws), hess, "$n = 2$, $w = \\operatorname{vec}(W)$ row by row: the Hessian is "
              "$I ⊗ Σ$ (constant)"),
        Equal(charpoly(hess), _p_sigma(mu) ** 2, "the eigenvalues of $I ⊗ Σ$ are those of $Σ$, each twice"),
        *_sigma2_positive(),
    )


HESSIAN_REMARK = ("A quadratic loss whose Hessian is positive definite is strictly convex, so a critical point is its "
                  "unique global minimiser; and a symmetric $2 × 2$ matrix with positive determinant and trace has "
                  "both eigenvalues positive: these deductions are not steps.")
HESSIAN_AT_2 = "Hessian at $n = 2$"  # where the one-layer Hessians are shown
SIGNS_AT_2 = "signs and spectrum at $n = 2$"  # where the plain two-layer saddle's signs and spectrum are shown
NONNEG_AT_2 = "$L ≥ 0$ at $n = 2$"  # the instance where the residual two-layer loss is shown nonnegative


@theorem
def residual_one_layer() -> Derivation:
    # M = I + W: L = ½tr(WΣWᵀ), ∇L = WΣ, L(0) = 0, ∇L(0) = 0, Hessian I ⊗ Σ ≻ 0
    lr = sp.Rational(1, 2) * sp.Trace(W * Sigma * W.T)
    ws, wm = _weights2("w")
    steps = (
        Substitute(loss(M), lr, "end-to-end map $M = I + W$", HE_2016 + ", Eq. (1)", subs={M: Id + W}),
        MatrixGradient(lr, W * Sigma, "term by term, $Σᵀ = Σ$", wrt=W),
        Substitute(W * Sigma, Zero, "$∇L(0) = 0$: a critical point", subs={W: Zero}),
        Substitute(lr, sp.S.Zero, "$L(0) = 0$; with $∇L(0) = 0$ and the Hessian $≻ 0$ below, the global minimum",
                   subs={W: Zero}),
        *_one_layer_hessian(I2 + wm, ws),
    )
    return Derivation(
        id="landscape.residual-one-layer",
        title=f"One linear residual layer: zero weights are the strict global minimum ({HESSIAN_AT_2})",
        claims=("C9",),
        statement="For $H = x + Wx$ and every $n$: $L(W) = ½\\tr(WΣWᵀ)$, $∇L = WΣ$, so $L(0) = 0$ and $∇L(0) = 0$. "
                  f"{HESSIAN_AT_2}, for every symmetric positive definite $Σ$: $I ⊗ Σ$, with the eigenvalues of $Σ$, "
                  "each twice, all positive.",
        steps=steps,
        assumptions=(SPD,),
        references=(HE_2016, GOLUB_VAN_LOAN),
        conclusion="C9 holds for one linear residual layer: $W = 0$ is the unique, strictly convex global minimum "
                   f"(gradient and $L(0)$ for every $n$; {HESSIAN_AT_2}).",
        proves=(*steps[:6], Formula(steps[6].lhs, ">", 0), steps[8]),
        instance=HESSIAN_AT_2,
        remarks=(HESSIAN_REMARK,),
    )


@theorem
def plain_one_layer() -> Derivation:
    # M = W: ∇L = (W − I)Σ, ∇L(0) = −Σ ≠ 0; the only critical point is W = I, Hessian I ⊗ Σ ≻ 0
    grad = (W - Id) * Sigma
    ws, wm = _weights2("w")
    steps = (
        MatrixGradient(loss(W), grad, "term by term, $Σᵀ = Σ$", wrt=W),
        Substitute(grad, -Sigma, "$∇L(0) = −Σ$", subs={W: Zero}),
        Inequality(S2[0, 0], sp.S.Zero, "$n = 2$: the $(1, 1)$ entry of $Σ$ is $r₁² > 0$, so $∇L(0) ≠ 0$",
                   relation=">"),
        Equal(sp.MatMul(grad, Sigma.inverse(), evaluate=False), W - Id,
              "$Σ$ invertible: $∇L\\, Σ^{−1} = W − I$, so $∇L = 0 ⟺ W = I$"),
        Substitute(loss(W), sp.Rational(1, 2) * sp.Trace(Sigma), "$L(0) = ½\\tr Σ$", subs={W: Zero}),
        Substitute(loss(W), sp.S.Zero, "$L(I) = 0$: the global minimum", subs={W: Id}),
        Substitute(loss(W), sp.Rational(1, 2) * sp.Trace(V1 * Sigma * V1.T),
                   "$L(I + V) = ½\\tr(VΣVᵀ)$, the residual layer's loss at $V$: the plain loss is the residual loss "
                   "translated by $I$", subs={W: Id + V1}),
        *_one_layer_hessian(wm, ws),
    )
    return Derivation(
        id="landscape.plain-one-layer",
        title="One plain linear layer: zero weights are not even critical; the loss is convex with minimum at "
              f"$W = I$ ({HESSIAN_AT_2})",
        claims=("C9", "C11"),
        statement="For $H = Wx$ and every $n$: $∇L = (W − I)Σ$, so $∇L(0) = −Σ$ and $L(0) = ½\\tr Σ$; $∇L = 0$ only "
                  "at $W = I$ ($Σ$ invertible), where $L = 0$; $L(I + V) = ½\\tr(VΣVᵀ)$ is the residual layer's "
                  f"loss. {HESSIAN_AT_2}, for every symmetric positive definite $Σ$: the residual block's, "
                  "$I ⊗ Σ ≻ 0$; there also $∇L(0) ≠ 0$ (its $(1, 1)$ entry is $−r₁²$).",
        steps=steps,
        assumptions=(SPD,),
        references=(HE_2016, GOLUB_VAN_LOAN),
        conclusion="For one linear layer C11 fails: the plain loss is the residual loss translated by $I$ (same "
                   f"Hessian, same conditioning; {HESSIAN_AT_2}), so fitting $H = x$ is no harder; and the zero "
                   "weights of C9 are not a fixed point of the plain layer at all.",
        bearing={"C11": "qualifies"},
        proves=(*steps[:9], Formula(steps[9].lhs, ">", 0), steps[11]),
        instance=HESSIAN_AT_2,
        remarks=(HESSIAN_REMARK, "$−Σ ≠ 0$ for every symmetric positive definite $Σ$ and every $n$; the step checks "
                 "it at $n = 2$."),
    )


@theorem
def plain_two_layer() -> Derivation:
    # M = W₂W₁: ∇L = 0 at 0, L(0) = ½trΣ > 0, curvature −2tr(V₂V₁Σ): eigenvalues ±σ_i, a strict saddle
    lp = loss(W2 * W1)
    both_zero = {W1: Zero, W2: Zero}
    along = (sp.Rational(1, 2) * sp.Trace(Sigma) - tau**2 * sp.Trace(V2 * V1 * Sigma)
             + tau**4 / 2 * sp.Trace(V2 * V1 * Sigma * V1.T * V2.T))
    a_s, am = _weights2("a")
    b_s, bm = _weights2("b")
    params = a_s + b_s
    block = sp.Matrix(4, 4, lambda r, c: -S2[r % 2, c // 2] if r // 2 == c % 2 else 0)  # −δ_jl Σ_ki
    hess0 = sp.ImmutableMatrix(sp.BlockMatrix([[sp.zeros(4), block], [block.T, sp.zeros(4)]]))
    v = sp.ImmutableMatrix([1, 0, 0, 1, 1, 0, 0, 1])  # (vec I, vec I)
    quadratic_form = sp.Trace(sp.MatMul(v.T, hess0, v))  # vᵀHv, a 1×1 matrix: its trace
    steps = (
        Substitute(lp, sp.Rational(1, 2) * sp.Trace(Sigma), "$L(0) = ½\\tr Σ$, the loss of $H ≡ 0$", subs=both_zero),
        Substitute(lp, along, "$L$ along $W₁ = τV₁$, $W₂ = τV₂$", subs={W1: tau * V1, W2: tau * V2}),
        Substitute(sp.Derivative(along, tau), sp.S.Zero,
                   "every directional derivative at $0$ vanishes: $∇L(0) = 0$, a critical point", subs={tau: 0}),
        Substitute(sp.Derivative(along, tau, 2), -2 * sp.Trace(V2 * V1 * Sigma),
                   "the Hessian's quadratic form at $0$", subs={tau: 0}),
        Substitute(-2 * sp.Trace(V2 * V1 * Sigma), -2 * sp.Trace(Sigma), "direction $V₁ = V₂ = I$",
                   subs={V1: Id, V2: Id}),
        Substitute(hessian(_loss2(bm * am), params), hess0,
                   "$n = 2$, parameters $(\\operatorname{vec} W₁, \\operatorname{vec} W₂)$: the Hessian at $0$ is "
                   "$[[0, K], [Kᵀ, 0]]$ with $K_{(jk),(il)} = −δ_{jl} Σ_{ki}$",
                   subs=dict.fromkeys(params, 0)),
        Equal(charpoly(hess0), (_p_sigma(mu) * _p_sigma(-mu)) ** 2, "eigenvalues $±σ₁$, $±σ₂$ of $Σ$, each twice"),
        Equal(quadratic_form, -2 * S2.trace(), "$vᵀHv = −2\\tr Σ$ for $v = (\\operatorname{vec} I, \\operatorname{vec} "
                                               "I)$"),
        Inequality(-2 * S2.trace(), sp.S.Zero, "negative curvature: $λ_{\\min}(H) ≤ vᵀHv/vᵀv < 0$", relation="<"),
        Inequality(sp.Rational(1, 2) * S2.trace(), sp.S.Zero, "$L(0) = ½\\tr Σ > 0$: not a minimum", relation=">"),
    )
    return Derivation(
        id="landscape.plain-two-layer",
        title=f"Two plain linear layers: zero weights are a strict saddle with loss $½\\tr Σ > 0$ ({SIGNS_AT_2})",
        claims=("C9", "C11"),
        statement="For $H = W₂W₁x$ and every $n$: $L(τV₁, τV₂) = ½\\tr Σ − τ²\\tr(V₂V₁Σ) + ½τ⁴\\tr(V₂V₁ΣV₁ᵀV₂ᵀ)$, "
                  "so at $0$ the loss is $½\\tr Σ$, every directional derivative vanishes ($∇L(0) = 0$) and the "
                  "curvature along $(V₁, V₂)$ is $−2\\tr(V₂V₁Σ)$, $−2\\tr Σ$ for $V₁ = V₂ = I$; "
                  f"{SIGNS_AT_2}, for every symmetric positive definite $Σ$: $−2\\tr Σ < 0 < ½\\tr Σ$, and the "
                  "Hessian's eigenvalues are $±σ_i(Σ)$, each twice.",
        steps=steps,
        assumptions=(SPD,),
        references=(SAXE_2014, HARDT_MA_2017, GOLUB_VAN_LOAN),
        conclusion="For two plain layers zero weights are a critical point but a strict saddle (loss "
                   f"$½\\tr Σ > 0$, Hessian eigenvalues $±σ_i$; {SIGNS_AT_2}) [@saxe2014exact; @hardt2017identity]: "
                   "not stable and not a solution, whereas the residual parameterisation makes $0$ a global minimum. "
                   "This supports the residual–plain contrast of C9; for C11 the obstacle at $0$ is a saddle to "
                   "escape, not the complexity of the solution (every $W₂W₁ = I$ is optimal).",
        proves=(*steps[:7], Formula(quadratic_form, "<", 0), steps[9]),
        instance=SIGNS_AT_2,
        remarks=(
            "$\\tr Σ > 0$ for every symmetric positive definite $Σ$, and the spectrum $±σ_i(Σ)$ (each $n$ times) "
            "holds for every $n$; both are checked here at $n = 2$ only.",
            "A negative Rayleigh quotient $vᵀHv/vᵀv$ means a negative eigenvalue, hence a strict saddle: not a step.",
        ),
    )


@theorem
def residual_two_layer() -> Derivation:
    # M = I + W₂W₁: L = ½tr(W₂W₁ΣW₁ᵀW₂ᵀ) ≥ 0, quartic in the weights: gradient 0, Hessian 0 at the origin
    lr = sp.Rational(1, 2) * sp.Trace(W2 * W1 * Sigma * W1.T * W2.T)
    both_zero = {W1: Zero, W2: Zero}
    quartic = tau**4 * sp.Rational(1, 2) * sp.Trace(V2 * V1 * Sigma * V1.T * V2.T)
    _, pm = _weights2("p")  # P = W₂W₁ at n = 2
    squares = sp.Rational(1, 2) * sp.Add(*(e**2 for e in pm * R2))
    steps = (
        Substitute(loss(M), lr, "end-to-end map $M = I + W₂W₁$", HE_2016 + ", Eq. (1)", subs={M: Id + W2 * W1}),
        Substitute(lr, sp.S.Zero, "$L(0) = 0$", subs=both_zero),
        Substitute(lr, sp.S.Zero, "$L = 0$ on the whole set $W₂ = 0$ (any $W₁$): $0$ is not an isolated minimum",
                   subs={W2: Zero}),
        Substitute(lr, quartic, "$L$ is homogeneous of degree 4 in $(W₁, W₂)$", subs={W1: tau * V1, W2: tau * V2}),
        Substitute(sp.Derivative(quartic, tau), sp.S.Zero, "every directional derivative at $0$ vanishes: $∇L(0) = 0$",
                   subs={tau: 0}),
        Substitute(sp.Derivative(quartic, tau, 2), sp.S.Zero, "zero curvature at $0$ in every direction",
                   subs={tau: 0}),
        Equal(_loss2(I2 + pm), squares, "$n = 2$: $L$ depends on the weights through $P = W₂W₁$ only, "
              "$L = ½\\|PR\\|²_F$"),
        Inequality(squares, sp.S.Zero, "a sum of squares: $L ≥ 0 = L(0)$, a global minimum ($n = 2$)", relation="≥"),
    )
    return Derivation(
        id="landscape.residual-two-layer",
        title="Two linear layers in a residual branch: zero weights are a global minimum, with zero Hessian "
              f"({NONNEG_AT_2})",
        claims=("C9",),
        statement="For $H = x + W₂W₁x$ and every $n$: $L = ½\\tr(W₂W₁ΣW₁ᵀW₂ᵀ)$, $L(0) = 0$, $L = 0$ wherever "
                  "$W₂ = 0$, and $L(τV₁, τV₂) = τ⁴L(V₁, V₂)$, so the gradient and the Hessian's quadratic form at $0$ "
                  f"vanish; {NONNEG_AT_2} for every symmetric positive definite $Σ$ ($L = ½\\|W₂W₁R\\|²_F$).",
        steps=steps,
        assumptions=(SPD,),
        references=(HE_2016, HARDT_MA_2017),
        conclusion=f"C9 holds in the sense of a global minimum ({NONNEG_AT_2}), qualified: the Hessian at $0$ "
                   "vanishes (the loss is quartic there, with no restoring quadratic term) and $0$ is not an isolated "
                   "minimum (every $W₂ = 0$ is one), so zero weights are a flat, degenerate minimum rather than a "
                   "strict one.",
        bearing={"C9": "qualifies"},
        proves=(*steps[:6], Formula(steps[6].lhs, "≥", 0)),
        instance=NONNEG_AT_2,
        remarks=("$L = ½\\|W₂W₁R\\|²_F ≥ 0$ holds for every $n$; it is checked here at $n = 2$ only.",
                 "A symmetric bilinear form whose quadratic form vanishes is zero (polarisation), so the zero "
                 "curvature in every direction is a zero Hessian for every $n$: not a step."),
    )
