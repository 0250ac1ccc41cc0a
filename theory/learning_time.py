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
from theory.derivation import Derivation, Equal, Inequality, Substitute

SAXE_2014 = ("Saxe, McClelland & Ganguli, Exact solutions to the nonlinear dynamics of learning in deep linear "
             "neural networks, ICLR 2014 (arXiv:1312.6120)")
ARORA_2018 = ("Arora, Cohen & Hazan, On the Optimization of Deep Networks: Implicit Acceleration by "
              "Overparameterization, ICML 2018 (arXiv:1802.06509)")


# --- theorems -------------------------------------------------------------------------------------------------

s = sp.Symbol("s", positive=True)  # target strength
u = sp.Symbol("u", positive=True)  # end-to-end value u > 0
u0, uf = sp.symbols("u_0 u_f", positive=True)  # start and end of the learning interval
N = sp.Symbol("N", integer=True, positive=True)  # depth (number of weights)
m = sp.Symbol("m", integer=True, nonnegative=True)  # N = m + 1 (any depth) or N = m + 3 (depth ≥ 3)
z, c = sp.symbols("z c", positive=True)  # depth 3: z = u^{1/3}, c = s^{1/3}
w0 = sp.Symbol("w_0", positive=True)  # per-layer initial weight of the plain chain, u₀ = w₀^N
v = sp.Symbol("v", nonnegative=True)  # u = 1 + v ≥ 1 on the residual chain's path (s > 1)
delta = sp.Symbol("delta", positive=True)  # residual target s = 1 + δ, δ > 0
g = sp.Symbol("g", positive=True)  # fraction of the gap left at the end: ρ = 1/(1 + g) ∈ (0, 1)
x = sp.Symbol("x", nonnegative=True)  # s − u = x·u ≥ 0 on the path, so s/u = 1 + x


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
P_EXP = 2 / N - 1  # p = 2/N − 1
POWER_PART = u**P_EXP / (N * s * P_EXP)  # antiderivative of the small-u power u^{p−1}/(Ns) (N ≠ 2)
SMALL_INIT_LEAD = -POWER_PART.subs(u, u0)  # divergent part of t as u₀ → 0⁺, = u₀^{−(N−2)/N}/(s(N − 2)) (N ≥ 3)
SMALL_INIT_LEAD_2 = sp.log(1 / u0) / (2 * s)  # N = 2: t ~ ln(1/u₀)/(2s) (Saxe et al. 2014, Eq. 11)


@theorem
def closed_forms() -> Derivation:
    # dG_N/du = 1/(N u^{2−2/N}(s − u)) for N = 1…4; the general integrand splits into a power and a mild rest
    return Derivation(
        id="learning-time.closed-forms",
        title="Closed-form learning times t(u₀ → u_f) of balanced chains of depth 1–4, and the general integral",
        claims=("C11", "C12"),
        statement=(
            "t_N(u₀ → u_f) = G_N(u_f) − G_N(u₀) with G_1 = −ln(s − u), G_2 = (1/2s) ln(u/(s − u)) (Saxe et al. "
            "Eq. (11)), G_3 = −1/(c³z) + [ln(z² + cz + c²) − 2ln(z − c) − 2√3 atan((2z + c)/(√3c))]/(6c⁴) with "
            "z = u^{1/3}, c = s^{1/3}, G_4 = ½[−1/(s√u) + ln((√s + √u)/(√s − √u))/(2s^{3/2})].  For any N, with "
            "p = 2/N − 1: 1/(N u^{2−2/N}(s − u)) = u^{p−1}/(Ns) + u^p/(Ns(s − u)), the first term integrating to "
            "u^p/(Nsp) (N ≠ 2); the rest is integrable at u = 0 since p > −1."
        ),
        steps=(
            Equal(sp.diff(G1, u), integrand(sp.S.One), "N = 1: dG₁/du"),
            Equal(sp.diff(G2, u), integrand(sp.S(2)), "N = 2: dG₂/du", SAXE_2014 + ", Eq. (11)"),
            Equal(sp.diff(T2, uf), integrand(sp.S(2), uf), "Saxe et al. Eq. (11) (τ = 1) has the N = 2 density",
                  SAXE_2014 + ", Eq. (11)"),
            Substitute(T2, sp.S.Zero, "and vanishes at u_f = u₀", SAXE_2014 + ", Eq. (11)", subs={uf: u0}),
            Equal(integrand(sp.S(3), z**3).subs(s, c**3) * 3 * z**2, 1 / (z**2 * (c**3 - z**3)),
                  "N = 3: u = z³, du = 3z² dz, s = c³"),
            Equal(sp.diff(G3_z, z), 1 / (z**2 * (c**3 - z**3)), "N = 3: dG₃/dz (partial fractions)"),
            Equal(sp.diff(G4, u), integrand(sp.S(4)), "N = 4: dG₄/du"),
            Equal(integrand(N), u ** (P_EXP - 1) / (N * s) + u**P_EXP / (N * s * (s - u)),
                  "any N: split off the small-u power"),
            Equal(sp.diff(POWER_PART, u), u ** (P_EXP - 1) / (N * s),
                  "whose antiderivative is u^p/(Nsp) (p ≠ 0, N ≠ 2)"),
            Inequality(P_EXP + 1, sp.S.Zero, "p + 1 = 2/N > 0: u^p/(Ns(s − u)) is integrable at u = 0",
                       relation=">"),
        ),
        references=(SAXE_2014, ARORA_2018),
        conclusion="`numerics.closed_forms.learning_time` evaluates these G_N (depth ≤ 4) or the split integral.",
    )


