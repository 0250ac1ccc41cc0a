"""Gradient flow through depth: input–output Jacobians of linear stacks (claim C3).

Conventions.  x_i ∈ ℝⁿ is a column vector; layer i maps x_{i−1} ↦ x_i.  A *plain*
linear stack has x_i = W_i x_{i−1}; a *residual* one x_i = x_{i−1} + F(x_{i−1})
with the linear branch F(x) = A_i x; a *scaled-shortcut* one x_i = λ_i x_{i−1} + A_i x_{i−1}
(He et al. 2016b §3, h(x) = λx).  The Jacobian J = ∂x_L/∂x_0 is an n×n matrix
(numerator layout: J_{ab} = ∂(x_L)_a/∂(x_0)_b), so the chain rule composes to the
left: J = M_L ⋯ M_1.  He et al. write gradients as row vectors, ∂E/∂x_l = ∂E/∂x_L · J;
in our column convention that is ∇_{x_0}E = Jᵀ ∇_{x_L}E, with E = ½‖x_L − y‖²
(the ½-loss of CONTRIBUTING.md).  "Singular values at initialisation" are those of J;
for random inits we state the exact *mean* squared singular value
(1/n) E tr(JᵀJ) = (1/n) E‖J‖²_F; the spread of the singular values is measured, not
proved (tests/test_jacobian_numeric.py).

References:
  He, Zhang, Ren, Sun, Identity Mappings in Deep Residual Networks, ECCV 2016
  (arXiv:1603.05027): Eq. (4) x_L = x_l + Σ_{i=l}^{L−1} F(x_i); Eq. (5)
  ∂E/∂x_l = ∂E/∂x_L (1 + ∂/∂x_l Σ F); §3.1 scaled shortcut, direct term ∏λ_i.
  Glorot & Bengio, Understanding the difficulty of training deep feedforward neural
  networks, AISTATS 2010, Eq. (16): Var[W] = 2/(n_in + n_out) (uniform on ±√6/√(n_in+n_out)).
  He, Zhang, Ren, Sun, Delving Deep into Rectifiers, ICCV 2015, Eq. (10):
  ½ n_l Var[w_l] = 1, i.e. Var[W] = 2/n_in (the ½ compensates the ReLU).
"""

from __future__ import annotations

import sympy as sp
from sympy import stats

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, MatrixGradient, Substitute
from theory.references import GLOROT_2010, HE_2015, HE_2016B

n = sp.Symbol("n", integer=True, positive=True)  # width (square layers)
m = sp.Symbol("m", integer=True, positive=True)  # output width of one (m×n) layer
L = sp.Symbol("L", integer=True, positive=True)  # depth
i = sp.Symbol("i", integer=True, positive=True)  # layer index
lam = sp.Symbol("lambda", positive=True)  # shortcut scale λ (h(x) = λx)
sigma2 = sp.Symbol("sigma2", positive=True)  # σ², variance of every weight entry at init
c = sp.Symbol("c", positive=True)  # branch-variance budget, σ² = c/(nL)
s_plain = sp.Symbol("s", positive=True)  # a common scale of every plain layer
Id = sp.Identity(n)  # the n×n identity
Z = sp.ZeroMatrix(n, n)
x0 = sp.MatrixSymbol("x_0", n, 1)  # the input
y = sp.MatrixSymbol("y", n, 1)  # the target
A1, A2, A3, A = (sp.MatrixSymbol(name, n, n) for name in ("A_1", "A_2", "A_3", "A"))  # branch weights
W1, W2, W3 = (sp.MatrixSymbol(f"W_{k}", n, n) for k in (1, 2, 3))  # plain-layer weights
S = sp.MatrixSymbol("S", n, n)  # J_L − I, everything but the direct term
J = sp.MatrixSymbol("J", n, n)  # the Jacobian of the first L layers
l1, l2, l3 = sp.symbols("lambda_1 lambda_2 lambda_3", positive=True)  # per-layer shortcut scales


