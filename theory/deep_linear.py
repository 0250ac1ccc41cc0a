r"""Deep linear chains under gradient flow: end-to-end dynamics and learning times (C11, C12).

Conventions (CONTRIBUTING.md), converted explicitly to each paper's:

- **Chain.** A scalar chain of N ≥ 1 weights (one eigen-mode of a whitened deep linear net), end-to-end
  u = w_N ⋯ w_1, loss ½(s − u)² with target strength s.  Plain: w_i trained, small init; residual:
  w_i = 1 + a_i with the branches a_i trained and a_i(0) = 0.
- **Balanced.** All w_i equal (w_i(0) equal, and gradient flow keeps them equal), w > 0, so u = w^N > 0.
- **Time.** Gradient flow dθ/dt = −∇L(θ) in continuous time t = kη, the limit of GD with step η
  (so divide a time by η for a number of steps).  Saxe et al. write τ dθ/dt = −∇L with τ = 1/η and t in
  steps: their t/τ is our t.  Their N_l counts layers of *units*; our N = N_l − 1 counts weights.

End-to-end ODE (derived and proved below, `end_to_end_ode` and `residual_chain_same_ode`):

    du/dt = N u^{2 − 2/N} (s − u)          (u > 0)

- Saxe, McClelland & Ganguli, *Exact solutions to the nonlinear dynamics of learning in deep linear neural
  networks*, ICLR 2014: Eq. (10) τ du/dt = 2u(s − u) (N = 2), Eq. (15)
  τ du/dt = (N_l − 1) u^{2−2/(N_l−1)} (s − u); Eq. (11) the two-layer time
  t = (τ/2s) ln[u_f(s − u₀)/(u₀(s − u_f))]; Eq. (12) the two-layer trajectory.
- Arora, Cohen & Hazan, *On the Optimization of Deep Networks: Implicit Acceleration by
  Overparameterization*, ICML 2018: scalar end-to-end dynamics ẇ = −N |w|^{2−2/N} L′(w), here L′(u) = u − s.

Learning time from u₀ to u_f (u_f between u₀ and s):  t = ∫_{u₀}^{u_f} du / (N u^{2−2/N} (s − u)).
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Formula, Substitute
from theory.references import ARORA_2018, SAXE_2014

# --- theorems -------------------------------------------------------------------------------------------------
s_ = sp.Symbol("s", positive=True)  # target strength s of the mode
w_ = sp.Symbol("w", positive=True)  # the common weight of a balanced chain
u_ = sp.Symbol("u", positive=True)  # end-to-end u = w^N > 0
u0_ = sp.Symbol("u_0", positive=True)  # initial end-to-end value
N_ = sp.Symbol("N", integer=True, positive=True)  # depth: number of weights in the chain
N_l = sp.Symbol("N_l", integer=True, positive=True)  # Saxe et al.'s number of layers of units, N_l = N + 1
t_ = sp.Symbol("t", nonnegative=True)  # our time t = kη
t_saxe = sp.Symbol("t_S", nonnegative=True)  # Saxe et al.'s time (in steps), t_S = t τ
tau = sp.Symbol("tau", positive=True)  # Saxe et al.'s τ = 1/η
w_i, w_j = sp.symbols("w_i w_j", positive=True)  # two weights of the chain (balancedness)
P = sp.Symbol("P", real=True)  # product of the other N − 1 weights, ∏_{j≠i} w_j
R = sp.Symbol("R", real=True)  # product of the N − 2 weights other than w_i, w_j
wr_i, wr_j = sp.symbols("w_i w_j", real=True)  # residual weights w_i = 1 + a_i (any sign)
a_i = sp.Symbol("a_i", real=True)  # a residual branch weight, w_i = 1 + a_i
a_ = sp.Symbol("a", real=True)  # the common residual branch weight

RATE = N_ * u_ ** (2 - 2 / N_) * (s_ - u_)  # du/dt = N u^{2−2/N}(s − u)


def saxe_two_layer_trajectory(u0: sp.Expr = u0_) -> sp.Expr:
    """u(t) = s e^{2st}/(e^{2st} − 1 + s/u₀): Saxe et al. 2014, Eq. (12) with τ = 1 (our t = kη)."""
    return s_ * sp.exp(2 * s_ * t_) / (sp.exp(2 * s_ * t_) - 1 + s_ / u0)


@theorem
def end_to_end_ode() -> Derivation:
    # ẇ_i = (s − u)∏_{j≠i} w_j; balanced ⇒ ẇ = w^{N−1}(s − w^N) ⇒ u̇ = N w^{2N−2}(s − u) = N u^{2−2/N}(s − u)
    u_t = saxe_two_layer_trajectory()
    w_dot = w_ ** (N_ - 1) * (s_ - w_**N_)  # ẇ of the balanced chain
    loss_pair = sp.S.Half * (s_ - w_i * w_j * R) ** 2  # u = w_i w_j R, R the product of the other N − 2 weights
    ode_in_w = N_ * w_ ** (2 * N_ - 2) * (s_ - w_**N_)
    steps = (
        Equal(sp.Subs(-sp.Derivative(sp.S.Half * (s_ - w_i * P) ** 2, w_i), (w_i, P), (w_, w_ ** (N_ - 1))), w_dot,
              "$ẇ_i = −∂L/∂w_i = (s − u)\\prod_{j≠i} w_j$; balanced: all $w_j = w$", ARORA_2018),
        Equal(-w_i * sp.Derivative(loss_pair, w_i) + w_j * sp.Derivative(loss_pair, w_j), sp.S.Zero,
              "$½\\, d(w_i² − w_j²)/dt = w_i ẇ_i − w_j ẇ_j = −w_i ∂L/∂w_i + w_j ∂L/∂w_j = 0$ "
              "($u = w_i w_j R$, $N ≥ 2$): balance is conserved", ARORA_2018),
        Equal(sp.Derivative(w_**N_, w_) * w_dot, ode_in_w, "chain rule $u̇ = (du/dw)\\, ẇ$ with $u = w^N$"),
        Equal(ode_in_w, sp.Subs(RATE, u_, w_**N_), "$w^{2N−2} = (w^N)^{2−2/N}$ for $w > 0$"),
        Equal(-N_ * sp.Abs(u_, evaluate=False) ** (2 - 2 / N_) * (u_ - s_), RATE,
              "Arora et al.'s end-to-end form with $L'(u) = u − s$ (our loss has the factor $½$), $|u| = "
              "u$", ARORA_2018),
        Substitute(RATE, 2 * u_ * (s_ - u_), "$N = 2$: Saxe et al.'s Eq. (10) with $τ = 1$", SAXE_2014 + ", Eq. (10)",
                   subs={N_: 2}),
        Substitute((N_l - 1) * u_ ** (2 - 2 / (N_l - 1)) * (s_ - u_), RATE,
                   "Saxe et al.'s Eq. (15) with $τ = 1$ and $N_l = N + 1$ layers of units ($N ≥ 1$ weights) is our "
                   "equation",
                   SAXE_2014 + ", Eq. (15)", subs={N_l: N_ + 1}),
        Equal(sp.Derivative(u_t, t_), 2 * u_t * (s_ - u_t), "Eq. (12) solves the equation for $N = "
                                                            "2$", SAXE_2014 + ", Eq. (12)"),
        Substitute(u_t, u0_, "with $u(0) = u₀$", SAXE_2014 + ", Eq. (12)", subs={t_: 0}),
        Substitute(u_t, s_ * sp.exp(2 * s_ * t_saxe / tau) / (sp.exp(2 * s_ * t_saxe / tau) - 1 + s_ / u0_),
                   "their time $t_S$ counts steps with $τ = 1/η$: our $t = t_S/τ$ gives their Eq. (12) verbatim",
                   SAXE_2014 + ", Eq. (12)", subs={t_: t_saxe / tau}),
    )
    return Derivation(
        id="deep-linear.end-to-end-ode",
        title="A balanced deep linear chain learns by $du/dt = N u^{2−2/N}(s − u)$",
        claims=("C11", "C12"),
        statement=(
            "For the scalar chain $u = w_N ⋯ w_1$ with loss $½(s − u)²$ under gradient flow ($t = kη$): each weight "
            "moves as $ẇ_i = (s − u)\\prod_{j≠i} w_j$; the differences $w_i² − w_j²$ are conserved; on a balanced "
            "chain $ẇ = w^{N−1}(s − w^N)$ and $u̇ = N u^{2−2/N}(s − u)$ for $u = w^N > 0$. This is the end-to-end "
            "equation $ẇ = −N|w|^{2−2/N}L'(w)$ of Arora et al. [@arora2018optimization], Saxe et al.'s Eq. (10) for "
            "$N = 2$ and Eq. (15) for $N_l = N + 1$, $τ = 1$ [@saxe2014exact], and Saxe et al.'s Eq. (12) solves the "
            "case $N = 2$ (their $t$ is our $tτ$)."
        ),
        steps=steps,
        references=(SAXE_2014, ARORA_2018),
        conclusion="The end-to-end dynamics of a balanced chain depend on depth only through $N u^{2−2/N}$.",
        proves=(
            steps[0], steps[1],
            Formula(sp.Derivative(w_**N_, w_) * w_dot, "=", sp.Subs(RATE, u_, w_**N_)),
            *steps[4:],
        ),
        remarks=(
            "A balanced start stays balanced: $w_i² − w_j²$ is constant (its derivative vanishes), and the weights "
            "are positive, so equal weights stay equal; the balanced chain is then the one-weight flow above.",
        ),
    )


@theorem
def residual_chain_same_ode() -> Derivation:
    # w_i = 1 + a_i ⇒ ∂L/∂a_i = ∂L/∂w_i; a_i(0) = 0 ⇒ balanced with u(0) = 1: the same ODE from u(0) = 1
    steps = (
        Equal(sp.Derivative(sp.S.Half * (s_ - (1 + a_i) * P) ** 2, a_i),
              sp.Subs(sp.Derivative(sp.S.Half * (s_ - wr_i * P) ** 2, wr_i), wr_i, 1 + a_i),
              "$∂w_i/∂a_i = 1$: the branch gradient is the weight gradient at $w_i = 1 + a_i$", ARORA_2018),
        Substitute((1 + a_) ** N_, sp.S.One, "$a_i(0) = 0 ⇒ u(0) = 1$ at every depth", subs={a_: 0}),
        Substitute(wr_i**2 - wr_j**2, sp.S.Zero, "$w_i(0) = 1$ for all $i$: balanced, and it stays balanced",
                   subs={wr_i: 1, wr_j: 1}),
        Substitute(saxe_two_layer_trajectory(), s_ * sp.exp(2 * s_ * t_) / (sp.exp(2 * s_ * t_) - 1 + s_),
                   "$N = 2$: the residual chain's $u(t)$ is Eq. (12) with $u₀ = 1$", SAXE_2014 + ", Eq. (12)",
                   subs={u0_: 1}),
        Substitute(RATE, N_ * (s_ - 1), "initial speed at $u = 1$: $N(s − 1) = Nδ$ for $s = 1 + δ$ ($δ = s − 1 > −1$)",
                   subs={u_: 1}),
    )
    return Derivation(
        id="deep-linear.residual-same-ode",
        title="The residual chain from zero branch weights follows the plain chain's equation from $u(0) = 1$",
        claims=("C12",),
        statement=(
            "With $w_i = 1 + a_i$ and the branches $a_i$ trained: $∂L/∂a_i = ∂L/∂w_i$ at $w_i = 1 + a_i$, so each "
            "$w_i$ obeys the plain chain's flow; $a_i(0) = 0$ gives $w_i(0) = 1$ (balanced) and $u(0) = 1$, so $u(t)$ "
            "follows $du/dt = N u^{2−2/N}(s − u)$ from $u(0) = 1$ [@arora2018optimization]. For $N = 2$ this is Saxe "
            "et al.'s Eq. (12) at $u₀ = 1$ [@saxe2014exact]. At the start $du/dt = N(s − 1) = Nδ$ for $s = 1 + δ$: "
            "the initial speed grows linearly with depth."
        ),
        steps=steps,
        references=(ARORA_2018, SAXE_2014),
        conclusion=(
            "The residual chain is the plain chain started at $u(0) = 1$ instead of $u(0) = w₀^N ≈ 0$: near the "
            "identity target it starts next to the answer with speed proportional to $N$, far from the saddle at "
            "$u = 0$."
        ),
        proves=steps,
        remarks=(
            "That $u(t)$ is the plain chain's solution from $u(0) = 1$ uses uniqueness of solutions of the equation "
            "(its right side is smooth for $u > 0$) and the balance shown in deep-linear.end-to-end-ode; no step "
            "checks it.",
        ),
    )
