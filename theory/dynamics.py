r"""Gradient descent on one linear block fitting the identity: exact iterates, rates and step counts (C11, C12).

Conventions (CONTRIBUTING.md), stated once and used by every function and theorem here:

- **Loss.** Identity task with input covariance Σ = XXᵀ/N ≻ 0 (the *mean* over samples, with a ½):
  L(M) = ½ tr((M − I) Σ (M − I)ᵀ) for the block's end-to-end map M.
- **Blocks.** Plain H = Wx: M = W, trainable θ = W.  Residual H = x + Ax: M = I + A, trainable θ = A
  (the branch; the shortcut is not trained).
- **Weight decay.** L2 in the loss, + (λ/2)‖θ‖²_F on the trainable weights, λ ≥ 0.
- **Time.** Gradient descent counts steps k = 0, 1, 2, … with step size η: θ_{k+1} = θ_k − η ∇L(θ_k).
- **Convergence.** ‖M_k − M*‖_F < ε (strict); a step count is the smallest such k ≥ 0.

Results (derived and proved in `theory.linear_block` and, for the step count, below; cited):

- The gradient is (M − I)Σ + λW (plain) and AΣ + λA (residual); the error E = M − M* obeys
  E_{k+1} = E_k (I − η(Σ + λI)) in *both* parameterisations, with M* = Σ(Σ + λI)⁻¹ (plain; the ridge
  solution, Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed. 2009, §3.4.1,
  Eq. 3.47) or M* = I (residual, decay on the branch).
- With Σ = Q diag(σ_i) Qᵀ, E_k Q = E_0 Q diag(r_i^k) with r_i = 1 − η(σ_i + λ), so
  ‖E_k‖²_F = Σ_i r_i^{2k} c_i,  c_i = ‖E_0 q_i‖²  (GD on a quadratic multiplies each eigen-component of the
  error by (1 − ηλ_i) per step: Goh, *Why Momentum Really Works*, Distill 2017; here the Hessian
  eigenvalues are λ_i = σ_i + λ).
- GD converges from every start iff 0 < η < 2/(σ_max + λ) (Goh 2017: 0 < ηλ_i < 2 for all i).
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Formula, Inequality, Substitute
from theory.references import GOH_2017

c, eps, p = sp.symbols("c epsilon p", positive=True)  # c = ‖E_0 q‖² of one mode, ε, and q = r² = 1/(1 + p)
v_ = sp.Symbol("v", nonnegative=True)  # q = r² = 1/(1 + v) ∈ (0, 1]: a contracting or stuck mode
kappa = sp.Symbol("k", real=True)  # a step count, taken real for the threshold argument
theta = sp.Symbol("theta", positive=True)  # k − x > 0
theta0 = sp.Symbol("theta", nonnegative=True)  # x − k ≥ 0
k_int = sp.Symbol("k", integer=True, nonnegative=True)  # step index
q_any = sp.Symbol("q", nonnegative=True)  # q = r² ≥ 0 of a mode, any size (divergent modes too)
r_mode = sp.Symbol("r", real=True)  # per-mode factor r = 1 − η(σ + λ)
q_rate = sp.Symbol("q", positive=True)  # q = r² ∈ (0, 1) of a contracting mode

# --- closed forms, exported as expressions (numerics/closed_forms.py lambdifies them; never retyped) ------------
MODE_ENERGY = c * q_any**k_int  # c q^k: the error energy of one mode after k steps (q = r², Goh 2017)
CROSSING = sp.log(eps**2 / c) / sp.log(q_rate)  # x with c q^x = ε²; the least k with c q^k < ε² is ⌊x⌋ + 1


@theorem
def exact_step_count() -> Derivation:
    # c q^k < ε²  ⟺  k > x = ln(ε²/c)/ln q  (0 < q < 1)  ⇒  k* = ⌊x⌋ + 1; Σ_i c_i q_i^k is convex in k
    q_mode = 1 / (1 + p)
    x = CROSSING.subs(q_rate, q_mode)
    gap = sp.log(eps**2) - sp.log(c * q_mode**kappa)  # ln ε² − ln(c q^k): > 0 iff c q^k < ε²
    q_mono = 1 / (1 + v_)
    steps = (
        Equal(sp.Subs(c * q_mode**kappa, kappa, x), eps**2,
              "at $k = x$ the mode's error energy is exactly $ε²$: at an integer $x$, Goh's $\\lceil x \\rceil = x$ "
              "leaves the error at $ε²$, not below it"),
        Equal(gap, (kappa - x) * sp.log(1 + p), "$\\ln ε² − \\ln(c q^k)$ is linear in $k$ with slope $\\ln(1/q) = "
                                                "\\ln(1 + p)$"),
        Equal(sp.Subs(gap, kappa, x + theta), theta * sp.log(1 + p), "at $k = x + θ$, $θ > 0$"),
        Inequality(theta * sp.log(1 + p), sp.S.Zero, "$> 0$: $c q^k < ε²$ (strictly below) for every $k > x$",
                   relation=">"),
        Equal(sp.Subs(gap, kappa, x - theta0), -theta0 * sp.log(1 + p), "at $k = x − θ$, $θ ≥ 0$"),
        Inequality(-theta0 * sp.log(1 + p), sp.S.Zero, "$≤ 0$: $c q^k ≥ ε²$ (not yet converged) for every $k ≤ x$",
                   relation="≤"),
        Equal(sp.log(eps / sp.sqrt(c)) / sp.log(sp.sqrt(q_mode)), x,
              "Goh's ratio $\\ln(ε/\\|e_0\\|)/\\ln|r|$ (with $\\|e_0\\| = \\sqrt{c}$, $|r| = \\sqrt{q}$) is "
              "the same $x$", GOH_2017),
        Equal(c * q_mono**k_int - c * q_mono ** (k_int + 1), c * q_mono**k_int * (1 - q_mono),
              "one term of $f(k) − f(k + 1)$, for a mode with $0 < q = 1/(1 + v) ≤ 1$"),
        Inequality(c * q_mono**k_int * (1 - q_mono), sp.S.Zero,
                   "$≥ 0$: each contracting or stuck term does not grow", relation="≥"),
        Equal(MODE_ENERGY - 2 * MODE_ENERGY.subs(k_int, k_int + 1) + MODE_ENERGY.subs(k_int, k_int + 2),
              MODE_ENERGY * (1 - q_any) ** 2, "second difference of one geometric term"),
        Inequality(c * q_any**k_int * (1 - q_any) ** 2, sp.S.Zero, "$≥ 0$ for every $q ≥ 0$: $f$ is convex in $k$",
                   relation="≥"),
        Substitute(r_mode**2, sp.S.One, "a mode with $η(σ + λ) = 2$ has $r = −1$: its energy never decays",
                   subs={r_mode: -1}),
    )
    return Derivation(
        id="dynamics.exact-step-count",
        title="Exact number of gradient-descent steps to bring $\\|W_k − W^*\\|_F$ below $ε$, per mode and for "
              "the sum of modes",
        claims=("C11", "C12"),
        statement=(
            "One mode with error energy $c = \\|E_0 q\\|² ≥ ε²$ and $q = r² = 1/(1 + p) ∈ (0, 1)$: $c q^x = ε²$ at "
            "$x = \\ln(ε²/c)/\\ln q$, $\\ln ε² − \\ln(c q^k) = (k − x) \\ln(1 + p)$, so $c q^k < ε²$ for every "
            "$k > x$ and $c q^k ≥ ε²$ for every $k ≤ x$; $x$ is Goh's ratio $\\ln(ε/\\|e_0\\|)/\\ln|r|$ "
            "[@goh2017momentum]. Per term of $f(k) = \\sum_i c_i q_i^k$: $c q^k − c q^{k+1} = c q^k (1 − q) ≥ 0$ "
            "when $0 < q ≤ 1$, and the second difference $c q^k (1 − q)² ≥ 0$ for any $q ≥ 0$."
        ),
        steps=steps,
        references=(GOH_2017,),
        conclusion=(
            "The least number of steps is exact, not a bound: bisection finds it when every mode contracts, the "
            "convex turn when one diverges, and there is none when the energy of a stuck or divergent mode stays "
            "at least $ε²$."
        ),
        proves=(
            steps[0],
            steps[1],
            Formula(sp.Subs(gap, kappa, x + theta), ">", sp.S.Zero),
            Formula(sp.Subs(gap, kappa, x - theta0), "≤", sp.S.Zero),
            steps[6],
            Formula(c * q_mono**k_int - c * q_mono ** (k_int + 1), "≥", sp.S.Zero),
            Formula(c * q_any**k_int - 2 * c * q_any ** (k_int + 1) + c * q_any ** (k_int + 2), "≥", sp.S.Zero),
            steps[11],
        ),
        remarks=(
            "The least integer $k > x$ is $\\lfloor x \\rfloor + 1$ (the definition of the floor); it differs from "
            "Goh's $\\lceil x \\rceil$ exactly when $x$ is an integer, where the error is exactly $ε²$ (the first "
            "formula). No step checks the floor or the ceiling.",
            "Summing the per-term formulas over the modes gives $f(k) − f(k + 1) ≥ 0$ when every $q_i ≤ 1$ (a mode "
            "with $q = 0$ contributes nothing after $k = 0$) and a nonnegative second difference of $f$ for any "
            "$q_i ≥ 0$.",
        ),
    )
