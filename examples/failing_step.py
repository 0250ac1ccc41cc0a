"""A derivation with a deliberate mistake, to see what hfx reports when a step is wrong.

    hfx check examples/failing_step.py          # exit code 1: the second step FAILED, with a counterexample

The slope of H(x) = x + a·tanh(w x) is 1 + a·w·(1 − tanh²(w x)); the mistake drops the tanh² term and
claims the slope is 1 + a·w everywhere, which holds only at x = 0 (or when a·w = 0).  hfx finds a point
where the two sides differ and prints it.
"""

from __future__ import annotations

import sympy as sp

from theory.derivation import Derivation, Equal, Formula, theorem

x, a, w = sp.symbols("x a w", real=True)


@theorem
def slope_everywhere() -> Derivation:
    H = x + a * sp.tanh(w * x)
    slope = 1 + a * w * (1 - sp.tanh(w * x) ** 2)
    right = Equal(sp.Derivative(H, x), slope, r"chain rule, with $\tanh' = 1 − \tanh²$")
    wrong = Equal(slope, 1 + a * w, r"the mistake: drop $\tanh²$, as if every $x$ were $0$")
    return Derivation(
        id="mine.slope-everywhere",
        title="A wrong claim: the slope of a tanh residual block is $1 + aw$ everywhere",
        claims=(),
        statement=r"For $H(x) = x + a\tanh(wx)$: $H'(x) = 1 + aw$ for every real $x$ (false).",
        steps=(right, wrong),
        conclusion="hfx refutes the second step with a counterexample.",
        proves=(Formula(sp.Derivative(H, x), "=", 1 + a * w),),
    )
