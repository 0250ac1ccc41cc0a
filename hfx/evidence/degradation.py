"""Evidence from the degradation study (C1, C2, C3, C13) and the trainable-depth experiment (C13): pure rules.

The numbers come from `numerics.experiments.degradation` (each arm at its best rate: `numerics.degradation.
findings`) and `numerics.experiments.trainable_depth`.  Comparisons are 56 against 20 layers (the note's and
He et al.'s), by `findings.compare`: *worse* (every seed of the deeper net above every seed of the shallower
one by more than 2 points), *not worse*, or *inconclusive*; a comparison is *fair* only if both arms ran ≥ 3
seeds and the arm(s) whose further training could overturn it (the deeper one for *worse*, both otherwise) sit
at an interior best rate (not grid-limited) with every run plateaued.  Evidence that rests on an unfair or
inconclusive comparison is never established.  Each normalisation arm (batch norm, none) gives its own evidence:

- **C1** (a 56-layer plain net does worse than a 20-layer one, on training and test data): *supports* when the
  plain 56 is worse on both; *qualifies* when it is not worse on training error (in that arm, no degradation).
- **C2** (degradation is optimisation, not overfitting): *supports* when the plain 56 is worse on training error;
  *refutes* when it is not worse on training but worse on test error (that would be overfitting).
- **C3** (vanishing gradients are behind it), only in an arm where the plain 56 degrades on training error: the
  ratio ρ = ‖∂L/∂W‖ first / last trunk layer at initialisation (median over seeds).  ρ < 1/`GRADIENT_FACTOR`:
  gradients vanish toward the input, *supports*; ρ > `GRADIENT_FACTOR`: they explode, not vanish, *qualifies*;
  otherwise they are healthy while the net degrades, *refutes*.  The finding says which arm found which.
- **C13** (the residual structure removes degradation; hundreds or thousands of layers train): per arm where the
  plain 56 degrades, *supports* when every residual depth is not worse than residual-20 on training error;
  *qualifies* when some residual depth is worse or diverged (the residual structure alone did not remove it
  there).  Depth: the very deep residual net on the digits (`deep_depth`, e.g. 1202) and the trainable-depth
  stacks *support* when a residual variant trains at ≥ 1,000 layers while the plain stack stops; *qualify* when
  only zero-initialised residual branches (ReZero, Fixup) train and standard-initialised residual stacks stop;
  not measured (default and quick runs stop at 100 layers) is stated as such, never as a confirmation.
"""

from __future__ import annotations

from hfx.audit import Evidence, EvidenceKind, ExperimentStatus
from numerics.degradation.findings import (
    NOTE_DEPTH,
    SHALLOW,
    ArmResult,
    best_arms,
    compare,
    find,
    gap_size,
    pct,
)
from numerics.experiments import degradation as degradation_experiment
from numerics.experiments import trainable_depth as trainable_depth_experiment
from theory.core.derivation import Bearing

GRADIENT_FACTOR = 10.0  # a tenfold change of gradient norm across the trunk counts as vanishing/exploding
THOUSANDS = 1000  # "hundreds or even thousands of layers"
CLAIMS = ("C1", "C2", "C3", "C13")
ARM = {"batch": "with batch norm", "none": "without normalisation"}
Arms = dict[tuple[degradation_experiment.Arm, bool], ArmResult]


def _evidence(claim: str, established: bool, bearing: Bearing, finding: str, source: str = "degradation",
              status: ExperimentStatus | None = None) -> Evidence:
    title = {"degradation": f"plain vs residual nets of increasing depth, trained to a plateau ({claim})",
             "trainable-depth": "the depth at which plain, residual, ReZero and Fixup stacks stop training"}[source]
    # the finding is "<what was found>. <the numbers>": its first part is the one sentence a verdict quotes
    why = finding.split(". ", 1)[0].rstrip(".") + "." if ". " in finding else ""
    return Evidence(kind=EvidenceKind.EXPERIMENT, id=source, title=title,
                    status=status or (ExperimentStatus.CONFIRMED if established else ExperimentStatus.NOT_REPRODUCED),
                    bearing=bearing, finding=finding, why=why)


def _where(result: degradation_experiment.Result) -> str:
    c = result.config
    data = "the sklearn 8×8 digits" if c.data == "digits" else "CIFAR-10"
    model = "fully connected nets" if c.model == "mlp" else "He et al.'s CIFAR ResNets"
    return f"{model} of width {c.net_width} on {data} (He et al.: CNNs on CIFAR-10)"


