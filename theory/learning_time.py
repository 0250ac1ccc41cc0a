r"""Learning times of balanced deep linear chains: closed forms, small-init divergence, depth (C11, C12).

The chain, its loss ½(s − u)² and the end-to-end ODE du/dt = N u^{2−2/N}(s − u) are those of
`theory.deep_linear` (proved there).  Time is t = kη (divide by η for steps); Saxe et al.'s times are in
steps with τ = 1/η, so their t/τ is our t.  The learning time from u₀ to u_f is

    t_N(u₀ → u_f) = ∫_{u₀}^{u_f} du / (N u^{2−2/N}(s − u)) = G_N(u_f) − G_N(u₀),

with the antiderivatives G₁…G₄ below (logarithms written without absolute values in the theorems:
d/du ln|x| = 1/x either way, so each derivative identity covers both sides of s; `numerics.closed_forms`
evaluates them with ln|x|).

References:
  Saxe, McClelland & Ganguli, *Exact solutions to the nonlinear dynamics of learning in deep linear neural
    networks*, ICLR 2014: Eq. (11) t = (τ/2s) ln[u_f(s − u₀)/(u₀(s − u_f))] (N = 2); Eq. (15) the depth-N ODE;
    Eq. (17) the learning time as N_l → ∞ (here: N·t_N → ∫ du/(u²(s − u)) at fixed u₀, u_f).
  Arora, Cohen & Hazan, *On the Optimization of Deep Networks*, ICML 2018: the scalar end-to-end ODE, and the
    residual chain w_i = 1 + a_i, a_i(0) = 0, follows it from u(0) = 1.
"""

from __future__ import annotations

import sympy as sp

from theory.core.registry import theorem
from theory.derivation import Derivation, Equal, Formula, Inequality, Substitute
from theory.references import ARORA_2018, SAXE_2014

# --- theorems -------------------------------------------------------------------------------------------------

s = sp.Symbol("s", positive=True)  # target strength
u = sp.Symbol("u", positive=True)  # end-to-end value u > 0
u0, uf = sp.symbols("u_0 u_f", positive=True)  # start and end of the learning interval
N = sp.Symbol("N", integer=True, positive=True)  # depth (number of weights)
m = sp.Symbol("m", integer=True, nonnegative=True)  # N = m + 1 (any depth) or N = m + 3 (depth ≥ 3)
z, c = sp.symbols("z c", positive=True)  # depth 3: z = u^{1/3}, c = s^{1/3}
z0, zf = sp.symbols("z_0 z_f", positive=True)  # depth 3: z₀ = u₀^{1/3}, z_f = u_f^{1/3}
w0 = sp.Symbol("w_0", positive=True)  # per-layer initial weight of the plain chain, u₀ = w₀^N
v = sp.Symbol("v", nonnegative=True)  # u = 1 + v ≥ 1 on the residual chain's path (s > 1)
delta = sp.Symbol("delta", positive=True)  # residual target s = 1 + δ, δ > 0
g = sp.Symbol("g", positive=True)  # fraction of the gap left at the end: ρ = 1/(1 + g) ∈ (0, 1)
x = sp.Symbol("x", nonnegative=True)  # s − u = x·u ≥ 0 on the path, so s/u = 1 + x
d = sp.Symbol("d", positive=True)  # s − u > 0 below the target


def integrand(depth: sp.Expr, at: sp.Expr = u) -> sp.Expr:
    """1/(N u^{2−2/N}(s − u)) = 1/(du/dt): the learning-time density."""
    return 1 / (depth * at ** (2 - 2 / depth) * (s - at))


G1 = -sp.log(s - u)
G2 = sp.log(u / (s - u)) / (2 * s)
G3_z = -1 / (c**3 * z) + (
    sp.log(z**2 + c * z + c**2) - 2 * sp.log(z - c) - 2 * sp.sqrt(3) * sp.atan((2 * z + c) / (sp.sqrt(3) * c))
) / (6 * c**4)
G4 = sp.S.Half * (-1 / (s * sp.sqrt(u)) + sp.log((sp.sqrt(s) + sp.sqrt(u)) / (sp.sqrt(s) - sp.sqrt(u)))
                  / (2 * s ** sp.Rational(3, 2)))
