"""Checking one step: the ladder of docs/design.md, with every exact success cross-checked.

For a step, in order:

1. **Static refusals** — a substituted value that contradicts its symbol's
   assumptions (class: "Substitute ignores assumptions"); a derivative evaluated at
   a kink where it does not exist (`theory.core.kinks`); an `Equivalent` factor not
   provably finite and nonzero.
2. **Exact engines** — SymPy's exact rungs (`theory.core.ladder`) on the sides with
   the assumptions' facts applied, and, for polynomial/rational real arithmetic,
   z3 (`theory.core.smt`) as an independent second engine.  Evaluated sides holding
   ``zoo``/``nan`` (or ``oo`` unless a side is a signed limit) fail the step.
3. **Numeric rung, always** — the sides *as built* (before any fact is applied) at
   seeded instances that realise every fact: exact rationals, special values and
   boundaries, independent (rectangular) matrix dimensions up to 4; differences
   decided exactly or with certified ball arithmetic (`theory.core.numbers`).  A
   counterexample fails the step even if an exact engine said "zero".

Status: **proved** if an exact engine certified the step, no engine disagreed and
the numeric rung found no counterexample; **checked** if only the numeric rung
supports it; **failed** otherwise.  The outcome names the engines that certified
the step and every cross-check performed.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import math
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import sympy as sp
import sympy.core.random as sympy_random
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr

from theory.core import (
    approach,
    concrete,
    cost,
    critical,
    dimensions,
    domain,
    explicit,
    extremes,
    kinks,
    ladder,
    limits,
    matrix_premise,
    numbers,
    premise,
    sampling,
    smt,
)
from theory.core.numbers import Verdict
from theory.core.steps import (
    Equivalent,
    Inequality,
    MatrixGradient,
    Status,
    Step,
    Substitute,
    same_tree,
    short,
)

MIN_DEFINED = 3  # a numeric rung needs at least this many instances where the sides are defined
APPLY_SECONDS = 10.0  # CPU seconds for the exact evaluation (`doit`) of one side; then the exact rungs give up
INSTANCE_SECONDS = 10.0  # CPU seconds to evaluate one side at one numeric instance (a SIGPROF limit)
NUMERIC_SECONDS = 20.0  # CPU seconds for all the instances of one numeric rung (then it decides on those done)
TOO_LARGE = "too large to evaluate exactly"  # an instance `theory.core.cost` keeps from exact arithmetic


@dataclass(frozen=True)
class Context:
    """What a step may use: the derivation's facts and sampling kinds, and a seed."""

    facts: Mapping[sp.Basic, sp.Basic]
    matrix_kinds: Mapping[sp.MatrixSymbol, str]
    seed: int
    refusal: str | None = None  # why the derivation's assumptions cannot be used, if they cannot

    def apply(self, expr: sp.Basic) -> sp.Basic:
        """Evaluate unevaluated operations and apply the declared facts (for the exact rungs); `cost.TooLarge`
        for a side whose exact evaluation cannot be afforded."""
        if cost.exact_unaffordable(expr):
            raise cost.TooLarge(f"{short(expr, 120)} holds a power too large to evaluate exactly")
        with ladder.time_limit(APPLY_SECONDS):  # SymPy's integrator or limit can run for minutes
            expr = subs_evaluated(expr)
            out = expr.doit() if hasattr(expr, "doit") else expr
            if self.facts:
                out = out.subs(dict(self.facts))
                out = out.doit() if hasattr(out, "doit") else out
        return out


@dataclass(frozen=True)
class Outcome:
    status: Status
    method: str  # what decided it, e.g. "expand" or "numeric (16 instances)"
    detail: str = ""  # counterexample or reason, when not proved
    engines: tuple[str, ...] = ()  # the exact engines that certified the step: "sympy", "z3"
    cross_checks: tuple[str, ...] = field(default_factory=tuple)  # every other check performed, and its result


def subs_evaluated(expr: sp.Basic) -> sp.Basic:
    """`expr` with every `Subs` evaluated on its own, innermost first.

    SymPy 1.14 compares `Subs` objects up to a renaming that can identify different ones:
    ``Subs(∂²(xy)/∂x∂y, (x, y), (0, 0)) == Subs(∂²(xy)/∂x², (x, y), (0, 0))`` although the values are 1
    and 0, and then merges them wherever it keys a dict or a cache by expressions (a matrix's `doit`, `subs`).
    Evaluating each `Subs` by itself, before anything else, keeps them apart.
    """
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr.rows, expr.cols, [subs_evaluated(e) for e in expr])
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Subs):
        return expr
    if isinstance(expr, sp.Subs):
        inner = sp.Subs(subs_evaluated(expr.expr), expr.variables, tuple(subs_evaluated(p) for p in expr.point))
        return inner.doit()
    return expr.func(*(subs_evaluated(a) for a in expr.args))


def check_step(step: Step, ctx: Context) -> Outcome:
    """Check one step; any exception is an undecided (failed) step, never a pass."""
    sympy_random.seed(ctx.seed)  # SymPy orders its assumption handlers at random: fix the order
    if ctx.refusal:
        return Outcome(Status.FAILED, "assumptions", ctx.refusal)
    try:
        step = exact_floats(step)
        refusal = _unsampled_symbols(step)
        if refusal:
            return Outcome(Status.FAILED, "assumptions", refusal)
        step = defined_within(step, ctx.facts)
        step, ctx = _whole_numbers(step, ctx)
        if isinstance(step, MatrixGradient):
            return _check_gradient(step, ctx)
        if isinstance(step, Inequality):
            return _check_inequality(step, ctx)
        return _check_equality(step, ctx)
    except Exception as exc:  # a crash in SymPy must fail the step, visibly
        return Outcome(Status.FAILED, "error", f"{type(exc).__name__}: {exc}")


def _unsampled_symbols(step: Step) -> str | None:
    """A refusal for a symbol whose domain the instances cannot stand for (`sampling.unsampled`), or None."""
    parts: list[object] = [step.lhs, step.rhs, getattr(step, "factor", None), getattr(step, "wrt", None)]
    parts += [e for pair in getattr(step, "subs", {}).items() for e in pair]
    symbols = {s for e in parts if isinstance(e, sp.Basic) for s in e.free_symbols if isinstance(s, sp.Symbol)}
    for s in sorted(symbols, key=str):
        why = sampling.unsampled(s)
        if why:
            given = getattr(s, "_assumptions_orig", None) or s.assumptions0  # (as declared, not all they imply)
            declared = ", ".join(k for k, v in sorted(given.items()) if v and k != "commutative")
            return (f"hfx cannot check a step about {s} ({declared}): {why}; declare it real (positive, integer, "
                    "...) and state what else you need as a fact")
    return None


def _whole_numbers(step: Step, ctx: Context) -> tuple[Step, Context]:
    """`step` and `ctx` with each dimension or count symbol declared an integer (`theory.core.dimensions`), and
    each limit's function rewritten off the limit point (`theory.core.limits`)."""
    converted, facts, kinds = dimensions.integer_dimensions(step, ctx.facts, ctx.matrix_kinds,
                                                            ("lhs", "rhs", "factor", "subs", "wrt"))
    rewritten = {name: limits.punctured(getattr(converted, name)) for name in ("lhs", "rhs", "factor", "subs")
                 if hasattr(converted, name)}
    if any(value is not getattr(converted, name) for name, value in rewritten.items()):
        converted = copy.copy(converted)  # each Limit's function off its point (`theory.core.limits`)
        for name, value in rewritten.items():
            object.__setattr__(converted, name, value)
    if converted is step:
        return step, ctx
    return converted, dataclasses.replace(ctx, facts=facts, matrix_kinds=kinds)  # type: ignore[return-value]


