"""Zero-sets of block families: which parameters must vanish for F ≡ 0 (claim C8).

The note says gradient descent gets F(x) = 0 by "pushing all weights of the block
to zero".  For each block family this module proves exactly which parameters
vanishing is *sufficient* for F ≡ 0 and which is *necessary*.

Conventions.  x ∈ ℝⁿ is a column vector; a block maps it to F(x) ∈ ℝᵐ; σ acts
entrywise.  The two-layer block is F(x) = W₂σ(W₁x + b₁) + b₂ (He et al. 2016,
Eq. (1) and the text after it, with biases added); "without biases" means
b₁ = b₂ = 0 are not parameters.  "F ≡ 0" means F(x) = 0 for every x ∈ ℝⁿ, which
follows from a step proved for a symbolic x.  General dimensions use matrix
symbols; where σ must act entrywise the statement is proved on explicit
matrices of symbols (n = h = m = 2), every entry symbolic, so "for all x" and
"for all weights" are symbolic and only the sizes are fixed: those derivations
are stated for the instance n = h = m = 2.  A premise σ(0) = 0 is a
substitution σ(0) := 0 in the step that needs it, so every other step holds for
every σ.  Activations:
identity; ReLU(t) = max(0, t); tanh; the logistic sigmoid 1/(1 + e^{−t});
GELU(t) = tΦ(t) = t(1 + erf(t/√2))/2 (Hendrycks & Gimpel 2016, §2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from theory.core.printing import latex
from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Inequality, Step, Substitute
from theory.references import GELU_2016, HE_2016

_t = sp.Symbol("t", real=True)  # the activation's argument


@dataclass(frozen=True)
class Activation:
    key: str  # id fragment, e.g. "relu"
    name: str  # for the reader, in words
    math: str  # its name in the prose's maths, e.g. r"\operatorname{ReLU}"
    fn: sp.Lambda  # σ as an exact SymPy function of one real variable
    citation: str  # where its definition comes from ("" for the standard functions)


IDENTITY = Activation("identity", "identity", r"\mathrm{id}", sp.Lambda(_t, _t), "")
RELU = Activation("relu", "ReLU", r"\operatorname{ReLU}", sp.Lambda(_t, sp.Max(0, _t)), HE_2016 + ", §3.2: $σ$ is ReLU")
TANH = Activation("tanh", "tanh", r"\tanh", sp.Lambda(_t, sp.tanh(_t)), "")
SIGMOID = Activation("sigmoid", "sigmoid", r"\operatorname{sigmoid}", sp.Lambda(_t, 1 / (1 + sp.exp(-_t))), "")
GELU = Activation(
    "gelu", "GELU", r"\operatorname{GELU}", sp.Lambda(_t, _t * (1 + sp.erf(_t / sp.sqrt(2))) / 2),
    GELU_2016 + r", §2: $\operatorname{GELU}(x) = xΦ(x)$",
)

# -- general dimensions (matrix symbols) ------------------------------------------------------
n, h, m = sp.symbols("n h m", integer=True, positive=True)  # input, hidden, output widths
x = sp.MatrixSymbol("x", n, 1)  # the input
X = sp.MatrixSymbol("X", n, n)  # a batch of n inputs, one per column
W, b = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("b", m, 1)  # linear block F(x) = Wx + b
W1, b1 = sp.MatrixSymbol("W_1", h, n), sp.MatrixSymbol("b_1", h, 1)  # first layer
W2, b2 = sp.MatrixSymbol("W_2", m, h), sp.MatrixSymbol("b_2", m, 1)  # last layer
sigma = sp.Function("sigma", real=True)  # an arbitrary activation


# -- explicit matrices of symbols -------------------------------------------------------------
def symbols_matrix(name: str, rows: int, cols: int, **assumptions: bool) -> sp.ImmutableMatrix:
    """A rows×cols matrix whose entries are real symbols name_ij."""
    return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True, **assumptions))


def assign(target: sp.MatrixBase, value: sp.MatrixBase | int) -> dict[sp.Basic, sp.Basic]:
    """Entrywise substitution target := value (an integer means that constant everywhere)."""
    values = sp.ones(*target.shape) * value if isinstance(value, int) else value
    return dict(zip(target, values, strict=True))


def two_layer(act: Callable[[sp.Expr], sp.Expr], w1: sp.MatrixBase, c1: sp.MatrixBase,
              w2: sp.MatrixBase, c2: sp.MatrixBase, z: sp.MatrixBase) -> sp.ImmutableMatrix:
    """F(z) = W₂σ(W₁z + b₁) + b₂ with σ entrywise (He et al. 2016, Eq. (1), biases added)."""
    return sp.ImmutableMatrix(w2 * (w1 * z + c1).applyfunc(act) + c2)


xe = symbols_matrix("x", 2, 1)  # explicit input
W1e, b1e = symbols_matrix("V", 2, 2), symbols_matrix("c", 2, 1)  # explicit first layer
W2e, b2e = symbols_matrix("U", 2, 2), symbols_matrix("d", 2, 1)  # explicit last layer
Z2, ONES, EYE = sp.zeros(2, 1), sp.ones(2, 1), sp.eye(2)

# A zero-set point with every entry of W₁, b₁, W₂ nonzero: two identical hidden units whose
# outputs are subtracted, σ(wᵀx + c) − σ(wᵀx + c) = 0 for every σ.
w_, c_, a_ = (sp.symbols(f"{s}1:3", real=True, nonzero=True) for s in "wca")
DUPLICATE_UNITS = {
    **assign(W1e, sp.Matrix([[w_[0], w_[1]], [w_[0], w_[1]]])),
    **assign(b1e, sp.Matrix([c_[0], c_[0]])),
    **assign(W2e, sp.Matrix([[a_[0], -a_[0]], [a_[1], -a_[1]]])),
    **assign(b2e, 0),
}


def _block(act: Callable[[sp.Expr], sp.Expr], biases: str = "both") -> sp.ImmutableMatrix:
    c1 = b1e if biases == "both" else Z2
    c2 = b2e if biases in ("both", "last") else Z2
    return two_layer(act, W1e, c1, W2e, c2, xe)


INSTANCE = "$n = h = m = 2$"  # the explicit sizes of the entrywise steps
VERDICT = (
    "Driving all weights to zero is sufficient but more than needed: $W₂ = 0$ and $b₂ = 0$ "
    "alone give $F ≡ 0$ for every $σ$, every $W₁$, $b₁$ and all sizes. Nothing is individually necessary for the "
    f"two-layer block (shown for {INSTANCE}): its zero set contains points where $W₁$, $b₁$ and $W₂$ are all "
    "entrywise nonzero and, with a bias $b₁$, points with $b₂ ≠ 0$, so it is far larger than the origin. Pushing "
    "$W₁$ alone to zero is neither necessary nor, for the sigmoid ($σ(0) = ½$) or whenever there are biases, "
    "sufficient. C8 is imprecise."
)
WIDTH_REMARK = (
    "The zero-set points with $W₁$, $b₁$, $W₂$ entrywise nonzero subtract two identical hidden units, so they "
    "need hidden width $h ≥ 2$ (the same construction works for every $h ≥ 2$; not a step here). At $h = 1$ some "
    "parameter can be necessary: e.g. a sigmoid block without biases has $W₂σ(W₁x) ≡ 0$ only at $W₂ = 0$, since "
    "$σ > 0$."
)


def _activation_finding(act: Activation) -> str:
    """This activation's own finding, in one sentence (the audit quotes a theorem's first sentence)."""
    s0 = act.fn(0)
    if act is IDENTITY:
        tail = "without biases $F ≡ 0$ exactly when $W₂W₁ = 0$, a cone of rank-deficient pairs"
    elif act is RELU:
        tail = "$W₁ = 0$ suffices only without biases, and dead units ($W₁, b₁ < 0$) silence $F$ on $x ≥ 0$ only"
    elif s0 != 0:
        tail = f"$W₁ = 0$ never suffices (${act.math}(0) = {s0}$), and $b₂ ≠ 0$ is possible even without $b₁$"
    else:
        tail = "$W₁ = 0$ suffices only without biases"
    return (f"For the {act.name} block, $W₂ = 0$ and $b₂ = 0$ give $F ≡ 0$ whatever $W₁$, $b₁$, and $F ≡ 0$ also "
            f"with every entry of $W₁$, $b₁$, $W₂$ nonzero; {tail}.")


@theorem
def linear_block_zero_set() -> Derivation:
    # Wx + b ≡ 0  ⟺  W = 0 and b = 0: with the convolution, the families whose zero set is a single point
    steps = (
        Substitute(W * x + b, sp.ZeroMatrix(m, 1), "sufficient: $W = 0$, $b = 0$ give $F(x) = 0$ for every $x$",
                   subs={W: sp.ZeroMatrix(m, n), b: sp.ZeroMatrix(m, 1)}),
        Substitute(W * x + b, b, "$F(0) = b$, so $F ≡ 0$ forces $b = 0$", subs={x: sp.ZeroMatrix(n, 1)}),
        Equal(sp.MatAdd(W * x + b, -b, evaluate=False), W * x, "$F(x) − F(0) = (Wx + b) − b = Wx$: with "
              "$b = 0$ the block is $Wx$"),
        Substitute(W * X, W, "necessary: $F − F(0)$ on the basis vectors $e₁, …, eₙ$ (the columns "
                   "of $X = I$) stacks to $WI = W$, so $F ≡ 0$ forces $W = 0$", subs={X: sp.Identity(n)}),
    )
    return Derivation(
        id="blocks.linear",
        title="A linear block $Wx + b$ vanishes for every $x$ exactly when $W = 0$ and $b = 0$",
        claims=("C8",),
        statement="For $F(x) = Wx + b$ with $W ∈ ℝ^{m×n}$, $b ∈ ℝᵐ$: $F(x) = 0$ for all $x ∈ ℝⁿ$ if and only if "
                  "$W = 0$ and $b = 0$. Without a bias, $Wx ≡ 0 ⟺ W = 0$.",
        steps=steps,
        references=(HE_2016,),
        conclusion="For a linear block the note is exact: $F ≡ 0$ exactly at the origin $W = 0$, $b = 0$.",
        # sufficiency (step 1); necessity: b = F(0) (step 2), and W is F − F(0) on the basis (steps 3, 4)
        proves=steps,
    )


def _generic_steps() -> tuple[Step, ...]:
    eaf = ElementwiseApplyFunction(sp.Lambda(_t, sigma(_t)), W1 * x + b1)
    return (
        Substitute(W2 * eaf + b2, sp.ZeroMatrix(m, 1), "sufficient for every $σ$, $W₁$, $b₁$: $W₂ = 0$ and $b₂ = 0$",
                   HE_2016 + ", Eq. (1)", subs={W2: sp.ZeroMatrix(m, h), b2: sp.ZeroMatrix(m, 1)}),
        Substitute(W2 * eaf + b2, b2, "$W₂ = 0$ alone leaves the constant $b₂$", subs={W2: sp.ZeroMatrix(m, h)}),
        Substitute(_block(sigma, "none"), sigma(0) * W2e * ONES, r"without biases, $W₁ = 0$ gives $F ≡ σ(0)\,W₂𝟙$",
                   subs=assign(W1e, 0)),
        Substitute(sigma(0) * W2e * ONES, Z2, "which is $0$ when $σ(0) = 0$", subs={sigma(0): 0}),
        Substitute(_block(sigma), W2e * b1e.applyfunc(sigma) + b2e, "with biases, $W₁ = 0$ gives the constant "
                   "$W₂σ(b₁) + b₂$, not $0$ in general", subs=assign(W1e, 0)),
        Substitute(_block(sigma), Z2, "a zero-set point with every entry of $W₁$, $b₁$, $W₂$ nonzero: two "
                   "identical hidden units subtracted, $σ(wᵀx + c) − σ(wᵀx + c) = 0$", subs=DUPLICATE_UNITS),
        Substitute(_block(sigma, "last"), sigma(0) * W2e * ONES + b2e, r"with $b₂$ but no $b₁$, $F(0) = σ(0)\,W₂𝟙 + "
                                                                       r"b₂$",
                   subs=assign(xe, 0)),
        Substitute(sigma(0) * W2e * ONES + b2e, b2e, "which is $b₂$ when $σ(0) = 0$: then $F ≡ 0$ forces $b₂ = 0$",
                   subs={sigma(0): 0}),
    )


@theorem
def two_layer_zero_set() -> Derivation:
    steps = _generic_steps()
    return Derivation(
        id="blocks.two-layer",
        title="The two-layer block $W₂σ(W₁x + b₁) + b₂$: zeroing the last layer suffices, nothing is necessary "
              f"({INSTANCE})",
        claims=("C8",),
        statement="For every activation $σ$ and all sizes: $(W₂, b₂) = 0 ⇒ F ≡ 0$; $W₂ = 0$ alone leaves $b₂$. For "
                  f"every $σ$ at {INSTANCE}: $W₁ = 0 ⇒ F ≡ σ(0)\\,W₂𝟙$ without biases ($0$ when $σ(0) = 0$); with "
                  "biases $W₁ = 0$ leaves $W₂σ(b₁) + b₂$; $F ≡ 0$ at points with $W₁$, $b₁$, $W₂$ entrywise nonzero; "
                  "without $b₁$, $F(0) = σ(0)\\,W₂𝟙 + b₂$, so when $σ(0) = 0$, $F ≡ 0$ forces $b₂ = 0$.",
        steps=steps,
        references=(HE_2016,),
        conclusion=VERDICT,
        bearing={"C8": "qualifies"},
        proves=steps,
        instance=INSTANCE,
        remarks=(WIDTH_REMARK,),
    )


def _at(act: Activation, value: int) -> sp.Subs:
    """σ(value), unevaluated: the checker evaluates it."""
    return sp.Subs(act.fn(_t), _t, value)


def _activation_steps(act: Activation) -> tuple[Step, ...]:
    s0, s1 = act.fn(0), act.fn(1)
    f, z0 = act.math, latex(s0)
    steps: list[Step] = [
        Equal(_at(act, 0), s0, f"${f}(0) = {z0}$", act.citation),
        Substitute(_block(act.fn), Z2, "sufficient: $W₂ = 0$, $b₂ = 0$ give $F ≡ 0$ whatever $W₁$, $b₁$",
                   HE_2016 + ", Eq. (1)", subs={**assign(W2e, 0), **assign(b2e, 0)}),
        Substitute(_block(act.fn, "none"), s0 * W2e * ONES, f"without biases, $W₁ = 0$ gives $F ≡ {f}(0)\\,W₂𝟙$",
                   subs=assign(W1e, 0)),
    ]
    if s0 != 0:
        steps.append(Substitute(_block(act.fn, "none"), s0 * ONES, "so $W₁ = 0$ does not suffice: at $W₂ = I$, "
                                f"$F ≡ {z0}\\,𝟙 ≠ 0$", subs={**assign(W1e, 0), **assign(W2e, EYE)}))
    steps += [
        Substitute(_block(act.fn), s1 * ONES, "with biases, $W₁ = 0$ does not suffice: at $b₁ = 𝟙$, $W₂ = I$, "
                   f"$b₂ = 0$, $F ≡ {f}(1)\\,𝟙$", subs={**assign(W1e, 0), **assign(b1e, 1), **assign(W2e, EYE),
                                                     **assign(b2e, 0)}),
        Inequality(_at(act, 1), 0, f"${f}(1) > 0$, so that $F$ is not $0$", relation=">"),
        Substitute(_block(act.fn), Z2, "not necessary: $F ≡ 0$ with every entry of $W₁$, $b₁$, $W₂$ nonzero "
                   "(two identical hidden units subtracted)", subs=DUPLICATE_UNITS),
        Substitute(_block(act.fn), Z2, "$b₂ = 0$ is not necessary with a bias $b₁$: $W₁ = 0$, $b₁ = 𝟙$, $W₂ = I$, "
                   f"$b₂ = −{f}(1)\\,𝟙 ≠ 0$ give $F ≡ 0$",
                   subs={**assign(W1e, 0), **assign(b1e, 1), **assign(W2e, EYE), **assign(b2e, -s1 * ONES)}),
    ]
    if s0 == 0:
        steps.append(Substitute(_block(act.fn, "last"), b2e, "without $b₁$, $F(0) = b₂$: $b₂ = 0$ is necessary",
                                subs=assign(xe, 0)))
    else:  # sigmoid: σ(t) + σ(−t) = 1 gives a zero-set point with b₂ ≠ 0 and no b₁
        w = w_[0]
        steps.append(Substitute(_block(act.fn, "last"), Z2, "without $b₁$, $b₂ ≠ 0$ is still possible: "
                                f"${f}(wx₁) + {f}(−wx₁) − 1 = 0$ ($W₁ = [[w, 0], [−w, 0]]$, $W₂ = 𝟙𝟙ᵀ$, "
                                "$b₂ = −𝟙$)",
                                subs={**assign(W1e, sp.Matrix([[w, 0], [-w, 0]])), **assign(W2e, 1),
                                      **assign(b2e, -1)}))
    return tuple(steps) + _special_steps(act)


# dead ReLU units: negative first-layer weights and biases, nonnegative inputs
V_NEG, C_NEG = symbols_matrix("v", 2, 2, negative=True), symbols_matrix("e", 2, 1, negative=True)
Z_NONNEG = symbols_matrix("z", 2, 1, nonnegative=True)


def _special_steps(act: Activation) -> tuple[Step, ...]:
    """Zero-set facts particular to one activation."""
    if act is IDENTITY:  # the linear two-layer block is the linear block with W = W₂W₁
        return (Equal(_block(act.fn, "none"), W2e * W1e * xe, r"with $σ = \mathrm{id}$, $F(x) = (W₂W₁)x$: by "
                      "blocks.linear, $F ≡ 0 ⟺ W₂W₁ = 0$, a cone of rank-deficient pairs, not just the origin"),)
    if act is RELU:  # dead units: F ≡ 0 on a domain, not on all of ℝⁿ
        witness = {**assign(W1e, -1), **assign(b1e, -1), **assign(W2e, EYE), **assign(b2e, 0)}
        return (
            Substitute(_block(act.fn), Z2, "dead units: with $W₁ = v < 0$, $b₁ = e < 0$ entrywise and $b₂ = 0$, "
                       "$F ≡ 0$ on inputs $x = z ≥ 0$ (e.g. after a ReLU) whatever $W₂$",
                       subs={**assign(W1e, V_NEG), **assign(b1e, C_NEG), **assign(b2e, 0), **assign(xe, Z_NONNEG)}),
            Substitute(_block(act.fn), ONES, "but not on $ℝ²$: at $W₁ = −𝟙𝟙ᵀ$, $b₁ = −𝟙$, $W₂ = I$, $b₂ = 0$ and "
                       "$x = (−1, −1)$, $F = 𝟙 ≠ 0$", subs={**witness, **assign(xe, -1)}),
        )
    return ()


def _activation_theorem(act: Activation) -> Derivation:
    s0 = act.fn(0)
    w1_verdict = ("$W₁ = 0$ suffices only without biases" if s0 == 0
                  else f"$W₁ = 0$ never suffices (${act.math}(0) = {latex(s0)} ≠ 0$)")
    steps = _activation_steps(act)
    return Derivation(
        id=f"blocks.two-layer.{act.key}",
        title=f"Zero set of the two-layer {act.name} block ({INSTANCE}), with and without biases",
        claims=("C8",),
        statement=f"$F(x) = W₂\\,{act.math}(W₁x + b₁) + b₂$ ({INSTANCE}, all entries symbolic): "
                  f"$(W₂, b₂) = 0 ⇒ F ≡ 0$; {w1_verdict}; $F ≡ 0$ at points where $W₁$, $b₁$, $W₂$ are entrywise "
                  "nonzero, and at points with $b₂ ≠ 0$ when there is a bias $b₁$.",
        steps=steps,
        references=(HE_2016, GELU_2016) if act.citation.startswith(GELU_2016) else (HE_2016,),
        conclusion=_activation_finding(act) + " " + VERDICT,
        bearing={"C8": "qualifies"},
        proves=steps,
        instance=INSTANCE,
        remarks=(WIDTH_REMARK,),
    )


@theorem
def identity_block_zero_set() -> Derivation:
    return _activation_theorem(IDENTITY)


@theorem
def relu_block_zero_set() -> Derivation:
    return _activation_theorem(RELU)


@theorem
def tanh_block_zero_set() -> Derivation:
    return _activation_theorem(TANH)


@theorem
def sigmoid_block_zero_set() -> Derivation:
    return _activation_theorem(SIGMOID)


@theorem
def gelu_block_zero_set() -> Derivation:
    return _activation_theorem(GELU)