T2 = sp.log(uf * (s - u0) / (u0 * (s - uf))) / (2 * s)  # Saxe et al. Eq. (11), τ = 1
# Eq. (11) is undefined at u₀ = s (ln 0): its derivative identity is checked on the rise from below, s = u₀ + d
T2_RISE = T2.subs(s, u0 + d)
P_EXP = 2 / N - 1  # p = 2/N − 1
POWER_PART = u**P_EXP / (N * s * P_EXP)  # antiderivative of the small-u power u^{p−1}/(Ns) (N ≠ 2)
SMALL_INIT_LEAD = -POWER_PART.subs(u, u0)  # divergent part of t as u₀ → 0⁺, = u₀^{−(N−2)/N}/(s(N − 2)) (N ≥ 3)
SMALL_INIT_LEAD_2 = sp.log(1 / u0) / (2 * s)  # N = 2: t ~ ln(1/u₀)/(2s) (Saxe et al. 2014, Eq. 11)


def _time(antiderivative_expr: sp.Expr, var: sp.Symbol, start: sp.Symbol, end: sp.Symbol) -> sp.Expr:
    """t = G(end) − G(start) for an antiderivative G of the learning-time density in `var`."""
    return antiderivative_expr.subs(var, end) - antiderivative_expr.subs(var, start)