def degradation_evidence(result: degradation_experiment.Result) -> dict[str, list[Evidence]]:
    """Evidence for C1, C2, C3 and C13 from the degradation study, by the rules of the module docstring."""
    arms = best_arms(result)
    out: dict[str, list[Evidence]] = {}
    where = _where(result)
    for norm in result.config.norms:
        p20, p56 = find(arms, "plain", SHALLOW, norm), find(arms, "plain", NOTE_DEPTH, norm)
        if p20 is None or p56 is None:
            continue
        arm = ARM[norm]
        train, test = compare(p20, p56, "train"), compare(p20, p56, "test")
        numbers = (f"{arm}: plain-20 training error {pct(p20.train)}, plain-56 {pct(p56.train)}; test "
                   f"{pct(p20.test)} vs {pct(p56.test)} (mean, 95% interval, n = {p56.n}; {where})")
        unfair = train.unfair or test.unfair
        gap = f"training error: {gap_size(train.difference, p56.train.mean)}"
        if train.fair and train.outcome == "worse" and test.outcome == "worse":
            c1 = _evidence("C1", True, Bearing.SUPPORTS, f"reproduced {arm}: {gap}. {numbers}")
        elif train.fair and train.outcome == "not worse":
            c1 = _evidence("C1", True, Bearing.QUALIFIES, f"not reproduced {arm}: the 56-layer plain net trains "
                                                          f"as well as the 20-layer one. {numbers}")
        else:
            why = f"not a fair comparison ({unfair})" if unfair else (
                f"plain 56 vs 20 is {train.outcome} on training and {test.outcome} on test error")
            c1 = _evidence("C1", False, Bearing.SUPPORTS, f"not established {arm}: {why}. {numbers}")
        if train.fair and train.outcome == "worse":
            c2 = _evidence("C2", True, Bearing.SUPPORTS,
                           f"{arm}, the training error itself rises with depth (optimisation, not overfitting): "
                           f"{numbers}")
        elif train.fair and train.outcome == "not worse" and test.fair and test.outcome == "worse":
            c2 = _evidence("C2", True, Bearing.REFUTES,
                           f"{arm}, only the test error rises with depth (overfitting, not optimisation): {numbers}")
        else:
            c2 = _evidence("C2", False, Bearing.SUPPORTS, f"not established {arm}: "
                           + (f"not a fair comparison ({train.unfair})" if train.unfair
                              else f"training error is {train.outcome}") + f". {numbers}")
        degrades = train.fair and train.outcome == "worse"
        out.setdefault("C1", []).append(c1)
        out.setdefault("C2", []).append(c2)
        out.setdefault("C3", []).append(_c3(p56, degrades, train.unfair, arm, numbers))
        c13 = _c13(arms, norm, degrades, arm, where)
        if c13 is not None:
            out.setdefault("C13", []).append(c13)
    if out and result.config.model == "mlp":
        out.setdefault("C13", []).append(_deep_digits(result, arms))
    return out


def _c3(p56: ArmResult, degrades: bool, unfair: str, arm: str, numbers: str) -> Evidence:
    ratio = p56.grad_ratio
    if unfair:
        return _evidence("C3", False, Bearing.SUPPORTS, f"not established {arm}: no fair comparison of plain 56 "
                                                        f"with 20 layers ({unfair}). {numbers}")
    if not degrades:
        return _evidence("C3", False, Bearing.SUPPORTS, f"{arm}: the plain-56 net does not degrade, so there is "
                                                        f"nothing for gradients to explain. {numbers}")
    if ratio is None:
        return _evidence("C3", False, Bearing.SUPPORTS, f"{arm}: no finite gradient norms at initialisation")
    if ratio < 1 / GRADIENT_FACTOR:
        bearing, kind = Bearing.SUPPORTS, "vanish toward the input"
    elif ratio > GRADIENT_FACTOR:
        bearing, kind = Bearing.QUALIFIES, "explode toward the input (a gradient problem, but not vanishing)"
    else:
        bearing, kind = Bearing.REFUTES, "are healthy (neither vanishing nor exploding)"
    return _evidence("C3", True, bearing, f"{arm}, the plain-56 net degrades while its gradients at initialisation "
                                          f"{kind}: ‖∂L/∂W‖ first/last trunk layer = {ratio:.3g} (median over seeds). "
                                          f"{numbers}")


def _c13(arms: Arms, norm: str, degrades: bool, arm: str, where: str) -> Evidence | None:
    r20 = find(arms, "residual", SHALLOW, norm)
    deeper = sorted((a for a in arms.values() if a.architecture == "residual" and a.norm == norm and not a.deep
                     and a.shortcut == "identity" and a.depth > SHALLOW), key=lambda a: a.depth)
    if r20 is None or not deeper or not degrades:
        return None
    comps = [compare(r20, a, "train") for a in deeper]
    numbers = "; ".join(f"residual-{a.depth} {pct(a.train)}" for a in [r20, *deeper]) + f" (training error, {where})"
    failed = [c for c in comps if c.outcome == "worse" or c.deep.n_diverged == c.deep.n]
    if failed and all(c.deep.n_diverged == c.deep.n or c.fair for c in failed):
        names = ", ".join(f"{c.deep.depth}" + (" (every seed diverged)" if c.deep.n_diverged == c.deep.n else "")
                          for c in failed)
        return _evidence("C13", True, Bearing.QUALIFIES,
                         f"{arm}, residual nets of {names} layers train worse than residual-20: the residual "
                         f"structure alone did not remove degradation there. {numbers}")
    if all(c.fair and c.outcome == "not worse" for c in comps):
        return _evidence("C13", True, Bearing.SUPPORTS,
                         f"{arm}, plain nets degrade but residual nets up to {deeper[-1].depth} layers train as well "
                         f"as residual-20. {numbers}")
    why = "; ".join(c.unfair or f"{c.deep.depth}: {c.outcome}" for c in comps if not c.established
                    or c.outcome != "not worse")
    return _evidence("C13", False, Bearing.SUPPORTS, f"not established {arm}: {why}. {numbers}")


