r"""Gradient descent on one linear block fitting the identity: the exact iterate, stability, and why the
residual form is only a change of variable (claims C11, C12).

Conventions (CONTRIBUTING.md; the float evaluators are in `numerics.closed_forms`): input covariance Σ = XXᵀ/N ≻ 0, data
loss ½ tr((M − I)Σ(M − I)ᵀ) (mean over samples, with a ½) for the end-to-end map M; L2 decay (λ/2)‖θ‖²_F on
the trainable weights (plain θ = W = M; residual θ = A, M = I + A); GD with step η counts steps k.

In Σ's eigenbasis (Σ = QΛQᵀ, the spectral theorem) the loss separates entry by entry: the (j, i) entry of
WQ has loss ½σ_i(w − y)² + (λ/2)w² with y = 1 on the diagonal (j = i) and y = 0 off it.  Each such scalar
is one *eigen-mode*; the theorems below are stated per mode and for the matrices.

References:
  Goh, *Why Momentum Really Works*, Distill 2017: GD on a quadratic multiplies each eigen-component of the
    error by (1 − ηλ_i) per step; converges iff 0 < ηλ_i < 2 (here λ_i = σ_i + λ).
  Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed. 2009, §3.4.1, Eq. (3.47):
    ridge shrinks each principal direction by d²/(d² + λ); here w* = σ/(σ + λ) (converted in
    `theory.weight_decay`).
  He, Zhang, Ren & Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016, Eq. (1): H = F(x) + x.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from theory import weight_decay
from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Inequality, MatrixGradient, Step, Substitute
from theory.references import ESL_2009, GOH_2017, HE_2016

n = sp.Symbol("n", integer=True, positive=True)  # width of the block
W = sp.MatrixSymbol("W", n, n)  # plain block's weight (= its end-to-end map M)
A = sp.MatrixSymbol("A", n, n)  # residual block's branch weight, M = I + A
M = sp.MatrixSymbol("M", n, n)  # end-to-end map
W_star = sp.MatrixSymbol("W_star", n, n)  # plain fixed point, defined by W*(Σ + λI) = Σ
Sigma = sp.MatrixSymbol("Sigma", n, n)  # input covariance Σ = XXᵀ/N
Id = sp.Identity(n)
eta = sp.Symbol("eta", positive=True)  # η step size
lam = sp.Symbol("lambda", nonnegative=True)  # λ L2 coefficient of (λ/2)‖θ‖²_F
sigma = sp.Symbol("sigma", positive=True)  # one eigenvalue σ_i of Σ
y = sp.Symbol("y", real=True)  # the mode's target entry of I in the eigenbasis (1 on, 0 off the diagonal)
w, w0, a0 = sp.symbols("w w_0 a_0", real=True)  # the plain mode weight, its start, the residual mode's start
k = sp.Symbol("k", integer=True, nonnegative=True)  # step index
q = sp.Symbol("q", positive=True)  # parameter of 0 < η(σ + λ) < 2: η(σ + λ) = 2/(1 + q)
q0 = sp.Symbol("q", nonnegative=True)  # parameter of η(σ + λ) ≥ 2: η(σ + λ) = 2 + q
h = sp.Symbol("h", positive=True)  # Hessian eigenvalue σ + λ of one mode
d = sp.Symbol("d", nonnegative=True)  # σ_max − σ_i ≥ 0

SPD = Assumption("$Σ ≻ 0$", "the input covariance is symmetric positive definite",
                 facts={Sigma.T: Sigma}, matrix_kinds={Sigma: "spd"})

DATA_PLAIN = sp.S.Half * sp.Trace((W - Id) * Sigma * (W - Id).T)  # ½ tr((W − I)Σ(W − I)ᵀ)
DECAY_PLAIN = sp.S.Half * lam * sp.Trace(W.T * W)  # (λ/2)‖W‖²_F
DATA_RES = sp.S.Half * sp.Trace(A * Sigma * A.T)  # ½ tr(AΣAᵀ): M − I = A
DECAY_RES = sp.S.Half * lam * sp.Trace(A.T * A)  # (λ/2)‖A‖²_F on the branch only

# --- closed forms, exported as expressions (numerics/closed_forms.py lambdifies them; never retyped) ------------
MODE_RATE = 1 - eta * (sigma + lam)  # r = 1 − η(σ + λ): per-step contraction of one eigen-mode (Goh 2017)
RIDGE_FIXED_POINT = weight_decay.RIDGE_FIXED_POINT.subs(weight_decay.lam, lam)  # W* = Σ(Σ + λI)⁻¹ (ESL Eq. 3.44)
STABILITY_LIMIT = 2 / (sigma + lam)  # at σ = σ_max: GD converges from every start iff 0 < η < 2/(σ_max + λ)

r = MODE_RATE  # per-mode contraction factor
w_star = y * weight_decay.RIDGE_SHRINKAGE.subs(weight_decay.lam, lam)  # per-mode plain fixed point σy/(σ + λ)


def _every_step_stated(derivation: Derivation) -> Derivation:
    """The derivation with its formal statement the conjunction of all its steps (each a separate fact)."""
    return replace(derivation, proves=derivation.steps)


def mode_loss(v: sp.Expr) -> sp.Expr:
    """½σ(v − y)² + (λ/2)v²: the plain block's loss along one eigen-mode."""
    return sp.S.Half * sigma * (v - y) ** 2 + sp.S.Half * lam * v**2