@theorem
def small_init_divergence() -> Derivation:
    # u₀ → 0: t ~ ln(1/u₀)/(2s) at N = 2, t ~ u₀^{−(N−2)/N}/(s(N − 2)) for N ≥ 3
    lead = SMALL_INIT_LEAD
    return Derivation(
        id="learning-time.small-init-divergence",
        title="Plain chains from a small init: learning time diverges as ln(1/u₀) at depth 2, as a power beyond",
        claims=("C11",),
        statement=(
            "As u₀ → 0⁺ (u_f ∈ (0, s) fixed): N = 2: t − ln(1/u₀)/(2s) → ln(s u_f/(s − u_f))/(2s), a finite limit, "
            "so t ~ ln(1/u₀)/(2s).  N = 3: u₀^{1/3} t → 1/s; N = 4: u₀^{1/2} t → 1/(2s).  Any N ≥ 3: the split "
            "integral's divergent part is −u₀^p/(Nsp) = u₀^{−(N−2)/N}/(s(N − 2)), the rest converges.  With a "
            "per-layer init w₀ (u₀ = w₀^N) this is w₀^{−(N−2)}/(s(N − 2)): exponential in depth for w₀ < 1.  At "
            "fixed u₀, u_f: N·t_N = ∫ du/(u^{2−2/N}(s − u)) → ∫ du/(u²(s − u)) = [−1/(su) + ln(u/(s − u))/s²] "
            "(pointwise limit of the density, proved below; the interchange is dominated convergence, the densities "
            "being bounded uniformly in N on [u₀, u_f] ⊂ (0, s) — not a SymPy step), so t_N falls like 1/N "
            "(cf. the large-depth learning time of Saxe et al., Eq. (17))."
        ),
        steps=(
            Equal(sp.Limit(T2 - SMALL_INIT_LEAD_2, u0, 0, "+"), sp.log(s * uf / (s - uf)) / (2 * s),
                  "N = 2: logarithmic divergence with a finite remainder", SAXE_2014 + ", Eq. (11)"),
            Equal(sp.Limit(z * G3_z, z, 0, "+"), -1 / c**3,
                  "N = 3: G₃(u₀) ~ −1/(s u₀^{1/3}), so u₀^{1/3} t → 1/s"),
            Equal(sp.Limit(sp.sqrt(u) * G4, u, 0, "+"), -1 / (2 * s),
                  "N = 4: G₄(u₀) ~ −1/(2s√u₀), so u₀^{1/2} t → 1/(2s)"),
            Equal(lead, u0 ** (-(N - 2) / N) / (s * (N - 2)), "any N ≥ 3: the divergent part of the split integral"),
            Inequality(1 - 2 / (m + 3), sp.S.Zero, "N = m + 3 ≥ 3: p < 0, so u₀^p → ∞ as u₀ → 0",
                       relation=">"),
            Equal((w0**N) ** (-(N - 2) / N), w0 ** (-(N - 2)), "per-layer init: u₀ = w₀^N"),
            Equal(sp.Limit(u ** (2 - 2 / N), N, sp.oo), u**2, "deep limit of the density's power", SAXE_2014),
            Equal(sp.diff(-1 / (s * u) + sp.log(u / (s - u)) / s**2, u), 1 / (u**2 * (s - u)),
                  "the deep-limit learning time in closed form", "cf. " + SAXE_2014 + ", Eq. (17)"),
        ),
        references=(SAXE_2014,),
        conclusion=(
            "C11 holds for plain deep linear chains from a small init: the time to learn diverges as u₀ → 0 "
            "(logarithmically at depth 2, as u₀^{−(N−2)/N} beyond), i.e. exponentially in depth at fixed w₀ < 1; "
            "it does not hold for one layer (N = 1: t = ln((s − u₀)/(s − u_f)) stays finite)."
        ),
        bearing={"C11": "qualifies"},
    )


