"""The degradation study's pure rules: plateau, rate grid, intervals, comparisons, He et al.'s patterns, the
widening rounds, and the evidence rules (hfx.evidence.degradation)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from scipy import stats

from hfx.audit import ExperimentStatus
from hfx.evidence.degradation import GRADIENT_FACTOR, degradation_evidence
from numerics.degradation.findings import MARGIN, best_arms, compare, find, published_comparison
from numerics.degradation.fit import FitRun
from numerics.degradation.plateau import PlateauRule, plateaued
from numerics.degradation.rates import RatePolicy, decide, score
from numerics.degradation.summary import seed_interval
from numerics.experiments import ExperimentResult
from numerics.experiments import degradation as D
from numerics.experiments.params import replace_flat
from theory.core.derivation import Bearing

RULE = PlateauRule(window=3, tolerance=0.01, floor=1e-3)


# ---- plateau ---------------------------------------------------------------------------------------------


def test_a_flat_loss_plateaus_after_the_window_and_not_before() -> None:
    assert not plateaued([2.3, 2.3, 2.3], [0.9] * 3, RULE)  # only K epochs: not judged yet
    assert plateaued([2.3] * 4, [0.9] * 4, RULE)


def test_a_loss_still_falling_by_more_than_the_tolerance_has_not_plateaued() -> None:
    losses = [1.0 * 0.95**e for e in range(20)]  # 5% per epoch: ≈ 14% over 3 epochs
    assert not plateaued(losses, [0.5] * 20, RULE)
    slow = [1.0 - 0.001 * e for e in range(20)]  # 0.1% per epoch: 0.3% over 3 epochs < 1%
    assert plateaued(slow, [0.5] * 20, RULE)


def test_the_best_loss_so_far_decides_not_the_last_one() -> None:
    noisy = [1.0, 0.5, 0.9, 0.8, 0.7]  # best 0.5 three epochs ago, nothing better since
    assert plateaued(noisy, [0.3] * 5, RULE)


def test_a_fitted_training_set_is_a_plateau() -> None:
    assert plateaued([0.5, 0.0005], [0.1, 0.0], RULE)  # below the floor
    assert plateaued([0.5, 0.4, 0.3, 0.2], [0.1, 0.0, 0.0, 0.0], RULE)  # no minibatch error for K epochs
    assert plateaued([0.5, 0.4, 0.3, 0.2], [0.1, 0.0, RULE.fitted_error, 0.0], RULE)
    assert not plateaued([0.5, 0.4, 0.3, 0.2], [0.1, 0.01, 0.0, 0.0], RULE)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_loss_is_never_a_plateau(bad: float) -> None:
    assert not plateaued([1.0, 1.0, 1.0, 1.0, bad], [0.5] * 5, RULE)


# ---- learning-rate grid ----------------------------------------------------------------------------------


def _scores(errors: dict[float, float | None]) -> list:  # type: ignore[type-arg]
    return [score(lr, [e, e, e], [None if e is None else e, None if e is None else e, None if e is None else e])
            for lr, e in errors.items()]


def test_an_interior_best_rate_ends_the_widening() -> None:
    d = decide(_scores({0.01: 0.3, 0.03: 0.1, 0.1: 0.2}), (0.01, 0.03, 0.1), RatePolicy())
    assert d.best == 0.03 and d.edge is None and d.next_rates == () and not d.grid_limited


@pytest.mark.parametrize("edge,errors,expected", [
    ("low", {0.01: 0.1, 0.03: 0.2, 0.1: 0.3}, 0.00316),
    ("high", {0.01: 0.3, 0.03: 0.2, 0.1: 0.1}, 0.316),
])
def test_a_best_rate_at_an_edge_asks_for_the_next_rate_beyond_it(edge: str, errors: dict[float, float],
                                                                  expected: float) -> None:
    d = decide(_scores(errors), tuple(errors), RatePolicy())
    assert d.edge == edge and d.next_rates == pytest.approx((expected,)) and not d.grid_limited


def test_a_larger_rate_that_diverges_makes_the_best_rate_interior() -> None:
    d = decide(_scores({0.01: 0.3, 0.03: 0.2, 0.1: 0.1, 0.316: None}), (0.01, 0.03, 0.1), RatePolicy())
    assert d.best == 0.1 and d.edge is None and d.next_rates == ()


def test_widening_stops_at_its_limit_and_flags_the_edge() -> None:
    policy = RatePolicy(max_widenings=2)
    errors = {0.001: 0.05, 0.00316: 0.1, 0.01: 0.2, 0.03: 0.3}  # two rates were already added below 0.01
    d = decide(_scores(errors), (0.01, 0.03), policy)
    assert d.edge == "low" and d.next_rates == () and d.grid_limited and d.widened_low == 2
    assert decide(_scores({1e-5: 0.1, 3e-5: 0.2}), (1e-5, 3e-5), RatePolicy()).grid_limited  # the lowest rate


def test_a_single_rate_is_widened_on_both_sides() -> None:
    d = decide(_scores({0.1: 0.2}), (0.1,), RatePolicy())
    assert sorted(d.next_rates) == [0.0316, 0.316]


def test_one_diverged_seed_costs_a_rate_its_place() -> None:
    steady = score(0.01, [0.10, 0.10, 0.10], [0.3, 0.3, 0.3])
    flaky = score(0.03, [0.02, 0.02, None], [0.1, 0.1, None])  # median 0.02 but one seed diverged: mean 0.35
    assert steady.key < flaky.key


# ---- intervals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[0.1, 0.2, 0.15], [0.5, 0.52, 0.49, 0.51], [0.0, 0.0, 0.01]])
def test_seed_interval_is_the_student_t_interval(values: list[float]) -> None:
    iv = seed_interval(values)
    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=sum(values) / len(values), scale=stats.sem(values))
    assert iv.low == pytest.approx(max(0.0, lo)) and iv.high == pytest.approx(min(1.0, hi))
    assert (iv.min, iv.max, iv.n) == (min(values), max(values), len(values))


def test_one_seed_has_no_spread_and_no_seed_is_refused() -> None:
    assert seed_interval([0.3]) == seed_interval([0.3]) and seed_interval([0.3]).low == 0.3
    with pytest.raises(ValueError):
        seed_interval([])


# ---- synthetic results -------------------------------------------------------------------------------------


def _fit(seed: int, lr: float, train: float | None, test: float | None = None, status: str = "plateaued",
         ratio: float = 1.0, responses: tuple[float, ...] = (1.0, 1.0)) -> FitRun:
    test = train if test is None else test
    return FitRun(seed=seed, lr=lr, status="diverged" if train is None else status, epochs=10, plateau_epoch=10,
                  drop_epochs=(), train_error=train, train_loss=None if train is None else train, test_error=test,
                  test_loss=test, grad_norm_first=ratio, grad_norm_last=1.0, responses=responses,
                  curve_train_loss=(1.0,), curve_train_error=(0.5,), curve_test_error=(0.5,), seconds=0.0)


def _runs(arch: str, depth: int, norm: str, errors: Sequence[float | None], *, test: Sequence[float] | None = None,
          lrs: Sequence[float] = (0.01, 0.03, 0.1), status: str = "plateaued", ratio: float = 1.0,
          shortcut: str = "identity", responses: tuple[float, ...] = (1.0, 1.0)) -> list[D.DegradationRun]:
    """Three seeds at three rates; the middle rate is best (the others 0.3 worse)."""
    out = []
    for lr in lrs:
        worse = 0.0 if lr == lrs[len(lrs) // 2] else 0.3
        for s, e in enumerate(errors):
            t = None if e is None else min(1.0, e + worse)
            tt = t if test is None else min(1.0, test[s] + worse)
            out.append(D.DegradationRun(model="mlp", architecture=arch, depth=depth, norm=norm, shortcut=shortcut,
                                        width=8, data="digits", round=0, deep=False,
                                        fit=_fit(s, lr, t, tt, status, ratio, responses)))
    return out


def _result(runs: list[D.DegradationRun], **config: object) -> D.Result:
    cfg = replace_flat(D.Config(), {"depths": (20, 56), "width": 8, **config})  # type: ignore[dict-item]
    return ExperimentResult(name="degradation", config=cfg, records=tuple(runs), summaries=D.summarize(runs, cfg))


def _study(norm: str = "batch", plain56: Sequence[float] = (0.8, 0.82, 0.79),
           res56: Sequence[float | None] = (0.0,) * 3, ratio: float = 1.0, status56: str = "plateaued",
           plain56_test: Sequence[float] | None = None, status20: str = "plateaued",
           ) -> list[D.DegradationRun]:
    return (_runs("plain", 20, norm, (0.01, 0.0, 0.02), status=status20)
            + _runs("plain", 56, norm, plain56, ratio=ratio, status=status56, test=plain56_test)
            + _runs("residual", 20, norm, (0.0, 0.0, 0.01)) + _runs("residual", 56, norm, res56))


def test_summaries_flag_the_best_rate_with_its_interval() -> None:
    result = _result(_study())
    best = [s for s in result.summaries if s.best_lr]
    assert len(best) == 4 and all(s.lr == 0.03 and not s.grid_limited and s.n == 3 for s in best)
    p56 = next(s for s in best if (s.architecture, s.depth) == ("plain", 56))
    assert p56.train_error_mean == pytest.approx((0.8 + 0.82 + 0.79) / 3)
    assert p56.train_error_low < p56.train_error_mean < p56.train_error_high


def test_comparisons_worse_not_worse_inconclusive() -> None:
    arms = best_arms(_result(_study(res56=(0.0, 0.01, 0.04))))
    p20, p56 = find(arms, "plain", 20, "batch"), find(arms, "plain", 56, "batch")
    r20, r56 = find(arms, "residual", 20, "batch"), find(arms, "residual", 56, "batch")
    assert p20 and p56 and r20 and r56
    assert compare(p20, p56, "train").outcome == "worse" and compare(p20, p56, "train").fair
    assert compare(r20, r56, "train").outcome == "inconclusive"  # one seed 0.04 > 0 + MARGIN
    arms = best_arms(_result(_study(res56=(0.0, 0.01, MARGIN / 2))))
    assert compare(find(arms, "residual", 20, "batch"), find(arms, "residual", 56, "batch"),  # type: ignore[arg-type]
                   "train").outcome == "not worse"


def test_a_comparison_with_a_grid_limited_arm_is_not_fair() -> None:
    runs = _study()
    # plain-56 best at the smallest rate: move the best to the low edge and forbid widening
    runs = [r if (r.architecture, r.depth) != ("plain", 56) else
            D.DegradationRun(**{**r.__dict__, "fit": _fit(r.fit.seed, r.fit.lr, 0.5 if r.fit.lr == 0.01 else 0.9)})
            for r in runs]
    arms = best_arms(_result(runs, widen=0))
    c = compare(find(arms, "plain", 20, "batch"), find(arms, "plain", 56, "batch"), "train")  # type: ignore[arg-type]
    assert not c.fair and "grid-limited" in c.unfair and not c.established


def test_evidence_with_batch_norm_degradation_and_exploding_gradients() -> None:
    ev = degradation_evidence(_result(_study(ratio=100 * GRADIENT_FACTOR)))
    (c1,), (c2,), (c3,) = ev["C1"], ev["C2"], ev["C3"]
    assert c1.established and c1.bearing is Bearing.SUPPORTS and "near chance" in c1.finding
    assert c2.established and c2.bearing is Bearing.SUPPORTS
    assert c3.established and c3.bearing is Bearing.QUALIFIES and "explode" in c3.finding
    c13 = [e for e in ev["C13"] if e.id == "degradation"]
    assert c13[0].established and c13[0].bearing is Bearing.SUPPORTS
    assert c13[-1].status is ExperimentStatus.NOT_MEASURED  # no ≥ 1,000-layer net in this result


@pytest.mark.parametrize("ratio,bearing", [(1 / (10 * GRADIENT_FACTOR), Bearing.SUPPORTS), (1.0, Bearing.REFUTES)])
def test_c3_reads_the_gradient_ratio_of_the_degrading_net(ratio: float, bearing: Bearing) -> None:
    (c3,) = degradation_evidence(_result(_study(norm="none", ratio=ratio), norms=("none",)))["C3"]
    assert c3.established and c3.bearing is bearing and "without normalisation" in c3.finding


def test_both_arms_give_their_own_evidence() -> None:
    runs = _study("batch", ratio=1e3) + _study("none", plain56=(0.1, 0.12, 0.11), ratio=0.7)
    ev = degradation_evidence(_result(runs, norms=("batch", "none")))
    assert len(ev["C1"]) == len(ev["C3"]) == 2
    assert {e.bearing for e in ev["C3"]} == {Bearing.QUALIFIES, Bearing.REFUTES}
    none_c1 = next(e for e in ev["C1"] if "without normalisation" in e.finding)
    assert "of the size He et al. show" in none_c1.finding


def test_no_gap_qualifies_c1_and_only_test_rising_refutes_c2() -> None:
    ev = degradation_evidence(_result(_study(plain56=(0.01, 0.0, 0.02), plain56_test=(0.2, 0.21, 0.22))))
    assert ev["C1"][0].bearing is Bearing.QUALIFIES and ev["C1"][0].established
    assert ev["C2"][0].bearing is Bearing.REFUTES and ev["C2"][0].established
    assert not ev["C3"][0].established  # nothing degrades: nothing for gradients to explain


def test_runs_that_did_not_plateau_establish_nothing() -> None:
    ev = degradation_evidence(_result(_study(status56="max-epochs")))
    assert not ev["C1"][0].established and "plateau" in ev["C1"][0].finding
    assert not ev["C2"][0].established and not ev["C3"][0].established


def test_a_shallow_net_still_improving_does_not_void_worse_but_voids_not_worse() -> None:
    # plain-20 stopped by the budget: more epochs could only lower its error, so "plain-56 is worse" stands
    arms = best_arms(_result(_study(status20="max-epochs")))
    p20, p56 = find(arms, "plain", 20, "batch"), find(arms, "plain", 56, "batch")
    assert p20 and p56 and not p20.plateaued
    worse = compare(p20, p56, "train")
    assert worse.outcome == "worse" and worse.fair and worse.established
    # …but the same shallow arm cannot show that a deeper one is "not worse" (it might still pull ahead)
    arms = best_arms(_result(_study(status20="max-epochs", plain56=(0.01, 0.0, 0.02))))
    same = compare(find(arms, "plain", 20, "batch"), find(arms, "plain", 56, "batch"), "train")  # type: ignore[arg-type]
    assert same.outcome == "not worse" and not same.fair and "plateau" in same.unfair
    # and a deeper arm still improving never establishes "worse"
    arms = best_arms(_result(_study(status56="max-epochs")))
    late = compare(find(arms, "plain", 20, "batch"), find(arms, "plain", 56, "batch"), "train")  # type: ignore[arg-type]
    assert late.outcome == "worse" and not late.established


def test_a_residual_net_that_diverges_qualifies_c13() -> None:
    ev = degradation_evidence(_result(_study(res56=(None, None, None))))
    (c13,) = [e for e in ev["C13"] if e.id == "degradation" and e.established]
    assert c13.bearing is Bearing.QUALIFIES and "diverged" in c13.finding


def test_without_both_depths_there_is_no_evidence() -> None:
    assert degradation_evidence(_result(_runs("plain", 20, "batch", (0.1, 0.1, 0.1)))) == {}


def test_he_et_al_patterns_are_checked_against_the_measured_numbers() -> None:
    runs = (  # layer responses: residual smaller than plain, and smaller the deeper
        _runs("plain", 20, "batch", (0.01, 0.0, 0.02), responses=(1.0, 1.2))
        + _runs("plain", 56, "batch", (0.8, 0.82, 0.79), responses=(2.0, 3.0))
        + _runs("residual", 20, "batch", (0.0, 0.0, 0.01), test=(0.08, 0.09, 0.085), responses=(0.8, 0.9))
        + _runs("residual", 56, "batch", (0.0, 0.0, 0.0), test=(0.05, 0.055, 0.057), responses=(0.5, 0.6)))
    checks = {c.source: c for c in published_comparison(_result(runs, norms=("batch",)))}
    fig16, fig7, table6 = (checks["He et al. 2016, Fig. 1 and Fig. 6"], checks["He et al. 2016, Fig. 7"],
                           checks["He et al. 2016, Table 6"])
    assert fig16.reproduced is True and "near chance" in fig16.why  # the pattern, but not the size of the gap
    assert fig7.reproduced is True and table6.reproduced is True
    assert "8.75" in table6.published and "digits" in table6.setting


@pytest.mark.parametrize("test56,reproduced", [((0.05, 0.055, 0.057), True), ((0.07, 0.075, 0.08), None),
                                              ((0.2, 0.21, 0.22), False)])
def test_table6_needs_the_fall_with_depth_to_exceed_the_margin(test56: tuple[float, ...],
                                                               reproduced: bool | None) -> None:
    runs = (_runs("plain", 20, "batch", (0.01, 0.0, 0.02)) + _runs("plain", 56, "batch", (0.8, 0.82, 0.79))
            + _runs("residual", 20, "batch", (0.0, 0.0, 0.01), test=(0.08, 0.09, 0.085))
            + _runs("residual", 56, "batch", (0.0, 0.0, 0.0), test=test56))
    checks = {c.source: c for c in published_comparison(_result(runs, norms=("batch",)))}
    assert checks["He et al. 2016, Table 6"].reproduced is reproduced


# ---- the widening rounds -----------------------------------------------------------------------------------


def test_rounds_widen_each_arm_until_its_best_rate_is_interior(monkeypatch: pytest.MonkeyPatch) -> None:
    best = {("plain", 20): 0.01, ("residual", 20): 0.1}  # the error is smallest at these rates

    def fake_fit(spec, data, lrs, seeds, schedule, base_seed=0, device="cpu", progress=None):  # type: ignore[no-untyped-def]
        b = best[(spec.architecture, spec.depth)]
        return [_fit(s, lr, min(1.0, abs(math.log10(lr / b)) / 5)) for s in seeds for lr in lrs]

    monkeypatch.setattr(D, "fit", fake_fit)
    config = replace_flat(D.Config(), {"depths": (20,), "norms": ("batch",), "lrs": (0.0316, 0.1, 0.316)})
    result = D.run(config, None)  # type: ignore[arg-type]
    rows = {s.architecture: s for s in result.summaries if s.best_lr}
    assert rows["plain"].lr == pytest.approx(0.01, rel=1e-3) and not rows["plain"].grid_limited
    assert rows["plain"].rates_tried == 5  # 0.0316 … 0.316, then 0.01, then 0.00316 (0.01 interior)
    assert rows["residual"].lr == 0.1 and rows["residual"].rates_tried == 3  # interior at once: no widening
    assert max(r.round for r in result.records if r.architecture == "plain") == 2


# ---- the tiers of hfx verify ------------------------------------------------------------------------------


def test_verify_tiers_measure_what_each_promises() -> None:
    from hfx.measure import TIERS, tier_configs

    for tier in TIERS:
        mlp, cnn, stacks = tier_configs(tier)
        assert {20, 56} <= set(mlp.depths) and set(mlp.norms) == {"batch", "none"} and mlp.replicates.seeds >= 3
        if tier == "full":  # the study of issue 10: depths 8…110, Table 1 variants at ≥ 50, ≥ 1,000 and 10,000 layers
            assert min(mlp.depths) == 8 and max(mlp.depths) == 110 and mlp.shortcut_depth >= 50
            assert {"identity", "scale", "gate", "dropout"} <= set(mlp.shortcuts) and mlp.deep_depth >= 1000
            assert cnn is not None and cnn.model == "cnn" and max(stacks.depths) >= 10_000
            assert {"plain", "residual", "rezero"} <= set(stacks.variants)
        else:  # reduced: nothing that takes minutes
            assert cnn is None and not mlp.deep_depth and max(stacks.depths) < 1000 and mlp.shortcuts == ("identity",)
    with pytest.raises(ValueError):
        tier_configs("huge")


def test_the_size_of_a_gap_is_said_against_he_et_als_few_points_and_chance() -> None:
    from numerics.degradation.findings import gap_size

    assert "of the size He et al. show" in gap_size(0.04, 0.06)
    larger = gap_size(0.514, 0.515)  # plain-56 at 51.5 %: it trains, far worse, but not near chance
    assert "far worse than He et al.'s few-point gap" in larger and "near chance" not in larger
    assert "near chance" in gap_size(0.756, 0.76) and "does not train at all" in gap_size(0.756, 0.76)


def test_trainable_depth_words_never_contradict_the_grid() -> None:
    """A variant that fails at one depth and trains at a larger one gets both lists (the quick grid gave
    "rezero: trains up to 100, stops at 10", which reads as a contradiction); monotone grids keep the short form."""
    from hfx.evidence.degradation import _where_trains
    from numerics.experiments.trainable_depth import TrainableDepth

    def td(ok: tuple[int, ...], bad: tuple[int, ...]) -> TrainableDepth:
        return TrainableDepth("v", ok, bad, min(bad) if bad else None, max(ok) if ok else None, (), ())

    assert _where_trains(td((1, 3, 30, 100), (10,)), 100) == "trains at depths 1, 3, 30, 100 but not at 10"
    assert _where_trains(td((1, 3), (10, 30, 100)), 100) == "trains up to 3, stops at 10"
    assert _where_trains(td((1, 3, 10), ()), 10) == "trains at every depth to 10"
    assert _where_trains(td((), (1, 3)), 3) == "trains at no depth measured"