@theorem
def residual_jacobian_expansion() -> Derivation:
    # J = (I + A_L)⋯(I + A_1) = I + Σ A_i + (products of two or more A_i)
    J2 = (Id + A2) * (Id + A1)
    J3 = (Id + A3) * J2
    grad_E = J.T * (J * x0 - y)
    P = sp.MatrixSymbol("P", n, n)  # W_L⋯W_1, the plain Jacobian of the first L layers
    steps = (
        Equal(J2 * x0, x0 + A1 * x0 + A2 * (x0 + A1 * x0),
              "$x_2 = x_0 + F(x_0) + F(x_1)$ with $F(x_i) = A_{i+1} x_i$", HE_2016B + ", Eq. (4)"),
        Equal(J2, Id + A1 + A2 + A2 * A1, "$L = 2$: the chain rule gives the product; expand",
              HE_2016B + ", Eq. (5)"),
        Equal(J3, Id + A1 + A2 + A3 + A2 * A1 + A3 * A1 + A3 * A2 + A3 * A2 * A1, "$L = 3$: expand the product"),
        Equal((Id + A) * (Id + S), Id + (A + S + A * S),
              "inductive step: if $J_L = I + S$ with every term of $S$ holding a factor $A_i$, so does $J_{L+1}$"),
        Substitute(J3, Id, "direct term: at $A_i = 0$ the Jacobian is exactly $I$", subs={A1: Z, A2: Z, A3: Z}),
        MatrixGradient(sp.S.Half * sp.Trace((J * x0 - y).T * (J * x0 - y)), grad_E,
                       "$E = ½\\|x_L − y\\|²$ with $x_L = Jx_0$, $J$ the stack's Jacobian: "
                       "$∇_{x_0}E = Jᵀ(x_L − y) = Jᵀ∇_{x_L}E$ (chain rule)", HE_2016B + ", Eq. (5)", wrt=x0),
        Substitute(grad_E, x0 - y, "at $A = 0$, $J = I$ (step 5): the gradient reaches $x_0$ undiminished",
                   HE_2016B + ", Eq. (5), in row-vector form there, transposed here", subs={J: Id}),
        Substitute(W3 * W2 * W1, Z, "plain stack: the Jacobian vanishes with the weights",
                   subs={W1: Z, W2: Z, W3: Z}),
        Equal(sp.MatMul(s_plain * W3, s_plain * W2, s_plain * W1, evaluate=False), s_plain**3 * (W3 * W2 * W1),
              "plain stack: scaling every layer by $s$ scales $J$ by $s^L$ ($L = 3$)"),
        Equal(sp.MatMul(s_plain * W1, s_plain**L * P, evaluate=False), s_plain ** (L + 1) * (W1 * P),
              "inductive step: if the first $L$ layers scaled by $s$ give $s^L P$, one more gives $s^{L+1}$"),
    )
    return Derivation(
        id="jacobian.residual-expansion",
        title="A linear residual stack's Jacobian is $I + \\sum_i A_i$ plus higher products; a plain stack's is "
              "$\\prod_i W_i$",
        claims=("C3",),
        statement=(
            "For $x_i = (I + A_i) x_{i−1}$: $J = (I + A_L) ⋯ (I + A_1) = I + \\sum_i A_i$ plus terms with at least two "
            "factors $A_i$, shown at $L = 2$ and $3$ with the inductive step to every depth; at $A = 0$, $J = I$ and "
            "$∇_{x_0}E = ∇_{x_L}E$. For $x_i = W_i x_{i−1}$: $J = W_L ⋯ W_1$, which is $0$ at $W = 0$ and scales as "
            "$s^L$ when every $W_i$ is scaled by $s$."
        ),
        steps=steps,
        references=(HE_2016B,),
        conclusion=(
            "C3, the mechanism: the residual Jacobian always carries the identity term, so the gradient at the input "
            "contains $∇_{x_L}E$ unchanged however small the branch weights; the plain Jacobian is a pure product and "
            "vanishes (or explodes) geometrically with depth as the layer gains shrink (or grow)."
        ),
        proves=steps,
        remarks=(
            "The expansion and the scaling hold at every depth $L$ by induction on $L$ from the inductive steps; the "
            "induction itself (and that every term of $A + S + AS$ holds a factor $A_i$) is not a step.",
        ),
    )


