"""Zero-sets of blocks built from a convolution or ending in batch normalisation (claim C8).

Companion of `theory.blocks` (same conventions; its helpers `symbols_matrix` and
`assign` build explicit matrices of symbols).  The convolution is a fixed small
instance (2 input channels, 3×3 images, a 2×2 kernel, cross-correlation as in
PyTorch), every entry symbolic; batch normalisation is one feature over a batch
of N = 3 in training mode (batch statistics), which is the general case per
feature at that batch size.  Both derivations are stated for these instances.
"""

from __future__ import annotations

import sympy as sp

from theory.blocks import assign, symbols_matrix
from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Substitute
from theory.references import DL_BOOK, GOYAL_2017
from theory.references import IOFFE_2015 as BN_2015

# -- convolution: 2 input channels, 3×3 images, a 2×2 kernel, cross-correlation as in PyTorch ---
C_IN, SIDE, K = 2, 3, 2  # input channels, image side, kernel side
OUT = SIDE - K + 1  # output side ("valid" padding, stride 1)
CONV_INSTANCE = "2 channels, $3 × 3$ images, a $2 × 2$ kernel"  # the sizes the convolution is shown for
images = [symbols_matrix(f"x{c + 1}", SIDE, SIDE) for c in range(C_IN)]
kernels = [symbols_matrix(f"k{c + 1}", K, K) for c in range(C_IN)]
beta0 = sp.Symbol("beta_0", real=True)  # the convolution's bias


def conv(imgs: list[sp.MatrixBase], kers: list[sp.MatrixBase], bias: sp.Expr) -> sp.ImmutableMatrix:
    """y[i, j] = Σ_c Σ_{a,b} k_c[a, b] x_c[i + a, j + b] + β₀, flattened row-major (Deep Learning, Eq. 9.6)."""
    return sp.ImmutableMatrix(OUT * OUT, 1, [
        sum(kers[c][a, q] * imgs[c][i + a, j + q] for c in range(C_IN) for a in range(K) for q in range(K)) + bias
        for i in range(OUT) for j in range(OUT)
    ])


def toeplitz() -> sp.ImmutableMatrix:
    """The conv as a matrix on vec(x): T[(i,j), (c,p,q)] = k_c[p − i, q − j] inside the kernel, else 0."""
    def entry(r: int, s: int) -> sp.Expr:
        (i, j), (c, rem) = divmod(r, OUT), divmod(s, SIDE * SIDE)
        p, q = divmod(rem, SIDE)
        return kernels[c][p - i, q - j] if 0 <= p - i < K and 0 <= q - j < K else sp.S.Zero
    return sp.ImmutableMatrix(OUT * OUT, C_IN * SIDE * SIDE, entry)


def _impulse(channel: int) -> dict[sp.Basic, sp.Basic]:
    """x = δ at pixel (1, 1) of `channel`, zero elsewhere."""
    subs: dict[sp.Basic, sp.Basic] = {}
    for c in range(C_IN):
        subs.update(assign(images[c], sp.zeros(SIDE, SIDE)))
    subs[images[channel][1, 1]] = sp.S.One
    return subs


@theorem
def convolution_zero_set() -> Derivation:
    vec_x = sp.ImmutableMatrix([e for img in images for e in img])
    y = conv(images, kernels, beta0)
    zeros = {**assign(images[0], 0), **assign(images[1], 0)}
    flipped = [sp.ImmutableMatrix(OUT * OUT, 1, [k[K - 1 - i, K - 1 - j] for i in range(K) for j in range(K)])
               for k in kernels]
    # T·vec(x) + β₀𝟙 unevaluated: built evaluated, it would be the very matrix y (a hollow step)
    linear = sp.MatAdd(sp.MatMul(toeplitz(), vec_x, evaluate=False), beta0 * sp.ones(OUT * OUT, 1), evaluate=False)
    steps = (
        Equal(y, linear,
              "the convolution is a linear operator (a Toeplitz matrix of kernel entries) plus the bias",
              DL_BOOK + ", §9.1, Eq. (9.6) (cross-correlation)"),
        Substitute(y, beta0 * sp.ones(OUT * OUT, 1), "$y(0) = β₀𝟙$, so $y ≡ 0$ forces $β₀ = 0$", subs=zeros),
        *(Substitute(conv(images, kernels, 0), flipped[c], f"the impulse response in channel {c + 1} is that "
                     "channel's kernel, flipped: $y ≡ 0$ forces it to vanish", subs=_impulse(c))
          for c in range(C_IN)),
        Substitute(y, sp.zeros(OUT * OUT, 1), "sufficient: $k = 0$ and $β₀ = 0$ give $y ≡ 0$",
                   subs={**assign(kernels[0], 0), **assign(kernels[1], 0), beta0: 0}),
    )
    return Derivation(
        id="blocks.convolution",
        title=f"A convolution ({CONV_INSTANCE}) vanishes for every input exactly when its kernel and bias are zero",
        claims=("C8",),
        statement=f"For a convolution with {CONV_INSTANCE} ($2 × 2$ outputs; cross-correlation, stride 1, no "
                  "padding) with kernel $k$ and bias $β₀$: $y = T(k)\\,\\operatorname{vec}(x) + β₀𝟙$ with $T$ the "
                  "Toeplitz matrix of $k$, and $y ≡ 0$ if and only if $k = 0$ and $β₀ = 0$.",
        steps=steps,
        references=(DL_BOOK,),
        conclusion=f"A convolution is a linear operator: like the linear block, it vanishes identically exactly "
                   f"when every kernel entry and the bias are zero (shown for {CONV_INSTANCE}); the note is exact "
                   "for a single convolution.",
        # the linear form (step 1); necessity: y(0) = β₀𝟙 (step 2), impulse responses = kernels (steps 3, 4);
        # sufficiency (step 5)
        proves=steps,
        instance=CONV_INSTANCE,
        remarks=("Any size with at least one output pixel works the same way: $y$ is linear in $x$ plus $β₀𝟙$, and "
                 "impulses at suitable pixels read off every kernel entry (not a step here).",),
    )