def defined_within(step: Step, facts: Mapping[sp.Basic, sp.Basic]) -> Step:
    """`step` with each defined symbol (a fact y = x², S = WWᵀ) written out by its definition inside every derivative,
    integral, sum, product, limit or Subs, in the whole of a `MatrixGradient`'s function, and in a `Substitute`'s
    values.

    A definition makes y a function of x: ∂y/∂x is 2x.  Left as a symbol, y was a constant to all of them (SymPy's
    `doit` runs before the facts are applied, and the numeric instances give y a number first): ∂y/∂x = 0,
    ∫₀¹ y dx = y and ∂tr(S)/∂W = 0 were proved.  A binder *by* a defined symbol (∂(y²)/∂y, a gradient by V with
    V = Wᵀ) reads that symbol as its variable: within it, that symbol's definition is not used, while the others
    are written out down to it (z = y + 1 stays y + 1 under ∂/∂y); over an expression that also holds what the
    definition depends on (∂x/∂y with y = 2x: x held fixed, or a function of y?) it is refused as ambiguous.
    Outside binders y and its definition are interchangeable under the facts, and the step is left as written.
    Definitions by a number (n = 3) change nothing under a binder and are left alone; a definition of a dimension
    (n = m + 1) is written out, but never into a matrix symbol's shape (W of shape n×n stays `wrt`'s W).
    """
    defined = {k: v for k, v in sampling.definitions(facts).items()
               if isinstance(v, sp.Basic) and (v.free_symbols or v.atoms(sp.MatrixSymbol))}
    if not defined:
        return step
    keys = set(defined)
    closures: dict[frozenset[sp.Basic], dict[sp.Basic, sp.Basic]] = {}

    def closed(excluded: frozenset[sp.Basic]) -> dict[sp.Basic, sp.Basic]:
        if excluded not in closures:
            closures[excluded] = _closed_definitions({k: v for k, v in defined.items() if k not in excluded})
        return closures[excluded]

    def names(e: sp.Basic) -> set[sp.Basic]:
        return e.free_symbols | e.atoms(sp.MatrixSymbol)

    def bound_by(n: sp.Basic) -> set[sp.Basic]:
        return set(n.args[1:2]) if isinstance(n, sp.Limit) else set(getattr(n, "variables", ()))

    def out(e: object, excluded: frozenset[sp.Basic], under: bool) -> object:
        if not isinstance(e, sp.Basic) or (isinstance(e, _SHAPED) and e not in keys) or not (
                names(e) & keys or (isinstance(e, sampling.BINDERS) and bound_by(e) & keys)):
            return e  # (a matrix symbol keeps its shape: W of shape n×n is `wrt`'s W even where n = m + 1)
        if isinstance(e, sampling.BINDERS):
            newly = sorted((bound_by(e) & keys) - excluded, key=sp.default_sort_key)
            outside = closed(excluded)
            inner = _rebuilt(e, [out(a, excluded | frozenset(newly), True) for a in e.args])
            at = [k for k in newly if k in outside]
            _refuse_ambiguous(inner, at, outside)
            if under and at:  # ∂(y²)/∂y inside ∫ … dx, y = x²: the derivative's value at y = x²
                values = {k: outside[k] for k in at}
                done = inner.doit()  # (not a Subs: SymPy merges nested Subs into one simultaneous substitution)
                if not done.has(*sampling.BINDERS):
                    return done.xreplace(values)
                return sp.Subs(inner, tuple(values), tuple(values.values()))
            return inner
        if under and e in keys:
            return closed(excluded).get(e, e)
        return _rebuilt(e, [out(a, excluded, under) for a in e.args])

    fields: dict[str, object] = {}
    premised = frozenset(step.subs) & keys if isinstance(step, Substitute) else frozenset()
    for name in ("lhs", "rhs", "factor"):
        if hasattr(step, name):
            value = getattr(step, name)
            if isinstance(step, MatrixGradient) and name == "lhs":  # the gradient by wrt: a binder of its own
                new = out(value, frozenset({step.wrt} & keys), True)
                if step.wrt in keys and isinstance(new, sp.Basic):
                    _refuse_ambiguous(step.lhs, [step.wrt], closed(frozenset()), body=new)
            elif isinstance(step, Substitute) and name == "lhs":
                new = _through_premise(out(value, premised, False), step.subs, closed(premised))
            elif name == "factor":  # nonzero on the whole domain: with y = x², y + 1 is x² + 1 (y = −1 is no point)
                new = out(value, frozenset(), True)
            else:
                new = out(value, frozenset(), False)
            if new is not value:
                fields[name] = new
    if isinstance(step, Substitute) and step.subs:
        subs = {k: out(v, frozenset(), False) for k, v in step.subs.items()}
        if any(subs[k] is not v for k, v in step.subs.items()):
            fields["subs"] = subs
    if not fields:
        return step
    converted = copy.copy(step)
    for name, value in fields.items():
        object.__setattr__(converted, name, value)
    return converted


_SHAPED = (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix)


def _through_premise(lhs: object, subs: Mapping[sp.Basic, sp.Basic], definitions: Mapping[sp.Basic, sp.Basic]
                     ) -> object:
    """A Substitute's side with each defined symbol whose definition holds a premise's symbol written out, so that
    the premise reaches it: with y = x², "at x = 2: y ⇒ 4" is x² at x = 2 (y was left as a symbol, untouched by
    x = 2, and the true step failed).  A symbol that is itself a premise's key stays (at y = 4: y ⇒ 4)."""
    if not isinstance(lhs, sp.Basic):
        return lhs
    reached = {k: v for k, v in definitions.items() if k not in subs and isinstance(v, sp.Basic)
               and (v.free_symbols | v.atoms(sp.MatrixSymbol)) & set(subs) and k in (lhs.free_symbols
                                                                                  | lhs.atoms(sp.MatrixSymbol))}
    return lhs.subs(reached) if reached else lhs


class AmbiguousDerivative(ValueError):
    """A binder by a defined symbol over an expression that also holds what the definition depends on."""


def _refuse_ambiguous(binder: sp.Basic, by: list[sp.Basic], definitions: Mapping[sp.Basic, sp.Basic],
                      body: sp.Basic | None = None) -> None:
    """∂x/∂y with y = 2x: x held fixed (0) or x as a function of y (1/2)?  The step does not say: refused.
    `body`: what the binder applies to (default: its first argument)."""
    if body is None:
        body = binder.expr if isinstance(binder, sp.Lambda) else binder.args[0] if binder.args else binder
    for key in by:
        value = definitions[key]
        dims = sampling.dimension_symbols([value, body])  # (W's n is not what W = … depends on)
        depends = (value.free_symbols | value.atoms(sp.MatrixSymbol)) - {key} - dims
        found = (body.free_symbols | body.atoms(sp.MatrixSymbol)) & depends
        if found:
            shown = ", ".join(sorted(map(str, found)))
            raise AmbiguousDerivative(
                f"{short(binder, 100)} is taken by {key}, defined as {short(value, 60)}, of an expression that holds "
                f"{shown} as well: is {shown} held fixed or a function of {key}? Write the definition out, or "
                f"differentiate by {shown}")


def _rebuilt(e: sp.Basic, args: list[object]) -> sp.Basic:
    """`e` with these arguments (itself if none changed), unevaluated where its class allows."""
    if all(a is b for a, b in zip(args, e.args, strict=True)):
        return e
    try:
        return e.func(*args, evaluate=False)
    except TypeError:
        return e.func(*args)