@theorem
def closed_forms() -> Derivation:
    # t_N = G_N(u_f) − G_N(u₀): vanishes at u_f = u₀, d t_N/du_f = 1/(N u_f^{2−2/N}(s − u_f)) for N = 1…4
    t1, t2, t4 = _time(G1, u, u0, uf), _time(G2, u, u0, uf), _time(G4, u, u0, uf)
    t3 = _time(G3_z, z, z0, zf)  # in z = u^{1/3}
    density3_z = 1 / (zf**2 * (c**3 - zf**3))
    m3 = m + 3  # N = m + 3 ≥ 3
    p3 = 2 / m3 - 1
    steps = (
        Equal(sp.Derivative(t1, uf), integrand(sp.S.One, uf), "$N = 1$: $dt₁/du_f = 1/u̇(u_f)$"),
        Substitute(t1.subs(s, u0 + d), sp.S.Zero, "$t₁(u₀) = 0$ for a rise $u₀ < s$ ($s = u₀ + d$; at $u₀ = s$ "
                   "it is undefined: ln 0)", subs={uf: u0}),
        Equal(sp.Derivative(T2_RISE, uf), integrand(sp.S(2), uf).subs(s, u0 + d),
              "$N = 2$: Saxe et al.'s Eq. (11) ($τ = 1$), for a rise $u₀ < s$ ($s = u₀ + d$; at $u₀ = s$ it is "
              "undefined), has $dt/du_f = 1/u̇(u_f)$", SAXE_2014 + ", Eq. (11)"),
        Substitute(T2_RISE, sp.S.Zero, "and vanishes at $u_f = u₀$", SAXE_2014 + ", Eq. (11)", subs={uf: u0}),
        Equal(sp.Derivative(t2, uf), integrand(sp.S(2), uf), "$N = 2$: the same for $G₂(u_f) − G₂(u₀)$",
              SAXE_2014 + ", Eq. (11)"),
        Equal(sp.Derivative(t3, zf), density3_z, "$N = 3$, in $z = u^{1/3}$, $c = s^{1/3}$: $dt₃/dz_f$ (partial "
                                                 "fractions)"),
        Equal(density3_z, sp.Subs(integrand(sp.S(3)), (u, s), (zf**3, c**3)) * sp.Derivative(zf**3, zf),
              "$= 1/u̇(u_f) ⋅ du_f/dz_f$ with $u_f = z_f³$, $s = c³$"),
        Substitute(t3.subs(c, z0 + d), sp.S.Zero, "$t₃ = 0$ at $z_f = z₀$, for $z₀ < c$ ($c = z₀ + d$)",
                   subs={zf: z0}),
        Equal(sp.Derivative(t4, uf), integrand(sp.S(4), uf), "$N = 4$: $dt₄/du_f = 1/u̇(u_f)$"),
        Substitute(t4.subs(s, u0 + d), sp.S.Zero, "$t₄(u₀) = 0$, for $u₀ < s$ ($s = u₀ + d$)", subs={uf: u0}),
        Equal(integrand(N), u ** (P_EXP - 1) / (N * s) + u**P_EXP / (N * s * (s - u)),
              "any $N$: split off the power that dominates at small $u$ ($p = 2/N − 1$)"),
        Equal(sp.Derivative(POWER_PART.subs(N, m3), u), u ** (p3 - 1) / (m3 * s),
              "$N = m + 3 ≥ 3$ ($p ≠ 0$): the power integrates to $u^p/(Nsp)$"),
        Inequality(P_EXP + 1, sp.S.Zero, "$p + 1 = 2/N > 0$: $u^p/(Ns(s − u))$ is integrable at $u = 0$",
                   relation=">"),
    )
    return Derivation(
        id="learning-time.closed-forms",
        title="Closed-form learning times $t(u₀ → u_f)$ of balanced chains of depth 1 to 4, and the general "
              "integral",
        claims=("C11", "C12"),
        statement=(
            "$t_N(u₀ → u_f) = G_N(u_f) − G_N(u₀)$, i.e. it vanishes at $u_f = u₀$ and has "
            "$dt_N/du_f = 1/(N u_f^{2−2/N}(s − u_f)) = 1/u̇(u_f)$, with $G_1 = −\\ln(s − u)$, "
            "$G_2 = \\frac{1}{2s} \\ln\\frac{u}{s − u}$ (Saxe et al.'s Eq. (11): "
            "$t_2 = \\frac{1}{2s} \\ln\\frac{u_f(s − u₀)}{u₀(s − u_f)}$ [@saxe2014exact]), "
            "$G_3 = −\\frac{1}{c³z} + \\frac{1}{6c⁴}\\left[\\ln(z² + cz + c²) − 2\\ln(z − c) "
            "− 2\\sqrt{3} \\arctan\\frac{2z + c}{\\sqrt{3}\\,c}\\right]$ with $z = u^{1/3}$, $c = s^{1/3}$, and "
            "$G_4 = ½\\left[−\\frac{1}{s\\sqrt{u}} + \\frac{1}{2s^{3/2}} "
            "\\ln\\frac{\\sqrt{s} + \\sqrt{u}}{\\sqrt{s} − \\sqrt{u}}\\right]$. For any $N$, with $p = 2/N − 1$: "
            "$\\frac{1}{N u^{2−2/N}(s − u)} = \\frac{u^{p−1}}{Ns} + \\frac{u^p}{Ns(s − u)}$, the first term "
            "integrating to $u^p/(Nsp)$ ($N ≥ 3$); $p + 1 = 2/N > 0$."
        ),
        steps=steps,
        references=(SAXE_2014, ARORA_2018),
        conclusion="These $G_N$ (depth at most 4), or the split integral for any depth, give the learning time "
                   "exactly.",
        proves=(
            *steps[:5],
            Formula(sp.Derivative(t3, zf), "=", steps[6].rhs),
            *steps[7:],
        ),
        remarks=(
            "The time to reach $u_f$ is the function of $u_f$ that vanishes at $u₀$ and has derivative $1/u̇(u_f)$ "
            "($u̇ ≠ 0$ strictly between $u₀$ and $s$, so the trajectory is invertible there); the steps show that "
            "$G_N(u_f) − G_N(u₀)$ is such a function, on either side of $s$. That this determines the time (the "
            "fundamental theorem of calculus, with $N = 3$ read through $u = z³$) is not a checked step.",
            "The rest $u^p/(Ns(s − u))$ is integrable at $u = 0$ because $p > −1$ (the power rule for "
            "$\\int u^p\\, du$); no step checks the integral.",
        ),
    )


