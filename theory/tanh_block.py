"""Expressivity of a tanh block: the identity only in the limit, and not at all under decay (C5, C11)

Conventions.  The scalar tanh block is h(x) = w₂ tanh(w₁x) (plain) or x + w₂ tanh(w₁x)
(residual, He et al. 2016 Eq. (1) with F = W₂σ(W₁x)).  Its regularised objective follows
CONTRIBUTING.md: J(w) = ½ E[(h(x) − x)²] + (λ/2)(w₁² + w₂²), mean over the data with a ½,
decay on the block's trainable weights (not on the shortcut).

Proved here: the tanh block reaches the identity only as w₁ → 0, w₂ = 1/w₁ → ∞ (Taylor
series), at an L2 cost ~ 1/w₁², and on two magnitudes a ≠ b no finite weights fit (one sign
step of that argument, sinh 2u > 2u, is only *checked*: no exact engine here signs it); under weight
decay λ > 0 its data loss at any w₂-stationary point (so at the optimum) is at least
½E[x²](λ/(1 + λ))² for *every* data distribution, while the residual block's optimum is
w = 0 with zero error; for the two-point data x = ±a the optimum reduces to one scalar
equation in s = w₁a.  The ReLU block is `theory.expressivity`.

References:
  He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016, Eq. (1).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Assumption, Derivation, Equal, Formula, Inequality, Substitute
from theory.references import HE_2016

eps = sp.Symbol("epsilon", positive=True)  # w₁ = ε, w₂ = 1/ε
xs = sp.Symbol("x", real=True)  # a scalar input
w1, w2 = sp.symbols("w_1 w_2", real=True)  # the tanh block's weights
lam = sp.Symbol("lambda", positive=True)  # weight decay λ
q = sp.Symbol("q", positive=True)  # E[x²]
mu = sp.Symbol("mu", nonnegative=True)  # E[t²] = μ/(1 + μ) ∈ [0, 1), t = tanh(w₁x)
kappa = sp.Symbol("kappa", nonnegative=True)  # Cauchy–Schwarz slack: E[xt]² = (1 − κ) E[x²] E[t²]
a = sp.Symbol("a", positive=True)  # the two-point data x = ±a
s = sp.Symbol("s", real=True)  # s = w₁a


@theorem
def tanh_block_identity_only_in_the_limit() -> Derivation:
    # (1/ε) tanh(εx) = x − ε²x³/3 + 2ε⁴x⁵/15 + o(ε⁴); at finite weights slope 1 forces a nonzero cubic term
    h = sp.tanh(eps * xs) / eps
    block = w2 * sp.tanh(w1 * xs)
    steps = (
        Equal(sp.Limit(h, eps, 0), xs, "the identity is the limit $ε → 0$"),
        Equal(sp.Limit((h - xs) / eps**2, eps, 0), -(xs**3) / 3, "leading error $−ε²x³/3$"),
        Equal(sp.Limit((h - xs + eps**2 * xs**3 / 3) / eps**4, eps, 0), 2 * xs**5 / 15, "next term $2ε⁴x⁵/15$"),
        Equal(sp.Subs(sp.Derivative(block, xs), xs, 0), w1 * w2, "slope at $0$: the identity needs $w₁w₂ = 1$"),
        Equal(sp.Subs(sp.Derivative(block, (xs, 3)), xs, 0), -2 * w1**3 * w2,
              "third derivative at $0$: the identity needs $w₁³w₂ = 0$, impossible with $w₁w₂ = 1$, so no finite "
              "weights give the identity on an interval around $0$"),
        Inequality(w1**2 + w2**2, 2 * w1 * w2, "L2 cost $≥ 2w₁w₂$ (arithmetic and geometric means), $= 2$ at slope "
                                               "1", relation="≥"),
        Equal(sp.Limit(eps**2 * (eps**2 + 1 / eps**2), eps, 0), 1, "along $w₁ = ε$, $w₂ = 1/ε$ the cost is $\\sim "
                                                                   "1/ε²$"),
    )
    return Derivation(
        id="expressivity.tanh-series",
        title="A plain tanh block $w₂\\tanh(w₁x)$ reaches the identity only as $w₁ → 0$, $w₂ = 1/w₁ → ∞$",
        claims=("C5", "C11"),
        statement=(
            "$\\frac{1}{ε} \\tanh(εx) = x − ε²x³/3 + 2ε⁴x⁵/15 + o(ε⁴)$: the error at $x$ is $ε²|x|³/3$ to leading "
            "order. At finite weights the block's slope at $0$ is $w₁w₂$ and its third derivative $−2w₁³w₂$, so it is "
            "never the identity on an interval around $0$; the L2 cost $w₁² + w₂² ≥ 2w₁w₂ = 2$ of any block with "
            "slope 1 grows as $ε² + 1/ε² \\sim 1/ε²$ along $w₁ = ε$, $w₂ = 1/ε$."
        ),
        steps=steps,
        references=(HE_2016,),
        conclusion=(
            "On an interval (or any data with two distinct $|x|$) the identity is approached only in the limit, at a "
            "cost that diverges like $1/ε²$ (error $\\sim ε²$): C11 holds for the tanh block. On data $x = ±a$ alone "
            "an exact fit exists at finite weights ($w₂ = a/\\tanh(w₁a)$), by oddness."
        ),
        proves=steps,
        remarks=(
            "The remainder is in fact $O(ε⁶)$ (the block is even in $ε$): not a step.",
            "That $w₁w₂ = 1$ and $w₁³w₂ = 0$ cannot both hold (the first forces $w₁ ≠ 0$, then $w₁³w₂ = w₁² ≠ 0$) is "
            "not a step; nor is the exact fit on $x = ±a$ in the conclusion (see expressivity.tanh-two-point-optimum).",
            "On an interval away from $0$ the block is not the identity either (both sides are analytic, so equality "
            "on an interval is equality everywhere): not a step.",
        ),
    )


@theorem
def tanh_block_exact_fit_needs_the_limit() -> Derivation:
    # fit at a fixes w₂ = a/tanh(w₁a); the error at b is ∝ φ(w₁b) − φ(w₁a), φ(u) = tanh(u)/u strictly decreasing
    b = sp.Symbol("b", positive=True)  # a second data magnitude, b ≠ a
    w_1 = sp.Symbol("w_1", positive=True)  # w₁ > 0 without loss: (w₁, w₂) ↦ (−w₁, −w₂) gives the same block
    u, v, r = sp.symbols("u v r", positive=True)

    def phi(z: sp.Expr) -> sp.Expr:
        return sp.tanh(z) / z

    dphi = (2 * u - sp.sinh(2 * u)) / (2 * u**2 * sp.cosh(u) ** 2)
    steps = (
        Substitute(w2 * sp.tanh(w_1 * b) - b, a * b * w_1 / sp.tanh(w_1 * a) * (phi(w_1 * b) - phi(w_1 * a)),
                   "the error at $b$ once $w₂$ fits $a$", subs={w2: a / sp.tanh(w_1 * a)}),
        Equal(sp.Derivative(phi(u), u), dphi, "$φ'(u)$"),
        Inequality(dphi, 0, "$\\sinh 2u > 2u$ for $u > 0$ (the next two steps: an integral of a positive function), "
                   "so $φ' < 0$. CHECKED only: no exact engine signs $\\sinh 2u − 2u$ (SymPy's assumptions cannot, "
                   "and it is outside z3's polynomial fragment)", relation="<"),
        Equal(sp.sinh(v) - v, sp.Integral(2 * sp.sinh(r / 2) ** 2, (r, 0, v)),
              "$\\sinh v − v = \\int_0^v (\\cosh r − 1)\\, dr = \\int_0^v 2\\sinh²(r/2)\\, dr$"),
        Inequality(2 * sp.sinh(r / 2) ** 2, 0, "the integrand is positive for $r > 0$", relation=">"),
    )
    return Derivation(
        id="expressivity.tanh-exact-fit-needs-limit",
        title="A plain tanh block fits $x ↦ x$ on two magnitudes $a ≠ b$ only in the limit $w₁ → 0$",
        claims=("C5", "C11"),
        statement=(
            "For $0 < a, b$ with $a ≠ b$ and $w₁ ≠ 0$, $w₂\\tanh(w₁a) = a$ forces "
            "$w₂\\tanh(w₁b) − b = (ab w₁/\\tanh(w₁a))(φ(w₁b) − φ(w₁a))$ with $φ(u) = \\tanh(u)/u$, and "
            "$φ'(u) = (2u − \\sinh 2u)/(2u²\\cosh²u) < 0$ for $u > 0$; so no finite weights fit both points "
            "($φ → 1$ only as $w₁ → 0$)."
        ),
        steps=steps,
        references=(HE_2016,),
        conclusion=(
            "On data with two distinct magnitudes the identity is reached only in the limit $w₁ → 0$, $w₂ → ∞$. The "
            "sign step $φ' < 0$ is evidence (numeric), not a proof, in this ladder; the argument for it "
            "($\\sinh v − v$ is the integral of a positive function) is proved except for its last deduction."
        ),
        proves=(steps[0], Formula(steps[1].lhs, "<", 0), steps[3], steps[4]),
        remarks=(
            "$φ$ strictly decreasing on $u > 0$ makes $φ(w₁b) ≠ φ(w₁a)$ for $a ≠ b$, and the prefactor "
            "$ab w₁/\\tanh(w₁a)$ is nonzero: these deductions are not steps.",
            "That the integral of a positive function over $(0, v)$ is positive (so $\\sinh v > v$ for $v > 0$) is "
            "not a step, and no engine here decides $\\sinh 2u − 2u > 0$ (nor the series "
            "$\\sum_{k≥1} v^{2k+1}/(2k+1)! > 0$): $φ' < 0$ stays CHECKED.",
        ),
    )


@theorem
def tanh_block_weight_decay_error_floor() -> Derivation:
    # at the w₂-optimum: data loss D = ½(q − c²(m + 2λ)/(m + λ)²) ≥ ½ q λ²/(m + λ)² ≥ ½ q (λ/(1 + λ))²
    m_ = mu / (1 + mu)  # E[t²] < 1 because |tanh| < 1
    c2 = (1 - kappa) * q * m_  # E[xt]², Cauchy–Schwarz
    c = sp.Symbol("c", real=True)  # E[xt]
    m = sp.Symbol("m", nonnegative=True)  # E[t²]
    objective = sp.S.Half * (w2**2 * m - 2 * w2 * c + q) + lam / 2 * (w1**2 + w2**2)
    w2_star = c / (m + lam)
    data_loss = sp.S.Half * (w2**2 * m - 2 * w2 * c + q)
    floor = q * lam**2 / (2 * (m_ + lam) ** 2)
    m_res = sp.Symbol("m_r", nonnegative=True)  # E[tanh(w₁x)²] in the residual block
    residual_objective = sp.S.Half * w2**2 * m_res + lam / 2 * (w1**2 + w2**2)
    at_optimum = sp.S.Half * (q - c2 * (m_ + 2 * lam) / (m_ + lam) ** 2)
    steps = (
        Equal(sp.Derivative(objective, w2), w2 * (m + lam) - c,
              "$∂J/∂w₂$ with $𝔼[(w₂t − x)²] = w₂²𝔼[t²] − 2w₂𝔼[xt] + 𝔼[x²]$"),
        Substitute(w2 * (m + lam) - c, 0, "$w₂^* = 𝔼[xt]/(𝔼[t²] + λ)$ is stationary", subs={w2: w2_star}),
        Substitute(data_loss, sp.S.Half * (q - c**2 * (m + 2 * lam) / (m + lam) ** 2),
                   "data loss at $w₂^*$", subs={w2: w2_star}),
        Inequality(at_optimum, floor, "Cauchy–Schwarz, $𝔼[xt]² ≤ 𝔼[x²]𝔼[t²]$ (slack $κ ≥ 0$), $𝔼[t²] = μ/(1 + μ)$",
                   relation="≥"),
        Inequality(floor, q * lam**2 / (2 * (1 + lam) ** 2), "$𝔼[t²] < 1$ since $|\\tanh| < 1$", relation=">"),
        Substitute(residual_objective, 0, "residual block: $J(0) = 0$", subs={w1: 0, w2: 0}),
        Inequality(residual_objective, lam / 2 * (w1**2 + w2**2),
                   "residual block: $J ≥ (λ/2)\\|w\\|²$, zero only at $w = 0$", relation="≥"),
    )
    return Derivation(
        id="expressivity.tanh-weight-decay-floor",
        title="Under weight decay a plain tanh block keeps a data loss $≥ ½𝔼[x²](λ/(1 + λ))²$; a residual one sits at "
              "$0$",
        claims=("C5", "C11"),
        statement=(
            "For any data distribution with $q = 𝔼[x²]$ and $λ > 0$, "
            "$J(w) = ½𝔼[(w₂ \\tanh(w₁x) − x)²] + (λ/2)(w₁² + w₂²)$: at $w₂ = 𝔼[xt]/(𝔼[t²] + λ)$ (the stationarity "
            "condition in $w₂$, met at every critical point and at the optimum) the data loss is "
            "$≥ ½ q λ²/(𝔼[t²] + λ)² > ½ q (λ/(1 + λ))²$. For the residual block $x + w₂ \\tanh(w₁x)$, "
            "$J ≥ (λ/2)\\|w\\|²$ with $J(0) = 0$: $w = 0$ is the unique optimum, with zero error."
        ),
        steps=steps,
        assumptions=(
            Assumption("Cauchy–Schwarz", "$𝔼[xt]² ≤ 𝔼[x²]𝔼[t²]$, written $𝔼[xt]² = (1 − κ)𝔼[x²]𝔼[t²]$ with $κ ≥ 0$"),
            Assumption("$|\\tanh| < 1$", "$𝔼[t²] < 1$, written $𝔼[t²] = μ/(1 + μ)$ with $μ ≥ 0$"),
            Assumption("$λ > 0$, $𝔼[x²] > 0$", "positive decay and nondegenerate data (declared on the symbols)"),
        ),
        references=(HE_2016,),
        conclusion=(
            "C11 sharpened (and bearing on C10): weight decay pulls a plain tanh block away from the identity by a "
            "data loss of at least $½𝔼[x²](λ/(1 + λ))²$ on any data; the residual block's optimum is exactly the "
            "identity ($w = 0$)."
        ),
        proves=(*steps[:3], Formula(at_optimum, ">", q * lam**2 / (2 * (1 + lam) ** 2)), *steps[5:]),
        remarks=(
            "Steps 4–5 are the data loss of step 3 with $𝔼[xt]² = (1 − κ)𝔼[x²]𝔼[t²]$ and $𝔼[t²] = μ/(1 + μ)$: every "
            "admissible $(𝔼[xt], 𝔼[t²])$ has this form ($κ, μ ≥ 0$), by Cauchy–Schwarz and $|\\tanh| < 1$; that "
            "reparametrisation is not a step.",
        ),
    )


def _two_point_objective(w_1: sp.Expr, w_2: sp.Expr, scale: sp.Expr, decay: sp.Expr) -> sp.Expr:
    # J for x = ±a with probability ½ each, after using tanh(−u) = −tanh(u)
    return sp.S.Half * (w_2 * sp.tanh(w_1 * scale) - scale) ** 2 + decay / 2 * (w_1**2 + w_2**2)


def _stationarity(s_: sp.Expr, scale: sp.Expr, decay: sp.Expr) -> sp.Expr:
    # g(s) = a⁴ tanh(s)(1 − tanh²s) − s(λ + tanh²s)²; its roots are the critical points, s = w₁a
    th = sp.tanh(s_)
    return scale**4 * th * (1 - th**2) - s_ * (decay + th**2) ** 2


@theorem
def tanh_block_two_point_optimum() -> Derivation:
    # x = ±a: eliminate w₂ = aT/(T² + λ), T = tanh(w₁a); the w₁-condition becomes g(s) = 0; residual −aλ/(λ + T²)
    T = sp.tanh(w1 * a)
    J = _two_point_objective(w1, w2, a, lam)
    w2_star = a * T / (T**2 + lam)
    tau2 = mu / (1 + mu)  # tanh² ∈ [0, 1)
    hessian = sp.Matrix(2, 2, lambda r, k: sp.Derivative(J, (w1, w2)[r], (w1, w2)[k]))
    H0 = sp.ImmutableMatrix([[lam, -(a**2)], [-(a**2), lam]])
    ones, alternating = sp.ImmutableMatrix([1, 1]), sp.ImmutableMatrix([1, -1])
    steps = (
        Equal(sp.Rational(1, 4) * ((w2 * T - a) ** 2 + (w2 * sp.tanh(-w1 * a, evaluate=False) + a) ** 2),
              sp.S.Half * (w2 * T - a) ** 2, "mean over $x = ±a$; $\\tanh$ is odd"),
        Equal(sp.Derivative(J, w2), (w2 * T - a) * T + lam * w2, "$∂J/∂w₂$"),
        Equal(sp.Derivative(J, w1), (w2 * T - a) * w2 * a * (1 - T**2) + lam * w1, "$∂J/∂w₁$ ($\\tanh' = 1 − "
                                                                                   "\\tanh²$)"),
        Substitute((w2 * T - a) * T + lam * w2, 0, "$w₂^* = aT/(T² + λ)$ solves $∂J/∂w₂ = 0$", subs={w2: w2_star}),
        Substitute(w2 * T - a, -a * lam / (lam + T**2), "fit error at $w₂^*$", subs={w2: w2_star}),
        Substitute((w2 * T - a) * w2 * a * (1 - T**2) + lam * w1,
                   -lam / (a * (lam + sp.tanh(s) ** 2) ** 2) * _stationarity(s, a, lam),
                   "$∂J/∂w₁$ at $w₂^*$, $w₁ = s/a$: the critical points are the roots of $g$",
                   subs={w1: s / a, w2: a * sp.tanh(s) / (sp.tanh(s) ** 2 + lam)}),
        Substitute(_stationarity(s, a, lam), 0, "$g(0) = 0$: the origin is a critical point", subs={s: 0}),
        Inequality(a * lam / (lam + tau2), a * lam / (1 + lam), "the error's size exceeds $aλ/(1 + λ)$ since $\\tanh² "
                                                                "< 1$",
                   relation=">"),
        Substitute(hessian, H0, "Hessian at the origin", subs={w1: 0, w2: 0}),
        Equal(sp.MatMul(H0, ones, evaluate=False), (lam - a**2) * ones, "eigenvalue $λ − a²$ along $(1, 1)$"),
        Equal(sp.MatMul(H0, alternating, evaluate=False), (lam + a**2) * alternating,
              "eigenvalue $λ + a²$ along $(1, −1)$"),
    )
    return Derivation(
        id="expressivity.tanh-two-point-optimum",
        title="Plain tanh block on $x = ±a$ under weight decay: the optimum solves one scalar equation; error "
              "$≥ aλ/(1 + λ)$",
        claims=("C5", "C11"),
        statement=(
            "Data $x = ±a$ ($a > 0$) with probability $½$ each; $J = ½𝔼[(w₂\\tanh(w₁x) − x)²] + (λ/2)(w₁² + w₂²)$. "
            "Critical points: $w₂ = aT/(T² + λ)$ with $T = \\tanh(s)$, $s = w₁a$, where "
            "$g(s) = a⁴T(1 − T²) − s(λ + T²)² = 0$; there the fit error is $w₂T − a = −aλ/(λ + T²)$, of size above "
            "$aλ/(1 + λ)$. The origin ($g(0) = 0$) has the Hessian $[[λ, −a²], [−a², λ]]$ with eigenvalues $λ ± a²$: "
            "a strict local minimum if $λ > a²$, a saddle if $λ < a²$."
        ),
        steps=steps,
        assumptions=(
            Assumption("$x = ±a$", "two-point data, each with probability $½$, $a > 0$; decay $λ > 0$"),
            Assumption("$|\\tanh| < 1$", "$\\tanh²(s)$ written $μ/(1 + μ)$ with $μ ≥ 0$ in the error bound"),
        ),
        references=(HE_2016,),
        conclusion=(
            "Weight decay leaves the plain tanh block a fit error above $aλ/(1 + λ)$ on each point at every critical "
            "point; for $λ > a²$ the origin (the block switched off, error $a$) is a strict local minimum."
        ),
        proves=steps,
        remarks=(
            "Positive eigenvalues $λ ± a²$ ($λ > a²$) make the origin a strict local minimum and a negative one "
            "($λ < a²$) a saddle (second-derivative test): not a step.",
            "At $λ = a²$ the Hessian is singular; numerically $J − J(0)$ still grows like $r⁴$ there (a strict, "
            "degenerate local minimum), so the earlier wording ‘a strict local minimum if and only if $λ > a²$’ was "
            "wrong at $λ = a²$; this case is not a step.",
            "The bound uses $\\tanh²(s) = μ/(1 + μ)$ for some $μ ≥ 0$ ($|\\tanh| < 1$): a reparametrisation, not a "
            "step.",
        ),
    )


@dataclass(frozen=True)
class TanhOptimum:
    """Critical points of the regularised plain tanh block on x = ±a, parametrised by s = w₁a.

    Conventions: J = ½E[(w₂tanh(w₁x) − x)²] + (λ/2)(w₁² + w₂²), x = ±a with probability ½.
    Numerics find the roots of `stationarity` (e.g. lambdify + brentq) and map them with
    `w1`, `w2`, `error`.  s = 0 is always a root (the origin).
    """

    s: sp.Symbol  # the free parameter s = w₁a
    stationarity: sp.Expr  # g(s); critical points are its roots
    w1: sp.Expr  # w₁ = s/a
    w2: sp.Expr  # w₂ = a tanh(s)/(tanh²s + λ)
    error: sp.Expr  # w₂tanh(s) − a = −aλ/(λ + tanh²s), the fit error at +a
    origin_is_local_minimum: sp.Basic  # λ > a²


def tanh_block_regularised_optimum(scale: sp.Expr, decay: sp.Expr) -> TanhOptimum:
    """Closed-form description of the optimum of the plain tanh block on x = ±scale with decay λ."""
    s_ = sp.Symbol("s", real=True)
    a_, l_ = sp.sympify(scale), sp.sympify(decay)
    th = sp.tanh(s_)
    return TanhOptimum(
        s=s_,
        stationarity=_stationarity(s_, a_, l_),
        w1=s_ / a_,
        w2=a_ * th / (th**2 + l_),
        error=-a_ * l_ / (l_ + th**2),
        origin_is_local_minimum=sp.StrictGreaterThan(l_, a_**2),
    )


def tanh_block_error_floor(second_moment: sp.Expr, decay: sp.Expr) -> sp.Expr:
    """Lower bound ½E[x²](λ/(1 + λ))² on the data loss ½E[(w₂tanh(w₁x) − x)²] at the regularised optimum."""
    q_, l_ = sp.sympify(second_moment), sp.sympify(decay)
    return q_ / 2 * (l_ / (1 + l_)) ** 2
