"""Deeper is not worse: identity layers embed a shallow network in a deeper one (claim C4).

A network N is made deeper by inserting layers ι between its hidden layer and its
readout: N_deep(x) = aᵀ ι(φ(Ax + c)).  If the inserted layers can be the identity,
then for some parameters N_deep = N as functions, so the deep net's loss equals
the shallow net's for every loss and every data set, and the deep net's best
loss is at most the shallow net's.  This module proves where the identity sits
in each parameterisation:

- residual block u + W₂σ(W₁u + b₁) + b₂: at the *zero* last layer (W₂, b₂) = 0,
  for every σ, W₁, b₁ (He et al. 2016, Eq. (1));
- plain linear layer Wu: only at the *non-zero* point W = I (the origin W = 0 is
  the zero map);
- plain ReLU layer relu(Wu + d): at W = I, d = 0 only on nonnegative inputs (e.g.
  after a ReLU); no single ReLU layer is the identity on ℝⁿ, but the 2n-wide pair
  [I, −I] relu([I; −I] u) = relu(u) − relu(−u) = u is.

Conventions.  Explicit networks have width 2, a scalar output, an arbitrary
activation φ and symbolic weights (A, c, a) and inputs, so "for all x" is symbolic.
The loss is the mean over N = 2 samples of an arbitrary per-sample loss ℓ(ŷ, y)
(the project's ½ mean-squared loss is ℓ(ŷ, y) = ½(ŷ − y)²).  L2 decay is
(λ/2)‖θ‖²_F on the trainable parameters of the inserted layers.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from theory.blocks import assign, symbols_matrix
from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Inequality, Substitute
from theory.references import HARDT_MA_2017, HE_2016

_t = sp.Symbol("t", real=True)
phi = sp.Function("phi", real=True)  # the shallow network's activation, arbitrary
sigma = sp.Function("sigma", real=True)  # the residual branch's activation, arbitrary
ell = sp.Function("ell", real=True)  # per-sample loss ℓ(ŷ, y), arbitrary
lam = sp.Symbol("lambda", positive=True)  # L2 decay strength


def relu(arg: sp.Expr) -> sp.Expr:
    """ReLU(t) = max(0, t)."""
    return sp.Max(0, arg)


# -- general dimensions ---------------------------------------------------------------------
n, h = sp.symbols("n h", integer=True, positive=True)  # layer width, branch hidden width
u = sp.MatrixSymbol("u", n, 1)  # the inserted layer's input
U = sp.MatrixSymbol("U", n, n)  # a batch of n inputs, one per column
Wg = sp.MatrixSymbol("W", n, n)  # a plain linear layer
Ag = sp.MatrixSymbol("A", n, n)  # a linear residual layer I + A
V1, d1 = sp.MatrixSymbol("V_1", h, n), sp.MatrixSymbol("d_1", h, 1)  # residual branch, first layer
V2, d2 = sp.MatrixSymbol("V_2", n, h), sp.MatrixSymbol("d_2", n, 1)  # residual branch, last layer
I_n = sp.Identity(n)

# -- the explicit shallow network N(x) = aᵀφ(Ax + c) and its data --------------------------
A, c, a = symbols_matrix("A", 2, 2), symbols_matrix("c", 2, 1), symbols_matrix("a", 2, 1)
xs = [symbols_matrix(f"x{j}", 2, 1) for j in (1, 2)]  # two training inputs
ys = sp.symbols("y1:3", real=True)  # their targets
ue = symbols_matrix("u", 2, 1)  # an explicit inserted layer's input


def network(x: sp.MatrixBase, inserted: Callable[[sp.MatrixBase], sp.MatrixBase] = lambda v: v,
            act: Callable[[sp.Expr], sp.Expr] = phi) -> sp.Expr:
    """N(x) = aᵀ ι(act(Ax + c)) with the inserted layers ι (none: the shallow network)."""
    return (a.T * sp.ImmutableMatrix(inserted((A * x + c).applyfunc(act))))[0, 0]


def loss(model: Callable[[sp.MatrixBase], sp.Expr]) -> sp.Expr:
    """L = (1/N) Σ_j ℓ(model(x_j), y_j) over the N = 2 samples."""
    return sum(ell(model(xj), yj) for xj, yj in zip(xs, ys, strict=True)) / len(xs)


# Two residual blocks r_k(v) = v + W₂ᵏσ(W₁ᵏv + b₁ᵏ) + b₂ᵏ, all entries symbolic.
blocks = [tuple(symbols_matrix(f"{s}{k}", *shape) for s, shape in
                (("P", (2, 2)), ("p", (2, 1)), ("Q", (2, 2)), ("q", (2, 1)))) for k in (1, 2)]


def residual(v: sp.MatrixBase, k: int) -> sp.ImmutableMatrix:
    w1, b1, w2, b2 = blocks[k]
    return sp.ImmutableMatrix(v + w2 * (w1 * v + b1).applyfunc(sigma) + b2)


LAST_ZERO = {k: v for w1, b1, w2, b2 in blocks for k, v in (assign(w2, 0) | assign(b2, 0)).items()}
ALL_ZERO = {k: v for blk in blocks for m in blk for k, v in assign(m, 0).items()}


@theorem
def residual_identity_layers() -> Derivation:
    eaf = ElementwiseApplyFunction(sp.Lambda(_t, sigma(_t)), V1 * u + d1)

    def deep(x: sp.MatrixBase) -> sp.Expr:
        return network(x, lambda v: residual(residual(v, 0), 1))

    penalty = lam / 2 * sum(e**2 for blk in blocks for m in blk for e in m)
    steps = (
        Substitute(u + V2 * eaf + d2, u, "a residual block whose last layer is zero is the identity",
                   HE_2016 + ", Eq. (1)", subs={V2: sp.ZeroMatrix(n, h), d2: sp.ZeroMatrix(n, 1)}),
        Substitute((I_n + Ag) * u, u, "a linear residual layer $I + A$ is the identity at $A = 0$",
                   HARDT_MA_2017 + ", §2: $ŷ = (I + A_ℓ) ⋯ (I + A₁)x$", subs={Ag: sp.ZeroMatrix(n, n)}),
        Substitute(residual(residual(ue, 0), 1), ue, "two stacked blocks with zero last layers: still the "
                   "identity (by induction, any number)", subs=LAST_ZERO),
        Substitute(deep(xs[0]), network(xs[0]), "function: the deeper network equals the shallow one for "
                   "every $x$", subs=LAST_ZERO),
        Substitute(loss(deep), loss(network), "loss: equal for every per-sample loss $ℓ$ and data set, so "
                   "$\\min L_{\\text{deep}} ≤ L_{\\text{shallow}}(θ)$ for every $θ$", subs=LAST_ZERO),
        Substitute(penalty, 0, "the whole block at zero adds no L2 penalty: the regularised losses are equal too",
                   subs=ALL_ZERO),
    )
    return Derivation(
        id="depth.residual-identity-layers",
        title="Residual blocks with a zero last layer are identity layers: deeper residual nets are not worse",
        claims=("C4",),
        statement="$u + V₂σ(V₁u + d₁) + d₂ = u$ when $(V₂, d₂) = 0$, for every $σ$, $V₁$, $d₁$ and all widths; "
                  "inserting such blocks (two blocks of width 2 and $N = 2$ samples, explicitly) into a network "
                  "$N(x) = aᵀφ(Ax + c)$ leaves $N(x)$ and the loss $\\frac{1}{N}\\sum_j ℓ(N(x_j), y_j)$ unchanged for "
                  "every $ℓ$, $φ$ and data, and with the whole block zero the L2 penalty adds nothing.",
        steps=steps,
        references=(HE_2016, HARDT_MA_2017),
        conclusion="C4 holds exactly for residual networks: the identity layers are the zero-weight point of "
                   "the inserted blocks (only the last layer must be zero for the function), so a deeper residual "
                   "net attains the shallow net's loss, with or without L2 decay.",
        proves=steps,
        remarks=("For any number of blocks, any width and any data set, the deeper network and its loss equal the "
                 "shallow ones by composing step 1 (each block is the identity map); steps 3–6 carry this out for "
                 "two blocks of width 2 and $N = 2$ samples.",),
    )


Wp = [symbols_matrix(f"W{k}", 2, 2) for k in (1, 2)]  # two inserted plain linear layers
PLAIN_AT_I = assign(Wp[0], sp.eye(2)) | assign(Wp[1], sp.eye(2))


@theorem
def plain_linear_identity_layers() -> Derivation:
    def deep(x: sp.MatrixBase) -> sp.Expr:
        return network(x, lambda v: Wp[1] * (Wp[0] * v))

    steps = (
        Substitute(Wg * u, u, "the plain linear layer is the identity at $W = I$", subs={Wg: I_n}),
        Substitute(Wg * U, Wg, "and only there: $Wu = u$ on the columns of $U = I$ gives $WI = W = I$",
                   subs={U: I_n}),
        Substitute(Wg * u, sp.ZeroMatrix(n, 1), "the origin $W = 0$ is the zero map, not the identity",
                   subs={Wg: sp.ZeroMatrix(n, n)}),
        Substitute(deep(xs[0]), network(xs[0]), "function: two layers $W = I$ leave $N(x)$ unchanged",
                   subs=PLAIN_AT_I),
        Substitute(loss(deep), loss(network), "loss: equal for every $ℓ$ and data set", subs=PLAIN_AT_I),
        Substitute(lam / 2 * sp.Trace(Wg.T * Wg), lam * n / 2, "L2 penalty of one identity layer: "
                   "$(λ/2)\\|I\\|²_F = λn/2 > 0$, so with decay the embedding costs more for every layer added",
                   subs={Wg: I_n}),
    )
    return Derivation(
        id="depth.plain-linear-identity-layers",
        title="Plain linear identity layers sit at $W = I$, not at $W = 0$, and cost $λn/2$ each under L2",
        claims=("C4",),
        statement="$Wu = u$ for all $u$ if and only if $W = I$; $W = 0$ is the zero map; inserting layers $W = I$ "
                  "(two of width 2, explicitly) leaves $N(x)$ and the loss unchanged; each costs "
                  "$(λ/2)\\|I\\|²_F = λn/2$ of L2 penalty.",
        steps=steps,
        references=(HARDT_MA_2017,),
        conclusion="C4 holds for plain linear networks without decay, but the identity layers are the non-zero "
                   "point $W = I$ (the zero point is the zero map); with L2 decay each inserted identity layer adds "
                   "$λn/2$ to the regularised loss, so there the embedding is strictly worse.",
        bearing={"C4": "qualifies"},
        proves=steps,
        remarks=("For any number of layers $W = I$, any width and any data set, the deeper network and its loss "
                 "equal the shallow ones by composing step 1; steps 4–5 carry this out for two layers of width 2.",),
    )


Wr, dr = symbols_matrix("W", 2, 2), symbols_matrix("d", 2, 1)  # an inserted plain ReLU layer
PAIR_IN = sp.ImmutableMatrix.vstack(sp.eye(2), -sp.eye(2))  # [I; −I], 4×2
PAIR_OUT = sp.ImmutableMatrix.hstack(sp.eye(2), -sp.eye(2))  # [I, −I], 2×4
W_in, W_out = symbols_matrix("R", 4, 2), symbols_matrix("S", 2, 4)  # the inserted 2n-wide pair
g = sp.Function("g", real=True)  # g(t) = relu(t) − relu(−t), the pair's map on each coordinate


RELU_INSTANCE = "$n = 2$"  # the width at which the plain ReLU constructions are shown


@theorem
def plain_relu_identity_layers() -> Derivation:
    x = xs[0]

    def after_relu(v: sp.MatrixBase) -> sp.MatrixBase:
        return (Wr * v + dr).applyfunc(relu)

    def through_g(xj: sp.MatrixBase) -> sp.Expr:  # N(g(x)): the pair inserted before the first layer
        return network(sp.ImmutableMatrix(xj.applyfunc(g)))

    t = sp.Symbol("t", real=True)
    s_any, q_neg = sp.Symbol("s", real=True), sp.Symbol("q", negative=True)
    pair_penalty = lam / 2 * (sum(e**2 for e in W_in) + sum(e**2 for e in W_out))  # (λ/2)(‖R‖² + ‖S‖²)
    pair = assign(W_in, PAIR_IN) | assign(W_out, PAIR_OUT)
    steps = (
        Substitute(network(x, after_relu, relu), network(x, act=relu), "after a ReLU (nonnegative inputs) the "
                   "layer at $W = I$, $d = 0$ is the identity: $\\relu(\\relu(z)) = \\relu(z)$",
                   subs=assign(Wr, sp.eye(2)) | assign(dr, 0)),
        Inequality(relu(s_any), q_neg, "on $ℝⁿ$ no single ReLU layer is the identity: whatever its weights, "
                   "an output coordinate $\\relu(s) ≥ 0$ exceeds a negative input coordinate $q$", relation=">"),
        Substitute(W_out * sp.Matrix(W_in * ue).applyfunc(relu), ue.applyfunc(lambda v: relu(v) - relu(-v)),
                   "the pair $[I, −I] \\relu([I; −I]\\, u)$ acts coordinatewise as $g(t) = \\relu(t) − \\relu(−t)$",
                   subs=pair),
        Equal(relu(t) - relu(-t), t, "$g(t) = \\relu(t) − \\relu(−t) = t$ for every real $t$ ($t > 0$, $t < 0$ and $t "
                                     "= 0$)"),
        Substitute(through_g(x), network(x), "function: $N(g(x)) = N(x)$ for every $x ∈ ℝ²$ ($g = \\mathrm{id}$)",
                   subs={g(e): e for e in x}),
        Substitute(loss(through_g), loss(network), "loss: equal for every $ℓ$ and data set",
                   subs={g(e): e for xj in xs for e in xj}),
        Substitute(pair_penalty, 4 * lam, "L2 penalty of the pair for $n = 2$: "
                   "$(λ/2)(\\|[I; −I]\\|²_F + \\|[I, −I]\\|²_F) = (λ/2)(4 + 4) = 4λ$", subs=pair),
    )
    return Derivation(
        id="depth.plain-relu-identity-layers",
        title=f"Plain ReLU identity layers ({RELU_INSTANCE}): $W = I$ only on nonnegative inputs; a pair of width "
              "$2n$ on all of $ℝⁿ$",
        claims=("C4",),
        statement=f"For width {RELU_INSTANCE}: in a ReLU network $\\relu(W \\relu(z) + d) = \\relu(z)$ at $W = I$, "
                  "$d = 0$; no single ReLU layer is the identity on $ℝⁿ$ (its output is nonnegative, for every $n$); "
                  "$[I, −I] \\relu([I; −I]\\, x) = x$ for all $x ∈ ℝⁿ$, so inserting this pair before the first "
                  "layer of $N(x) = aᵀφ(Ax + c)$ leaves $N(x)$ and the loss unchanged, at an L2 cost of $4λ$.",
        steps=steps,
        references=(HE_2016,),
        conclusion="C4 holds for plain ReLU networks only at specific non-zero points: $W = I$ where the inputs are "
                   "already nonnegative, or the pair of width $2n$, $[I, −I] \\relu([I; −I]\\,\\cdot)$, on all of "
                   f"$ℝⁿ$ (shown for {RELU_INSTANCE}); these are far from the origin and carry an L2 cost, unlike "
                   "the residual identity at zero weights.",
        bearing={"C4": "qualifies"},
        proves=steps,
        instance=RELU_INSTANCE,
        remarks=("At width $n$ the pair acts coordinatewise in the same way, and its L2 penalty is "
                 "$(λ/2)(2n + 2n) = 2λn$ (not a step here).",),
    )