def _closed_definitions(defined: Mapping[sp.Basic, sp.Basic]) -> dict[sp.Basic, sp.Basic]:
    """Each definition written in undefined symbols only (z = y + 1 with y = x²: z = x² + 1); definitions are not
    circular (`theory.core.facts` refuses that)."""
    closed = dict(defined)
    for _ in range(len(closed)):  # (`subs`, not `xreplace`: a bound variable of a value is not a defined symbol)
        changed = {k: v.subs(closed) if isinstance(v, sp.Basic) else v for k, v in closed.items()}
        if changed == closed:
            break
        closed = changed
    return closed


def rationalised(e: object) -> object:
    """`e` with every Float replaced by the exact rational it holds (see `exact_floats`)."""
    if isinstance(e, sp.MatrixBase):
        return sp.ImmutableMatrix(e.rows, e.cols, [rationalised(v) for v in e])
    if isinstance(e, tuple):
        return tuple(rationalised(v) for v in e)
    if isinstance(e, sp.Basic) and e.has(sp.Float):
        return e.xreplace({f: sp.Rational(f) for f in e.atoms(sp.Float)})
    return e


def exact_floats(step: Step) -> Step:
    """`step` with every `Float` replaced by the exact rational number it holds (its binary value).

    A Float is a number like any other: ``0.1`` is 3602879701896397/2⁵⁵, so ``0.1·3 = 0.3`` is false (the two
    binary values differ by 2⁻⁵⁴·…) and ``exp(1e-16) = 1`` is false.  Checked as Floats, SymPy would round
    (exp of a 53-bit Float is 1.0) and the numeric rung could only say "agrees to 53 bits": neither
    decides a step.  Rationals are decided exactly.
    """
    fields = {name: getattr(step, name) for name in ("lhs", "rhs", "factor", "subs") if hasattr(step, name)}
    if not any(_has_float(v) for v in fields.values()):
        return step
    converted = copy.copy(step)
    for name, value in fields.items():
        if name == "subs":
            value = {rationalised(k): rationalised(v) for k, v in value.items()}
        else:
            value = rationalised(value)
        object.__setattr__(converted, name, value)
    return converted


def _has_float(e: object) -> bool:
    if isinstance(e, dict):
        return any(_has_float(k) or _has_float(v) for k, v in e.items())
    if isinstance(e, tuple):
        return any(_has_float(v) for v in e)
    if isinstance(e, sp.MatrixBase):
        return any(_has_float(v) for v in e)
    return isinstance(e, sp.Basic) and e.has(sp.Float)


def check_equal(lhs: sp.Basic, rhs: sp.Basic, ctx: Context) -> Outcome:
    """The ladder for an equality ``lhs = rhs``; sides that differ but look the same (a hollow step, e.g. two
    symbols of one name) fail."""
    if _identical(lhs, rhs):
        return _check_identical(lhs, ctx)
    try:
        step = Step(lhs, rhs, "equality")
    except ValueError as exc:
        return Outcome(Status.FAILED, "hollow", str(exc))
    return check_step(step, ctx)


# ---- equalities (Equal, Substitute, Equivalent) ---------------------------------------------------------------


def _check_equality(step: Step, ctx: Context) -> Outcome:
    raw_l, raw_r = step.sides()
    refusal = _static_refusal(step, raw_l, raw_r, ctx)
    if refusal:
        return Outcome(Status.FAILED, refusal[0], refusal[1])
    certified: list[str] = []
    notes: list[str] = []
    exact_method = ""
    evaluated: tuple[sp.Basic, sp.Basic] | None = None
    try:
        if approach.limit_of_a_jump(raw_l, raw_r):
            notes.append(JUMP_NOTE)
        else:
            evaluated = (ctx.apply(raw_l), ctx.apply(raw_r))
    except Exception as exc:  # fall back to the numeric rung (class: false alarms)
        notes.append(f"exact rungs: error {type(exc).__name__}: {short(exc, 120)}")
    if evaluated is not None:
        bad = _infinity_problem(evaluated, signed_limit=_is_limit(raw_l) or _is_limit(raw_r))
        if bad:
            return Outcome(Status.FAILED, "infinity", bad)
        if _identical(*evaluated):
            certified.append("sympy")
            exact_method = "doit"
        try:
            difference = evaluated[0] - evaluated[1]
        except (TypeError, ValueError) as exc:  # e.g. shape mismatch
            return Outcome(Status.FAILED, "structural", f"sides cannot be compared: {exc}")
        try:
            exact = None if certified else ladder.prove_zero(difference)
        except Exception as exc:
            exact = None
            notes.append(f"exact rungs: error {type(exc).__name__}: {short(exc, 120)}")
        if exact is not None:
            certified.append("sympy")
            exact_method = exact
    # a Substitute's domain is that of its side with the premise put in unevaluated (y/y at x = y, not 1)
    held_l = step.held_sides()[0] if isinstance(step, Substitute) else raw_l
    refuted, undefined_somewhere = _domain(held_l, "=", raw_r, ctx)
    if refuted is not None:
        return refuted
    factor = step.factor if isinstance(step, Equivalent) else None
    evidence = _numeric(raw_l, raw_r, ctx, factor=factor, cross_check=bool(certified))
    if evidence.status is Status.FAILED and evidence.method != "undecided":
        return evidence
    if evidence.status is Status.CHECKED and not certified and not ctx.facts and not isinstance(step, Equivalent):
        found = extremes.search_both((raw_l, raw_r), evaluated, "=", _value_at)  # far out, by a jump, at a maximum
        if found:
            return Outcome(Status.FAILED, "counterexample (extreme point)", found, cross_checks=(evidence.method,))
    if evidence.status is Status.CHECKED and not certified and evaluated is not None:  # (Equivalent too: its
        # sides are a − b and factor·(c − d), and the step claims they are equal)
        tiny = _tiny_exact_difference(*evaluated)
        if tiny:
            return Outcome(Status.FAILED, "counterexample (exact evaluation)", tiny, cross_checks=(evidence.method,))
    if evaluated is not None and not _has_matrices(*evaluated):
        smt_outcome = _smt(evaluated[0], "=", evaluated[1], certified, notes, exact_method)
        if smt_outcome is not None:
            return smt_outcome
    return _conclude(certified, exact_method, evidence, notes, undefined_somewhere)


TINY_BITS = 64  # an exact difference below 2⁻⁶⁴ of the sides' size is beneath what the numeric rung resolves