@theorem
def small_init_divergence() -> Derivation:
    # u₀ → 0: t ~ ln(1/u₀)/(2s) at N = 2, t ~ u₀^{−(N−2)/N}/(s(N − 2)) for N ≥ 3
    m3 = m + 3  # N = m + 3 ≥ 3
    lead = SMALL_INIT_LEAD.subs(N, m3)  # the divergent part −u₀^p/(Nsp) of the split integral
    lead_power = u0 ** (-(N - 2) / N) / (s * (N - 2))
    remainder2 = sp.log(uf * (s - u0) / (s - uf)) / (2 * s)  # t₂ − ln(1/u₀)/(2s), continuous at u₀ = 0
    deep_g = -1 / (s * u) + sp.log(u / (s - u)) / s**2
    steps = (
        Equal(T2 - SMALL_INIT_LEAD_2, remainder2, "$N = 2$: $t − \\ln(1/u₀)/(2s)$, with $t$ from Saxe et al.'s Eq. "
                                                  "(11)",
              SAXE_2014 + ", Eq. (11)"),
        Equal(sp.Limit(remainder2, u0, 0, "+"), sp.log(s * uf / (s - uf)) / (2 * s),
              "has a finite limit as $u₀ → 0^+$: the divergence is logarithmic", SAXE_2014 + ", Eq. (11)"),
        Equal(sp.Limit(z * G3_z, z, 0, "+"), -1 / c**3,
              "$N = 3$: $G₃(u₀) \\sim −1/(s u₀^{1/3})$, so $u₀^{1/3} t → 1/s$"),
        Equal(sp.Limit(sp.sqrt(u) * G4, u, 0, "+"), -1 / (2 * s),
              "$N = 4$: $G₄(u₀) \\sim −1/(2s\\sqrt{u₀})$, so $u₀^{1/2} t → 1/(2s)$"),
        Equal(lead, u0 ** (-(m3 - 2) / m3) / (s * (m3 - 2)),
              "any $N = m + 3 ≥ 3$: the divergent part $−u₀^p/(Nsp)$ of the split integral"),
        Inequality(1 - 2 / m3, sp.S.Zero, "$N = m + 3 ≥ 3$: $−p > 0$, so $u₀^p → ∞$ as $u₀ → 0$", relation=">"),
        Equal(sp.Subs(lead_power, u0, w0**N), w0 ** (-(N - 2)) / (s * (N - 2)), "per-layer initialisation: $u₀ = "
                                                                                "w₀^N$"),
        Equal(sp.Limit(u ** (2 - 2 / N), N, sp.oo), u**2, "deep limit of the density's power", SAXE_2014),
        Equal(sp.Derivative(deep_g, u), 1 / (u**2 * (s - u)),
              "the deep-limit learning time in closed form", "cf. [" + SAXE_2014 + ", Eq. (17)]"),
    )
    return Derivation(
        id="learning-time.small-init-divergence",
        title="Plain chains from a small initialisation: the learning time diverges as $\\ln(1/u₀)$ at depth 2, "
              "as a power beyond",
        claims=("C11",),
        statement=(
            "As $u₀ → 0^+$ ($u_f ∈ (0, s)$ fixed): for $N = 2$, "
            "$t − \\ln(1/u₀)/(2s) = \\ln(u_f(s − u₀)/(s − u_f))/(2s) → \\ln(s u_f/(s − u_f))/(2s)$, a finite limit, "
            "so $t \\sim \\ln(1/u₀)/(2s)$; for $N = 3$, $u₀^{1/3} G₃(u₀) → −1/s$; for $N = 4$, "
            "$u₀^{1/2} G₄(u₀) → −1/(2s)$. For any $N ≥ 3$ the divergent part of the split integral is "
            "$−u₀^p/(Nsp) = u₀^{−(N−2)/N}/(s(N − 2))$, with $−p > 0$. With a per-layer initialisation $w₀$ "
            "($u₀ = w₀^N$) this is $w₀^{−(N−2)}/(s(N − 2))$: exponential in depth for $w₀ < 1$. The density's power "
            "$u^{2−2/N} → u²$ as $N → ∞$, and $\\int \\frac{du}{u²(s − u)} = −\\frac{1}{su} + \\frac{1}{s²}"
            "\\ln\\frac{u}{s − u}$ (compare the learning time at large depth of Saxe et al. [@saxe2014exact, "
            "Eq. (17)])."
        ),
        steps=steps,
        references=(SAXE_2014,),
        conclusion=(
            "C11 holds for plain deep linear chains from a small initialisation: the time to learn diverges as "
            "$u₀ → 0$ (logarithmically at depth 2, as $u₀^{−(N−2)/N}$ beyond), i.e. exponentially in depth at fixed "
            "$w₀ < 1$; it does not hold for one layer ($N = 1$: $t = \\ln((s − u₀)/(s − u_f))$ stays finite)."
        ),
        bearing={"C11": "qualifies"},
        proves=steps,
        remarks=(
            "$t = G_N(u_f) − G_N(u₀)$ (derivation learning-time.closed-forms), so with $u_f$ fixed the limits of "
            "$u₀^{1/3}G₃(u₀)$ and $u₀^{1/2}G₄(u₀)$ give $u₀^{1/3}t → 1/s$ and $u₀^{1/2}t → 1/(2s)$; the limit for "
            "$N = 2$ is of $t − \\ln(1/u₀)/(2s)$ through the identity of the first step. These compositions are not "
            "checked steps.",
            "For $N ≥ 3$ the rest of the split integral, $\\int u^p/(Ns(s − u))\\, du$, converges as $u₀ → 0$ "
            "($p > −1$), so $t = u₀^{−(N−2)/N}/(s(N − 2)) + O(1)$; the convergence is not a checked step.",
            "$N t_N = \\int \\frac{du}{u^{2−2/N}(s − u)} → \\int \\frac{du}{u²(s − u)}$ at fixed $u₀$, $u_f$: the "
            "pointwise limit of the density is checked; the interchange of limit and integral (dominated "
            "convergence, the densities being bounded uniformly in $N$ on $[u₀, u_f] ⊂ (0, s)$) is not. So $t_N$ "
            "falls like $1/N$.",
        ),
    )


