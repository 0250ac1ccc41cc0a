"""Your own derivations, checked by hfx: two small identities about residual blocks.

    hfx check examples/residual_identity.py --pdf

1. The Jacobian of a scalar residual block H(x) = x + a·tanh(w x) at the origin is 1 + a·w: the
   shortcut contributes the 1, so H is the identity to first order exactly when a·w = 0.
2. Two stacked linear residual blocks compose to I + A + B + BA: (I + B)(I + A) = I + A + B + BA, so
   the stack is the identity when both residual branches vanish, and to first order in (A, B) it adds them.

Every function marked `@theorem` returns a `Derivation`; `hfx check` imports this file alone, builds
and verifies each one with the same checker as hfx's own theorems, and writes their records (and, with
`--pdf`, their documents).  See docs/api.md for the API.

He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016, Eq. (1): y = F(x) + x.
"""

from __future__ import annotations

import sympy as sp

from theory.derivation import Derivation, Equal, Formula, theorem
from theory.references import HE_2016  # "@he2016deep": a key of hfx's references.bib

x, a, w = sp.symbols("x a w", real=True)  # input, output weight and input weight of the branch
n = sp.Symbol("n", integer=True, positive=True)  # width of the linear blocks
A, B = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)  # residual branches of block 1 and block 2
Id = sp.Identity(n)  # the shortcut


@theorem
def jacobian_at_origin() -> Derivation:
    # H(x) = x + a tanh(w x);  H'(x) = 1 + a w (1 − tanh²(w x));  H'(0) = 1 + a w
    H = x + a * sp.tanh(w * x)
    slope = 1 + a * w * (1 - sp.tanh(w * x) ** 2)
    differentiate = Equal(sp.Subs(sp.Derivative(H, x), x, 0), sp.Subs(slope, x, 0),
                          r"chain rule, with $\tanh' = 1 − \tanh²$", HE_2016 + ", Eq. (1)")
    evaluate = Equal(sp.Subs(slope, x, 0), 1 + a * w, r"$\tanh(0) = 0$")
    return Derivation(
        id="mine.jacobian-at-origin",
        title="A tanh residual block's slope at the origin is $1 + aw$",
        claims=(),
        statement=r"For $H(x) = x + a\tanh(wx)$ with real $a$, $w$: $H'(0) = 1 + aw$.",
        steps=(differentiate, evaluate),
        references=(HE_2016,),
        conclusion="The shortcut contributes the $1$: $H$ is the identity to first order at $0$ exactly when $aw = 0$.",
        proves=(Formula(sp.Subs(sp.Derivative(H, x), x, 0), "=", 1 + a * w),),
    )


@theorem
def two_blocks_compose() -> Derivation:
    # (I + B)(I + A) = I + A + B + BA: expand the product
    stack = sp.MatMul(Id + B, Id + A, evaluate=False)
    expand = Equal(stack, Id + A + B + B * A, "expand the product of the two blocks' maps", HE_2016 + ", Eq. (1)")
    return Derivation(
        id="mine.two-blocks-compose",
        title="Two linear residual blocks compose to $I + A + B + BA$",
        claims=(),
        statement="For $n × n$ residual branches $A$ and $B$: $(I + B)(I + A) = I + A + B + BA$.",
        steps=(expand,),
        references=(HE_2016,),
        conclusion="Stacked residual blocks add their branches to first order; the stack is $I$ when $A = B = 0$.",
        proves=(expand,),
    )