@theorem
def scaled_shortcut_direct_term() -> Derivation:
    # x_i = λ_i x_{i−1} + A_i x_{i−1}:  J = ∏(λ_i I + A_i), direct term ∏λ_i · I = λ^L I
    J3 = (l3 * Id + A3) * (l2 * Id + A2) * (l1 * Id + A1)
    delta = sp.Symbol("delta", positive=True)  # λ = 1 + δ > 1, or λ = 1/(1 + δ) < 1
    steps = (
        Equal((l2 * Id + A2) * (l1 * Id + A1), l1 * l2 * Id + l2 * A1 + l1 * A2 + A2 * A1,
              "$L = 2$: expand the product", HE_2016B + ", §3.1, the scaled shortcut $h(x) = λx$"),
        Substitute(J3, l1 * l2 * l3 * Id, "$L = 3$: the direct term is $λ_1 λ_2 λ_3 I$", HE_2016B + ", §3.1",
                   subs={A1: Z, A2: Z, A3: Z}),
        Equal((lam * Id + A) * (lam**L * Id + S), lam ** (L + 1) * Id + (lam * S + A * (lam**L * Id + S)),
              "inductive step: if $J_L = λ^L I + S$ (every term of $S$ holding a factor $A_i$), then "
              "$J_{L+1} = λ^{L+1} I + S'$ with the same property"),
        Equal(sp.Product(lam, (i, 1, L)), lam**L, "$\\prod_{i=1}^{L} λ = λ^L$ for a common scale"),
        Equal(sp.Limit((1 + delta) ** (-L), L, sp.oo), 0,
              "every $λ = 1/(1 + δ) < 1$ (e.g. $½$): the direct term vanishes exponentially"),
        Equal(sp.Limit((1 + delta) ** L, L, sp.oo), sp.oo,
              "every $λ = 1 + δ > 1$ (e.g. $2$): the direct term explodes exponentially"),
    )
    return Derivation(
        id="jacobian.scaled-shortcut",
        title="A shortcut scaled by $λ$ multiplies the direct term by $λ^L$",
        claims=("C3",),
        statement=(
            "For $x_i = λ_i x_{i−1} + A_i x_{i−1}$: $J = \\prod_i (λ_i I + A_i)$; its term free of $A$ is "
            "$(\\prod_i λ_i) I$ (shown at $L = 2$, $3$ with the inductive step), which is $λ^L I$ for $λ_i = λ$, so "
            "the direct path's singular values are $λ^L$: $→ 0$ for every $λ < 1$ ($2^{−L}$ at $λ = ½$), $→ ∞$ for "
            "every $λ > 1$ ($2^L$ at $λ = 2$)."
        ),
        steps=steps,
        references=(HE_2016B,),
        conclusion="Only $λ = 1$ keeps the direct path's gain at $1$ for every depth [@he2016identity, §3.1].",
        proves=steps,
        remarks=("The direct term at every depth $L$ follows by induction on $L$ from the inductive step: not a "
                 "step.",),
    )


@theorem
def isometric_inits() -> Derivation:
    # zero-init residual: J = I; orthogonal plain: JᵀJ = I; both have all singular values 1
    Q1, Q2, Q = (sp.MatrixSymbol(name, n, n) for name in ("Q_1", "Q_2", "Q"))
    orthogonal = Assumption(
        "$Q_iᵀQ_i = I$", "every plain layer is orthogonal (orthogonal initialisation)",
        facts={Q.T * Q: Id, Q2.T * Q2: Id},
        matrix_kinds={Q: "orthogonal", Q1: "orthogonal", Q2: "orthogonal"},
    )
    steps = (
        Substitute((Id + A) * J, J, "inductive step: a zero branch leaves $J$ unchanged, so $J = I$ at every depth",
                   subs={A: Z}),
        Equal(sp.Transpose(Q * J) * (Q * J), J.T * J, "inductive step: an orthogonal layer leaves $JᵀJ$ unchanged"),
        Equal(sp.Transpose(Q2 * Q1) * (Q2 * Q1), Q1.T * Q1,
              "$L = 2$, the last layer peeled: $JᵀJ = Q₁ᵀQ₁ = I$ since the first layer is orthogonal too"),
    )
    return Derivation(
        id="jacobian.isometric-inits",
        title="Zero-init residual branches and orthogonal plain layers give a Jacobian with all singular values 1",
        claims=("C3",),
        statement=(
            "Residual stack with $A_i = 0$ at initialisation: $J = I$ for every depth. Plain stack with orthogonal "
            "$Q_i$: $JᵀJ = I$ for every depth. In both cases every singular value of $J$ equals $1$ exactly, "
            "independent of $L$."
        ),
        steps=steps,
        assumptions=(orthogonal,),
        references=(HE_2016B,),
        conclusion="Exact dynamical isometry at initialisation; $JᵀJ = I$ means all $n$ singular values are $1$.",
        proves=steps,
        remarks=("$J = I$ and $JᵀJ = I$ at every depth follow by induction on $L$ from the inductive steps "
                 "($J₀ = I$): the induction is not a step; nor is $Q₁ᵀQ₁ = I$ at $L = 2$, the assumption itself.",),
    )


