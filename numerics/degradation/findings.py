"""Typed findings of the degradation study: arms at their best rate, fair comparisons, He et al.'s patterns.

`best_arms(result)` gives every arm at its best rate (`ArmResult`); `compare(shallow, deep, quantity)` says
whether the deeper arm is worse on training or test error, by a rule stated once:

* **worse**: every seed of the deeper arm is above every seed of the shallower one by more than `MARGIN`
  (min(deep) − max(shallow) > MARGIN).  With three seeds each, the chance that all three of one group exceed
  all three of the other when nothing differs is 1/C(6, 3) = 1/20 (an exact permutation argument);
* **not worse**: no seed of the deeper arm is above any seed of the shallower one by more than `MARGIN`
  (max(deep) − min(shallow) ≤ MARGIN);
* **inconclusive** otherwise.

A comparison is *fair* only when both arms ran at least `MIN_SEEDS` seeds, and every arm whose further
improvement could overturn the outcome has an interior best rate (not grid-limited, `rates`) and runs that all
ended on a plateau or diverged (none stopped by the epoch budget, `plateau`).  For *worse* that is the deeper arm
only: a shallower arm stopped by the budget or at the edge of its grid could only reach a lower error, which
widens the gap (He et al.'s own argument: the deeper net "has higher training error throughout the whole
training procedure").  For *not worse* and *inconclusive* it is both arms.  A comparison that is not fair never
establishes anything (`hfx.evidence.degradation`).

`published_comparison(result)` is the accessor for the published-vs-measured table: one `PatternCheck` per
pattern of He et al. 2016 (Fig. 1/6, Fig. 7, Table 6, the 1202-layer net) and He et al. 2016b (Table 1) that
the result can test, with the published value or pattern (from shared/REFERENCES.md), the measured numbers in
words, and whether the pattern was reproduced (None: not testable fairly here, and why).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy import stats

from numerics.degradation.summary import SeedInterval, seed_interval

if TYPE_CHECKING:
    from numerics.experiments.degradation import Arm, Result

MARGIN = 0.02  # two percentage points of error: well above the resolution 1/540 of the digits' test set
MIN_SEEDS = 3  # fewer seeds cannot separate two groups (module docstring)
SHALLOW, NOTE_DEPTH = 20, 56  # He et al.'s (and the note's) comparison: 56 against 20 layers
CHANCE = 0.9  # error of a constant guess among 10 balanced classes
NEAR_CHANCE = 0.8 * CHANCE  # a deep plain net at or above this training error does not train at all
FEW_POINTS = 0.10  # He et al. 2016 (Fig. 1, 6: CIFAR-10) show gaps of a few points between plain-20 and plain-56


def gap_size(difference: float, plain56_error: float) -> str:
    """How a measured plain-56 − plain-20 training-error gap compares with He et al.'s (2016, Fig. 1 and 6):
    of their size (≤ `FEW_POINTS`), larger, or a deep net that does not train at all (near chance)."""
    points = f"a gap of {100 * difference:.1f} points"
    if plain56_error >= NEAR_CHANCE:
        return (f"{points} with plain-56 near chance ({100 * CHANCE:.0f}%): the deep plain net does not train at "
                "all, not He et al.'s few-point gap")
    if difference <= FEW_POINTS:
        return f"{points}, of the size He et al. show"
    return (f"{points}: plain-56 trains ({100 * plain56_error:.0f}% against chance {100 * CHANCE:.0f}%) but far "
            "worse than He et al.'s few-point gap")
# He et al. 2016, Table 6: CIFAR-10 test error (%) of ResNets by depth (shared/REFERENCES.md)
HE_TABLE6 = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43, 1202: 7.93}
HE2016B_TABLE1 = "ResNet-110 on CIFAR-10: identity shortcut 6.61%; constant scaling ×0.5 fails (> 20%); " \
                 "1×1 conv shortcut 12.22%"


@dataclass(frozen=True)
class ArmResult:
    """One arm at its best learning rate."""

    model: str
    architecture: str
    depth: int
    norm: str
    shortcut: str
    deep: bool  # a very deep net on the fixed grid (deep_depth)
    lr: float
    grid_limited: bool
    plateaued: bool  # every run ended on a plateau or diverged (none at the epoch budget)
    n: int
    n_diverged: int
    train_errors: tuple[float, ...]  # per seed (a diverged run counts as 1)
    test_errors: tuple[float, ...]
    train: SeedInterval
    test: SeedInterval
    grad_ratio: float | None  # median over seeds of ‖∂L/∂W‖ first / last trunk layer at initialisation
    responses: tuple[float, ...]  # per trunk layer, mean over seeds of the response std

    @property
    def name(self) -> str:
        cut = "" if self.shortcut == "identity" else f" ({self.shortcut} shortcut)"
        return f"{self.architecture}-{self.depth}{cut}"

    @property
    def response_median(self) -> float | None:
        return statistics.median(self.responses) if self.responses else None


def best_arms(result: Result) -> dict[tuple[Arm, bool], ArmResult]:
    """Every (arm, deep) at its best rate, in the order of the summaries."""
    out: dict[tuple[Arm, bool], ArmResult] = {}
    for s in result.summaries:
        if not s.best_lr:
            continue
        runs = [r for r in result.records if r.deep == s.deep and r.fit.lr == s.lr
                and (r.model, r.architecture, r.depth, r.norm, r.shortcut)
                == (s.model, s.architecture, s.depth, s.norm, s.shortcut)]
        train = tuple(1.0 if r.fit.train_error is None else r.fit.train_error for r in runs)
        test = tuple(1.0 if r.fit.test_error is None else r.fit.test_error for r in runs)
        profiles = [r.fit.responses for r in runs if r.fit.responses]
        arm = runs[0].arm
        out[(arm, s.deep)] = ArmResult(
            model=s.model, architecture=s.architecture, depth=s.depth, norm=s.norm, shortcut=s.shortcut,
            deep=s.deep, lr=s.lr, grid_limited=s.grid_limited,
            plateaued=all(r.fit.status != "max-epochs" for r in runs), n=len(runs), n_diverged=s.n_diverged,
            train_errors=train, test_errors=test, train=seed_interval(train), test=seed_interval(test),
            grad_ratio=s.grad_ratio_median,
            responses=tuple(statistics.fmean(col) for col in zip(*profiles, strict=True)) if profiles else ())
    return out


def find(arms: dict[tuple[Arm, bool], ArmResult], architecture: str, depth: int, norm: str,
         shortcut: str = "identity", deep: bool = False) -> ArmResult | None:
    return next((a for a in arms.values() if (a.architecture, a.depth, a.norm, a.shortcut, a.deep)
                 == (architecture, depth, norm, shortcut, deep)), None)


@dataclass(frozen=True)
class Comparison:
    """A deeper arm against a shallower one on training or test error (module docstring)."""

    shallow: ArmResult
    deep: ArmResult
    quantity: str  # train or test
    difference: float  # mean(deep) − mean(shallow)
    outcome: str  # worse, not worse, inconclusive
    fair: bool
    unfair: str  # why not fair ('' when fair)

    @property
    def established(self) -> bool:
        return self.fair and self.outcome != "inconclusive"


def _errors(a: ArmResult, quantity: str) -> tuple[float, ...]:
    return a.train_errors if quantity == "train" else a.test_errors


def fairness(*arms: ArmResult) -> str:
    """'' if comparisons between the arms are fair, else why not (module docstring)."""
    reasons = []
    for a in arms:
        if a.n < MIN_SEEDS:
            reasons.append(f"{a.name}: {a.n} seed(s) < {MIN_SEEDS}")
        if a.grid_limited:
            reasons.append(f"{a.name}: best rate {a.lr:.3g} at the edge of its grid (grid-limited)")
        if not a.plateaued:
            reasons.append(f"{a.name}: not every run plateaued within the epoch budget")
    return "; ".join(reasons)


def _seeds(a: ArmResult) -> str:
    return f"{a.name}: {a.n} seed(s) < {MIN_SEEDS}" if a.n < MIN_SEEDS else ""


def compare(shallow: ArmResult, deep: ArmResult, quantity: str) -> Comparison:
    lo, hi = _errors(shallow, quantity), _errors(deep, quantity)
    if min(hi) - max(lo) > MARGIN:
        outcome = "worse"
    elif max(hi) - min(lo) <= MARGIN:
        outcome = "not worse"
    else:
        outcome = "inconclusive"
    if outcome == "worse":  # only the deeper arm's improvement could overturn it (module docstring)
        unfair = "; ".join(x for x in (_seeds(shallow), fairness(deep)) if x)
    else:
        unfair = fairness(shallow, deep)
    return Comparison(shallow, deep, quantity, statistics.fmean(hi) - statistics.fmean(lo), outcome, not unfair,
                      unfair)


def pct(v: SeedInterval) -> str:
    """'12.3% [10.1, 14.5]' (mean and 95% interval, in percent); '12.3% (1 seed, no interval)' for one seed, whose
    Student-t interval does not exist (t with 0 degrees of freedom): a zero-width '[12.3, 12.3]' would claim a
    certainty one seed cannot give."""
    if v.n < 2:
        return f"{100 * v.mean:.1f}% (1 seed, no interval)"
    return f"{100 * v.mean:.1f}% [{100 * v.low:.1f}, {100 * v.high:.1f}]"


def setting(result: Result, norm: str) -> str:
    c = result.config
    data = "sklearn 8×8 digits" if c.data == "digits" else "CIFAR-10"
    model = "fully connected net" if c.model == "mlp" else "He et al.'s CIFAR ResNet"
    norm_words = ("batch norm" if norm == "batch"
                  else f"no normalisation ({c.branch_init}-initialised residual branches)")
    return (f"{model} (width {c.net_width}) on {data}, {norm_words}, "
            f"{c.replicates.seeds} seeds, best of a widened rate grid, trained to a plateau")


@dataclass(frozen=True)
class PatternCheck:
    """One published result against what hfx measured (a row of the published-vs-measured table)."""

    source: str  # paper and figure/table
    quantity: str  # what is compared
    published: str  # the published value or pattern
    measured: str  # hfx's numbers, in words
    setting: str  # what hfx ran (data, architecture, normalisation, seeds)
    reproduced: bool | None  # None: not testable fairly here
    why: str  # one sentence: why it agrees, or why not


def published_comparison(result: Result) -> tuple[PatternCheck, ...]:
    """The accessor for the published-vs-measured table (module docstring)."""
    from numerics.degradation.patterns import deep_net, fig1_6, fig7, shortcut_table, table6

    arms = best_arms(result)
    out: list[PatternCheck] = []
    for norm in result.config.norms:
        out += [p for p in (fig1_6(result, arms, norm), fig7(result, arms, norm), table6(result, arms, norm))
                if p is not None]
    out += [p for p in (shortcut_table(result, arms), deep_net(result, arms)) if p is not None]
    return tuple(out)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (None with fewer than two points or no variation)."""
    if len(xs) < 2 or len(set(ys)) < 2:
        return None
    return float(stats.spearmanr(xs, ys).statistic)