@theorem
def gd_iterate() -> Derivation:
    # ∇ = (W − I)Σ + λW  ⇒  W_{k+1} − W* = (W_k − W*)(I − η(Σ + λI)); per mode w_k = w* + r^k (w_0 − w*)
    w_k = w_star + r**k * (w0 - w_star)
    a_k = r**k * a0
    return _every_step_stated(Derivation(
        id="linear-block.gd-iterate",
        title="The exact $k$-th gradient-descent iterate of plain and residual linear blocks on the identity task, "
              "per eigen-mode",
        claims=("C11", "C12"),
        statement=(
            "Gradient descent with step $η$ on $½\\tr((M − I)Σ(M − I)ᵀ) + (λ/2)\\|θ\\|²_F$: the plain block "
            "($θ = W = M$) has gradient $(W − I)Σ + λW$ and error recursion "
            "$W_{k+1} − W^* = (W_k − W^*)(I − η(Σ + λI))$ with $W^*(Σ + λI) = Σ$, i.e. $W^* = Σ(Σ + λI)^{−1}$; the "
            "residual block ($θ = A$, $M = I + A$) has gradient $AΣ + λA$ and $A_{k+1} = A_k(I − η(Σ + λI))$. Per "
            "eigen-mode $σ$ (target $y ∈ \\{0, 1\\}$): $w_k = w^* + r^k(w_0 − w^*)$, $w^* = σy/(σ + λ)$, and "
            "$a_k = r^k a_0$, with the same $r = 1 − η(σ + λ)$. With $Σ = QΛQᵀ$, "
            "$\\|E_k\\|²_F = \\sum_i r_i^{2k}\\|E_0 q_i\\|²$ (shown for $n = 3$)."
        ),
        steps=(
            MatrixGradient(DATA_PLAIN + DECAY_PLAIN, (W - Id) * Sigma + lam * W,
                           "plain: term by term, $Σᵀ = Σ$", wrt=W),
            MatrixGradient(DATA_RES + DECAY_RES, A * Sigma + lam * A,
                           "residual: term by term, $Σᵀ = Σ$; the shortcut is not trained", wrt=A),
            Equal(W - eta * ((W - Id) * Sigma + lam * W) - W_star,
                  (W - W_star) * (Id - eta * (Sigma + lam * Id)) + eta * (Sigma - W_star * (Sigma + lam * Id)),
                  "plain step minus $W^*$: the last term vanishes exactly when $W^*(Σ + λI) = Σ$"),
            Substitute(Sigma - W_star * (Sigma + lam * Id), sp.ZeroMatrix(n, n),
                       "$W^* = Σ(Σ + λI)^{−1}$ (ridge) satisfies $W^*(Σ + λI) = Σ$", ESL_2009 + ", §3.4.1, Eq. (3.44)",
                       subs={W_star: RIDGE_FIXED_POINT}),
            Equal(A - eta * (A * Sigma + lam * A), A * (Id - eta * (Sigma + lam * Id)),
                  "residual step: $A^* = 0$ and the same factor $I − η(Σ + λI)$"),
            Equal(sp.Derivative(mode_loss(w), w), (sigma + lam) * (w - w_star),
                  "per mode: the gradient is $(σ + λ)(w − w^*)$, the Hessian $σ + λ$", GOH_2017),
            Equal(w_k.subs(k, k + 1), w_k - eta * sp.Subs(sp.Derivative(mode_loss(w), w), w, w_k),
                  "$w_k = w^* + r^k(w_0 − w^*)$ satisfies the plain recursion", GOH_2017),
            Substitute(w_k, w0, "and starts at $w_0$", subs={k: 0}),
            Equal(a_k.subs(k, k + 1), a_k - eta * (sigma * a_k + lam * a_k),
                  "$a_k = r^k a_0$ satisfies the residual recursion (mode loss $½σa² + (λ/2)a²$)", GOH_2017),
            Substitute(a_k, a0, "and starts at $a_0$", subs={k: 0}),
            _frobenius_per_mode(),
        ),
        assumptions=(SPD,),
        references=(GOH_2017, ESL_2009, HE_2016),
        conclusion=(
            "Both blocks contract every eigen-mode of the error by exactly $r_i = 1 − η(σ_i + λ)$ per step; they "
            "differ only in the fixed point ($Σ(Σ + λI)^{−1}$ against $I$) and, from the usual zero "
            "initialisation, in the start."
        ),
        remarks=(
            "For general $n$, $\\|E_0 Q D^k\\|²_F = \\sum_i r_i^{2k}\\|E_0 q_i\\|²$ (the columns of $E_0 Q$ scale "
            "independently) is the same computation column by column; only $n = 3$ is a checked step.",
        ),
    ))


