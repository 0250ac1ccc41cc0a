"""The residual reformulation (claims C6, C7).

Conventions: x ∈ ℝⁿ is a column vector (an n×1 matrix symbol), F(x) and H(x)
are n×1 values of the block at that x.  Statements hold pointwise for every x,
so "for all x" follows from proving them for a symbolic x.

He, Zhang, Ren, Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016,
Eq. (1): y = F(x, {W_i}) + x.
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equivalent, Formula, Substitute
from theory.references import HE_2016

n = sp.Symbol("n", integer=True, positive=True)  # input dimension
x = sp.MatrixSymbol("x", n, 1)  # the input
F = sp.MatrixSymbol("F", n, 1)  # F(x): the residual branch's output at x
H = sp.MatrixSymbol("H", n, 1)  # H(x): the block's output at x
ZERO = sp.ZeroMatrix(n, 1)

RESIDUAL_BLOCK = Assumption("$H = F + x$", "the block is residual: $H(x) = F(x) + x$ [@he2016deep, Eq. (1)]",
                            facts={H: F + x})


@theorem
def residual_reformulation() -> Derivation:
    # H := F + x, so F = H − x: the reformulation is a change of variable, both ways
    change = Equivalent(sp.Eq(F, H - x), sp.Eq(H, F + x), "add $x$ to both sides", HE_2016 + ", Eq. (1)",
                        factor=sp.S.NegativeOne)
    restore = Substitute(F + x, H, "the shortcut restores $H$ from $F := H − x$: $(H − x) + x = H$", subs={F: H - x})
    return Derivation(
        id="reformulation.residual",
        title="The residual reformulation $H(x) = F(x) + x$ is invertible: $F(x) = H(x) − x$",
        claims=("C6",),
        statement="For $x ∈ ℝⁿ$, setting $F(x) := H(x) − x$ gives $H(x) = F(x) + x$, and conversely "
                  "[@he2016deep, Eq. (1)].",
        steps=(change, restore),
        references=(HE_2016,),
        conclusion="C6 is a definition; it holds exactly for vector-valued $x$.",
        proves=(change, restore),
    )


@theorem
def identity_iff_zero_residual() -> Derivation:
    # H(x) = x  ⟺  F(x) + x = x  ⟺  F(x) = 0, pointwise in x ∈ ℝⁿ
    return Derivation(
        id="reformulation.identity-iff-zero",
        title="The identity target $H(x) = x$ is exactly $F(x) = 0$",
        claims=("C7",),
        statement="For $H = F + x$ and every $x ∈ ℝⁿ$: $H(x) = x ⟺ F(x) = 0$; hence $H ≡ \\mathrm{id} ⟺ F ≡ 0$.",
        steps=(
            Equivalent(sp.Eq(H, x), sp.Eq(F + x, x), "the block is residual, $H = F + x$", HE_2016 + ", Eq. (1)"),
            Equivalent(sp.Eq(F + x, x), sp.Eq(F, ZERO), "subtract $x$ from both sides: $(F + x) − x = F$"),
        ),
        assumptions=(RESIDUAL_BLOCK,),
        references=(HE_2016,),
        conclusion="C7 holds exactly, pointwise, for vector-valued $x$; no assumption on $F$ is needed.",
        proves=(Formula(sp.Eq(H, x), "⟺", sp.Eq(F, ZERO)),),
    )
