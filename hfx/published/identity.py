"""Rows of the published-vs-measured table about identity maps: Hardt & Ma 2017, Bartlett et al. 2018, Kawaguchi
2016, He et al. 2016 and 2016b, ReZero / Fixup / SkipInit, Goyal et al. 2017.

Rows that rest on a theorem say its status (PROVED means every step exact; the table never calls a numeric check
a proof).  Rows of the degradation study (He et al.'s Fig. 1/6, Fig. 7, Table 6; He et al. 2016b Table 1; the
10,000-layer depths of Fixup and ReZero) have group "degradation": Fig. 1/6 is read from the degradation study's
evidence in this run (`hfx.evidence.degradation`), the others say "not measured in this run" until that study
measures them (its accessor then replaces them: `hfx.published.pattern_row`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hfx.evidence.dynamics import percent_span
from hfx.published import TIER_WORDS, Agreement, Row, absent, proved_text, said, theorem_status
from numerics.experiments import CheckStatus
from theory.core.derivation import Status, TheoremRecord

if TYPE_CHECKING:
    from hfx.evidence import Measurements

HARDT_MA = "Hardt & Ma, ICLR 2017"
HE = "He, Zhang, Ren & Sun, CVPR 2016"
HE_B = "He, Zhang, Ren & Sun, ECCV 2016"
THEOREM = TIER_WORDS["theorem"]
REZERO = "Bachlechner et al. (ReZero), 2020"
ZERO_INIT = "Fixup (Zhang et al., ICLR 2019); SkipInit (De & Smith, NeurIPS 2020); Goyal et al. 2017"
NOT_MEASURED = "not measured in this run"


def _agrees(ok: bool) -> Agreement:
    return Agreement.AGREES if ok else Agreement.DISAGREES


def _by_theorem(records: Sequence[TheoremRecord], theorem_id: str) -> Agreement:
    """A row resting on one theorem: agrees if PROVED, not measured if it was not verified in this run."""
    status = theorem_status(records, theorem_id)
    return Agreement.NOT_MEASURED if status is None else _agrees(status is Status.PROVED)


def _theorem_why(records: Sequence[TheoremRecord], theorem_id: str) -> str:
    status = theorem_status(records, theorem_id)
    return ("proved exactly" if status is Status.PROVED else "not verified in this run" if status is None
            else f"the derivation is {status.value}, not proved")


def _proved(records: Sequence[TheoremRecord], theorem_id: str) -> bool:
    return theorem_status(records, theorem_id) is Status.PROVED


def printed_counterexample() -> tuple[str, str, str]:
    """‖∇f‖², the printed Eq. (2.3) bound and the corrected one at σ = 1, ℓ = 2, τ = ½, a₁ = a₂ = −½, exactly
    (SymPy, from `theory.hardt_ma`'s objective and bounds: Hardt & Ma's f, without ½)."""
    import sympy as sp

    from theory import hardt_ma as hm

    point = {hm.a1: -sp.S.Half, hm.a2: -sp.S.Half, hm.sigma: 1}
    f = hm.residual_objective(2)
    grad_sq = sum(sp.diff(f, a) ** 2 for a in (hm.a1, hm.a2)).subs(point)
    gap = f.subs(point)
    printed = hm.gradient_bound(2, sp.S.Half, 1, gap, printed=True)
    corrected = hm.gradient_bound(2, sp.S.Half, 1, gap)
    return str(sp.nsimplify(grad_sq)), str(sp.nsimplify(printed)), str(sp.nsimplify(corrected))


def _instance(records: Sequence[TheoremRecord], theorem_id: str) -> str:
    return next((f" ({r.instance})" for r in records if r.id == theorem_id and r.instance), "")


def hardt_ma_rows(m: Measurements, records: Sequence[TheoremRecord], tier: str) -> list[Row]:
    theorem = "hardt-ma.gradient-lower-bound-small"
    bound = m.hardt_ma
    check = bound.checks[0] if bound is not None and bound.checks else None
    numbers = "; no numeric check in this run (hardt-ma-bound not measured)"
    held: bool | None = None
    if check is not None and bound is not None:
        d = check.details

        def num(key: str, spec: str) -> str:  # a ratio is None where no sample was judged (τ = 0: 0/0)
            value = d.get(key)
            return "—" if not isinstance(value, (int, float)) else format(value, spec)

        c = bound.config
        numbers = (f"; float64 check (not a proof) at n = {c.width}, ℓ = {', '.join(map(str, c.depths))}, τ = "
                   f"{', '.join(f'{t:g}' for t in c.taus)}: ‖∇f‖²/corrected bound ≥ "
                   f"{num('min_corrected_ratio', '.4f')} on all {check.examined} samples; the printed form fails on "
                   f"{d.get('printed_form_violations')} "
                   f"(smallest ratio {num('min_printed_ratio', '.2g')})")
        held = check.status is CheckStatus.PASSED
    grad_sq, printed, corrected = printed_counterexample()
    checked = TIER_WORDS.get(tier, tier) if held is not None else "not run"
    verified = theorem_status(records, theorem) is not None
    ok = _proved(records, theorem) and held is not False
    agreement = Agreement.CORRECTED if ok else Agreement.DISAGREES if verified or held is False else \
        Agreement.NOT_MEASURED
    return [
        Row(HARDT_MA, "Eq. (2.3)", "gradient lower bound near the identity, max‖A_i‖ ≤ τ < 1",
            "printed: ‖∇f(A)‖²_F ≥ 4ℓ(1 − τ)^{ℓ−1}σ_min(Σ)²(f(A) − C_opt) (f without ½; ours is f/2)",
            f"printed form false: at σ = 1, ℓ = 2, τ = ½, a_i = −½, ‖∇f‖² = {grad_sq} < {printed} (the printed "
            f"bound; the corrected one is {corrected}); corrected form 4ℓ(1 − τ)^{{2(ℓ−1)}}σ_min(Σ)(f − C_opt), "
            f"tight at A_i = −τI: {proved_text(records, theorem)}{_instance(records, theorem)}" + numbers,
            agreement,
            "printed form false; corrected form proved" if ok else
            "the printed form is false; the corrected form was not verified in this run" if not verified else
            "the corrected form was not proved in this run, or its numeric check failed",
            f"{theorem}, hardt-ma-bound", f"{THEOREM}; check {checked}"),
        Row(HARDT_MA, "Thm 2.2", "critical points in the ball max‖A_i‖ ≤ τ < 1",
            "every critical point there is a global minimum",
            f"follows from the corrected Eq. (2.3) (∇f = 0 forces f = C_opt; {proved_text(records, theorem)}); "
            + ("the corrected bound held on every random instance" if held else
               "no numeric check in this run" if held is None else "the corrected bound failed a random instance"),
            agreement if agreement is not Agreement.CORRECTED else Agreement.AGREES,
            said(ok, "the theorem survives the correction of Eq. (2.3): only the constant changes",
                 "the corrected Eq. (2.3) was not established in this run"),
            f"{theorem}, hardt-ma-bound", f"{THEOREM}; check {checked}"),
        Row(HARDT_MA, "§2 (standard parameterisation)", "A_i = 0 in the plain chain ŷ = A_ℓ⋯A_1x",
            "\"setting A_i = 0 will always lead to a bad critical point\"",
            f"∇f(0) = 0 with f(0) = tr Σ > 0 = f(I, …, I); a strict saddle at ℓ = 2 "
            f"({proved_text(records, 'hardt-ma.plain-origin-not-minimum')})",
            _by_theorem(records, "hardt-ma.plain-origin-not-minimum"),
            said(_proved(records, "hardt-ma.plain-origin-not-minimum"), "the plain chain's origin is a critical point "
                 "that is not a minimum", _theorem_why(records, "hardt-ma.plain-origin-not-minimum")),
            "hardt-ma.plain-origin-not-minimum",
            THEOREM),
        Row("Kawaguchi, NeurIPS 2016", "main result",
            "saddles of deep linear nets (three or more layers)",
            "saddle points whose Hessian has no negative eigenvalue exist for depth > 3 layers (≥ 3 weight matrices)",
            "at ℓ = 3 (size 1) the Hessian at 0 is the zero matrix while f(t, t, t) − f(0) = σt³(t³ − 2) < 0 at t = 1 "
            f"({proved_text(records, 'hardt-ma.plain-origin-not-minimum')})",
            _by_theorem(records, "hardt-ma.plain-origin-not-minimum"),
            said(_proved(records, "hardt-ma.plain-origin-not-minimum"), "an instance of such a saddle, exactly",
                 _theorem_why(records, "hardt-ma.plain-origin-not-minimum")),
            "hardt-ma.plain-origin-not-minimum", THEOREM),
    ]


def bartlett_row(m: Measurements, records: Sequence[TheoremRecord], tier: str) -> Row:
    r = m.identity_init
    theorem = "identity-init.negative-mode-floor"
    if r is None:
        return Row("Bartlett, Helmbold & Long, ICML 2018", "abstract (negative result)",
                   "symmetric target with a negative eigenvalue",
                   "never learnt from the identity initialisation", NOT_MEASURED, Agreement.NOT_MEASURED,
                   "identity-init did not run", theorem, TIER_WORDS.get(tier, tier))
    judged = [x for x in r.records if x.floor_applies]
    floor = judged[0].predicted_floor if judged else None
    escaped = [x for x in judged if x.escape_step is not None]
    stuck = sorted({x.depth for x in judged if x.escape_step is None})
    shortest = min((x.plateau_steps or 0 for x in judged), default=0)
    learnt_pd = [x for x in r.records if x.predicted_floor == 0 and x.outcome.steps_to_converge is not None]
    measured = (f"loss floor ½λ² = {floor:.4g} (λ = −{r.config.eig_low:g}): every depth-≥ 2 run sits on it (within 1%) "
                f"for ≥ {shortest} GD steps; depth {', '.join(map(str, stuck)) or '—'} never leaves it in "
                f"{r.config.budget.max_steps} steps" if floor is not None else "no run with a floor")
    if escaped:
        depths = ", ".join(str(d) for d in sorted({x.depth for x in escaped}))
        measured += (f"; depth {depths} escapes below it after "
                     f"{min(x.escape_step or 0 for x in escaped)} steps (float64 rounding breaks the exact symmetry)")
    shallow = [x for x in r.records if x.depth == 1]
    shallow_learnt = sum(x.outcome.steps_to_converge is not None for x in shallow)
    measured += (f"; positive-definite targets learnt ({len(learnt_pd)} runs); depth 1 learns "
                 f"{shallow_learnt} of its {len(shallow)} runs, both targets")
    ok = all(c.status is CheckStatus.PASSED for c in r.checks) and _proved(records, theorem)
    return Row("Bartlett, Helmbold & Long, ICML 2018", "abstract (negative result)",
               "symmetric target with a negative eigenvalue, residual linear net from the identity",
               "never learnt (the product along that eigen-direction cannot cross 0); loss ≥ ½Σ_{λ<0}λ²",
               measured, Agreement.PARTLY if escaped else _agrees(ok),
               ("the floor is reproduced as a long plateau; 'never' holds in exact arithmetic only: the floor is a "
                "saddle, and rounding lets depth-2 nets escape it") if escaped else
               said(ok, "the loss stays on the predicted floor for the whole budget",
                    "a check of the floor failed, or the floor theorem was not proved in this run"),
               f"{theorem}, identity-init",
               TIER_WORDS.get(tier, tier))


def he_rows(m: Measurements, records: Sequence[TheoremRecord], tier: str) -> list[Row]:
    rows: list[Row] = []
    bn = m.branch_norms
    if bn is not None:
        free = [s for s in bn.summaries if s.group.weight_decay == 0]
        decay = next((c for c in bn.checks if c.name == "decay-after-fit"), None)
        decayed = [(x.decay_factor, x.predicted_decay_factor) for x in bn.records
                   if x.predicted_decay_factor is not None and x.decay_factor]
        # the measured factors agree with 1 − ηλ far beyond six digits: print the closed form and the largest
        # deviation, not a range whose ends round to the same number
        with_decay = (f"with L2 decay both shrink per step by the closed-form factor 1 − ηλ = "
                      f"{', '.join(f'{q:g}' for q in sorted({q for _, q in decayed}))} (measured to within "
                      f"{max(abs(f - q) for f, q in decayed):.1e}; check {decay.status.value})"
                      if decayed and decay is not None else "no run with decay")
        w1 = [s.w1_ratio_median for s in free if s.w1_ratio_median is not None]
        w2 = [s.w2_ratio_median for s in free if s.w2_ratio_median is not None]
        zero = bool(w1 and w2) and max(w1 + w2) < 0.1
        rows.append(Row(HE, "§3.1", "how solvers reach an identity mapping with a residual block",
                        "\"the solvers may simply drive the weights of the multiple nonlinear layers toward zero\"",
                        f"GD (no decay) fits F ≈ 0 with ‖W₁‖, ‖W₂‖ at {percent_span(w1 + w2)} "
                        f"of their initial norms; {with_decay}"
                        if w1 and w2 else f"no run without decay fitted F ≈ 0 within the budget; {with_decay}",
                        Agreement.AGREES if zero else Agreement.PARTLY if w1 and w2 else Agreement.INCONCLUSIVE,
                        "GD drives the weights to zero" if zero else
                        "zero weights are one solution, not the one plain GD finds: it stops elsewhere in the zero "
                        "set (W₂ = 0 alone suffices, `blocks.two-layer`); only weight decay drives all weights to zero"
                        if w1 and w2 else "where plain GD stops is not measured when no run without decay fitted; a "
                        "longer budget (--set max_steps) decides it", "branch-norms, blocks.two-layer",
                        TIER_WORDS.get(tier, tier)))
    else:
        rows.append(absent(HE, "§3.1", "how solvers reach an identity mapping with a residual block",
                           "the solvers drive the nonlinear layers' weights toward zero", "branch-norms", tier))
    rows += [
        Row(HE_B, "Eq. (4)–(5)", "gradient through identity shortcuts",
            "∂E/∂x_l = ∂E/∂x_L(1 + ∂/∂x_l Σ F): the gradient does not vanish however small the weights",
            "the identity term of the residual Jacobian, proved "
            f"({proved_text(records, 'jacobian.residual-expansion')})",
            _by_theorem(records, "jacobian.residual-expansion"), _theorem_why(records, "jacobian.residual-expansion"),
            "jacobian.residual-expansion",
            THEOREM),
        Row(HE_B, "§3.1", "scaled shortcut h(x) = λx", "the direct term is multiplied by ∏λ_i: it explodes "
            "or vanishes exponentially with depth unless λ = 1",
            f"only λ = 1 keeps the direct path's gain at 1 ({proved_text(records, 'jacobian.scaled-shortcut')})",
            _by_theorem(records, "jacobian.scaled-shortcut"), _theorem_why(records, "jacobian.scaled-shortcut"),
            "jacobian.scaled-shortcut", THEOREM),
        degradation_row(m, tier),
        Row(HE, "Fig. 7", "layer responses (std of each block's output)", "smaller in ResNets than in plain nets, and "
            "smaller the deeper the ResNet", NOT_MEASURED + " (the degradation study records no layer responses "
            "here)", Agreement.NOT_MEASURED, "no layer-response measurement was in this run", "degradation",
            TIER_WORDS.get(tier, tier), group="degradation"),
        Row(HE, "Table 6", "CIFAR-10 test error vs depth, ResNets", "20: 8.75%, 32: 7.51%, 44: 7.17%, 56: 6.97%, "
            "110: 6.43%, 1202: 7.93%", NOT_MEASURED + " (needs CIFAR-10 on disk)", Agreement.NOT_MEASURED,
            "no CIFAR-10 training was in this run", "degradation", TIER_WORDS.get(tier, tier), group="degradation"),
        Row(HE, "Table 2", "ImageNet top-1 error, plain vs ResNet 18/34", "plain-18 27.94, plain-34 28.54; "
            "ResNet-18 27.88, ResNet-34 25.03 (%)", "not run: ImageNet (1.28M images, days of GPU time) is out of "
            "reach of hfx's machines", Agreement.NOT_TESTABLE, "hfx cannot run ImageNet training", "—", "—"),
        Row(HE_B, "Table 1", "shortcut variants at ResNet-110 (CIFAR-10)", "identity 6.61%; ×0.5 shortcut fails "
            "(> 20%); 1×1 conv shortcut 12.22%", NOT_MEASURED, Agreement.NOT_MEASURED,
            "no shortcut-variant study was in this run", "degradation", TIER_WORDS.get(tier, tier),
            group="degradation"),
        Row("Zhang, Dauphin & Ma (Fixup), ICLR 2019; Bachlechner et al. (ReZero), 2020", "abstract",
            "trainable depth without normalisation", "10,000-layer residual nets train (Fixup: CIFAR; ReZero: fully "
            "connected)", NOT_MEASURED + f" (deepest stack measured: {_deepest(m)})", Agreement.NOT_MEASURED,
            "no stack of 1,000 or more layers was trained in this run", "degradation, deep-stack, trainable-depth",
            TIER_WORDS.get(tier, tier), group="degradation"),
    ]
    return rows


def _deepest(m: Measurements) -> str:
    depths = [(r.depth, "degradation MLP") for r in m.degradation.records] if m.degradation else []
    depths += [(s.group.depth, "deep-stack") for s in m.deep_stack.summaries] if m.deep_stack else []
    depths += [(r.depth, "trainable-depth") for r in m.trainable_depth.records] if m.trainable_depth else []
    if not depths:
        return "none"
    depth, where = max(depths)
    return f"{depth} layers ({where})"


def degradation_row(m: Measurements, tier: str) -> Row:
    """He et al.'s Fig. 1/6 pattern from the degradation study's own evidence (`hfx.evidence.degradation`): plain
    nets degrade with depth (C1: train and test error rise 20 → 56 layers) and residual nets do not (C13)."""
    from hfx.evidence.degradation import degradation_evidence

    published = "deeper plain nets (56 vs 20 layers) have higher training and test error; residual nets do not"
    where, quantity = "Fig. 1, Fig. 6", "training error vs depth, plain vs residual (CIFAR-10)"
    evidence = degradation_evidence(m.degradation) if m.degradation is not None else {}
    if not evidence:
        return Row(HE, where, quantity, published, NOT_MEASURED, Agreement.NOT_MEASURED,
                   "the degradation study did not run, or had no 20-layer and deeper nets of both kinds",
                   "degradation", TIER_WORDS.get(tier, tier), group="degradation")
    if not evidence.get("C1") or not evidence.get("C13"):
        return Row(HE, where, quantity, published, NOT_MEASURED, Agreement.NOT_MEASURED,
                   "the degradation study gave no evidence on C1 and C13 in this run", "degradation",
                   TIER_WORDS.get(tier, tier), group="degradation")
    plain, residual = evidence["C1"][0], evidence["C13"][0]
    degrade, fine = plain.established, residual.established
    agreement = Agreement.AGREES if degrade and fine else Agreement.PARTLY if degrade else Agreement.DISAGREES
    why = ("plain nets degrade with depth and residual nets do not, by the degradation study's own rules"
           if degrade and fine else
           "plain nets degrade with depth, but the residual nets' evidence is not established"
           if degrade else "the deeper plain net is not worse here, so He et al.'s gap is not reproduced")
    return Row(HE, where, quantity, published, f"{plain.finding}; {residual.finding}", agreement, why,
               "degradation (C1, C13)", TIER_WORDS.get(tier, tier), group="degradation")


def zero_branch_rows(m: Measurements, records: Sequence[TheoremRecord], tier: str) -> list[Row]:
    rows: list[Row] = []
    ds = m.deep_stack
    if ds is not None:
        depths = sorted({s.group.depth for s in ds.summaries})

        def best(variant: str, depth: int) -> float | None:
            row = next((s for s in ds.summaries if s.best_lr and s.group.variant == variant and s.group.depth == depth),
                       None)
            return None if row is None else row.steps.steps_median

        table = "; ".join(f"L = {d}: ReZero {_steps(best('rezero', d))} vs residual {_steps(best('residual', d))}"
                          for d in depths)
        faster = all((r := best("rezero", d)) is not None and ((q := best("residual", d)) is None or r <= q)
                     for d in depths)
        limited = any(s.best_lr and s.grid_limited for s in ds.summaries)
        rows.append(Row(REZERO, "abstract", "convergence of deep fully connected "
                        "residual stacks, α₀ = 0 vs a standard residual branch", "much faster convergence; deep "
                        "stacks train", f"median steps to ε at each one's best (widened) learning rate: {table}",
                        Agreement.PARTLY if limited else _agrees(faster),
                        "ReZero converges at every depth measured and no slower than the standard residual stack"
                        if faster else "the standard residual stack is faster somewhere",
                        "deep-stack", TIER_WORDS.get(tier, tier)))
    else:
        rows.append(absent(REZERO, "abstract", "convergence of deep residual stacks, α₀ = 0", "much faster convergence",
                           "deep-stack", tier))
    nb = m.nonlinear_block
    if nb is not None:
        check = next((c for c in nb.checks if c.name == "zero-branch-starts-at-identity"), None)
        rows.append(Row(ZERO_INIT,
                        "init rules", "a residual block whose branch is 0 at initialisation",
                        "the block is the identity at initialisation (Fixup: last layer 0; SkipInit/ReZero: α = 0; "
                        "Goyal: γ = 0 of the last BN)",
                        f"{check.examined if check else 0} runs fit the identity at step 0 "
                        f"({check.mismatches if check else '—'} mismatches); the BN block's zero set contains "
                        "γ = β = 0 "
                        f"({proved_text(records, 'blocks.batch-norm')})",
                        _agrees(check is not None and check.status is CheckStatus.PASSED
                                and _proved(records, "blocks.batch-norm")),
                        said(check is not None and check.status is CheckStatus.PASSED
                             and _proved(records, "blocks.batch-norm"), "exact at step 0, as the construction says",
                             "some zero-branch run did not start at the identity, or the BN zero set was not proved"),
                        "nonlinear-block, blocks.batch-norm",
                        TIER_WORDS.get(tier, tier)))
    else:
        rows.append(absent(ZERO_INIT, "init rules", "a residual block whose branch is 0 at initialisation",
                           "the block is the identity at initialisation", "nonlinear-block", tier))
    return rows


def _steps(v: float | None) -> str:
    return "not reached" if v is None else f"{v:.0f}"


def identity_rows(measured: Measurements, theorems: Sequence[TheoremRecord], tier: str) -> list[Row]:
    return [*hardt_ma_rows(measured, theorems, tier), bartlett_row(measured, theorems, tier),
            *he_rows(measured, theorems, tier), *zero_branch_rows(measured, theorems, tier)]
