"""Expressivity of a ReLU block: can it represent H(x) = x at all? (C5, C11)

Conventions.  x ∈ ℝⁿ is a column vector; a one-hidden-layer ReLU block without bias
is f(x) = V relu(Wx) with W ∈ ℝ^{k×n} (k is the *width*) and V ∈ ℝ^{n×k}; relu and |·|
act entrywise and are written as Piecewise functions (relu(t) = t for t ≥ 0, else 0).

Proved here: width ≤ n cannot represent the identity on ℝⁿ (for every n), width 2n can (shown
entry by entry for n = 1, 2, 3, and row by row for every n).
The tanh block (identity only in the limit, and under weight decay) is `theory.tanh_block`.

References:
  He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016, Eq. (1).
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Substitute
from theory.references import HE_2016


def relu(u: sp.Expr) -> sp.Expr:
    """relu(u) = max(0, u), as a Piecewise so that the ladder's piecewise rung can decide identities."""
    return sp.Piecewise((u, u >= 0), (0, True))


def abs_pw(u: sp.Expr) -> sp.Expr:
    """|u| for real u, as a Piecewise (SymPy's Abs and Piecewise do not simplify against each other)."""
    return sp.Piecewise((u, u >= 0), (-u, True))


t = sp.Symbol("t", real=True)  # a pre-activation
n = sp.Symbol("n", integer=True, positive=True)  # input dimension; width k = n in the impossibility
Id = sp.Identity(n)  # the n×n identity
x = sp.MatrixSymbol("x", n, 1)  # the input
W = sp.MatrixSymbol("W", n, n)  # first layer, width n
V = sp.MatrixSymbol("V", n, n)  # readout
a_abs = sp.MatrixSymbol("a", n, 1)  # |Wx| entrywise
y = sp.MatrixSymbol("y", n, 1)  # a point of the nonnegative orthant
y_j = sp.Symbol("y_j", nonnegative=True)  # one coordinate of y


@theorem
def relu_width_n_cannot_be_identity() -> Derivation:
    # f(x) − f(−x) = VWx and f(x) + f(−x) = V|Wx|;  f = id forces VW = 2I and V|Wx| ≡ 0 ⇒ V = 0: contradiction
    steps = (
        Equal(relu(t), (t + abs_pw(t)) / 2, "$\\relu(t) = (t + |t|)/2$ for real $t$, so "
              "$f(x) = ½V(Wx + |Wx|)$ entrywise; write $a = |Wx|$"),
        Equal(abs_pw(-t), abs_pw(t), "$|−t| = |t|$, hence $f(−x) = ½V(−Wx + a)$ with the same $a$"),
        Equal(V * (W * x + a_abs) / 2 - V * (-W * x + a_abs) / 2, V * W * x,
              "odd part: $f(x) − f(−x) = VWx$; $f = \\mathrm{id}$ requires $VWx = 2x$ for all $x$, i.e. $VW = 2I$, "
              "so $W$ has rank $n$: the width is $k = n$ and $W$ is invertible"),
        Equal(V * (W * x + a_abs) / 2 + V * (-W * x + a_abs) / 2, V * a_abs,
              "even part: $f(x) + f(−x) = V|Wx|$, which must vanish for $f = \\mathrm{id}$ (the identity is odd)"),
        Substitute(W * x, y, "at $x = W^{−1}y$, $Wx = y$", subs={x: W.inverse() * y}),
        Equal(sp.Subs(abs_pw(t), t, y_j), y_j, "$|y| = y$ on the orthant $y ≥ 0$: there $V|Wx| = Vy$, which "
              "must vanish for every $y ≥ 0$, e.g. $y = e_j$: $V = 0$"),
        Substitute(V * W, sp.ZeroMatrix(n, n), "$V = 0$ gives $VW = 0 ≠ 2I$: no such block exists",
                   subs={V: sp.ZeroMatrix(n, n)}),
    )
    return Derivation(
        id="expressivity.relu-width-n",
        title="A bias-free ReLU layer of width at most $n$ cannot represent the identity on $ℝⁿ$",
        claims=("C5", "C11"),
        statement=(
            "For every $n ≥ 1$ there are no $W ∈ ℝ^{k×n}$, $V ∈ ℝ^{n×k}$ with $k ≤ n$ and $f(x) = V \\relu(Wx) = x$ "
            "for all $x ∈ ℝⁿ$ (a fortiori $\\relu(Wx) ≠ x$: its output is nonnegative). Proof: the odd part of $f$ "
            "is $½VWx$, the even part $½V|Wx|$. $f = \\mathrm{id}$ needs $VW = 2I$, so $\\rank W = n$, $k = n$ and "
            "$W$ is invertible; and $V|Wx| = 0$ for all $x$. At $x = W^{−1}y$ with $y ≥ 0$, $|Wx| = y$, so $Vy = 0$ "
            "on the orthant, $V = 0$, contradicting $VW = 2I$."
        ),
        steps=steps,
        assumptions=(Assumption("$W$ invertible", "$VW = 2I$ forces $\\rank W = n$ (step 3): $W^{−1}$ exists",
                                matrix_kinds={W: "invertible"}),),
        references=(HE_2016,),
        conclusion=(
            "C5 and C11 hold exactly for a bias-free ReLU layer of width at most $n$: the identity is not "
            "representable at all, so no optimiser can find it. The checked steps treat $k = n$; $k < n$ is the rank "
            "argument of the statement ($VW = 2I$ needs $\\rank W = n$). Widths $n < k < 2n$ are not covered by this "
            "derivation."
        ),
        proves=steps,
        remarks=(
            "The steps are the equations of the proof; its logic ($f = \\mathrm{id}$ forces $VW = 2I$ by step 3 and "
            "$V|Wx| ≡ 0$ by step 4; on the orthant the latter gives $V = 0$, contradicting $VW = 2I$) is not itself "
            "a step.",
            "$\\relu$ and $|\\cdot|$ act entrywise: the matrix symbol $a$ stands for $|Wx|$, and $|Wx| = y$ at "
            "$x = W^{−1}y$, $y ≥ 0$, combines steps 5 and 6 entry by entry.",
            "$k < n$: $VW = 2I$ needs $\\rank W = n$, impossible for $W$ with $k < n$ rows (not a step here).",
        ),
    )