@theorem
def gaussian_init_mean_square_gain() -> Derivation:
    # E[WᵀW] = mσ² I  ⇒  E‖Wx‖² = mσ²‖x‖²;  E‖(I+A)x‖² = (1 + nσ²)‖x‖²; iterate over depth
    x = sp.MatrixSymbol("x", n, 1)
    M = sp.MatrixSymbol("M", n, n)  # E[WᵀW] for an m×n layer
    MA = sp.MatrixSymbol("M_A", n, n)  # E[AᵀA] for an n×n branch
    EA = sp.MatrixSymbol("E_A", n, n)  # E[A]
    moments = Assumption(
        "iid entries", "weight entries are independent, with mean $0$ and variance $σ²$: $𝔼[A] = 0$, "
        "$𝔼[WᵀW] = mσ²I$",
        facts={M: m * sigma2 * Id, MA: n * sigma2 * Id, EA: Z},
    )
    z, z_other = (stats.Normal(name, 0, 1) for name in ("z", "z'"))  # independent standard normals
    w, w_other = sp.sqrt(sigma2) * z, sp.sqrt(sigma2) * z_other  # two independent N(0, σ²) entries
    gain = n * sigma2
    steps = (
        Equal(stats.Expectation(w), 0, "an entry $W_{ij} = σz$, $z ∼ \\mathcal{N}(0, 1)$, has mean $0$: "
              "$𝔼[A] = 0$ (from the density)"),
        Equal(stats.Expectation(w**2), sigma2, "$𝔼[W_{ij}²] = σ²$ (from the density)"),
        Equal(stats.Expectation(w * w_other), 0,
              "independent entries: $𝔼[W_{ij} W_{ik}] = 𝔼[W_{ij}]\\,𝔼[W_{ik}] = 0$ for $j ≠ k$ (joint density)"),
        Equal(sp.Sum(sigma2, (i, 1, m)), m * sigma2,
              "$(𝔼[WᵀW])_{jj} = \\sum_i 𝔼[W_{ij}²] = mσ²$, and $(𝔼[WᵀW])_{jk} = \\sum_i 𝔼[W_{ij} W_{ik}] = 0$ for "
              "$j ≠ k$: $𝔼[WᵀW] = mσ²I$"),
        Equal(x.T * M * x, m * sigma2 * x.T * x, "$𝔼\\|Wx\\|² = xᵀ𝔼[WᵀW]x$ ($x$ fixed, expectation linear)"),
        Equal(x.T * (Id + A).T * (Id + A) * x, x.T * x + x.T * A * x + x.T * A.T * x + x.T * A.T * A * x,
              "expand $\\|(I + A)x\\|²$"),
        Equal(x.T * x + x.T * EA * x + x.T * EA.T * x + x.T * MA * x, (1 + gain) * x.T * x,
              "take expectations term by term: $𝔼[A] = 0$, $𝔼[AᵀA] = nσ²I$"),
        Equal(gain * gain ** (L - 1), gain**L, "depth: condition on $x_{L−1}$, $𝔼\\|x_L\\|² = g\\, 𝔼\\|x_{L−1}\\|²$, "
                                               "so $g^L$"),
        Substitute(gain**L, 1, "Xavier $σ² = 2/(n + n) = 1/n$: a plain stack preserves the mean square",
                   GLOROT_2010 + ", Eq. (16)", subs={sigma2: 1 / n}),
        Substitute(gain**L, 2**L, "Kaiming $σ² = 2/n$ on a linear plain stack doubles it per layer",
                   HE_2015 + ", Eq. (10)", subs={sigma2: 2 / n}),
        Substitute((1 + gain) ** L, 2**L, "Xavier residual branches: $(1 + 1)^L$ explodes", subs={sigma2: 1 / n}),
        Equal(sp.Limit((1 + c / L) ** L, L, sp.oo), sp.exp(c),
              "depth-scaled residual branches $σ² = c/(nL)$: $(1 + c/L)^L → e^c$, bounded in depth"),
    )
    return Derivation(
        id="jacobian.gaussian-init-gain",
        title="At a random initialisation the mean squared singular value of $J$ is $(nσ²)^L$ (plain) and "
              "$(1 + nσ²)^L$ (residual)",
        claims=("C3",),
        statement=(
            "With independent zero-mean Gaussian weights of variance $σ²$ ($n × n$ layers): "
            "$𝔼\\|Jx\\|² = g^L \\|x\\|²$, hence $\\frac{1}{n} 𝔼 \\tr(JᵀJ) = g^L$, with $g = nσ²$ for a plain stack "
            "and $g = 1 + nσ²$ for a residual stack. Xavier initialisation ($σ² = 1/n$) gives $1$ (plain) but $2^L$ "
            "(residual); Kaiming's ($σ² = 2/n$) gives $2^L$ for a linear plain stack; a residual branch variance "
            "$σ² = c/(nL)$ gives $(1 + c/L)^L → e^c$."
        ),
        steps=steps,
        assumptions=(moments,),
        references=(GLOROT_2010, HE_2015),
        conclusion=(
            "Exact statements about the mean squared singular value only; the spread of the singular values of "
            "products of Gaussian matrices, which widens with depth, is not covered here (hfx measures it "
            "numerically)."
        ),
        proves=steps,
        remarks=(
            "$𝔼\\|J_L x\\|² = g^L \\|x\\|²$ follows by induction on $L$ (the layers are independent, so conditioning "
            "on $x_{L−1}$ gives one factor $g$ per layer); from it, $𝔼[JᵀJ] = g^L I$ (a symmetric matrix is fixed by "
            "its quadratic form) and $\\frac{1}{n} 𝔼 \\tr(JᵀJ) = g^L$: these deductions are not steps.",
        ),
    )


