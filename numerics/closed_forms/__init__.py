r"""Float evaluators of the closed forms proved in `theory/`, and the numeric algorithms built on them.

Three topics: `linear` (one linear block, weight decay), `chains` (deep linear chains) and `identity` (a residual
branch's decay to F = 0, negative modes from the identity, Hardt & Ma's Eq. (2.3)); all re-exported here.

Every formula here is the SymPy expression that `theory/` exports and proves, turned into a float function by
`sympy.lambdify` — never typed again (docs/style.md, rule 5; "export a closed form as an expression, prove it in place,
lambdify it in numerics").  What is written here by hand is numerics only: searches, quadrature, root finding,
overflow handling and the choice of branch.

Sources (conventions in each theory module; all float64):

- `theory.linear_block`: the per-mode rate r = 1 − η(σ + λ) (`MODE_RATE`) and the stability limit 2/(σ_max + λ)
  (`STABILITY_LIMIT`) of GD on ½tr((M − I)Σ(M − I)ᵀ) + (λ/2)‖θ‖²_F (Goh, *Why Momentum Really Works*, Distill 2017);
- `theory.weight_decay`: (1 − ηλ)^k and e^{−λt} (`DECAY_FACTOR`, `FLOW_DECAY_FACTOR`; Loshchilov & Hutter, ICLR 2019,
  Eq. (1) with ∇f = 0) and the ridge shrinkage σ/(σ + λ) of W* = Σ(Σ + λI)⁻¹ (`RIDGE_SHRINKAGE`; Hastie, Tibshirani
  & Friedman, *ESL* 2009, Eq. (3.44)/(3.47));
- `theory.dynamics`: the mode energy c q^k and the crossing x = ln(ε²/c)/ln q (`MODE_ENERGY`, `CROSSING`);
- `theory.learning_time` / `theory.deep_linear`: the antiderivatives G₁…G₄ of the learning-time density
  1/(N u^{2−2/N}(s − u)) (Saxe, McClelland & Ganguli, ICLR 2014, Eq. (11) for N = 2), the split of the general
  integrand (`POWER_PART`), the small-init leading terms, the end-to-end rate du/dt = N u^{2−2/N}(s − u) (`RATE`;
  Arora, Cohen & Hazan, ICML 2018) and Saxe et al.'s two-layer trajectory, Eq. (12).  Time is t = kη.

The theorems write ln(s − u); its derivative is that of ln|s − u|, so the float forms take the logarithm of the
absolute value (`_absolute_logs`), which covers starts on either side of s.
"""

from __future__ import annotations

from numerics.closed_forms.chains import (
    QUAD_RELATIVE_TOLERANCE,
    antiderivative,
    chain_trajectory,
    check_depth,
    check_interval,
    deep_limit_time,
    end_to_end_rate,
    learning_time,
    learning_time_quadrature,
    residual_learning_time,
    small_init_time_leading,
    two_layer_trajectory,
)
from numerics.closed_forms.identity import (
    branch_loss_exponent,
    branch_time,
    branch_trajectory,
    hardt_ma_bound,
    negative_mode_floor,
)
from numerics.closed_forms.linear import (
    decay_factor,
    decay_factors,
    first_true,
    fixed_point,
    flow_decay_factor,
    linear_gd_error_sq,
    linear_gd_iterate,
    linear_gd_steps,
    mode_rate_powers,
    mode_rates,
    ridge_distance,
    ridge_shrinkage,
    single_mode_steps,
    stability_limit,
)

__all__ = [
    "QUAD_RELATIVE_TOLERANCE",
    "antiderivative",
    "branch_loss_exponent",
    "branch_time",
    "branch_trajectory",
    "chain_trajectory",
    "check_depth",
    "check_interval",
    "decay_factor",
    "decay_factors",
    "deep_limit_time",
    "end_to_end_rate",
    "first_true",
    "fixed_point",
    "flow_decay_factor",
    "hardt_ma_bound",
    "learning_time",
    "learning_time_quadrature",
    "linear_gd_error_sq",
    "linear_gd_iterate",
    "linear_gd_steps",
    "mode_rate_powers",
    "mode_rates",
    "negative_mode_floor",
    "residual_learning_time",
    "ridge_distance",
    "ridge_shrinkage",
    "single_mode_steps",
    "small_init_time_leading",
    "stability_limit",
    "two_layer_trajectory",
]