def _tiny_exact_difference(left: sp.Basic, right: sp.Basic) -> str | None:
    """Why the exactly evaluated sides differ by a nonzero constant too small for the numeric rung to see, or None.

    The numeric rung evaluates an infinite sum, an integral or a limit at finite precision (60 digits, a
    quadrature), so it "agrees" with a right side that is off by 10⁻⁴⁰.  Where the exact rungs evaluated
    both sides to constants whose difference Arb certifies nonzero *and* below 2⁻⁶⁴ of their size, the step is
    false: no numeric resolution contradicts that.  A large exact difference against a numeric agreement is
    left to the numeric rung (SymPy's integrator is sometimes wrong: ∫₀^π atan(tan x) dx = −π²/2).
    """
    if _has_matrices(left, right) or not all(isinstance(v, sp.Expr) for v in (left, right)):
        return None
    try:
        difference = left - right
        unevaluated = (sp.Integral, sp.Sum, sp.Product, sp.Limit, sp.Derivative, sp.Subs, AppliedUndef)
        if difference.has(*unevaluated) or left.has(*unevaluated) or right.has(*unevaluated):
            return None
        symbols = sorted(left.free_symbols | right.free_symbols, key=str)  # (1 − e^(−t) + 10⁻⁸⁰ − (1 − e^(−t))
        # has none, but the sides do: Arb compares them at a point)
        if symbols:  # the closed forms at one exact point of the domain (special values other than 0 first)
            if not all(isinstance(v, sp.Symbol) for v in symbols):
                return None
            point = {}
            for v in symbols:
                values = [c for c in sampling.special_values(v) if c != 0]
                if not values:
                    return None
                point[v] = values[0]
            left, right = sampling.substitute(left, point), sampling.substitute(right, point)
            difference = left - right
            where = f" at {', '.join(f'{k} = {v}' for k, v in point.items())}"
        else:
            where = ""
        comparison = numbers.compare(left, right)
        if comparison.verdict is Verdict.DIFFER:
            ball = numbers._ball(difference, numbers.PRECISIONS[-1])
            scale_ball = numbers._ball(sp.Abs(left) + sp.Abs(right) + 1, 128)
            if ball is None or scale_ball is None or not ball.is_finite() or not scale_ball.is_finite():
                return None
            size, scale = float(ball.abs_upper()), float(scale_ball.abs_upper())
        elif comparison.verdict is Verdict.DIFFER_UNCERTIFIED:  # a function Arb lacks (SymPy's meijerg for
            # ∫₀¹ H(x − 1/3) dx): SymPy's evalf, as the numeric rung would fail it — failing is the safe side
            digits = numbers.EVALF_DIGITS[-1]
            size = float(abs(sp.N(difference, digits)))
            scale = float(1 + abs(sp.N(left, 30)) + abs(sp.N(right, 30)))
        else:
            return None
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, NotImplementedError, OverflowError):
        return None
    if not (math.isfinite(size) and math.isfinite(scale)) or size >= scale * 2.0**-TINY_BITS:
        return None
    return (f"the sides evaluate exactly{where} to {short(left, 120)} and {short(right, 120)}, which differ by "
            f"{comparison.difference} ({comparison.how}): below the resolution of the numeric rung, which agreed")


def _check_identical(expr: sp.Basic, ctx: Context) -> Outcome:
    evidence = _numeric(expr, expr, ctx)
    if evidence.status is Status.FAILED and evidence.method != "undecided":
        return evidence
    return Outcome(Status.PROVED, "structural", engines=("sympy",), cross_checks=(evidence.method,))


def _conclude(certified: list[str], exact_method: str, evidence: Outcome, notes: list[str],
              undefined_somewhere: str = "") -> Outcome:
    """The status: an exact certificate proves the step only if its sides are provably defined on the domain."""
    if undefined_somewhere:
        notes = [*notes, f"domain: {short(undefined_somewhere, 200)}"]
        if certified:
            notes.append(f"not proved: the certificate of {', '.join(certified)} holds only where the sides are "
                         "defined")
        certified = []
    checks = tuple([evidence.method if evidence.status is not Status.FAILED else f"numeric: {evidence.detail}",
                    *notes])
    if certified:
        method = exact_method or "z3"
        if "z3" in certified and exact_method:
            method = f"{exact_method}; z3"
        return Outcome(Status.PROVED, method, engines=tuple(certified), cross_checks=checks)
    if evidence.status is Status.CHECKED:
        return Outcome(Status.CHECKED, evidence.method, "no exact engine certified it", cross_checks=checks)
    return Outcome(Status.FAILED, "undecided", evidence.detail or "no exact engine certified it, and the numeric "
                   "rung could not evaluate it", cross_checks=checks)


def _smt(left: sp.Basic, relation: str, right: sp.Basic, certified: list[str], notes: list[str],
         exact_method: str) -> Outcome | None:
    """Run z3 where it applies; an Outcome only when it contradicts (then the step fails)."""
    if not smt.applicable(left, right):
        return None
    result = smt.decide(left, relation, right)
    if result.verdict is smt.SmtVerdict.CERTIFIED:
        certified.append("z3")
    elif result.verdict is smt.SmtVerdict.UNDEFINED:  # a domain condition fails or is unproved: nothing certified
        notes.append(f"z3 certifies nothing: {short(result.detail, 160)}")
    elif result.verdict is smt.SmtVerdict.COUNTEREXAMPLE:
        sympy_said = f"SymPy's {exact_method} said it holds" if exact_method else "SymPy could not decide it"
        return Outcome(Status.FAILED, "engines disagree" if exact_method else "counterexample (z3)",
                       f"{result.detail}; {sympy_said}", engines=tuple(e for e in certified if e != "z3"))
    else:
        notes.append(f"z3 {result.verdict}: {short(result.detail, 120)}")
    return None


# ---- static refusals -------------------------------------------------------------------------------------------


def _static_refusal(step: Step, raw_l: sp.Basic, raw_r: sp.Basic, ctx: Context) -> tuple[str, str] | None:
    pairs: list[tuple[sp.Basic, sp.Basic]] = list(step.subs.items()) if isinstance(step, Substitute) else []
    for side in (step.lhs, step.rhs):
        if isinstance(side, sp.Basic):
            for node in sp.preorder_traversal(side):
                if isinstance(node, sp.Subs):
                    pairs += list(zip(node.variables, node.point, strict=True))
    for symbol, value in pairs:
        if isinstance(symbol, sp.Symbol) and isinstance(value, sp.Basic) and not isinstance(value, MatrixExpr):
            broken = _broken_assumptions(value, symbol)
            if broken:
                return "assumptions", (
                    f"the value {value} given to {symbol} does not satisfy its assumptions ({broken}); a value "
                    "outside the domain (e.g. 0 for a positive symbol) is a limit: state it as a Limit"
                )
    if isinstance(step, Substitute):
        for key, value in step.subs.items():
            problem = (premise.unsatisfiable(key, value)
                       or premise.contradicts_facts(key, value, step.subs, ctx.facts)
                       or matrix_premise.unsatisfiable(key, value, ctx.facts, ctx.matrix_kinds))
            if problem:
                return "premise", problem
    for side in (raw_l, raw_r):
        problem = kinks.derivative_at_kink(side) if isinstance(side, sp.Basic) else None
        if problem:
            return "derivative at a kink", problem
    if isinstance(step, Equivalent):
        problem = _factor_refusal(step.factor)
        if problem:
            return "factor", problem
    return None


def _value_at(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Basic]) -> sp.Basic | None:
    """`expr` at an exact point as the numeric rung evaluates it (derivatives first), zoo/nan kept; None if unknown."""
    try:
        with ladder.time_limit(INSTANCE_SECONDS):
            substituted = sampling.substitute(_smooth_derivatives(expr), point, evaluate=False)
            if isinstance(substituted, sp.UnevaluatedExpr):
                return substituted  # too large for exact arithmetic: Arb decides (`theory.core.cost`)
            if isinstance(substituted, sp.Basic) and kinks.derivative_at_kink(substituted):
                return None
            return sampling.evaluate_instance(subs_evaluated(substituted))
    except (ValueError, TypeError, ZeroDivisionError, AttributeError, NotImplementedError, RecursionError,
            ladder.Timeout):
        return None


def _broken_assumptions(value: sp.Basic, symbol: sp.Symbol) -> str:
    broken = []
    for fact, expected in sorted(symbol.assumptions0.items()):
        if fact == "commutative":
            continue
        got = getattr(value, f"is_{fact}", None)
        if got is not expected:
            broken.append(f"{fact}: {'not shown' if got is None else got}")
    return ", ".join(broken)


