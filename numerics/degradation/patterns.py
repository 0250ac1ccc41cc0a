"""He et al.'s patterns, each tested against the measured arms (`findings.published_comparison` collects them).

* Fig. 1 / Fig. 6 (He et al. 2016): the 56-layer plain net has higher training (and test) error than the
  20-layer one; the 56-layer residual net does not.  Reproduced when, by `findings.compare`, plain 56 vs 20 is
  *worse* on training error and residual 56 vs 20 is *not worse*, both fairly; the size of the gap is stated
  (He et al. show a gap of a few points; a deep plain net near chance is a different phenomenon: it does not
  train at all).
* Fig. 7: layer responses (std) are smaller in residual than in plain nets, and smaller the deeper the residual
  net.  Reproduced when at every depth measured for both the median layer response of the residual net is below
  the plain one, and the residual median falls with depth (Spearman's ρ < 0 over depths).
* Table 6: ResNet test error falls with depth from 20 to 110 layers (8.75% → 6.43%).  Reproduced when the
  residual nets' mean test error is negatively rank-correlated with depth over 20 … 110 (ρ < 0) and the
  20-layer net is *worse* on test error than the deepest (`findings.compare`: every seed above every seed by
  more than the margin); not reproduced when ρ ≥ 0 or the deepest is worse than the 20-layer net; otherwise
  the differences are within the margin and nothing is concluded.
* He et al. 2016b, Table 1: the identity shortcut beats the variants; constant scaling ×0.5 fails.  Reproduced
  when the identity has the lowest mean test error of the variants measured and scaling is *worse* than it.
* §4.2, 1202 layers: a ResNet of 10³ layers trains without optimisation difficulty (its test error, 7.93%, is
  worse than the 110-layer net's).  Reproduced when the very deep residual net's training error is *not worse*
  than the 20-layer residual net's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from numerics.degradation.findings import (
    HE2016B_TABLE1,
    HE_TABLE6,
    MARGIN,
    MIN_SEEDS,
    NOTE_DEPTH,
    SHALLOW,
    ArmResult,
    PatternCheck,
    compare,
    fairness,
    find,
    gap_size,
    pct,
    setting,
    spearman,
)

if TYPE_CHECKING:
    from numerics.experiments.degradation import Arm, Result

Arms = dict[tuple["Arm", bool], ArmResult]
HE = "He et al. 2016"


def fig1_6(result: Result, arms: Arms, norm: str) -> PatternCheck | None:
    p20, p56 = find(arms, "plain", SHALLOW, norm), find(arms, "plain", NOTE_DEPTH, norm)
    r20, r56 = find(arms, "residual", SHALLOW, norm), find(arms, "residual", NOTE_DEPTH, norm)
    if not (p20 and p56 and r20 and r56):
        return None
    plain, res = compare(p20, p56, "train"), compare(r20, r56, "train")
    test = compare(p20, p56, "test")
    measured = (f"training error plain-20 {pct(p20.train)}, plain-56 {pct(p56.train)} ({plain.outcome}); "
                f"residual-20 {pct(r20.train)}, residual-56 {pct(r56.train)} ({res.outcome}); test error "
                f"plain-20 {pct(p20.test)}, plain-56 {pct(p56.test)} ({test.outcome})")
    if not (plain.fair and res.fair):
        reproduced, why = None, f"not a fair comparison: {'; '.join(x for x in (plain.unfair, res.unfair) if x)}"
    elif plain.outcome == "worse" and res.outcome == "not worse":
        reproduced = True
        size = gap_size(plain.difference, p56.train.mean)
        why = f"deeper plain nets train worse and residual ones do not, {size}"
    else:
        reproduced = False
        why = (f"plain 56 vs 20 is {plain.outcome} on training error and residual 56 vs 20 is {res.outcome} "
               f"(margin {100 * MARGIN:.0f} points, every seed)")
    return PatternCheck(f"{HE}, Fig. 1 and Fig. 6", "training error, plain and residual, 20 vs 56 layers",
                        "plain-56 above plain-20 on training and test error (CIFAR-10, BN); residual-56 below "
                        "residual-20", measured, setting(result, norm), reproduced, why)


def fig7(result: Result, arms: Arms, norm: str) -> PatternCheck | None:
    depths = sorted({a.depth for a in arms.values() if a.norm == norm and not a.deep and a.shortcut == "identity"
                     and a.responses})
    pairs = [(d, find(arms, "plain", d, norm), find(arms, "residual", d, norm)) for d in depths]
    both = [(d, p, r) for d, p, r in pairs if p and r and p.response_median and r.response_median]
    residual = [(d, r.response_median) for d, _, r in pairs if r and r.response_median is not None]
    if not both or len(residual) < 2:
        return None
    smaller = [d for d, p, r in both if r.response_median < p.response_median]  # type: ignore[operator]  # (both medians are non-None: filtered above)
    rho = spearman([d for d, _ in residual], [v for _, v in residual])
    measured = "; ".join(f"{d} layers: plain {p.response_median:.3g}, residual {r.response_median:.3g}"
                         for d, p, r in both)
    measured += (f"; residual ρ(depth, response) = {'n/a' if rho is None else f'{rho:.2f}'} over {len(residual)} "
                 "depths")  # Spearman's ρ of 2 points is ±1 by construction: the count says so
    ok_smaller, ok_depth = len(smaller) == len(both), rho is not None and rho < 0
    why = (f"residual responses below plain at {len(smaller)} of {len(both)} depths; "
           f"{'they fall' if ok_depth else 'they do not fall'} with depth")
    return PatternCheck(f"{HE}, Fig. 7", "std of layer responses (median over layers)",
                        "residual < plain; deeper residual nets respond less", measured, setting(result, norm),
                        ok_smaller and ok_depth, why)


def table6(result: Result, arms: Arms, norm: str) -> PatternCheck | None:
    res = sorted((a for a in arms.values() if a.architecture == "residual" and a.norm == norm and not a.deep
                  and a.shortcut == "identity" and SHALLOW <= a.depth <= 110), key=lambda a: a.depth)
    if len(res) < 2 or res[0].depth != SHALLOW:
        return None
    rho = spearman([a.depth for a in res], [a.test.mean for a in res])
    measured = "; ".join(f"{a.depth}: {pct(a.test)}" for a in res) + \
        f"; ρ(depth, test error) = {'n/a' if rho is None else f'{rho:.2f}'} over {len(res)} depths"
    published = "; ".join(f"{d}: {v}%" for d, v in HE_TABLE6.items() if d <= 110)
    unfair = fairness(*res)
    if unfair:
        return PatternCheck(f"{HE}, Table 6", "ResNet test error vs depth (20 … 110)", published, measured,
                            setting(result, norm), None, f"not a fair comparison: {unfair}")
    deeper_better = compare(res[-1], res[0], "test").outcome == "worse"  # the 20-layer net worse than the deepest
    deeper_worse = compare(res[0], res[-1], "test").outcome == "worse"
    reproduced: bool | None
    if rho is not None and rho < 0 and deeper_better:
        reproduced = True
        why = f"test error falls with depth (residual-{res[-1].depth} below residual-20 on every seed)"
    elif rho is None or rho >= 0 or deeper_worse:
        reproduced, why = False, "test error does not fall with depth"
    else:
        reproduced, why = None, (f"residual-{res[-1].depth} vs residual-20 differ by less than the margin "
                                 f"({100 * MARGIN:.0f} points on every seed): nothing concluded")
    return PatternCheck(f"{HE}, Table 6", "ResNet test error vs depth (20 … 110)", published, measured,
                        setting(result, norm), reproduced, why)


def shortcut_table(result: Result, arms: Arms) -> PatternCheck | None:
    depth = result.config.shortcut_depth
    norm = "batch" if "batch" in result.config.norms else result.config.norms[0]
    variants = [a for a in arms.values() if a.architecture == "residual" and a.depth == depth and a.norm == norm
                and not a.deep]
    identity = next((a for a in variants if a.shortcut == "identity"), None)
    if identity is None or len(variants) < 2:
        return None
    measured = "; ".join(f"{a.shortcut} {pct(a.test)}" for a in variants)
    best = min(variants, key=lambda a: a.test.mean)
    scale = next((a for a in variants if a.shortcut == "scale"), None)
    scale_worse = scale is None or compare(identity, scale, "test").outcome == "worse"
    unfair = fairness(*variants)
    if unfair:
        reproduced, why = None, f"not a fair comparison: {unfair}"
    else:
        reproduced = best.shortcut == "identity" and scale_worse
        why = (f"lowest mean test error: {best.shortcut}"
               + ("" if scale is None else f"; ×0.5 scaling vs identity: {compare(identity, scale, 'test').outcome}"))
    return PatternCheck("He et al. 2016b, Table 1", f"test error of shortcut variants at {depth} layers",
                        HE2016B_TABLE1, measured, setting(result, norm) + f", depth {depth}", reproduced, why)


def deep_net(result: Result, arms: Arms) -> PatternCheck | None:
    deep = find(arms, "residual", result.config.deep_depth, "batch", deep=True)
    shallow = find(arms, "residual", SHALLOW, "batch")
    if deep is None or shallow is None:
        return None
    plain = find(arms, "plain", result.config.deep_depth, "batch", deep=True)
    c = compare(shallow, deep, "train")
    measured = (f"residual-{deep.depth}: training error {pct(deep.train)}, test {pct(deep.test)} (best of rates "
                f"{', '.join(f'{r:g}' for r in result.config.deep_lrs)}); residual-20 training {pct(shallow.train)}"
                + (f"; plain-{plain.depth}: training {pct(plain.train)}" if plain else ""))
    # an existence result: a rate at which it trains is enough (its grid may be at an edge), on every seed
    unfair = "; ".join(([f"{deep.n} seed(s)"] if deep.n < MIN_SEEDS else [])
                       + ([] if deep.plateaued else ["not every run plateaued within the epoch budget"]))
    reproduced = None if unfair else c.outcome == "not worse"
    why = (f"not established: {unfair}" if unfair else
           f"the {deep.depth}-layer residual net vs the 20-layer one on training error: {c.outcome}")
    return PatternCheck(f"{HE}, §4.2 and Table 6 (1202 layers)", f"training of a {deep.depth}-layer ResNet",
                        "trains without optimisation difficulty; test error 7.93% (above the 110-layer 6.43%)",
                        measured, setting(result, "batch") + f", depth {deep.depth}", reproduced, why)
