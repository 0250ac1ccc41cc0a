"""The exact rungs of the checking ladder (docs/design.md, "The checking ladder").

`prove_zero(d)` tries to show that a SymPy expression is identically zero
using only exact methods, cheapest first:

1. structural: ``d == 0`` (or a zero matrix) as built;
2. ``doit``: evaluate unevaluated derivatives, limits, integrals, sums;
3. targeted rewrites: expand, cancel, together, factor, trigsimp, powsimp,
   expand_log, radsimp, ratsimp, and a few combinations of them;
4. ``simplify`` under a time limit;
5. ``equals(0)`` returning True (it is three-valued; None counts as unknown).

It returns the name of the rung that succeeded, or None.  It never uses
floating point: numeric evidence lives in `theory.core.sampling` and is reported
as *checked*, never as *proved*.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from theory.core import cost, domain

SIMPLIFY_SECONDS = 5.0  # CPU seconds allowed to each rewrite rung of one step


class Timeout(Exception):
    pass


_fired = 0  # how many CPU-time limits have fired in this process


def note_limit() -> None:
    """Count a CPU-time limit that fired (`time_limit` does; so does a cached result that one cut short)."""
    global _fired
    _fired += 1


def limits_fired() -> int:
    """How many CPU-time limits have fired in this process.  A rung that *confirms* a proof (SymPy's sign
    answer checked at the zeros of the sub-expressions) compares the count before and after: a confirmation
    that a limit cut short confirmed nothing, so the proof does not stand on it (on a fast machine or a slow one,
    a limit that fires never becomes PROVED)."""
    return _fired


DEFER_SECONDS = 1e-3  # CPU seconds to wait for a finaliser the timer interrupted
REFIRE_SECONDS = 0.01  # CPU seconds between further Timeouts once a limit has fired and its block runs on
MAX_DEFERRALS = 1000  # then the limit fires wherever it lands (at most about a second late)


def _in_finaliser(frame: types.FrameType | None, block: types.FrameType) -> bool:
    """Whether the interrupted code is a finaliser run on top of the block (`__del__`, a weakref callback, a
    `gc.callbacks` hook): an exception raised there cannot reach the block (Python reports it as unraisable and
    goes on; under pytest that is an error of whichever test is running); or an import (SymPy imports some of its
    modules on first use: interrupted, the import left its .pyc file open, an unraisable ResourceWarning, and would
    leave a module half made for the rest of the process)."""
    hooks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    f = frame
    while f is not None and f is not block:
        code = f.f_code
        if code.co_name == "__del__" or code in hooks or code.co_filename.endswith(("weakref.py", "_weakrefset.py")):
            return True
        if code.co_filename.startswith("<frozen importlib"):
            return True
        f = f.f_back
    return False


@contextmanager
def time_limit(seconds: float, calls: int | None = None) -> Iterator[None]:
    """Raise `Timeout` inside the block after `seconds` of this process's CPU time (main thread only), or, with
    `calls`, once the block has made more than `calls` calls and returns (profile events), whichever comes first.

    CPU time, not wall-clock time, so that a busy machine does not turn a proved
    step into an unproved one.  Off the main thread (where signals cannot be
    used) the block runs without a limit.  Nested limits compose: an enclosing
    limit that expires first governs, and on exit the enclosing timer is re-armed
    with what is left of it (it used to be cancelled).  A limit that expires while a
    finaliser runs (garbage collection can run one anywhere) or a module is imported waits for it to return.

    `calls` counts the events of a profile hook (`sys.setprofile`: every call and return, Python's and C's; the
    hook about halves the block's speed): a count, not a time, so the same block stops at the same point on every
    machine, however fast or loaded (under a CPU-time limit of 0.05 s, 26 of the 942 zero searches of hfx's
    derivations came out differently in two runs on one machine).  `seconds` is then a safety net (a single long C
    call makes no events).  Where a profiler is already installed, only `seconds` applies.

    A limit that has fired holds: code inside the block that catches `Timeout` for a limit of its own (a zero
    search, a rewrite rung) also catches this one, and the block ran on without any limit.  The timer fires again
    every `REFIRE_SECONDS` until the block ends, and a block that ends normally after its limit fired raises
    `Timeout` at its end: what it computed was cut short somewhere inside.  A Timeout that Python could not
    deliver (raised into a generator that garbage collection was closing) is not reported as "unraisable": the
    block raises it at its end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer, _ = signal.getitimer(signal.ITIMER_PROF)
    counting = calls is not None and sys.getprofile() is None
    if outer and outer <= seconds and not counting:
        yield
        return

    block = sys._getframe(2)  # the frame of the with-statement (this generator ← __enter__ ← it)
    deferred = count = 0
    fired = closing = exceeded = False

    def _raise(signum: int, frame: types.FrameType | None) -> None:
        nonlocal deferred, fired
        if closing:  # the block has ended: its `finally` below is putting the timers back
            return
        if deferred < MAX_DEFERRALS and _in_finaliser(frame, block):
            deferred += 1  # raised there, Timeout would be "unraisable": printed, lost, and the block runs on
            signal.setitimer(signal.ITIMER_PROF, DEFER_SECONDS)  # fire again once the finaliser has returned
            return
        fired = True
        note_limit()
        signal.setitimer(signal.ITIMER_PROF, REFIRE_SECONDS)  # again, should something inside swallow this one
        raise Timeout

    def _count(frame: types.FrameType, event: str, arg: object) -> None:
        nonlocal count, exceeded
        count += 1
        if calls is not None and count > calls:
            exceeded = True
            sys.setprofile(None)
            signal.setitimer(signal.ITIMER_PROF, 1e-6)  # this limit fires now (`_raise`: deferred where it must be)

    previous_unraisable = sys.unraisablehook

    def _unraisable(unraisable: object) -> None:
        if not isinstance(getattr(unraisable, "exc_value", None), Timeout):
            previous_unraisable(unraisable)  # type: ignore[arg-type]

    previous = signal.signal(signal.SIGPROF, _raise)
    start = time.process_time()
    sys.unraisablehook = _unraisable
    signal.setitimer(signal.ITIMER_PROF, min(seconds, outer) if outer else seconds)
    if counting:
        sys.setprofile(_count)
    try:
        yield
    finally:
        closing = True
        if counting:
            sys.setprofile(None)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        sys.unraisablehook = previous_unraisable
        if outer:
            signal.setitimer(signal.ITIMER_PROF, max(outer - (time.process_time() - start), 1e-3))
    if fired or exceeded:  # the block ended normally, but something inside it caught the Timeout (or the count
        if not fired:  # ran out just before the end, the timer's tick still to come)
            note_limit()
        raise Timeout


def is_zero(expr: sp.Basic) -> bool:
    """Structural zero: the number 0, a ZeroMatrix, or an explicit all-zero matrix."""
    if isinstance(expr, sp.MatrixBase):
        return all(e == 0 for e in expr)
    if isinstance(expr, sp.ZeroMatrix):
        return True
    if isinstance(expr, MatrixExpr):
        return False
    return expr == 0


def _entrywise(f: Callable[[sp.Basic], sp.Basic]) -> Callable[[sp.Basic], sp.Basic]:
    """Lift a scalar rewrite to explicit matrices, entry by entry."""

    def apply(expr: sp.Basic) -> sp.Basic:
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(f)
        return f(expr)

    return apply


def _terms(expr: sp.Basic) -> list[sp.Basic]:
    """Additive terms of a distributed matrix (or scalar) expression."""
    expr = _distribute(expr)
    if isinstance(expr, (sp.MatAdd, sp.Add)):
        return list(expr.args)
    return [expr]


def _distribute(expr: sp.Basic) -> sp.Basic:
    """Distribute matrix products over sums, keeping the order of factors.

    (A + B)**2 → A*A + A*B + B*A + B*B.  SymPy's `expand` re-merges equal
    factors into powers, so this is done by hand; it is exact and respects
    noncommutativity.
    """
    if isinstance(expr, sp.MatAdd):
        return sp.MatAdd(*(_distribute(a) for a in expr.args)).doit()
    if isinstance(expr, sp.MatPow) and expr.exp.is_Integer and 2 <= int(expr.exp) <= 6:
        return _distribute_product([expr.base] * int(expr.exp))
    if isinstance(expr, sp.MatMul):
        return _distribute_product(list(expr.args))
    return expr


def _distribute_product(factors: list[sp.Basic]) -> sp.Basic:
    products: list[list[sp.Basic]] = [[]]
    for factor in factors:
        options = _terms(factor) if isinstance(factor, MatrixExpr) else [factor]
        products = [[*p, o] for p in products for o in options]
    return sp.MatAdd(*(sp.MatMul(*p).doit() for p in products)).doit()


def _canonical_traces(expr: sp.Basic) -> sp.Basic:
    """Rewrite tr(X₁⋯X_k) to one canonical cyclic rotation, using tr(XY) = tr(YX) and tr(Xᵀ) = tr(X).

    Both are theorems of linear algebra, so the rewrite is exact.
    """

    def canonical(trace: sp.Trace) -> sp.Trace:
        arg = trace.arg
        if not isinstance(arg, sp.MatMul):
            return trace
        scalars = [a for a in arg.args if not isinstance(a, MatrixExpr)]
        factors = [a for a in arg.args if isinstance(a, MatrixExpr)]
        transposed = [sp.Transpose(f).doit() for f in reversed(factors)]
        rotations = [seq[i:] + seq[:i] for seq in (factors, transposed) for i in range(len(seq))]
        best = min(rotations, key=lambda seq: sp.srepr(sp.MatMul(*seq)))
        return sp.Mul(*scalars) * sp.Trace(sp.MatMul(*best))

    return expr.replace(lambda e: isinstance(e, sp.Trace), canonical)


def _matrix_normal(expr: sp.Basic) -> sp.Basic:
    # expand and re-evaluate a symbolic matrix expression (distributes products,
    # collects terms); SymPy's matrix algebra is noncommutative, as it must be.
    return _distribute(sp.expand(expr.doit()).doit())


def _trace_normal(expr: sp.Basic) -> sp.Basic:
    expanded = _matrix_normal(expr)
    expanded = expanded.replace(
        lambda e: isinstance(e, sp.Trace), lambda e: sp.Trace(_matrix_normal(e.arg)).doit()
    )
    return sp.expand(_canonical_traces(expanded))


SCALAR_REWRITES: tuple[tuple[str, Callable[[sp.Basic], sp.Basic]], ...] = (
    ("expand", sp.expand),
    ("cancel", sp.cancel),
    ("together", sp.together),
    ("factor", sp.factor),
    ("trigsimp", sp.trigsimp),
    ("powsimp", lambda e: sp.powsimp(e, force=False)),
    ("expand_log", lambda e: sp.expand(sp.expand_log(e, force=False))),
    ("radsimp", sp.radsimp),
    ("ratsimp", sp.ratsimp),
    ("expand+powsimp", lambda e: sp.powsimp(sp.expand(e))),
    ("expand(power_exp)", lambda e: sp.expand(sp.powsimp(sp.expand_power_exp(e)))),
    ("cancel(expand)", lambda e: sp.cancel(sp.expand(e))),
    ("piecewise_fold", lambda e: sp.simplify(sp.piecewise_fold(e)) if e.has(sp.Piecewise) else e),
    ("trace algebra", lambda e: _trace_normal(e) if e.has(sp.Trace) else e),
)


def prove_zero(d: sp.Basic, simplify_seconds: float = SIMPLIFY_SECONDS) -> str | None:
    """Return the exact method that reduces `d` to 0, or None if none did."""
    if is_zero(d):
        return "structural"
    evaluated = d.doit() if hasattr(d, "doit") else d
    if is_zero(evaluated):
        return "doit"
    if isinstance(evaluated, MatrixExpr) and not isinstance(evaluated, sp.MatrixBase):
        return _prove_matrix_expr_zero(evaluated, simplify_seconds)
    if cost.expansion_unaffordable(evaluated):  # the rewrites would expand it: nothing they can finish
        return None
    if _certified_nonzero(evaluated) is not False:  # a number Arb certifies nonzero: no rewrite can make it 0;
        return None  # one whose value cannot be had within the limit (a divergent or slow series): none tries
    if _explicit_entries_zero(evaluated, simplify_seconds):
        return "explicit entries"
    for name, rewrite in SCALAR_REWRITES:
        try:
            with time_limit(simplify_seconds):
                if is_zero(_entrywise(rewrite)(evaluated)):
                    return name
        except (Timeout, NotImplementedError, TypeError, ValueError, sp.PolynomialError):  # e.g. ratsimp on Piecewise
            continue
    try:
        with time_limit(simplify_seconds):
            if is_zero(_entrywise(sp.simplify)(evaluated)):
                return "simplify"
    except (Timeout, NotImplementedError, TypeError, ValueError):
        pass
    return _equals_zero(evaluated, simplify_seconds)


def _certified_nonzero(d: sp.Basic) -> bool | None:
    """True for a number Arb certifies nonzero, None for one whose comparison with 0 ran out of CPU time (a
    divergent series left unevaluated: mpmath's nsum never ends), False otherwise."""
    if not isinstance(d, sp.Expr) or isinstance(d, MatrixExpr) or d.free_symbols or not d.is_number:
        return False
    from theory.core.numbers import Verdict, compare  # (numbers imports nothing from here)

    try:
        with time_limit(SIMPLIFY_SECONDS):
            return compare(d, sp.S.Zero).verdict is Verdict.DIFFER
    except Timeout:
        return None
    except (TypeError, ValueError, ZeroDivisionError):
        return False


def _explicit_entries_zero(d: sp.Basic, seconds: float) -> bool:
    """Whether `d`, with every matrix symbol of concrete size written out entry by entry (V → [[V₀₀, V₀₁], …]),
    expands to 0: exact, for det V = V₀₀V₁₁ − V₀₁V₁₀ of a 2×2 V."""
    symbols = d.atoms(sp.MatrixSymbol) if isinstance(d, sp.Basic) else set()
    if not symbols or not all(sp.sympify(s).is_Integer and int(s) <= 4 for m in symbols for s in m.shape):
        return False
    try:
        with time_limit(seconds):
            explicit = d.xreplace({m: m.as_explicit() for m in symbols}).doit()
            if isinstance(explicit, MatrixExpr) and not isinstance(explicit, sp.MatrixBase):
                explicit = explicit.as_explicit()
            return is_zero(_entrywise(sp.expand)(explicit))
    except (Timeout, NotImplementedError, TypeError, ValueError, AttributeError):
        return False


def _prove_matrix_expr_zero(d: MatrixExpr, simplify_seconds: float) -> str | None:
    for name, rewrite in (
        ("matrix expand", _matrix_normal),
        ("trace algebra", _trace_normal),
        ("matrix simplify", sp.simplify),
    ):
        try:
            with time_limit(simplify_seconds):
                if is_zero(rewrite(d)):
                    return name
        except (Timeout, NotImplementedError, TypeError, ValueError, AttributeError):
            continue
    return None


def _equals_zero(d: sp.Basic, seconds: float) -> str | None:
    if isinstance(d, sp.MatrixBase):
        try:
            with time_limit(seconds):
                if all(e.equals(0) is True for e in d):
                    return "equals"
        except (Timeout, NotImplementedError, TypeError, ValueError):
            return None
        return None
    if not isinstance(d, sp.Expr):
        return None
    try:
        with time_limit(seconds):
            if d.equals(0) is True:
                return "equals"
    except (Timeout, NotImplementedError, TypeError, ValueError):
        return None
    return None


_RELATION = {"positive": ">", "nonnegative": "≥"}


def prove_sign(d: sp.Expr, sign: str, simplify_seconds: float = SIMPLIFY_SECONDS) -> str | None:
    """Prove `d > 0` ('positive') or `d >= 0` ('nonnegative') from symbol assumptions.

    Uses SymPy's assumption system on `d` and on a few exact rewrites of it.  SymPy's answer is
    never the only evidence: it must agree with an exact evaluation at the zeros of `d`'s polynomial
    sub-expressions (`theory.core.domain.refute_sign`).  SymPy declares asin, acos and atan of a
    rational argument irrational, hence nonzero — ``atan((m − 100)²) > 0`` for an integer m, which
    is 0 at m = 100; where such a point contradicts it, no rung proves the sign.
    """
    attribute = {"positive": "is_positive", "nonnegative": "is_nonnegative"}[sign]
    evaluated = d.doit()
    candidates: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
        ("assumptions", lambda e: e),
        ("factor + assumptions", sp.factor),
        ("together + assumptions", sp.together),
        ("expand + assumptions", sp.expand),
        ("simplify + assumptions", sp.simplify),
    )
    if cost.expansion_unaffordable(evaluated):
        candidates = candidates[:1]  # only SymPy's assumptions: the rewrites would expand it
    for name, rewrite in candidates:
        try:
            with time_limit(simplify_seconds):
                if getattr(rewrite(evaluated), attribute) is True:
                    before = limits_fired()
                    confirmed = domain.refute_sign(evaluated, _RELATION[sign]) is None and limits_fired() == before
                    return name if confirmed else None
        except (Timeout, NotImplementedError, TypeError, ValueError):
            continue
    return None