# -- a block ending in batch normalisation: training mode (batch statistics), one feature, a batch of N = 3.
# BN acts per feature, so one feature is the general case; N = 3 is the fixed batch size of the proof.
eps = sp.Symbol("epsilon", positive=True)  # BN's ε > 0
gamma, beta = sp.symbols("gamma beta", real=True)  # BN's scale and shift
z = sp.symbols("z1:4", real=True)  # the feature's pre-activations over the batch, z_j = wᵀx_j + b
w_bn, b_bn = symbols_matrix("w", 1, 2), sp.Symbol("b", real=True)
batch = [symbols_matrix(f"x{j}", 2, 1) for j in range(1, 4)]
BN_INSTANCE = "$N = 3$"  # the batch size the batch-norm block is shown for


def batch_norm(zs: list[sp.Expr] | tuple[sp.Expr, ...]) -> tuple[sp.ImmutableMatrix, sp.Expr]:
    """y_j = γ(z_j − μ)/√(v + ε) + β with the batch mean μ and biased variance v (Ioffe & Szegedy 2015, Alg. 1)."""
    mu = sum(zs) / len(zs)
    v = sum((zj - mu) ** 2 for zj in zs) / len(zs)
    return sp.ImmutableMatrix([gamma * (zj - mu) / sp.sqrt(v + eps) + beta for zj in zs]), v


@theorem
def batch_norm_zero_set() -> Derivation:
    zs = [(w_bn * xj)[0, 0] + b_bn for xj in batch]
    y, _ = batch_norm(zs)
    y_z, v_z = batch_norm(z)
    steps = (
        Substitute(y, sp.zeros(3, 1), "sufficient: $γ = 0$, $β = 0$ give $y ≡ 0$ whatever $w$, $b$",
                   BN_2015 + ", Algorithm 1", subs={gamma: 0, beta: 0}),
        Substitute(y, beta * sp.ones(3, 1), "$γ = 0$ alone leaves the constant $β$", subs={gamma: 0}),
        Substitute(y, beta * sp.ones(3, 1), "$w = 0$ makes the batch constant ($v = 0$): $y ≡ β$ for every $γ$, "
                   "so $(w, β) = 0$ is a zero-set point with $γ ≠ 0$", subs=assign(w_bn, 0)),
        Equal(sum(y_z) / 3, beta, "the batch mean of $y$ is $β$, so $y ≡ 0$ forces $β = 0$"),
        Equal(sum((yj - beta) ** 2 for yj in y_z), gamma**2 * 3 * v_z / (v_z + eps),
              "$\\sum_j (y_j − β)² = 3γ²v/(v + ε)$: with $β = 0$ and $v > 0$, $y ≡ 0$ forces $γ = 0$"),
    )
    return Derivation(
        id="blocks.batch-norm",
        title=f"A block ending in batch normalisation ({BN_INSTANCE}) vanishes at $γ = 0$, $β = 0$, whatever the "
              "weights before it",
        claims=("C8",),
        statement=f"For a batch of {BN_INSTANCE}, $y_j = γ(z_j − μ)/\\sqrt{{v + ε}} + β$, $z_j = wᵀx_j + b$, $ε > 0$: "
                  "$(γ, β) = 0 ⇒ y ≡ 0$ for every $w$, $b$; the batch mean of $y$ is $β$ and "
                  "$\\sum_j (y_j − β)² = γ² N v/(v + ε)$, so $y ≡ 0$ forces $β = 0$, and $γ = 0$ unless the batch's "
                  "pre-activations are all equal ($v = 0$, e.g. $w = 0$).",
        steps=steps,
        references=(BN_2015, GOYAL_2017),
        conclusion=f"For a block ending in batch normalisation ({BN_INSTANCE}) the zero set is $(γ, β) = 0$ with "
                   "every earlier weight free (the zero-$γ$ initialisation of Goyal et al. [@goyal2017accurate] sits "
                   "on it), plus the degenerate points where the batch is constant (e.g. $w = 0$) and $β = 0$. "
                   "Pushing the earlier weights to zero is not needed, and is not enough without $β = 0$.",
        bearing={"C8": "qualifies"},
        proves=steps,
        instance=BN_INSTANCE,
        remarks=("The same identities hold for every batch size $N ≥ 2$ (the mean of $y$ is $β$, "
                 "$\\sum_j (y_j − β)² = γ² N v/(v + ε)$); only $N = 3$ is a step here.",),
    )