def _frobenius_per_mode() -> Step:
    """‖E D^k‖²_F = Σ_i r_i^{2k} ‖E e_i‖² for an explicit 3×3 E and D = diag(r_i) (E stands for E_0 Q)."""
    e = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"e_{i}{j}", real=True))
    rs = sp.symbols("r_0:3", real=True)
    Dk = sp.diag(*(ri**k for ri in rs))
    lhs = (e * Dk * (e * Dk).T).trace()
    rhs = sum(rs[i] ** (2 * k) * sum(e[j, i] ** 2 for j in range(3)) for i in range(3))
    return Equal(lhs, rhs, "$n = 3$: $\\|E_0 Q D^k\\|²_F = \\sum_i r_i^{2k} c_i$ with $c_i = \\|E_0 q_i\\|²$ "
                 "(the columns decouple)")


@theorem
def stability() -> Derivation:
    # |r| < 1  ⟺  0 < η(σ + λ) < 2; every mode converges iff η < 2/(σ_max + λ)
    return _every_step_stated(Derivation(
        id="linear-block.stability",
        title="Gradient descent on a linear block converges if and only if $0 < η < 2/(σ_{\\max} + λ)$, for plain "
              "and residual alike",
        claims=("C11", "C12"),
        statement=(
            "With $h = σ + λ > 0$ the mode factor is $r = 1 − ηh$: $ηh ∈ (0, 2)$ gives $r² < 1$; $ηh ≥ 2$ gives "
            "$r² ≥ 1$ (at $ηh = 2$, $r = −1$: a stuck, oscillating mode). If $η = 2/((σ_{\\max} + λ)(1 + q))$, "
            "$q > 0$, every mode $σ_i = σ_{\\max} − d$ ($d ≥ 0$) has $0 < η(σ_i + λ) < 2$; so the condition is "
            "$0 < η < 2/(σ_{\\max} + λ)$."
        ),
        steps=(
            Inequality((1 - 2 / (1 + q)) ** 2, sp.S.One, "$ηh = 2/(1 + q) ∈ (0, 2)$: $r² < 1$", GOH_2017,
                       relation="<"),
            Inequality((1 - (2 + q0)) ** 2, sp.S.One, "$ηh = 2 + q ≥ 2$: $r² ≥ 1$ (no convergence)", GOH_2017,
                       relation="≥"),
            Inequality(STABILITY_LIMIT.subs(sigma, sigma + d) / (1 + q) * (sigma + lam), sp.S.Zero,
                       "$η(σ_i + λ) > 0$ for every mode", relation=">"),
            Inequality(STABILITY_LIMIT.subs(sigma, sigma + d) / (1 + q) * (sigma + lam), sp.S(2),
                       "$η(σ_i + λ) < 2$ for $σ_i = σ_{\\max} − d ≤ σ_{\\max}$", relation="<"),
        ),
        references=(GOH_2017,),
        conclusion="Same condition for both parameterisations: the residual form does not widen the stable range.",
    ))


