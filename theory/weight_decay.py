r"""L2 weight decay: closed-form decay, and the minimisers with the identity-target loss (claim C10).

Conventions (CONTRIBUTING.md): the penalty is (λ/2)‖W‖²_F = (λ/2) tr(WᵀW) on the *trainable*
weights (for a residual block H = x + Wx the branch W, not the shortcut); the data loss of the
identity task is the mean with a ½, L(M) = ½ tr((M − I) Σ (M − I)ᵀ) for the end-to-end map M and
input covariance Σ = XXᵀ/N ≻ 0; gradient descent counts steps k with step size η, gradient flow
runs in continuous time t = kη.

References:
  Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019, Eq. (1):
    θ_{t+1} = (1 − λ_d) θ_t − α ∇f_t(θ_t); for plain SGD this is L2 with λ′ = λ_d / α.
  Hastie, Tibshirani, Friedman, *The Elements of Statistical Learning*, 2nd ed. 2009, §3.4.1,
    Eq. (3.44) (ridge solution) and Eq. (3.47) (shrinkage d_j² / (d_j² + λ) per principal direction).
  Goh, *Why Momentum Really Works*, Distill 2017: GD on a quadratic multiplies each eigen-component
    by (1 − η λ_i) per step and converges iff 0 < η λ_i < 2.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Formula, Inequality, MatrixGradient, Step, Substitute
from theory.references import ESL_2009, GOH_2017, LOSHCHILOV_2019

n = sp.Symbol("n", integer=True, positive=True)  # width of the block
W = sp.MatrixSymbol("W", n, n)  # trainable weight (plain: the whole map; residual: the branch)
W0 = sp.MatrixSymbol("W_0", n, n)  # initial weight
M = sp.MatrixSymbol("M", n, n)  # the block's end-to-end linear map
Sigma = sp.MatrixSymbol("Sigma", n, n)  # input covariance Σ = XXᵀ/N
A = sp.MatrixSymbol("A", n, n)  # A := Σ + λI, a change of variable (invertible: Σ ≻ 0, λ > 0)
Id = sp.Identity(n)  # the n×n identity
eta, lam = sp.symbols("eta lambda", positive=True)  # η step size, λ decay (L2 convention)
t = sp.Symbol("t", nonnegative=True)  # continuous time, t = kη
k = sp.Symbol("k", integer=True, nonnegative=True)  # step index
alpha, lam_d = sp.symbols("alpha lambda_d", positive=True)  # Loshchilov & Hutter's α and decoupled λ
theta, grad_f = sp.symbols("theta g", real=True)  # one coordinate of θ and of ∇f(θ)
sigma = sp.Symbol("sigma", positive=True)  # one eigenvalue of Σ
w = sp.Symbol("w", real=True)  # the plain weight along that eigen-direction
N = sp.Symbol("N", integer=True, positive=True)  # number of samples (ESL sums, we average)
u = sp.Symbol("u", real=True)  # u = ηλ, the per-step contraction is 1 − u
q_pos = sp.Symbol("q", positive=True)  # parameter of the interval (0, 2): u = 2/(1 + q)
q_nonneg = sp.Symbol("q", nonnegative=True)  # parameter of a half-line: u = −q or u = 2 + q

SPD = Assumption("$Σ ≻ 0$", "the input covariance is symmetric positive definite",
                 facts={Sigma.T: Sigma}, matrix_kinds={Sigma: "spd"})
DECAY = sp.Rational(1, 2) * lam * sp.Trace(W.T * W)  # (λ/2)‖W‖²_F


def _every_step_stated(derivation: Derivation) -> Derivation:
    """The derivation with its formal statement the conjunction of all its steps (each a separate fact)."""
    return replace(derivation, proves=derivation.steps)


# --- closed forms, exported as expressions (numerics/closed_forms.py lambdifies them; never retyped) ------------

DECAY_FACTOR = (1 - eta * lam) ** k  # (1 − ηλ)^k: k GD steps on (λ/2)‖W‖² alone scale W₀ by it (Goh 2017)
FLOW_DECAY_FACTOR = sp.exp(-lam * t)  # e^{−λt}: gradient flow on (λ/2)‖W‖² alone, at time t = kη
RIDGE_SHRINKAGE = sigma / (sigma + lam)  # σ/(σ + λ): W* = Σ(Σ + λI)⁻¹ along an eigenvector of Σ (ESL Eq. 3.47)
RIDGE_FIXED_POINT = Sigma * (Sigma + lam * Id).inverse()  # W* = Σ(Σ + λI)⁻¹, the plain block's minimiser (3.44)


@theorem
def decay_alone() -> Derivation:
    # ∇(λ/2)‖W‖² = λW; flow Ẇ = −λW ⇒ W(t) = e^{−λt}W₀; GD W_{k+1} = (1 − ηλ)W_k ⇒ W_k = (1 − ηλ)^k W₀
    flow = FLOW_DECAY_FACTOR * W0
    gd_k = DECAY_FACTOR * W0
    gd_next = DECAY_FACTOR.subs(k, k + 1) * W0
    return _every_step_stated(Derivation(
        id="weight-decay.alone",
        title="Weight decay alone shrinks weights: $e^{−λt}W₀$ under gradient flow, $(1 − ηλ)^k W₀$ under gradient "
              "descent",
        claims=("C10",),
        statement="For the loss $(λ/2)\\|W\\|²_F$ alone, gradient flow gives $W(t) = e^{−λt}W₀$ and gradient descent "
                  "with step $η$ gives $W_k = (1 − ηλ)^k W₀$; with $t = kη$, $(1 − ηλ)^{t/η} → e^{−λt}$ as $η → 0$. "
                  "Gradient descent with L2 is decoupled decay with $λ_d = ηλ$ [@loshchilov2019decoupled].",
        steps=(
            MatrixGradient(DECAY, lam * W, "$d\\tr(WᵀW)/dW = 2W$", wrt=W),
            Equal(sp.Derivative(flow, t), -lam * flow, "$W(t) = e^{−λt}W₀$ solves $dW/dt = −∇ = −λW$"),
            Substitute(flow, W0, "$W(0) = W₀$: the initial value", subs={t: 0}),
            Equal(gd_next, gd_k - eta * lam * gd_k, "$W_k = (1 − ηλ)^k W₀$ solves $W_{k+1} = W_k − ηλW_k$",
                  GOH_2017),
            Substitute(gd_k, W0, "$W_k = W₀$ at $k = 0$", subs={k: 0}),
            Equal(sp.Limit((1 - eta * lam) ** (t / eta), eta, 0, "+"), sp.exp(-lam * t),
                  "gradient descent after $k = t/η$ steps tends to the flow as $η → 0$ ($t = kη$)"),
            Substitute(theta - alpha * (grad_f + lam * theta), (1 - lam_d) * theta - alpha * grad_f,
                       "a step of stochastic gradient descent on $f + (λ/2)θ²$ is the decoupled step "
                       "with $λ_d = αλ$",
                       LOSHCHILOV_2019 + ", Eq. (1)", subs={lam: lam_d / alpha}),
        ),
        references=(LOSHCHILOV_2019, GOH_2017),
        conclusion="C10 holds exactly for the penalty alone: every weight decays geometrically toward $0$.",
    ))


@theorem
def decay_convergence() -> Derivation:
    # |1 − u| < 1 ⟺ (1 − u)² − 1 < 0 ⟺ u(u − 2) < 0 ⟺ 0 < u < 2, u = ηλ; case by case on ℝ
    def gap(value: sp.Expr) -> sp.Expr:
        return value * (value - 2)  # (1 − u)² − 1 at u = value

    # |1 − u|² − 1, unevaluated (the checker squares the absolute value): negative iff |1 − u| < 1
    gap_u = sp.Add(sp.Pow(sp.Abs(1 - u, evaluate=False), 2, evaluate=False), -1, evaluate=False)
    regions = (  # u on the region, as a parameter; relation of |1 − u|² − 1 to 0
        (2 / (1 + q_pos), "<"),
        (-q_nonneg, "≥"),
        (2 + q_nonneg, "≥"),
    )
    return Derivation(
        id="weight-decay.gd-convergence",
        title="Gradient descent on weight decay alone converges if and only if $0 < ηλ < 2$",
        claims=("C10",),
        statement="For real $u = ηλ$, $|1 − u|² − 1 = u(u − 2)$ is negative on $(0, 2)$ and nonnegative on "
                  "$(−∞, 0]$ and $[2, ∞)$: $|1 − u| < 1 ⟺ 0 < u < 2$; hence $(1 − ηλ)^k W₀ → 0$ for every $W₀$ if and "
                  "only if $0 < ηλ < 2$.",
        steps=(
            Equal(gap_u, u * (u - 2), "$|1 − u|² − 1$ factors ($u$ real)", GOH_2017),
            Equal(sp.Subs(gap_u, u, 2 / (1 + q_pos)), gap(2 / (1 + q_pos)), "$u ∈ (0, 2)$ is $u = 2/(1 + q)$, $q > 0$"),
            Inequality(gap(2 / (1 + q_pos)), sp.S.Zero, "$< 0$: $|1 − u| < 1$", relation="<"),
            Equal(sp.Subs(gap_u, u, -q_nonneg), gap(-q_nonneg), "$u ≤ 0$ is $u = −q$, $q ≥ 0$"),
            Inequality(gap(-q_nonneg), sp.S.Zero, "$≥ 0$: $|1 − u| ≥ 1$", relation="≥"),
            Equal(sp.Subs(gap_u, u, 2 + q_nonneg), gap(2 + q_nonneg), "$u ≥ 2$ is $u = 2 + q$, $q ≥ 0$"),
            Inequality(gap(2 + q_nonneg), sp.S.Zero, "$≥ 0$: $|1 − u| ≥ 1$", relation="≥"),
        ),
        references=(GOH_2017,),
        conclusion="Decay alone converges to $0$ exactly when $0 < ηλ < 2$; at $ηλ = 2$ it oscillates, beyond it "
                   "diverges.",
        proves=(
            Formula(gap_u, "=", u * (u - 2)),
            *(Formula(sp.Subs(gap_u, u, value), relation, sp.S.Zero) for value, relation in regions),
        ),
        remarks=("A geometric sequence $r^k W₀$ tends to $0$ for every $W₀$ if and only if $|r| < 1$ (not a checked "
                 "step).",),
    )


@theorem
def residual_minimiser() -> Derivation:
    # residual H = x + Wx, penalty on the branch: J(W) = ½tr(WΣWᵀ) + (λ/2)tr(WᵀW), ∇J = W(Σ + λI)
    data = sp.Rational(1, 2) * sp.Trace(W * Sigma * W.T)
    tt = sp.Symbol("tau", real=True)
    V = sp.MatrixSymbol("V", n, n)
    along = sp.Rational(1, 2) * sp.Trace((tt * V) * Sigma * (tt * V).T) + lam / 2 * sp.Trace((tt * V).T * (tt * V))
    return _every_step_stated(Derivation(
        id="weight-decay.residual-minimiser",
        title="With the identity-target loss, the residual block's regularised minimiser is $W = 0$ (unique: $n = 2$)",
        claims=("C10",),
        statement="For every $n$, $J(W) = ½ \\tr(WΣWᵀ) + (λ/2)\\|W\\|²_F$ has $∇J = W(Σ + λI)$, zero at $W = 0$ where "
                  "$J = 0$, and its curvature along any $V$ is $\\tr(VΣVᵀ) + λ\\|V\\|²_F$, the quadratic form of the "
                  "Hessian $I ⊗ Σ + λI$. For $n = 2$ and every symmetric positive definite $Σ$ ($Σ = RRᵀ$, Cholesky) "
                  "the Hessian is $⪰ λI ≻ 0$, checked entrywise: $J$ is strictly convex and $W = 0$, i.e. "
                  "$H = \\mathrm{id}$, is the unique minimiser.",
        steps=(
            Substitute(sp.Rational(1, 2) * sp.Trace((M - Id) * Sigma * (M - Id).T), data,
                       "end-to-end $M = I + W$ in $½\\tr((M − I)Σ(M − I)ᵀ)$", subs={M: Id + W}),
            MatrixGradient(data + DECAY, W * Sigma + lam * W, "term by term, $Σᵀ = Σ$", wrt=W),
            Substitute(W * Sigma + lam * W, sp.ZeroMatrix(n, n), "the gradient vanishes at $W = 0$",
                       subs={W: sp.ZeroMatrix(n, n)}),
            Substitute(data + DECAY, sp.S.Zero, "$J(0) = 0$", subs={W: sp.ZeroMatrix(n, n)}),
            Equal(sp.Derivative(along, tt, 2),
                  sp.Trace(V * Sigma * V.T) + lam * sp.Trace(V.T * V),
                  "second derivative along any direction $V$: the quadratic form of $I ⊗ Σ + λI$"),
            *_explicit_positive_hessian(),
        ),
        assumptions=(SPD,),
        references=(ESL_2009,),
        conclusion="With the penalty on the branch, decay and data loss agree: $W = 0$ ($H = \\mathrm{id}$) is a "
                   "critical point with $J = 0$ for every $n$, and the unique minimiser for every $λ > 0$ (shown for "
                   "$n = 2$). C10 holds for the residual block.",
        instance="$n = 2$",
        remarks=(
            "For $n > 2$, $\\tr(VΣVᵀ) = \\|VR\\|²_F ≥ 0$ ($Σ = RRᵀ$) makes the curvature $≥ λ\\|V\\|²_F$ as well, so "
            "$W = 0$ is the unique minimiser for every $n$; that inequality is not a checked step.",
        ),
    ))


def _explicit_positive_hessian() -> tuple[Step, ...]:
    """n = 2, Σ = RRᵀ any SPD matrix (Cholesky): wᵀ(I ⊗ Σ + λI)w = ‖WR‖² + λ‖W‖² ≥ λ‖w‖²."""
    r1, r3 = sp.symbols("r_1 r_3", positive=True)
    r2 = sp.Symbol("r_2", real=True)
    R = sp.Matrix([[r1, 0], [r2, r3]])
    ws = sp.symbols("w_11 w_12 w_21 w_22", real=True)
    Wm = sp.Matrix(2, 2, ws)
    J = sp.Rational(1, 2) * (Wm * R * R.T * Wm.T).trace() + lam / 2 * (Wm.T * Wm).trace()
    hess = sp.Matrix(4, 4, lambda i, j: sp.Derivative(J, ws[i], ws[j]))
    claimed = sp.kronecker_product(sp.eye(2), R * R.T) + lam * sp.eye(4)
    wv = sp.Matrix(ws)
    squares = sum(e**2 for e in Wm * R)
    return (
        Equal(hess, claimed, "$n = 2$, $w = \\operatorname{vec}(W)$ row by row: the Hessian is $I ⊗ Σ + λI$ with "
              "$Σ = RRᵀ$ (Cholesky)"),
        Equal((wv.T * claimed * wv)[0, 0] - lam * (wv.T * wv)[0, 0], squares, "$wᵀ(I ⊗ Σ)w = \\|WR\\|²_F$"),
        Inequality(squares, sp.S.Zero, "a sum of squares: the Hessian is $⪰ λI ≻ 0$, $J$ strictly "
                                       "convex", relation="≥"),
    )


@theorem
def plain_minimiser() -> Derivation:
    # plain M = W: J(W) = ½tr((W − I)Σ(W − I)ᵀ) + (λ/2)tr(WᵀW), ∇J = W(Σ + λI) − Σ ⇒ W* = Σ(Σ + λI)⁻¹
    data = sp.Rational(1, 2) * sp.Trace((W - Id) * Sigma * (W - Id).T)
    w_star = RIDGE_FIXED_POINT
    d_j, lam_esl = sp.symbols("d_j lambda_ESL", positive=True)  # ESL's singular value and ridge λ (sum, no ½)
    return _every_step_stated(Derivation(
        id="weight-decay.plain-minimiser",
        title="The plain linear block's regularised minimiser $Σ(Σ + λI)^{−1}$ is pulled away from $I$ (minimiser: "
              "$n = 2$)",
        claims=("C10",),
        statement="For every $n$, $J(W) = ½ \\tr((W − I)Σ(W − I)ᵀ) + (λ/2)\\|W\\|²_F$ has $∇J = W(Σ + λI) − Σ$, zero "
                  "at $W^* = Σ(Σ + λI)^{−1}$, and $I − W^* = λ(Σ + λI)^{−1} ≠ 0$: per eigen-mode $σ/(σ + λ) < 1$, a "
                  "gap "
                  "of $λ/(σ + λ) > 0$ [@hastie2009elements, §3.4.1]. For $n = 2$ the Hessian $I ⊗ Σ + λI ⪰ λI$ (the "
                  "residual case's) is checked entrywise, so $W^*$ is the unique minimiser.",
        steps=(
            MatrixGradient(data + DECAY, (W - Id) * Sigma + lam * W, "term by term, $Σᵀ = Σ$", wrt=W),
            Equal((W - Id) * Sigma + lam * W, W * (Sigma + lam * Id) - Sigma, "collect $W$"),
            Substitute(W * (Sigma + lam * Id) - Sigma, sp.ZeroMatrix(n, n),
                       "$W^* = Σ(Σ + λI)^{−1}$ is a critical point", ESL_2009 + ", §3.4.1, Eq. (3.44)",
                       subs={W: w_star}),
            Substitute(w_star, (A - lam * Id) * A.inverse(), "with $A := Σ + λI$", subs={Sigma: A - lam * Id}),
            Equal(Id - (A - lam * Id) * A.inverse(), lam * A.inverse(), "$I − W^* = λ(Σ + λI)^{−1}$"),
            Substitute(sp.Derivative(sp.Rational(1, 2) * sigma * (w - 1) ** 2 + lam / 2 * w**2, w), sp.S.Zero,
                       "per eigen-mode $σ$ of $Σ$: $w^* = σ/(σ + λ)$ is the critical point", subs={w: RIDGE_SHRINKAGE}),
            Substitute(d_j**2 / (d_j**2 + lam_esl), RIDGE_SHRINKAGE,
                       "the shrinkage $d²/(d² + λ_{\\mathrm{ESL}})$ of Hastie et al. in our convention (mean, factor "
                       "$½$): $d² = Nσ$, $λ_{\\mathrm{ESL}} = Nλ$",
                       ESL_2009 + ", §3.4.1, Eq. (3.47)",
                       subs={d_j: sp.sqrt(N * sigma), lam_esl: N * lam}),
            Equal(1 - RIDGE_SHRINKAGE, lam / (sigma + lam), "distance from the identity per eigen-mode"),
            Inequality(lam / (sigma + lam), sp.S.Zero, "strictly positive for every $λ > 0$", relation=">"),
            *_explicit_positive_hessian(),
        ),
        assumptions=(SPD, Assumption("$A = Σ + λI$", "$A$ is invertible since $Σ ≻ 0$ and $λ > 0$",
                                     matrix_kinds={A: "spd"})),
        references=(ESL_2009, LOSHCHILOV_2019),
        conclusion="For the plain block, weight decay pulls the critical point away from the identity, by "
                   "$λ/(σ + λ)$ along each eigen-direction of $Σ$, for every $n$ (that it is the minimiser is shown "
                   "for $n = 2$): C10 (decay pushes toward zero) helps the residual parameterisation and biases the "
                   "plain one.",
        instance="$n = 2$",
        remarks=(
            "For $n > 2$ the Hessian $I ⊗ Σ + λI$ is $⪰ λI$ as well ($\\tr(VΣVᵀ) ≥ 0$ for $Σ ≻ 0$), so $W^*$ is the "
            "unique minimiser for every $n$; that inequality is not a checked step.",
            "$W^*$ is the only critical point for every $n$ ($Σ + λI$ is invertible); no step checks the "
            "invertibility.",
        ),
    ))