def _factor_refusal(factor: sp.Basic) -> str | None:
    """Why the factor of an `Equivalent` is not provably finite and nonzero everywhere (None if it is).

    SymPy's ``is_zero``/``is_finite`` are necessary, not sufficient (``1/atan((m − 100)²)``
    is "finite" to SymPy, infinite at m = 100): the factor's domain conditions and
    ``factor ≠ 0`` must also be decided by `theory.core.domain` (z3, or the assumptions
    confirmed at the zeros of its sub-expressions).
    A factor in one real symbol whose range (SymPy's `function_range`) is a bounded interval without 0 is finite
    and nonzero (2 + sin x); its domain conditions must still be proved.
    """
    bounded = premise.bounded_away_from_zero(factor)
    decidable = isinstance(factor, sp.Expr) and not _has_matrices(factor, sp.S.Zero)
    if factor.is_zero is not False and not bounded and not decidable:  # else "factor ≠ 0" is decided below
        return f"factor {factor} is not provably nonzero"
    if factor.is_finite is not True and not bounded:
        return f"factor {factor} is not provably finite (it may be infinite or undefined somewhere on the domain)"
    if decidable:
        nonzero = [] if bounded else [domain.Condition(factor, "≠", "the factor")]
        for condition in [*domain.conditions(factor, real=False), *nonzero]:
            decision = domain.decide(condition)
            if decision.status != "proved":
                return f"factor {factor}: {decision.how}"
    return None


def _domain(raw_l: sp.Basic, relation: str, raw_r: sp.Basic, ctx: Context) -> tuple[Outcome | None, str]:
    """The sides' domain (`theory.core.domain`): (a failed Outcome, or None; why no certificate may stand, or "").

    The step fails at an exact point where it is false or one side only is undefined (for an
    inequality: not real) — the zeros of its polynomial sub-expressions, where SymPy's sign queries
    are wrong, and the points z3 or a root finder give against a domain condition.  A condition that
    cannot be proved keeps every exact certificate from standing (the step is at most checked).
    """
    if _has_matrices(raw_l, raw_r):
        return None, _unknown_inverse((raw_l, raw_r), ctx.matrix_kinds)
    if not all(isinstance(s, sp.Expr) for s in (raw_l, raw_r)):
        return None, ""
    found = domain.refute(raw_l, relation, raw_r, evaluate=_value_at)
    if found:
        return Outcome(Status.FAILED, "counterexample", f"{found} (a zero of a sub-expression)"), ""
    verdict = domain.obligations(raw_l, relation, raw_r, apply=ctx.apply, evaluate=_value_at)
    if verdict.failure:
        return Outcome(Status.FAILED, "domain", verdict.failure), ""
    inexact = _kinks_at_inexact_points(raw_l, raw_r)
    return None, "; ".join(filter(None, [verdict.unproved, inexact]))


_ALWAYS_INVERTIBLE = ("spd", "orthogonal", "invertible")


def _unknown_inverse(sides: tuple[sp.Basic, ...], kinds: Mapping[sp.Basic, str]) -> str:
    """Why an inverse in `sides` may not exist on the declared domain, or "".

    A⁻¹ exists only where det A ≠ 0, as 1/x only where x ≠ 0; hfx draws general matrices that are invertible, so
    tr(A⁻¹A) = n was proved for a general A (false at A = 0).  An inverse is known to exist for a matrix of kind
    "spd", "orthogonal" or "invertible", I, a nonzero multiple, a product, transpose or inverse of such matrices,
    and a sum of positive semidefinite terms (an spd matrix, c·I or c·S with c ≥ 0) one of which is definite
    (Σ + λI with λ > 0).  Any other inverse keeps the step from being proved (it is at most checked)."""

    def invertible(m: sp.Basic) -> bool:
        if isinstance(m, (sp.MatAdd, sp.MatMul)):
            m = m.doit()  # (a premise put in unevaluated: λI + (A − λI) is A)
        if isinstance(m, sp.Identity):
            return True
        if isinstance(m, sp.MatrixSymbol):
            return kinds.get(m) in _ALWAYS_INVERTIBLE
        if isinstance(m, (sp.Transpose, sp.Inverse)):
            return invertible(m.arg)
        if isinstance(m, sp.MatMul):
            scalars = [a for a in m.args if not isinstance(a, MatrixExpr)]
            return all(a.is_nonzero is True for a in scalars) and all(
                invertible(a) for a in m.args if isinstance(a, MatrixExpr))
        if isinstance(m, sp.MatAdd):
            terms = [_semidefinite(a) for a in m.args]
            return all(t is not None for t in terms) and any(t == "definite" for t in terms)
        return False

    def _semidefinite(m: sp.Basic) -> str | None:  # "definite", "semidefinite" or None (unknown)
        scale, core = sp.S.One, m
        if isinstance(m, sp.MatMul):
            scalars = [a for a in m.args if not isinstance(a, MatrixExpr)]
            matrices = [a for a in m.args if isinstance(a, MatrixExpr)]
            if len(matrices) != 1:
                return None
            scale, core = sp.Mul(*scalars), matrices[0]
        if not (isinstance(core, sp.Identity) or (isinstance(core, sp.MatrixSymbol) and kinds.get(core) == "spd")):
            return None
        if scale.is_positive is True:
            return "definite"
        return "semidefinite" if scale.is_nonnegative is True else None

    for side in sides:
        if not isinstance(side, sp.Basic):
            continue
        for node in sp.preorder_traversal(side):
            base = None
            if isinstance(node, sp.Inverse):
                base = node.arg
            elif isinstance(node, sp.MatPow) and node.exp.is_negative is True:
                base = node.base
            if base is not None and not invertible(base):
                return (f"({base})⁻¹ exists only where det({base}) ≠ 0, which the declared kinds do not ensure "
                        "(declare the matrix kind \"invertible\", \"spd\" or \"orthogonal\")")
    return ""


def _kinks_at_inexact_points(*sides: sp.Basic) -> str:
    """Why a derivative of a kinked function (|g|, max(g, h), sign g, …) may not be proved, or "".

    The derivative does not exist where g = 0 (or g = h), and the step is refuted there when that point is exact
    (`kinks`).  Where g's zeros can only be approximated (x³ − x − 1 = 0, cos x = x: a root of no short closed
    form), no instance lands on them: d/dx|x³ − x − 1| = (3x² − 1)·sign(x³ − x − 1) was proved.  Such a step is
    at most checked."""
    for side in sides:
        for node in sp.preorder_traversal(side):
            if not (isinstance(node, sp.Derivative) and kinks.has_kinks(node.expr)):
                continue
            for kinked in node.expr.atoms(sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min):
                args = kinked.args[:1] if not isinstance(kinked, (sp.Max, sp.Min)) else [
                    a - b for a, b in itertools.combinations(kinked.args, 2)]
                for g in args:
                    for v in node.variables:
                        if not isinstance(v, sp.Symbol) or v not in g.free_symbols:
                            continue
                        rest = [o for o in g.free_symbols - {v} if isinstance(o, sp.Symbol)]
                        if len(rest) != len(g.free_symbols) - 1:
                            continue  # (a matrix inside: not a real function of v)
                        approx: list[sp.Rational] = []
                        for choice in (0, 1):  # the others at their first, then their second admissible value
                            others = {o: sampling.filler(o, choice) for o in rest}
                            if any(val is None for val in others.values()):
                                break
                            approx = critical.zeros(g.xreplace(others), v)[1]
                            if approx:
                                break
                        if approx:
                            return (f"the derivative of {kinked} does not exist where {g} = 0, at points such as "
                                    f"{v} ≈ {sp.N(approx[0], 8)} that no exact instance reaches")
    return ""