def _deep_digits(result: degradation_experiment.Result, arms: Arms) -> Evidence:
    depth = result.config.deep_depth
    if not depth:
        return _evidence("C13", False, Bearing.SUPPORTS,
                         "a residual net of ≥ 1,000 layers on the digits: not measured in this run (hfx verify --full "
                         "trains 1,202 layers)", status=ExperimentStatus.NOT_MEASURED)
    deep = find(arms, "residual", depth, "batch", deep=True)
    r20 = find(arms, "residual", SHALLOW, "batch")
    if deep is None or r20 is None:
        return _evidence("C13", False, Bearing.SUPPORTS, f"residual-{depth}: no comparable runs",
                         status=ExperimentStatus.NOT_MEASURED)
    c = compare(r20, deep, "train")
    plain = find(arms, "plain", depth, "batch", deep=True)
    numbers = (f"residual-{depth} with batch norm: training error {pct(deep.train)}, test {pct(deep.test)}; "
               f"residual-20 {pct(r20.train)}" + (f"; plain-{depth} {pct(plain.train)}" if plain else ""))
    if deep.n >= 3 and deep.plateaued and c.outcome == "not worse":
        return _evidence("C13", True, Bearing.SUPPORTS, f"a {depth}-layer residual net trains on the digits as well "
                                                        f"as a 20-layer one. {numbers}")
    if deep.n >= 3 and deep.plateaued and c.outcome == "worse":
        return _evidence("C13", True, Bearing.QUALIFIES, f"the {depth}-layer residual net trains worse than the "
                                                         f"20-layer one. {numbers}")
    return _evidence("C13", False, Bearing.SUPPORTS, f"not established for {depth} layers ({c.outcome}"
                     + ("" if deep.plateaued else "; not every run plateaued") + f"). {numbers}")


def _where_trains(t: trainable_depth_experiment.TrainableDepth, deepest: int) -> str:
    """Where one variant trains, in words; a variant that fails at some depth and trains at a larger one (a
    seed-limited or step-limited grid point) gets both lists, never "trains up to 100, stops at 10"."""
    if not t.trains_at:
        return "trains at no depth measured"
    if not t.fails_at:
        return f"trains at every depth to {deepest}"
    if max(t.trains_at) < min(t.fails_at):
        return f"trains up to {max(t.trains_at)}, stops at {min(t.fails_at)}"
    listed = ", ".join(str(d) for d in t.trains_at)
    return f"trains at depths {listed} but not at {', '.join(str(d) for d in t.fails_at)}"


def trainable_depth_evidence(result: trainable_depth_experiment.Result) -> dict[str, list[Evidence]]:
    """C13 from the depths at which each variant stops training (module docstring)."""
    depths = {t.variant: t for t in trainable_depth_experiment.trainable_depths(result)}
    deepest = max(result.config.depths)
    words = "; ".join(f"{v}: {_where_trains(t, deepest)}" for v, t in depths.items())
    c = result.config
    setting = (f"{c.block} stacks, GD with η = c/L, loss < {c.budget.eps:g} within {c.budget.max_steps} steps, "
               f"{c.replicates.seeds} seeds")
    zero_init = [v for v in ("rezero", "fixup") if v in depths and (depths[v].deepest_trained or 0) >= THOUSANDS]
    plain = depths.get("plain")
    standard = depths.get("residual")
    if deepest < THOUSANDS:
        return {"C13": [_evidence("C13", False, Bearing.SUPPORTS, f"measured up to {deepest} blocks only (hfx verify "
                                  f"--full measures 1,000 and 10,000): {words} ({setting})", "trainable-depth",
                                  ExperimentStatus.NOT_MEASURED)]}
    plain_stop = plain.first_failure if plain is not None else None
    plain_stops = plain_stop is not None
    if zero_init and plain_stops and standard is not None and standard.first_failure is not None:
        return {"C13": [_evidence("C13", True, Bearing.QUALIFIES,
                                  f"stacks of thousands of layers train only with zero-initialised residual branches "
                                  f"({', '.join(zero_init)}); with a standard initialisation the residual stack stops "
                                  f"at {standard.first_failure} blocks and the plain one at {plain_stop}: "
                                  f"{words} ({setting})", "trainable-depth")]}
    if (zero_init or (standard and (standard.deepest_trained or 0) >= THOUSANDS)) and plain_stops:
        return {"C13": [_evidence("C13", True, Bearing.SUPPORTS, f"residual stacks of thousands of layers train while "
                                  f"plain ones stop: {words} ({setting})", "trainable-depth")]}
    return {"C13": [_evidence("C13", False, Bearing.SUPPORTS, f"not reproduced: {words} ({setting})",
                              "trainable-depth")]}