def scaled_shortcut_direct_gain(scale: sp.Expr, depth: sp.Expr) -> sp.Expr:
    """Gain of the direct (A-free) path of x_i = λx_{i−1} + A_i x_{i−1}: λ^L (He et al. 2016b §3.1)."""
    return sp.sympify(scale) ** sp.sympify(depth)


def mean_squared_singular_value(depth: sp.Expr, width: sp.Expr, variance: sp.Expr, residual: bool) -> sp.Expr:
    """(1/n) E tr(JᵀJ) at an iid zero-mean init of variance σ²: (nσ²)^L plain, (1 + nσ²)^L residual.

    n×n layers; the residual branch is one linear layer A_i with entries of variance σ².
    """
    g = sp.sympify(width) * sp.sympify(variance)
    return (1 + g if residual else g) ** sp.sympify(depth)


def jacobian_singular_values(init: str, depth: int, width: int, scale: sp.Expr = sp.S.One) -> list[sp.Expr]:
    """Exact singular values of J at init where they are deterministic.

    init: "zero-residual" (A_i = 0: J = I), "orthogonal" (plain, Q_iᵀQ_i = I: JᵀJ = I),
    "scaled-shortcut" (A_i = 0, shortcut λ: J = λ^L I).  Gaussian inits have random
    singular values; use `mean_squared_singular_value` for their exact mean square.
    """
    if init in ("zero-residual", "orthogonal"):
        return [sp.S.One] * width
    if init == "scaled-shortcut":
        return [sp.Abs(sp.sympify(scale)) ** depth] * width
    raise ValueError(f"no exact singular values for init {init!r}")
