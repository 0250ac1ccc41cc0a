"""Expressivity of a ReLU block: can it represent H(x) = x at all? (C5, C11)

Conventions.  x ∈ ℝⁿ is a column vector; a one-hidden-layer ReLU block without bias
is f(x) = V relu(Wx) with W ∈ ℝ^{k×n} (k is the *width*) and V ∈ ℝ^{n×k}; relu and |·|
act entrywise and are written as Piecewise functions (relu(t) = t for t ≥ 0, else 0).

Proved here: width ≤ n cannot represent the identity on ℝⁿ (for every n), width 2n can.
The tanh block (identity only in the limit, and under weight decay) is `theory.tanh_block`.

References:
  He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016, Eq. (1).
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Substitute

HE_2016 = "He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv:1512.03385)"


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


@theorem
def relu_width_n_cannot_be_identity() -> Derivation:
    # f(x) − f(−x) = VWx and f(x) + f(−x) = V|Wx|;  f = id forces VW = 2I and V|Wx| ≡ 0 ⇒ V = 0: contradiction
    square = Assumption(
        "VW = 2I (square)", "if f = id then f(x) − f(−x) = 2x, so VW = 2I; W, V square ⇒ WV = 2I too",
        facts={W * V: 2 * Id},
    )
    return Derivation(
        id="expressivity.relu-width-n",
        title="A bias-free ReLU layer of width ≤ n cannot represent the identity on ℝⁿ",
        claims=("C5", "C11"),
        statement=(
            "For every n ≥ 1 there are no W ∈ ℝ^{k×n}, V ∈ ℝ^{n×k} with k ≤ n and V relu(Wx) = x for all x ∈ ℝⁿ "
            "(a fortiori relu(Wx) ≠ x: its output is nonnegative). Proof: the odd part of f is ½VWx, the even part "
            "½V|Wx|. f = id needs VW = 2I, so rank W = n, k = n, W invertible, WV = 2I; and V|Wx| = 0 for all x. "
            "At x = Vy/2 with y ≥ 0, |Wx| = y, so Vy = 0 on the orthant, V = 0, contradicting VW = 2I."
        ),
        steps=(
            Equal(relu(t), (t + abs_pw(t)) / 2, "relu(t) = (t + |t|)/2 for real t"),
            Equal(abs_pw(-t), abs_pw(t), "|−t| = |t|, hence relu(−u) = (−u + |u|)/2 entrywise"),
            Equal(V * (W * x + a_abs) / 2 - V * (-W * x + a_abs) / 2, V * W * x,
                  "odd part: f(x) − f(−x) = VWx, so f = id ⇔ … requires VWx = 2x for all x, i.e. VW = 2I"),
            Equal(V * (W * x + a_abs) / 2 + V * (-W * x + a_abs) / 2, V * a_abs,
                  "even part: f(x) + f(−x) = V|Wx|, which must vanish for f = id (the identity is odd)"),
            Substitute(W * x, y, "at x = Vy/2, Wx = ½WVy = y", subs={x: V * y / 2}),
            Equal(abs_pw(sp.Symbol("y_j", nonnegative=True)), sp.Symbol("y_j", nonnegative=True),
                  "|y| = y on the orthant, so V|Wx| = Vy = 0 for every y ≥ 0, e.g. y = e_j: V = 0"),
            Substitute(V * W, sp.ZeroMatrix(n, n), "V = 0 gives VW = 0 ≠ 2I: no such block exists",
                       subs={V: sp.ZeroMatrix(n, n)}),
        ),
        assumptions=(square,),
        references=(HE_2016,),
        conclusion=(
            "C5/C11 hold exactly for a bias-free ReLU layer of width ≤ n: the identity is not representable at all, "
            "so no optimiser can find it. The checked steps treat k = n; k < n is the rank argument of the statement "
            "(VW = 2I needs rank W = n). Widths n < k < 2n are not covered by this derivation."
        ),
    )


@theorem
def relu_width_2n_identity() -> Derivation:
    # W = [I; −I], V = [I, −I]:  V relu(Wx) = relu(x) − relu(−x) = x
    x1, x2, x3 = sp.symbols("x_1 x_2 x_3", real=True)

    def block(xs: list[sp.Symbol]) -> sp.Matrix:
        k = len(xs)
        Wc = sp.Matrix.vstack(sp.eye(k), -sp.eye(k))
        Vc = sp.Matrix.hstack(sp.eye(k), -sp.eye(k))
        return Vc * (Wc * sp.Matrix(xs)).applyfunc(relu)

    return Derivation(
        id="expressivity.relu-width-2n",
        title="Width 2n suffices: x = relu(x) − relu(−x)",
        claims=("C5", "C11"),
        statement=(
            "With W = [I; −I] ∈ ℝ^{2n×n} and V = [I, −I] ∈ ℝ^{n×2n}, V relu(Wx) = x for all x ∈ ℝⁿ: "
            "row j of V relu(Wx) is relu(x_j) − relu(−x_j) = x_j."
        ),
        steps=(
            Equal(relu(t) - relu(-t), t, "relu(t) − relu(−t) = t for real t: row j of the construction"),
            Equal(block([x1]), sp.Matrix([x1]), "n = 1, explicitly"),
            Equal(block([x1, x2]), sp.Matrix([x1, x2]), "n = 2, explicitly"),
            Equal(block([x1, x2, x3]), sp.Matrix([x1, x2, x3]), "n = 3, explicitly"),
        ),
        references=(HE_2016,),
        conclusion="The identity is representable by a bias-free ReLU layer of width 2n (so C5 needs qualifying).",
        bearing={"C5": "qualifies", "C11": "qualifies"},
    )