@theorem
def residual_is_change_of_variable() -> Derivation:
    # A = M − I: the residual problem is the plain one in M with decay centred at I; same GD map when λ = 0
    L_res_M = sp.S.Half * sp.Trace((M - Id) * Sigma * (M - Id).T) + sp.S.Half * lam * sp.Trace((M - Id).T * (M - Id))
    L_plain_M = sp.S.Half * sp.Trace((M - Id) * Sigma * (M - Id).T) + sp.S.Half * lam * sp.Trace(M.T * M)
    w_k = w_star + r**k * (w0 - w_star)
    return _every_step_stated(Derivation(
        id="linear-block.residual-is-change-of-variable",
        title="One linear layer: the residual form is a change of variable with the same rate; only start and "
              "decay target differ",
        claims=("C11", "C12"),
        statement=(
            "With $M = I + A$ the residual loss is $½\\tr((M − I)Σ(M − I)ᵀ) + (λ/2)\\|M − I\\|²_F$: the plain problem "
            "in $M$ with the decay centred at $I$ instead of $0$. Since $∂M/∂A$ is the identity, gradient descent on "
            "$A$ is gradient descent on $M$; for $λ = 0$ the two losses and the two maps in $M$ coincide, so from the "
            "same $M_0$ the trajectories are identical. For $λ ≥ 0$ the error $M_k − M^*$ contracts by "
            "$I − η(Σ + λI)$ in both. From the usual initialisation ($W_0 = 0 ⇒ M_0 = 0$; $A_0 = 0 ⇒ M_0 = I$) the "
            "plain mode starts at error $−w^*$, the residual one at error $0$ (done at $k = 0$)."
        ),
        steps=(
            Substitute(DATA_RES + DECAY_RES, L_res_M, "residual loss in the end-to-end map", HE_2016 + ", Eq. (1)",
                       subs={A: M - Id}),
            Substitute(L_plain_M - L_res_M, sp.S.Zero, "$λ = 0$: the two losses in $M$ are the same function",
                       subs={lam: 0}),
            Substitute(Id + A - eta * (A * Sigma), M - eta * ((M - Id) * Sigma),
                       "$λ = 0$: one residual step, read in $M$, is the plain step", subs={A: M - Id}),
            Equal(M - eta * ((M - Id) * Sigma + lam * (M - Id)) - Id, (M - Id) * (Id - eta * (Sigma + lam * Id)),
                  "residual in $M$: the error $M − I$ contracts by $I − η(Σ + λI)$, the plain factor", GOH_2017),
            Substitute(w_k - w_star, -(r**k) * w_star, "plain mode from $W_0 = 0$: error $r^k(0 − w^*) ≠ 0$",
                       subs={w0: 0}),
            Substitute(r**k * a0, sp.S.Zero, "residual mode from $A_0 = 0$: error $0$ at every $k$", subs={a0: 0}),
            Equal(1 - sigma / (sigma + lam), lam / (sigma + lam),
                  "diagonal mode: decay pulls the plain fixed point by $λ/(σ + λ)$ away from the identity", ESL_2009),
        ),
        assumptions=(SPD,),
        references=(HE_2016, GOH_2017, ESL_2009),
        conclusion=(
            "C11 and C12 qualified: for one linear layer the residual form is not easier to optimise (same rates, "
            "same stability range). Its advantage is where it starts ($A = 0$ is $M = I$, already the target) and "
            "where weight decay pulls (toward $I$, so the minimiser is exactly $I$ instead of $Σ(Σ + λI)^{−1}$)."
        ),
        bearing={"C11": "qualifies", "C12": "qualifies"},
        remarks=(
            "From the same $M_0$ the trajectories with $λ = 0$ coincide by induction on $k$ (the one-step maps "
            "agree); the induction is not a checked step.",
        ),
    ))