@theorem
def residual_time_near_target() -> Derivation:
    # u from 1 to s − ρδ (s = 1 + δ): 1 ≤ u^{2−2/N} ≤ s² ⇒ ln(1/ρ)/(N s²) ≤ t_N ≤ ln(1/ρ)/N
    return Derivation(
        id="learning-time.residual-near-target",
        title="Residual chain to a nearby target s = 1 + δ: time between ln(1/ρ)/(N s²) and ln(1/ρ)/N",
        claims=("C12",),
        statement=(
            "The residual chain starts at u(0) = 1 (`deep-linear.residual-same-ode`).  To close all but a fraction "
            "ρ ∈ (0, 1) of the gap to s = 1 + δ (δ > 0), i.e. u_f = s − ρδ: on the path 1 ≤ u ≤ s, "
            "1 ≤ u^{2−2/N} ≤ s^{2−2/N} ≤ s², and ∫_1^{u_f} du/(N(s − u)) = ln(1/ρ)/N; by monotonicity of the "
            "integral, ln(1/ρ)/(N s²) ≤ t_N(1 → u_f) ≤ ln(1/ρ)/N.  The time falls like 1/N with depth and tends to "
            "ln(1/ρ)/N as δ → 0, whatever the depth: no plateau."
        ),
        steps=(
            Equal(sp.diff(-sp.log(s - u) / N, u), 1 / (N * (s - u)), "the u^{2−2/N} = 1 comparison density"),
            Equal((-sp.log(delta / (1 + g)) / N) - (-sp.log(delta) / N), sp.log(1 + g) / N,
                  "from u = 1 (s − u = δ) to s − u = ρδ, ρ = 1/(1 + g): ln(1/ρ)/N"),
            Inequality((2 - 2 / (m + 1)) * sp.log(1 + v), sp.S.Zero,
                       "u = 1 + v ≥ 1: ln u^{2−2/N} ≥ 0, so u^{2−2/N} ≥ 1 (upper bound on t)", relation="≥"),
            Inequality((2 - 2 / (m + 1)) * sp.log(1 + x), sp.S.Zero,
                       "u ≤ s (s/u = 1 + x): ln(s^{2−2/N}/u^{2−2/N}) ≥ 0 (lower bound on t)", relation="≥"),
            Inequality(2 / N * sp.log(1 + delta), sp.S.Zero, "s ≥ 1: ln(s²/s^{2−2/N}) = (2/N) ln s ≥ 0",
                       relation="≥"),
            Inequality(sp.log(1 + g) / N * (1 - 1 / (1 + delta) ** 2), sp.S.Zero,
                       "the two bounds are ordered", relation="≥"),
            Substitute(sp.log(1 + g) / (N * (1 + delta) ** 2), sp.log(1 + g) / N,
                       "δ → 0: both bounds meet at ln(1/ρ)/N", subs={delta: 0}),
        ),
        references=(ARORA_2018, SAXE_2014),
        conclusion=(
            "C12 supported for deep linear chains and a target near the identity: from zero branch weights the "
            "time is Θ(ln(1/ρ)/N), shrinking with depth; contrast `learning-time.small-init-divergence`."
        ),
    )