def _is_limit(side: sp.Basic) -> bool:
    return isinstance(side, sp.Limit)


def _value_nodes(e: sp.Basic) -> Iterator[sp.Basic]:
    """Every node of `e` that is a value (not a bound of a sum, product, integral or limit)."""
    if isinstance(e, (sp.Sum, sp.Product, sp.Integral)):
        yield e
        yield from _value_nodes(e.function)
        return
    if isinstance(e, sp.Limit):
        yield e
        yield from _value_nodes(e.args[0])
        return
    yield e
    for a in e.args:
        if isinstance(a, sp.Basic):
            yield from _value_nodes(a)


def _infinity_problem(sides: tuple[sp.Basic, sp.Basic], signed_limit: bool) -> str | None:
    for name, side in zip(("lhs", "rhs"), sides, strict=True):
        entries = list(side) if isinstance(side, sp.MatrixBase) else [side]
        for entry in entries:
            if not isinstance(entry, sp.Basic):
                continue
            nodes = list(_value_nodes(entry))
            if any(n is sp.zoo or n is sp.nan for n in nodes):
                return f"the {name} evaluates to an undefined value ({short(entry, 200)}): zoo/nan prove nothing"
            if not signed_limit and any(n in (sp.oo, -sp.oo) for n in nodes):
                return f"the {name} evaluates to an infinity ({short(entry, 200)}); only a signed limit may equal ±oo"
            for n in nodes:  # a series or product SymPy left unevaluated may diverge (Σ(−1)ᵏk, Π(1 + 1/k))
                if sampling.infinite_bounds(n) and not n.free_symbols and concrete.diverges(n):
                    return f"the {name} holds {short(n, 200)}, which diverges: it has no value"
    return None


# ---- the numeric rung ------------------------------------------------------------------------------------------


def _has_matrices(lhs: sp.Basic, rhs: sp.Basic) -> bool:
    kinds = (MatrixExpr, sp.MatrixBase)
    if isinstance(lhs, kinds) or isinstance(rhs, kinds):
        return True
    return any(isinstance(s, sp.Basic) and bool(s.atoms(sp.MatrixSymbol)) for s in (lhs, rhs))