@theorem
def residual_time_near_target() -> Derivation:
    # u from 1 to s − ρδ (s = 1 + δ): 1 ≤ u^{2−2/N} ≤ s² ⇒ ln(1/ρ)/(N s²) ≤ t_N ≤ ln(1/ρ)/N
    s_res = 1 + delta  # the target s = 1 + δ
    u_end = 1 + delta * g / (1 + g)  # u_f = s − ρδ with ρ = 1/(1 + g)
    g_up = -sp.log(s - u) / N  # antiderivative of the comparison density 1/(N(s − u)) (u^{2−2/N} replaced by 1)
    g_low = -sp.log(s - u) / (N * s**2)  # … of 1/(N s²(s − u)) (u^{2−2/N} replaced by s²)
    upper = sp.log(1 + g) / N
    lower = sp.log(1 + g) / (N * (1 + delta) ** 2)

    def time(antiderivative_expr: sp.Expr) -> sp.Expr:
        return (sp.Subs(antiderivative_expr, (u, s), (u_end, s_res))
                - sp.Subs(antiderivative_expr, (u, s), (sp.S.One, s_res)))

    steps = (
        Inequality(sp.Subs(1 / integrand(N), s, u + d), sp.S.Zero,
                   "$u̇ = N u^{2−2/N}(s − u) > 0$ below $s$: $u$ rises from 1 toward $s$, the path is $1 ≤ u < s$",
                   relation=">"),
        Equal(sp.Derivative(g_up, u), 1 / (N * (s - u)), "the comparison density $1/(N(s − u))$"),
        Equal(time(g_up), upper, "its time from $u = 1$ ($s − u = δ$) to $s − u = ρδ$, $ρ = 1/(1 + g)$: $\\ln(1/ρ)/N$"),
        Equal(sp.Derivative(g_low, u), 1 / (N * s**2 * (s - u)), "the comparison density $1/(N s²(s − u))$"),
        Equal(time(g_low), lower, "its time: $\\ln(1/ρ)/(N s²)$"),
        Inequality((2 - 2 / (m + 1)) * sp.log(1 + v), sp.S.Zero,
                   "$u = 1 + v ≥ 1$: $\\ln u^{2−2/N} ≥ 0$, so $u^{2−2/N} ≥ 1$: density $≤ 1/(N(s − u))$", relation="≥"),
        Inequality((2 - 2 / (m + 1)) * sp.log(1 + x), sp.S.Zero,
                   "$u ≤ s$ ($s/u = 1 + x$): $\\ln(s^{2−2/N}/u^{2−2/N}) ≥ 0$, so $u^{2−2/N} ≤ "
                   "s^{2−2/N}$", relation="≥"),
        Inequality(2 / N * sp.log(1 + delta), sp.S.Zero, "$s ≥ 1$: $\\ln(s²/s^{2−2/N}) = (2/N) \\ln s ≥ 0$, "
                   "so $s^{2−2/N} ≤ s²$: density $≥ 1/(N s²(s − u))$", relation="≥"),
        Inequality(lower, upper, "the two bounds are ordered", relation="≤"),
        Equal(sp.Limit(lower, delta, 0, "+"), upper, "$δ → 0^+$: both bounds meet at $\\ln(1/ρ)/N$"),
    )
    return Derivation(
        id="learning-time.residual-near-target",
        title="Residual chain to a nearby target $s = 1 + δ$: the time lies between $\\ln(1/ρ)/(N s²)$ and "
              "$\\ln(1/ρ)/N$",
        claims=("C12",),
        statement=(
            "The residual chain starts at $u(0) = 1$ (derivation deep-linear.residual-same-ode). To close all but a "
            "fraction $ρ ∈ (0, 1)$ of the gap to $s = 1 + δ$ ($δ > 0$), i.e. $u_f = s − ρδ$: $u$ rises from 1 toward "
            "$s$, so on the path $1 ≤ u ≤ s$, $1 ≤ u^{2−2/N} ≤ s^{2−2/N} ≤ s²$; the comparison densities "
            "$1/(N(s − u))$ and $1/(N s²(s − u))$ take the times $\\ln(1/ρ)/N$ and $\\ln(1/ρ)/(N s²)$ from 1 to $u_f$, "
            "so $\\ln(1/ρ)/(N s²) ≤ t_N(1 → u_f) ≤ \\ln(1/ρ)/N$. The time falls like $1/N$ with depth and tends to "
            "$\\ln(1/ρ)/N$ as $δ → 0$, whatever the depth: no plateau."
        ),
        steps=steps,
        references=(ARORA_2018, SAXE_2014),
        conclusion=(
            "C12 is supported for deep linear chains and a target near the identity: from zero branch weights the "
            "time is of order $\\ln(1/ρ)/N$, shrinking with depth; contrast derivation "
            "learning-time.small-init-divergence."
        ),
        proves=(
            steps[0], steps[1], steps[2], steps[3], steps[4], steps[5], steps[6], steps[7], steps[8], steps[9],
        ),
        remarks=(
            "The bound on $t_N$ itself follows by integrating the density bounds from 1 to $u_f$ (monotonicity of the "
            "integral, with the time of a density given by its antiderivative, as in derivation "
            "learning-time.closed-forms); that integration is not a checked step.",
        ),
    )