N_EXPLICIT = "$n = 1, 2, 3$"  # the dimensions at which the width-2n construction is shown entry by entry


@theorem
def relu_width_2n_identity() -> Derivation:
    # W = [I; −I], V = [I, −I]:  V relu(Wx) = relu(x) − relu(−x) = x
    x1, x2, x3 = sp.symbols("x_1 x_2 x_3", real=True)

    def block(xs: list[sp.Symbol]) -> sp.Matrix:
        k = len(xs)
        Wc = sp.Matrix.vstack(sp.eye(k), -sp.eye(k))
        Vc = sp.Matrix.hstack(sp.eye(k), -sp.eye(k))
        return Vc * (Wc * sp.Matrix(xs)).applyfunc(relu)

    steps = (
        Equal(relu(t) - relu(-t), t, "$\\relu(t) − \\relu(−t) = t$ for real $t$: row $j$ of the construction"),
        Equal(block([x1]), sp.Matrix([x1]), "$n = 1$, explicitly"),
        Equal(block([x1, x2]), sp.Matrix([x1, x2]), "$n = 2$, explicitly"),
        Equal(block([x1, x2, x3]), sp.Matrix([x1, x2, x3]), "$n = 3$, explicitly"),
    )
    return Derivation(
        id="expressivity.relu-width-2n",
        title=f"Width $2n$ suffices: $x = \\relu(x) − \\relu(−x)$ (shown for {N_EXPLICIT})",
        claims=("C5", "C11"),
        statement=(
            "With $W = [I; −I] ∈ ℝ^{2n×n}$ and $V = [I, −I] ∈ ℝ^{n×2n}$, $V \\relu(Wx) = x$ for all $x ∈ ℝⁿ$ "
            f"(shown for {N_EXPLICIT}, and row by row: $\\relu(t) − \\relu(−t) = t$ for every real $t$)."
        ),
        steps=steps,
        references=(HE_2016,),
        conclusion=f"The identity is representable by a bias-free ReLU layer of width $2n$ (shown for {N_EXPLICIT}), "
                   "so C5 needs qualifying.",
        bearing={"C5": "qualifies", "C11": "qualifies"},
        proves=steps,
        instance=N_EXPLICIT,
        remarks=("For every $n$, row $j$ of $V \\relu(Wx)$ is $\\relu(x_j) − \\relu(−x_j)$ by the block structure of "
                 "$W$ and $V$, which step 1 shows is $x_j$; the block computation for general $n$ is not a step "
                 "here.",),
    )
