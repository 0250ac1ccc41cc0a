"""The loss landscape at zero weights for a smooth two-layer block, plain vs residual (C9, C11).

Companion of `theory.landscape` (same loss convention, L = ½E‖H(x) − x‖²).  Scalar
block, n = 1, with a smooth real σ with σ(0) = 0 (tanh is one) and the two-point input
x = ±a, each with probability ½, so that every expectation is exact: plain
H = w₂σ(w₁x), residual H = x + w₂σ(w₁x).
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Inequality, Step, Substitute
from theory.landscape import charpoly, hessian, mu
from theory.references import HE_2016, SAXE_2014

a = sp.Symbol("a", positive=True)  # input magnitude, x = ±a
w1, w2 = sp.symbols("w_1 w_2", real=True)  # scalar weights of the smooth two-layer block
sigma = sp.Function("sigma", real=True)  # the activation σ
xi = sp.Symbol("xi", real=True)  # σ's argument
SMOOTH_INSTANCE = "$n = 1$, $x = ±a$"  # the size and data the smooth blocks are shown for
DSIGMA0 = sp.Subs(sp.Derivative(sigma(xi), xi), xi, 0)  # σ′(0)

SMOOTH = Assumption("$σ(0) = 0$", "$σ$ is smooth and real with $σ(0) = 0$ ($\\tanh$ is one); $x = ±a$, each with "
                    "probability $½$",
                    facts={sigma(0): 0})


def _smooth_loss(residual: bool) -> sp.Expr:
    """½ E (H(x) − x)² over x = ±a, H = w₂σ(w₁x) (+ x if residual)."""
    shortcut = 0 if residual else 1
    return sp.Rational(1, 4) * sum((w2 * sigma(w1 * x) - shortcut * x) ** 2 for x in (a, -a))


def _smooth_first_order(f: sp.Expr, value: sp.Expr) -> tuple[Step, ...]:
    at0 = {w1: 0, w2: 0}
    return (
        Substitute(f, value, "loss at $w = 0$ ($σ(0) = 0$)", subs=at0),
        Substitute(sp.Matrix([sp.Derivative(f, w1), sp.Derivative(f, w2)]), sp.zeros(2, 1),
                   "gradient at $0$: $𝔼x = 0$, $σ(0) = 0$", subs=at0),
    )


@theorem
def plain_two_layer_smooth() -> Derivation:
    # H = w₂σ(w₁x): L(0) = ½a², ∇L(0) = 0, Hessian [[0, −a²σ′(0)], [−a²σ′(0), 0]]: eigenvalues ±a²σ′(0)
    f = _smooth_loss(residual=False)
    hess0 = sp.Matrix([[0, -a**2 * DSIGMA0], [-a**2 * DSIGMA0, 0]])
    steps = (
        *_smooth_first_order(f, a**2 / 2),
        Substitute(hessian(f, (w1, w2)), hess0, "Hessian at $0$: only $𝔼x²\\,σ'(0)$ survives", subs={w1: 0, w2: 0}),
        Equal(charpoly(hess0), (mu - a**2 * DSIGMA0) * (mu + a**2 * DSIGMA0), "eigenvalues $±a²σ'(0)$"),
        Substitute(-(a**2) * DSIGMA0, -(a**2), "$σ = \\tanh$: $\\tanh'(0) = "
                                               "1$", subs={sigma: sp.Lambda(xi, sp.tanh(xi))}),
        Inequality(-(a**2), sp.S.Zero, "a negative Hessian eigenvalue: a strict saddle", relation="<"),
        Inequality(a**2 / 2, sp.S.Zero, "$L(0) > 0$: not a minimum", relation=">"),
    )
    return Derivation(
        id="landscape.plain-two-layer-smooth",
        title="A plain smooth two-layer block $w₂σ(w₁x)$: zero weights are a strict saddle when $σ'(0) ≠ 0$ "
              f"({SMOOTH_INSTANCE})",
        claims=("C9", "C11"),
        statement=f"{SMOOTH_INSTANCE}, $σ(0) = 0$: $L(0) = ½a² > 0$, $∇L(0) = 0$, and the Hessian "
                  "$[[0, −a²σ'(0)], [−a²σ'(0), 0]]$ has the eigenvalues $±a²σ'(0)$; for $\\tanh$ ($σ'(0) = 1$) they "
                  "are $±a²$, one negative.",
        steps=steps,
        assumptions=(SMOOTH,),
        references=(HE_2016, SAXE_2014),
        conclusion="With a smooth $σ$ ($σ(0) = 0$, $σ'(0) ≠ 0$) zero weights of a plain block are a strict saddle, "
                   f"not a solution ({SMOOTH_INSTANCE}).",
        proves=steps,
        instance=SMOOTH_INSTANCE,
        remarks=("If $σ'(0) = 0$ the Hessian at $0$ vanishes and the saddle is degenerate (not a step).",
                 "The eigenvalues $±a²σ'(0)$ have opposite signs whenever $σ'(0) ≠ 0$; the step that one is negative "
                 "is checked for $\\tanh$."),
    )


@theorem
def residual_two_layer_smooth() -> Derivation:
    # H = x + w₂σ(w₁x): L = ½ E (w₂σ(w₁x))² ≥ 0, L(0) = 0, ∇L(0) = 0, Hessian at 0 = 0
    f = _smooth_loss(residual=True)
    steps = (
        *_smooth_first_order(f, sp.S.Zero),
        Substitute(hessian(f, (w1, w2)), sp.zeros(2), "Hessian at $0$ ($σ(0) = 0$)", subs={w1: 0, w2: 0}),
        Inequality(f, sp.S.Zero, "a sum of squares of reals: $L ≥ 0 = L(0)$", relation="≥"),
        Substitute(f, sp.S.Zero, "$L = 0$ on the whole line $w₂ = 0$ (any $w₁$): $0$ is not an isolated minimum",
                   subs={w2: 0}),
    )
    return Derivation(
        id="landscape.residual-two-layer-smooth",
        title="A smooth two-layer residual branch: zero weights are a global minimum with zero Hessian "
              f"({SMOOTH_INSTANCE})",
        claims=("C9",),
        statement=f"{SMOOTH_INSTANCE}, $σ(0) = 0$: $L = ½𝔼(w₂σ(w₁x))² ≥ 0 = L(0)$, $∇L(0) = 0$, the Hessian at "
                  "$0$ is $0$, and $L = 0$ on the line $w₂ = 0$.",
        steps=steps,
        assumptions=(SMOOTH,),
        references=(HE_2016,),
        conclusion=f"C9 holds as a global minimum for any smooth real $σ$ with $σ(0) = 0$ ({SMOOTH_INSTANCE}), "
                   "qualified as for the linear branch: zero Hessian, and not isolated (every $w₂ = 0$ is a minimum).",
        bearing={"C9": "qualifies"},
        proves=steps,
        instance=SMOOTH_INSTANCE,
    )