def _evaluate(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> tuple[sp.Basic | None, str | None]:
    """The value of `expr` at `point`, or (None, why undefined); a derivative at a kink raises `_KinkRefusal`.

    At most `INSTANCE_SECONDS` of CPU time: an instance that takes longer (a sum of ten million terms, Γ of
    10⁶ + ½ exactly) is no evidence either way (`TOO_LARGE`)."""
    try:
        with ladder.time_limit(INSTANCE_SECONDS):
            return _evaluate_within(expr, point)
    except ladder.Timeout:
        return None, f"{TOO_LARGE} (more than {INSTANCE_SECONDS:g} s of CPU time)"


def _evaluate_within(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> tuple[sp.Basic | None, str | None]:
    if _explicit_candidate(expr):
        try:
            return explicit.evaluate(expr, point), None
        except explicit.Singular as exc:
            return None, f"undefined ({exc})"
        except explicit.Unsupported:
            pass  # SymPy evaluates it below
    expr = _smooth_derivatives(expr)
    try:
        substituted = sampling.substitute(expr, point, evaluate=False)
    except cost.TooLarge as exc:
        return None, f"{TOO_LARGE} ({short(exc, 80)})"
    except (ValueError, TypeError, ZeroDivisionError, AttributeError, NotImplementedError) as exc:
        return None, f"undefined ({type(exc).__name__})"
    problem = kinks.derivative_at_kink(substituted) if isinstance(substituted, sp.Basic) else None
    if problem:
        raise _KinkRefusal(problem)
    if isinstance(substituted, sp.UnevaluatedExpr):  # a power too large for exact arithmetic: Arb decides
        return substituted, None
    try:
        value = sampling.evaluate_instance(subs_evaluated(substituted))
    except cost.TooLarge as exc:
        return None, f"{TOO_LARGE} ({short(exc, 80)})"
    except (ValueError, TypeError, ZeroDivisionError, AttributeError, NotImplementedError) as exc:
        return None, f"undefined ({type(exc).__name__}: {short(exc, 80)})"
    if numbers.undefined(value):
        return None, f"undefined ({short(value, 80)})"
    return value, None


class _KinkRefusal(Exception):
    pass


class _NotUsed(Exception):
    """The exact rungs are not used for this step (a note says why)."""


JUMP_NOTE = ("exact rungs: not used: a limit of a function with a jump, which SymPy's limit decides at the point "
             "instead of beside it (theory.core.approach); the numeric rung approaches the point")


def _expensive(expr: sp.Basic) -> bool:
    """A limit, an integral or an infinite sum: SymPy solves one afresh at every instance (up to seconds)."""
    if not isinstance(expr, sp.Basic):
        return False
    return bool(expr.has(sp.Limit, sp.Integral)) or any(
        sampling.infinite_bounds(e) for e in expr.atoms(sp.Sum, sp.Product)
    )


def _explicit_candidate(expr: sp.Basic) -> bool:
    """A matrix expression (or a trace or determinant of one) with nothing SymPy must evaluate symbolically."""
    return (isinstance(expr, sp.Basic) and bool(expr.atoms(sp.MatrixSymbol))
            and not expr.has(*sampling.BINDERS) and not expr.atoms(AppliedUndef))


def _smooth_derivatives(expr: sp.Basic) -> sp.Basic:
    if isinstance(expr, sp.MatrixBase):  # (explicit matrices may be mutable: unhashable, so entry by entry)
        return sp.ImmutableMatrix(expr.rows, expr.cols, [_smooth_derivatives(e) for e in expr])
    if isinstance(expr, sp.Basic) and expr.has(sp.Subs):  # never a cache key: see `subs_evaluated`
        return _smooth_derivatives_of.__wrapped__(expr)
    return _smooth_derivatives_of(expr)


@functools.lru_cache(maxsize=4096)
def _smooth_derivatives_of(expr: sp.Basic) -> sp.Basic:
    """`expr` with every derivative of a kink-free function evaluated once, symbolically.

    (d/dx f)(a) is the same number whether f′ is found before or after x = a is put in; doing it once
    spares a differentiation per instance.  Derivatives of functions with kinks stay unevaluated, so that
    the kink check sees them at the point (`theory.core.kinks`).
    """
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Derivative):
        return expr
    return expr.replace(
        lambda e: isinstance(e, sp.Derivative) and not kinks.has_kinks(e.expr) and not e.atoms(AppliedUndef),
        lambda e: e.doit(),
    )


class _At:
    """"at <the instance>", printed only when a message needs it (printing every instance costs time)."""

    def __init__(self, instance: sampling.Instance) -> None:
        self.instance = instance

    def __str__(self) -> str:
        return f"at {short(self.instance.describe(), 400)}"

    __format__ = lambda self, spec: format(str(self), spec)  # noqa: E731


_pairs = numbers.entry_pairs


class _Constants:
    """`_evaluate`, once per side that no instance changes (no free symbol, matrix symbol or undefined function):
    a constant side (an infinite product, a long sum) costs its evaluation once, not once per instance."""

    def __init__(self) -> None:
        self.memo: dict[sp.Basic, tuple[sp.Basic | None, str | None]] = {}

    def __call__(self, expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> tuple[sp.Basic | None, str | None]:
        if not (isinstance(expr, sp.Expr) and not expr.free_symbols and not expr.atoms(sp.MatrixSymbol, AppliedUndef)
                and not expr.has(sp.Subs)):
            return _evaluate(expr, point)
        if expr not in self.memo:
            self.memo[expr] = _evaluate(expr, point)
        return self.memo[expr]


def _numeric(lhs: sp.Basic, rhs: sp.Basic, ctx: Context, factor: sp.Basic | None = None,
             cross_check: bool = False) -> Outcome:
    """Evaluate ``lhs = rhs`` (and an Equivalent's factor) at seeded instances realising the facts.

    With `cross_check` (an exact engine already certified the step) fewer instances are used: the special
    values and boundaries, where an engine's bug shows, always come first.
    """
    rng = random.Random(ctx.seed)
    matrices = _has_matrices(lhs, rhs)
    if cross_check:
        count = sampling.CROSS_CHECK_MATRICES if matrices else sampling.CROSS_CHECK_POINTS
    else:
        count = sampling.MATRIX_INSTANCES if matrices else sampling.NUMERIC_POINTS
    if _expensive(lhs) or _expensive(rhs):
        count = min(count, sampling.EXPENSIVE_POINTS)
    exprs = [e for e in (lhs, rhs, factor) if isinstance(e, sp.Basic)]
    defined, skipped = 0, 0
    undecided: list[str] = []
    hows: set[str] = set()
    evaluate = _Constants()
    try:
        deadline = time.process_time() + NUMERIC_SECONDS
        for instance in sampling.instances(exprs, rng, count, ctx.matrix_kinds, ctx.facts):
            if time.process_time() > deadline:
                undecided.append(f"the numeric rung's budget of {NUMERIC_SECONDS:g} s of CPU time ran out")
                break
            a, why_a = evaluate(lhs, instance.point)
            b, why_b = evaluate(rhs, instance.point)
            at = _At(instance)
            if a is None and b is None:
                skipped += 1
                continue
            if any(why is not None and why.startswith(TOO_LARGE) for why in (why_a, why_b)):
                undecided.append(f"{at}: {why_a or why_b}")  # not evidence either way
                continue
            if a is None or b is None:
                side, why, other = ("lhs", why_a, b) if a is None else ("rhs", why_b, a)
                return Outcome(Status.FAILED, "counterexample",
                               f"{at}: the {side} is {why} while the other side is {short(other, 200)}")
            if factor is not None:
                f, why_f = _evaluate(factor, instance.point)
                if f is None or numbers.compare(f, 0).verdict in (Verdict.EQUAL, Verdict.AGREE):
                    return Outcome(Status.FAILED, "factor", f"{at}: the factor {factor} is {why_f or 0}")
            pairs = _pairs(a, b)
            if pairs is None:
                return Outcome(Status.FAILED, "counterexample", f"{at}: the sides have different shapes")
            for x, y in pairs:
                result = numbers.compare(x, y)
                hows.add(result.how.split(" (")[0])
                if result.differs:
                    certified = "" if result.verdict is Verdict.DIFFER else " (not certified)"
                    return Outcome(Status.FAILED, "counterexample",
                                   f"{at}: lhs = {short(a, 300)}, rhs = {short(b, 300)}; difference "
                                   f"{short(result.difference, 120)} by {result.how}{certified}")
                if result.verdict is Verdict.UNDECIDED:
                    undecided.append(f"{at}: {short(x, 120)} vs {short(y, 120)} ({result.how})")
                    break
            else:
                defined += 1
    except _KinkRefusal as exc:
        return Outcome(Status.FAILED, "derivative at a kink", str(exc))
    except sampling.NoInstance as exc:
        return Outcome(Status.FAILED, "undecided", f"no instance: {exc}")
    if defined < min(MIN_DEFINED, count) or len(undecided) > defined:
        why = f"; e.g. could not decide {undecided[0]}" if undecided else ""
        return Outcome(Status.FAILED, "undecided",
                       f"the sides were decided at only {defined} of {count} instances{why}")
    kind = "explicit matrices" if matrices else "numeric"
    skipped_text = f", {skipped} outside the domain" if skipped else ""
    skipped_text += f", {len(undecided)} undecidable" if undecided else ""
    return Outcome(Status.CHECKED, f"{kind} ({defined} instances{skipped_text}; {', '.join(sorted(hows))})")


# ---- inequalities ------------------------------------------------------------------------------------------------

_GAP = {"<": ("rhs-lhs", "positive"), "≤": ("rhs-lhs", "nonnegative"),
        ">": ("lhs-rhs", "positive"), "≥": ("lhs-rhs", "nonnegative")}


def _check_inequality(step: Inequality, ctx: Context) -> Outcome:
    raw_l, raw_r = step.sides()
    refusal = _static_refusal(step, raw_l, raw_r, ctx)
    if refusal:
        return Outcome(Status.FAILED, refusal[0], refusal[1])
    order, sign = _GAP[step.relation]
    raw_gap = raw_r - raw_l if order == "rhs-lhs" else raw_l - raw_r
    certified: list[str] = []
    notes: list[str] = []
    exact_method = ""
    left = right = None
    try:
        if approach.limit_of_a_jump(raw_l, raw_r):
            notes.append(JUMP_NOTE)
            raise _NotUsed
        left, right = ctx.apply(raw_l), ctx.apply(raw_r)
        bad = _infinity_problem((left, right), signed_limit=False)
        if bad:
            return Outcome(Status.FAILED, "infinity", bad)
        gap = right - left if order == "rhs-lhs" else left - right
        method = ladder.prove_sign(gap, sign)
        if method is not None:
            certified.append("sympy")
            exact_method = method
    except _NotUsed:
        pass
    except Exception as exc:
        notes.append(f"exact rungs: error {type(exc).__name__}: {short(exc, 120)}")
    refuted, undefined_somewhere = _domain(raw_l, step.relation, raw_r, ctx)
    if refuted is not None:
        return refuted
    sides = (raw_r, raw_l) if order == "rhs-lhs" else (raw_l, raw_r)
    evidence = _numeric_sign(raw_gap, sign, ctx, cross_check=bool(certified), sides=sides)
    if evidence.status is Status.FAILED and evidence.method != "undecided":
        return evidence
    if evidence.status is Status.CHECKED and not certified and not ctx.facts:
        applied = (left, right) if left is not None and right is not None else None
        found = extremes.search_both((raw_l, raw_r), applied, step.relation, _value_at)  # far out, at a maximum
        if found:
            return Outcome(Status.FAILED, "counterexample (extreme point)", found, cross_checks=(evidence.method,))
    if left is not None and right is not None:
        smt_outcome = _smt(left, step.relation, right, certified, notes, exact_method)
        if smt_outcome is not None:
            return smt_outcome
    return _conclude(certified, exact_method, evidence, notes, undefined_somewhere)


def _numeric_sign(gap: sp.Basic, sign: str, ctx: Context, cross_check: bool = False,
                  sides: tuple[sp.Basic, sp.Basic] | None = None) -> Outcome:
    """The numeric rung of an inequality: the sign of `gap` (= sides[0] − sides[1]) at seeded instances.

    Where a side holds an integral, sum or product (evaluated by quadrature or to a Float), the sides are
    evaluated apart and `numbers.difference_sign` decides: SymPy cancels 0.5000… − 1/2 to 0 on subtraction, and
    the approximate input's precision would be lost (e^(−10⁴) would be "certified")."""
    if sides is None or not gap.has(sp.Integral, sp.Sum, sp.Product):
        sides = None
    rng = random.Random(ctx.seed)
    count = sampling.CROSS_CHECK_INEQUALITY if cross_check else sampling.INEQUALITY_POINTS
    defined = 0
    undecided: list[str] = []
    try:
        deadline = time.process_time() + NUMERIC_SECONDS
        for instance in sampling.instances([gap], rng, count, ctx.matrix_kinds, ctx.facts):
            if time.process_time() > deadline:
                undecided.append(f"the numeric rung's budget of {NUMERIC_SECONDS:g} s of CPU time ran out")
                break
            if sides is not None:
                (a, _), (b, _) = _evaluate(sides[0], instance.point), _evaluate(sides[1], instance.point)
                if a is None or b is None:
                    continue
                g, s = a - b, numbers.difference_sign(a, b)
            else:
                g, _ = _evaluate(gap, instance.point)
                if g is None:
                    continue
                s = numbers.sign(g)
            at = _At(instance)
            if s is None and _nonreal(g):  # an inequality between non-real values is false, not undecided
                return Outcome(Status.FAILED, "counterexample", f"{at}: the gap {short(g, 200)} is not real")
            if s is None:
                undecided.append(f"{at}: the sign of the gap {short(g, 120)}")
                continue
            if s < 0 or (s == 0 and sign == "positive"):
                return Outcome(Status.FAILED, "counterexample", f"{at}: gap {short(g, 200)}")
            defined += 1
    except _KinkRefusal as exc:
        return Outcome(Status.FAILED, "derivative at a kink", str(exc))
    except sampling.NoInstance as exc:
        return Outcome(Status.FAILED, "undecided", f"no instance: {exc}")
    if defined < min(MIN_DEFINED, count) or len(undecided) > defined:
        why = f"; e.g. could not decide {undecided[0]}" if undecided else ""
        return Outcome(Status.FAILED, "undecided", f"the sign of the gap was decided at only {defined} instances{why}")
    extra = f", {len(undecided)} undecidable" if undecided else ""
    return Outcome(Status.CHECKED, f"numeric ({defined} instances{extra})")


def _nonreal(g: sp.Basic) -> bool:
    """Whether the value `g` is shown not real, within `INSTANCE_SECONDS` of CPU time (no answer: not shown).
    sin(e^x) at a large x asked SymPy for π to millions of digits: the inequality ran for good."""
    try:
        with ladder.time_limit(INSTANCE_SECONDS):
            return domain.nonreal(g)
    except ladder.Timeout:
        return False


# ---- matrix gradients --------------------------------------------------------------------------------------------


def _check_gradient(step: MatrixGradient, ctx: Context) -> Outcome:
    assert step.wrt is not None
    notes: list[str] = []
    exact = None
    try:
        symbolic, claimed = step.sides()
        exact = ladder.prove_zero(ctx.apply(symbolic) - ctx.apply(claimed))
    except Exception as exc:  # fall back to the explicit check (class: false alarms)
        notes.append(f"symbolic matrix calculus: error {type(exc).__name__}: {short(exc, 120)}")
    explicit = _explicit_gradient(step, ctx)
    if explicit.status is Status.FAILED:
        return explicit
    inverse = _unknown_inverse((step.lhs, step.rhs), ctx.matrix_kinds)
    if inverse:
        notes.append(f"domain: {inverse}" + ("; not proved: the certificate holds only where the inverse exists"
                                             if exact is not None else ""))
        exact = None
    checks = (explicit.method, *notes)
    if exact is not None:
        return Outcome(Status.PROVED, exact, engines=("sympy",), cross_checks=checks)
    return Outcome(Status.CHECKED, explicit.method, "symbolic matrix calculus could not reduce the difference to 0",
                   cross_checks=checks)


GRADIENT_DIRECTIONS = 2  # random rational directions D per explicit instance


def _explicit_gradient(step: MatrixGradient, ctx: Context) -> Outcome:
    """Check the claimed gradient G on explicit instances, exactly, by directional derivatives.

    At a random rational W and a random rational direction D: d/dt f(W + tD) at t = 0 must equal
    ⟨G(W), D⟩ = Σ_ij G_ij D_ij.  f(W + tD) is a function of the one scalar t with rational coefficients,
    so the comparison is exact; a wrong entry of G escapes only if D happens to be orthogonal to the
    error, which random rational directions never are in practice.
    """
    assert step.wrt is not None
    wrt = step.wrt
    rng = random.Random(ctx.seed)
    t = sp.Dummy("t", real=True)
    sizes: set[str] = set()
    checked = 0
    try:
        for instance in sampling.instances([step.lhs, step.rhs, wrt], rng, sampling.MATRIX_INSTANCES,
                                           ctx.matrix_kinds, ctx.facts):
            point = dict(instance.point)
            base = point[wrt]
            shape = base.shape
            sizes.add(f"{shape[0]}×{shape[1]}")
            claimed = sampling.substitute(step.rhs, point)
            if not isinstance(claimed, sp.MatrixBase):
                if claimed != 0:
                    return Outcome(Status.FAILED, "explicit gradient",
                                   f"{shape[0]}×{shape[1]}: the claimed gradient is not a matrix: {short(claimed)}")
                claimed = sp.zeros(*shape)
            if claimed.shape != shape:
                return Outcome(Status.FAILED, "explicit gradient",
                               f"{shape[0]}×{shape[1]}: the claimed gradient has shape {claimed.shape}")
            for _ in range(GRADIENT_DIRECTIONS):
                direction = sampling.matrix_value(shape, "general", rng)
                point[wrt] = sp.ImmutableMatrix(base + t * direction)
                f_t = _along(step.lhs, point, t)
                if isinstance(f_t, sp.MatrixBase):
                    if f_t.shape != (1, 1):  # only a scalar has a gradient (a 1×1 matrix is one, xᵀAx)
                        return Outcome(Status.FAILED, "explicit gradient",
                                       f"{shape[0]}×{shape[1]} instance: the function differentiated is a "
                                       f"{f_t.rows}×{f_t.cols} matrix, not a scalar: it has no gradient")
                    f_t = f_t[0, 0]
                along = sp.cancel(sp.diff(f_t, t)).subs(t, 0)
                inner = sum((claimed[i, j] * direction[i, j] for i in range(shape[0]) for j in range(shape[1])),
                            sp.S.Zero)
                if numbers.undefined(along) or numbers.undefined(inner):
                    continue
                result = numbers.compare(along, inner)
                if result.differs or result.verdict is Verdict.UNDECIDED:
                    return Outcome(Status.FAILED, "explicit gradient",
                                   f"{shape[0]}×{shape[1]} instance ({short(instance.describe(), 300)}), direction "
                                   f"D = {short(direction.tolist(), 200)}: d/dt f(W + tD) = {short(along, 120)} but "
                                   f"⟨G, D⟩ = {short(inner, 120)} for the claimed G = {short(claimed.tolist(), 200)}")
                checked += 1
    except sampling.NoInstance as exc:
        return Outcome(Status.FAILED, "undecided", f"no instance: {exc}")
    if checked < MIN_DEFINED:
        return Outcome(Status.FAILED, "undecided", f"the gradient could be evaluated at only {checked} instances")
    return Outcome(Status.CHECKED, f"explicit gradients ({', '.join(sorted(sizes))}; {checked} directions)")


def _along(f: sp.Basic, point: Mapping[sp.Basic, sp.Basic], t: sp.Symbol) -> sp.Basic:
    """f at an instance whose variable of differentiation is W + tD: a rational function of t (exact)."""
    if _explicit_candidate(f):
        try:
            return explicit.evaluate(f, point, sp.QQ.frac_field(t), generator=t)
        except (explicit.Unsupported, explicit.Singular):
            pass
    return sampling.substitute(f, point)


def _identical(a: object, b: object) -> bool:
    return same_tree(a, b)
