r"""Gradient flow from the identity: how fast a residual branch reaches F = 0 (C9), and what it never reaches
(Bartlett et al. 2018, C12).

Conventions (CONTRIBUTING.md).  One eigen-mode of a whitened linear residual network is a scalar chain; time is
t = kη (gradient flow, the limit of GD with step η).  Losses carry a ½ and, with whitened inputs (Σ = I), the
mean over samples of ½‖error‖² is ½ of the squared Frobenius norm, mode by mode.

**Branch decay (C9).**  A residual block H = x + F(x) with a linear branch of N ≥ 1 weights fits the identity
when F = 0; one mode of the branch is the chain u = w_N⋯w_1 with loss ½u² (the target of the branch is 0).  A
balanced chain (all w_i equal, w > 0: e.g. the orthogonal init W_i = δQ_i of `numerics.models.balanced_linear`)
stays balanced (`theory.deep_linear`) and u̇ = −N u^{3 − 2/N}.  For N = 1 this is u̇ = −u, geometric; for N ≥ 2
the origin is a degenerate minimum (zero Hessian: `landscape.residual-two-layer`) and
u(t) = (u₀^{−p} + N p t)^{−1/p}, p = 2 − 2/N, so the loss ½u² falls as t^{−N/(N−1)}: algebraically.

**Negative modes (Bartlett, Helmbold & Long 2018).**  A residual linear chain from the identity, W_i = I + A_i with
A_i(0) = 0, learning a symmetric target Φ with whitened inputs: every layer stays a polynomial in Φ (its gradient
is one), so each eigen-direction of Φ is a balanced scalar chain u = w^L from w(0) = 1 with loss ½(λ − u)².  Its
flow ẇ = L w^{L−1}(λ − w^L) vanishes at w = 0 for L ≥ 2, so w (and u = w^L) stays positive, and a mode with
λ < 0 keeps a loss of at least ½λ² for ever (approached as u → 0⁺).  For L = 1 the flow at w = 0 is λ ≠ 0 and
the mode is learnt.

References:
  Bartlett, Helmbold & Long, *Gradient descent with identity initialization efficiently learns positive definite
    linear transformations by deep residual networks*, ICML 2018 (arXiv:1802.06093): a symmetric target with a
    negative eigenvalue is never learnt from the identity initialisation.
  Arora, Cohen & Hazan, *On the Optimization of Deep Networks*, ICML 2018: the balanced end-to-end dynamics
    ẇ = −N|w|^{2−2/N}L′(w), here with L′(u) = u (target 0).
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Inequality, Substitute
from theory.references import ARORA_2018

BARTLETT_2018 = "@bartlett2018gradient"  # Bartlett, Helmbold, Long, Gradient descent with identity init…, ICML 2018

w = sp.Symbol("w", positive=True)  # the common weight of a balanced chain
w_i = sp.Symbol("w_i", positive=True)  # one weight of the chain
v = sp.Symbol("v", nonnegative=True)  # the common weight of a chain where it may reach 0
P = sp.Symbol("P", positive=True)  # product of the other N − 1 weights
u = sp.Symbol("u", nonnegative=True)  # end-to-end u = w^N ≥ 0
u0 = sp.Symbol("u_0", positive=True)  # u(0)
t = sp.Symbol("t", nonnegative=True)  # time t = kη
tp = sp.Symbol("t", positive=True)  # a time t > 0
r = sp.Symbol("r", nonnegative=True)  # r = 1/t → 0⁺ as t → ∞
a, b, q = sp.symbols("a b q", positive=True)  # u = (a + bt)^{−q}: a = u₀^{−p}, b = Np, q = 1/p
m = sp.Symbol("m", integer=True, nonnegative=True)  # N = m + 2 ≥ 2 (branch) or L = m + 2 (chain)
N = sp.Symbol("N", integer=True, positive=True)  # number of weights of the branch
lam = sp.Symbol("lambda", negative=True)  # a negative eigenvalue of the target Φ

N2 = m + 2  # a branch of at least two weights
P_EXP = 2 - 2 / N2  # p = 2 − 2/N > 0 for N ≥ 2
BRANCH_TRAJECTORY = (u0 ** (-P_EXP) + N2 * P_EXP * t) ** (-1 / P_EXP)  # u(t), N = m + 2 ≥ 2
BRANCH_TRAJECTORY_1 = u0 * sp.exp(-t)  # N = 1
BRANCH_LOSS_EXPONENT = N / (N - 1)  # ½u² ∝ t^{−N/(N−1)} as t → ∞ (N ≥ 2)
NEGATIVE_MODE_FLOOR = lam**2 / 2  # ½λ²: the loss a mode with λ < 0 keeps for ever (L ≥ 2)


@theorem
def branch_decays_algebraically() -> Derivation:
    # ẇ = −u²/w = −w^{2N−1} ⇒ u̇ = −N u^{3−2/N}; solved by (u₀^{−p} + Npt)^{−1/p} for N ≥ 2, u₀e^{−t} for N = 1
    U = BRANCH_TRAJECTORY
    steps = (
        Substitute(-sp.Derivative(sp.S.Half * (w_i * P) ** 2, w_i), -w ** (2 * N - 1),
                   r"$-\partial(\tfrac{1}{2}u^2)/\partial w_i = -u \prod_{j \neq i} w_j$; "
                   r"balanced: every $w_j = w$, $u = w^N$",
                   ARORA_2018, subs={w_i: w, P: w ** (N - 1)}),
        Equal(N * w ** (N - 1) * (-w ** (2 * N - 1)), -N * (w**N) ** (3 - 2 / N),
              r"chain rule $\dot{u} = N w^{N-1}\dot{w} = -N w^{3N-2} = -N u^{3-2/N}$", ARORA_2018),
        Equal(sp.Derivative(BRANCH_TRAJECTORY_1, t), -BRANCH_TRAJECTORY_1,
              r"$N = 1$: $u_0 e^{-t}$ solves $\dot{u} = -u$"),
        Substitute((a + b * t) ** (-q), U,
                   r"$N = m + 2 \geq 2$: write $u = (u_0^{-p} + Npt)^{-1/p}$ as $(a + bt)^{-q}$, "
                   r"$a = u_0^{-p}$, $b = Np$, $q = 1/p$", subs={a: u0 ** (-P_EXP), b: N2 * P_EXP, q: 1 / P_EXP}),
        Equal(sp.Derivative((a + b * t) ** (-q), t), -q * b * (a + b * t) ** (-q - 1), "its time derivative"),
        Substitute(q * b, N2, "$qb = N$", subs={q: 1 / P_EXP, b: N2 * P_EXP}),
        Substitute(q + 1, (3 - 2 / N2) / P_EXP, r"$q + 1 = q(3 - 2/N)$: so $\dot{u} = -qb(a + bt)^{-q-1} = "
                   r"-N u^{3-2/N}$, the flow above", subs={q: 1 / P_EXP}),
        Substitute(U, u0, "with $u(0) = u_0$", subs={t: 0}),
        Equal(tp**q * (a + b * tp) ** (-q), (a / tp + b) ** (-q), r"for $t > 0$, $t^q u = (a/t + b)^{-q}$"),
        Substitute((a * r + b) ** (-q), b ** (-q),
                   r"continuous in $r = 1/t$ at $r = 0$: as $t \to \infty$, $u \sim (bt)^{-q} = "
                   r"(Npt)^{-1/p}$", subs={r: 0}),
        Equal(2 / (2 - 2 / N), BRANCH_LOSS_EXPONENT, r"so $\tfrac{1}{2}u^2 \sim t^{-2/p} = t^{-N/(N-1)}$"),
    )
    return Derivation(
        id="identity-init.branch-decay",
        title=r"A balanced linear residual branch reaches $F = 0$ algebraically, as $t^{-N/(N-1)}$, from two layers on",
        claims=("C9",),
        statement=(
            r"One mode of a linear branch of $N$ weights, $u = w_N \cdots w_1$, loss $\tfrac{1}{2}u^2$ (the branch's "
            r"target is 0), gradient flow ($t = k\eta$), balanced start $w_i = w > 0$: $\dot{w} = -w^{2N-1}$ and "
            r"$\dot{u} = -N u^{3-2/N}$.  For $N = 1$, $u = u_0 e^{-t}$; for $N \geq 2$, "
            r"$u(t) = (u_0^{-p} + Npt)^{-1/p}$ with $p = 2 - 2/N$, so the loss $\tfrac{1}{2}u^2$ decays as "
            r"$t^{-N/(N-1)}$ ($t^{-2}$ for a two-layer branch): the degenerate minimum is reached at an algebraic "
            r"rate [@arora2018optimization]."
        ),
        steps=steps,
        references=(ARORA_2018,),
        conclusion=(
            r"From a small balanced init the zero-weight minimum of a branch of two or more layers is approached only "
            r"algebraically (loss $\propto t^{-N/(N-1)}$), not geometrically as for one layer: stable, but slow to "
            r"reach. C9's 'easily reached' holds for one linear layer only."
        ),
        bearing={"C9": "qualifies"},
        proves=steps,  # every step is part of the statement
    )


@theorem
def negative_mode_never_learnt() -> Derivation:
    # ½(λ − u)² − ½λ² = u(u/2 − λ) ≥ 0 for u ≥ 0 > λ; ẇ = L w^{L−1}(λ − w^L) = 0 at w = 0 for L ≥ 2
    L_ = m + 2
    flow = L_ * v ** (L_ - 1) * (lam - v**L_)
    steps = (
        Equal(sp.S.Half * (lam - u) ** 2 - NEGATIVE_MODE_FLOOR, u * (u / 2 - lam),
              r"the excess over $\tfrac{1}{2}\lambda^2$ factors", BARTLETT_2018),
        Inequality(u * (u / 2 - lam), sp.S.Zero,
                   r"$u \geq 0$ and $u/2 - \lambda > 0$: the loss is at least $\tfrac{1}{2}\lambda^2$",
                   BARTLETT_2018, relation="≥"),
        Substitute(flow, sp.S.Zero, r"$L = m + 2 \geq 2$: the flow vanishes at $w = 0$, so $w$ cannot cross it",
                   BARTLETT_2018, subs={v: 0}),
        Substitute(lam - v, lam, r"$L = 1$: the flow $\lambda - w$ is $\lambda \neq 0$ at $w = 0$ (the mode is learnt)",
                   subs={v: 0}),
    )
    return Derivation(
        id="identity-init.negative-mode-floor",
        title="From the identity, a residual chain of two or more layers never learns a negative eigenvalue",
        claims=("C12",),
        statement=(
            r"A mode of a residual chain from the identity ($w(0) = 1$, $u = w^L$) with target eigenvalue "
            r"$\lambda < 0$ has loss $\tfrac{1}{2}(\lambda - u)^2$.  Its flow $\dot{w} = L w^{L-1}(\lambda - w^L)$ "
            r"vanishes at $w = 0$ for $L \geq 2$, so $w$ stays positive and $u = w^L \geq 0$; then "
            r"$\tfrac{1}{2}(\lambda - u)^2 \geq \tfrac{1}{2}\lambda^2$, with equality only as $u \to 0^+$: the loss "
            r"never falls below $\tfrac{1}{2}\lambda^2$ [@bartlett2018gradient].  For $L = 1$ the flow at $w = 0$ is "
            r"$\lambda \neq 0$ and the mode is learnt."
        ),
        steps=steps,
        references=(BARTLETT_2018,),
        conclusion=(
            r"A residual net from the identity does not learn every map near it: a symmetric target with a negative "
            r"eigenvalue $\lambda$ keeps a loss of at least $\tfrac{1}{2}\lambda^2$ per such mode for ever, at every "
            r"depth $L \geq 2$. This is the balanced (exact) dynamics; the floor is a saddle, which rounding errors "
            r"can leave after a plateau."
        ),
        bearing={"C12": "qualifies"},
        proves=steps,  # every step is part of the statement
    )
