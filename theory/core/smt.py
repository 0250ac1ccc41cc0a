"""An independent second engine: z3's non-linear real arithmetic for the polynomial fragment.

A verifier that trusts one CAS inherits its bugs.  Where a scalar step lies in
the fragment of *polynomial and rational real arithmetic* — sums, products and
integer powers of its symbols and rational constants (plus `Abs`, `Max`, `Min`
and square roots, encoded exactly with case splits and auxiliary variables) — the
step is also decided by z3 (`z3-solver`; its nlsat procedure is complete for real
arithmetic), under its symbols' assumptions (real, positive, nonnegative,
negative, nonpositive, nonzero, integer):

- first, the sides must be *defined* wherever the assumptions hold: every domain
  condition ``c`` (a denominator ≠ 0, a radicand ≥ 0) is its own proof obligation,
  ``∃x: assumptions ∧ earlier conditions ∧ ¬c`` must be unsat.  A condition is never
  a premise of the step: were it one, ``√(−x² − 1) > 1`` would be "proved" vacuously
  (no real x makes the radicand nonnegative) and ``x + √(x − 3) ≥ 3`` for every real
  x (it holds only where x ≥ 3);
- then an equality ``l = r`` holds iff ``∃x: assumptions ∧ l ≠ r`` is unsat (the
  auxiliaries' definitions, ``root ≥ 0 ∧ root² = b``, are added: they are definitions,
  sound once ``b ≥ 0`` is proved);
- an inequality ``l < r`` (≤, >, ≥) holds iff ``∃x: assumptions ∧ ¬(l < r)`` is unsat;
  ``l ≠ r`` is decided too (for the domain conditions of `theory.core.domain`).

`decide` returns one of: ``certified`` (unsat), ``counterexample`` (sat, with the
model), ``undefined`` (a domain condition fails at the model, or could not be
proved: nothing is certified), ``unknown`` (z3 gave up, or the time limit
`TIMEOUT_MS` passed), or ``not applicable`` (outside the fragment).  The budget is z3's deterministic resource
limit (`RLIMIT`), not a time limit, so the answer is the same in every run.  The caller decides what each means:
a counterexample against SymPy's proof is a FAILED step with both answers shown;
unknown leaves SymPy's answer standing, and is recorded.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sympy as sp
import z3

RLIMIT = 5_000_000  # z3's deterministic resource limit per query (about 1–3 s here); unlike a time limit,
# reaching it does not depend on the machine's load, so a status never changes between runs
TIMEOUT_MS = 20_000  # a wall-clock safety net only, far above what RLIMIT allows
MAX_DEGREE = 24  # larger integer powers are left to SymPy (z3 would expand them)


class SmtVerdict(enum.StrEnum):
    CERTIFIED = "certified"
    COUNTEREXAMPLE = "counterexample"
    UNDEFINED = "undefined"  # a side is undefined (or not real) at an admissible point, or not provably defined
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class SmtResult:
    verdict: SmtVerdict
    detail: str = ""  # the model of a counterexample, or why unknown / not applicable
    point: tuple[tuple[sp.Symbol, sp.Rational], ...] = ()  # an exact (rational) model, when z3 found one


class _Outside(Exception):
    pass


class _Encoder:
    """SymPy → z3, collecting the side conditions under which the expression is defined."""

    def __init__(self) -> None:
        self.variables: dict[sp.Symbol, z3.ArithRef] = {}
        self.side: list[tuple[bool, z3.BoolRef, str]] = []  # (is a domain condition?, constraint, what it is):
        # denominators ≠ 0 and radicands ≥ 0 are conditions (proof obligations); the auxiliaries' definitions are not
        self.assumptions: list[z3.BoolRef] = []
        self.approximate: set[sp.Symbol] = set()  # symbols whose assumptions z3 holds only as a superset
        self._fresh = 0

    def variable(self, s: sp.Symbol) -> z3.ArithRef:
        if s not in self.variables:
            if s.is_real is not True and s.is_integer is not True:
                raise _Outside(f"{s} is not declared real")
            v = z3.Real(f"{s.name}__{len(self.variables)}")
            self.variables[s] = v
            self.assumptions += _assumption_constraints(s, v)
            if s.is_even or s.is_odd:  # parity, exactly: v = 2j (+ 1) for an integer j
                j = z3.Int(f"{s.name}__parity__{len(self.variables)}")
                self.assumptions.append(v == 2 * z3.ToReal(j) + (1 if s.is_odd else 0))
            if s.is_prime or s.is_composite:
                self.assumptions.append(v >= (2 if s.is_prime else 4))  # a necessary condition only
            if not _declared(s) <= _EXACT:
                self.approximate.add(s)
        return self.variables[s]

    def fresh(self) -> z3.ArithRef:
        self._fresh += 1
        return z3.Real(f"aux__{self._fresh}")

    def encode(self, e: sp.Basic) -> z3.ArithRef:
        if e.is_Rational:
            return z3.RealVal(f"{e.p}/{e.q}") if e.q != 1 else z3.RealVal(int(e.p))
        if isinstance(e, sp.Symbol):
            return self.variable(e)
        if isinstance(e, sp.Add):
            return z3.Sum([self.encode(a) for a in e.args])
        if isinstance(e, sp.Mul):
            return z3.Product([self.encode(a) for a in e.args])
        if isinstance(e, sp.Pow):
            base, exp = e.args
            if exp.is_Integer and abs(int(exp)) <= MAX_DEGREE:
                b = self.encode(base)
                k = int(exp)
                if k == 0:
                    return z3.RealVal(1)
                power = z3.Product([b] * abs(k)) if abs(k) > 1 else b
                if k > 0:
                    return power
                self.side.append((True, b != 0, f"the denominator {base} ≠ 0"))
                return 1 / power
            if exp == sp.S.Half or exp == -sp.S.Half:
                b = self.encode(base)
                root = self.fresh()
                self.side += [(True, b >= 0, f"the radicand {base} ≥ 0"),
                              (False, z3.And(root >= 0, root * root == b), "")]
                if exp == sp.S.Half:
                    return root
                self.side.append((True, root != 0, f"the denominator √({base}) ≠ 0"))
                return 1 / root
            raise _Outside(f"power {e}")
        if isinstance(e, sp.Abs):
            a = self.encode(e.args[0])
            return z3.If(a >= 0, a, -a)
        if isinstance(e, (sp.Max, sp.Min)):
            values = [self.encode(a) for a in e.args]
            best = values[0]
            for v in values[1:]:
                best = z3.If(v > best, v, best) if isinstance(e, sp.Max) else z3.If(v < best, v, best)
            return best
        raise _Outside(type(e).__name__)


# the assumptions z3 encodes exactly (with what SymPy derives from them); any other (prime, rational, composite,
# noninteger, algebraic, …) is encoded as a superset of its values, so that a proof over the superset still holds
# but a model is a counterexample only if its values satisfy the symbol's own assumptions (`_genuine`)
_EXACT = frozenset({"real", "integer", "positive", "nonnegative", "negative", "nonpositive", "nonzero", "zero",
                    "even", "odd", "commutative", "complex", "hermitian", "finite", "extended_real",
                    "extended_positive", "extended_nonnegative", "extended_negative", "extended_nonpositive",
                    "extended_nonzero"})


def _declared(s: sp.Symbol) -> set[str]:
    """The assumptions that hold (True) for `s`, as SymPy derives them."""
    return {k for k, v in s.assumptions0.items() if v is True}


def _genuine(point: tuple[tuple[sp.Symbol, sp.Rational], ...], approximate: set[sp.Symbol]) -> bool:
    """Whether a z3 model is a point of the declared domain: every approximately encoded symbol has a rational
    value that satisfies all its assumptions (z3 drew it from a superset)."""
    if not approximate:
        return True
    values = dict(point)
    from theory.core.sampling import satisfies  # (sampling imports nothing from here)

    return all(s in values and satisfies(values[s], s) for s in approximate)


def _assumption_constraints(s: sp.Symbol, v: z3.ArithRef) -> list[z3.BoolRef]:
    out: list[z3.BoolRef] = []
    if s.is_integer:
        out.append(z3.IsInt(v))
    if s.is_positive:
        out.append(v > 0)
    elif s.is_nonnegative:
        out.append(v >= 0)
    if s.is_negative:
        out.append(v < 0)
    elif s.is_nonpositive:
        out.append(v <= 0)
    if s.is_zero is False and not (s.is_positive or s.is_negative):
        out.append(v != 0)
    return out


_NEGATED = {"=": "≠", "≠": "=", "<": "≥", "≤": ">", ">": "≤", "≥": "<"}


def applicable(lhs: sp.Basic, rhs: sp.Basic) -> bool:
    """Whether both sides are scalar expressions of the fragment."""
    try:
        enc = _Encoder()
        enc.encode(sp.sympify(lhs))
        enc.encode(sp.sympify(rhs))
    except (_Outside, TypeError, AttributeError, z3.Z3Exception):
        return False
    return True


def decide(lhs: sp.Basic, relation: str, rhs: sp.Basic, timeout_ms: int = TIMEOUT_MS,
           rlimit: int = RLIMIT) -> SmtResult:
    """Decide ``lhs relation rhs`` for all values of its symbols allowed by their assumptions."""
    if relation not in _NEGATED:
        return SmtResult(SmtVerdict.NOT_APPLICABLE, f"relation {relation}")
    enc = _Encoder()
    try:
        lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
        for symbol in sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name):
            enc.variable(symbol)  # a canonical variable order, whatever order the expression is walked in
        left, right = enc.encode(lhs), enc.encode(rhs)
    except (_Outside, TypeError, AttributeError, z3.Z3Exception) as exc:
        return SmtResult(SmtVerdict.NOT_APPLICABLE, f"outside polynomial/rational real arithmetic: {exc}")
    z3.set_param("smt.random_seed", 0)
    violated = {
        "=": left != right,
        "≠": left == right,
        "<": left >= right,
        "≤": left > right,
        ">": left <= right,
        "≥": left < right,
    }[relation]
    known: list[z3.BoolRef] = list(enc.assumptions)
    for is_condition, constraint, what in enc.side:  # the domain, one obligation at a time, innermost first
        if is_condition:
            answer, solver = _check(enc, [*known, z3.Not(constraint)], timeout_ms, rlimit)
            if answer == z3.sat:
                point, shown = _model(solver.model(), enc)
                if not _genuine(point, enc.approximate):
                    return SmtResult(SmtVerdict.UNDEFINED, f"z3 could not prove {what} (its model {shown} is "
                                     "outside the declared domain)")
                return SmtResult(SmtVerdict.UNDEFINED, f"z3: {what} fails at {shown}", point)
            if answer != z3.unsat:
                return SmtResult(SmtVerdict.UNDEFINED, f"z3 could not prove {what}: {_reason(answer, solver)}")
        known.append(constraint)
    answer, solver = _check(enc, [*known, violated], timeout_ms, rlimit)
    if answer == z3.unsat:
        return SmtResult(SmtVerdict.CERTIFIED)
    if answer == z3.sat:
        point, shown = _model(solver.model(), enc)
        if not _genuine(point, enc.approximate):
            return SmtResult(SmtVerdict.UNKNOWN, f"z3's model {shown} is outside the declared domain of "
                             f"{', '.join(sorted(map(str, enc.approximate)))} (encoded as a superset)")
        return SmtResult(SmtVerdict.COUNTEREXAMPLE, f"z3: {lhs} {_NEGATED[relation]} {rhs} at {shown}", point)
    return SmtResult(SmtVerdict.UNKNOWN, f"z3: {_reason(answer, solver)}")


def _check(enc: _Encoder, constraints: list[z3.BoolRef], timeout_ms: int, rlimit: int) -> tuple[object, z3.Solver]:
    solver = z3.SolverFor("QF_NRA") if not any(z3.is_int(v) for v in enc.variables.values()) else z3.Solver()
    solver.set("rlimit", rlimit)
    solver.set("timeout", timeout_ms)
    solver.add(*constraints)
    try:
        return solver.check(), solver
    except z3.Z3Exception as exc:
        return f"z3 error: {exc}", solver


def _reason(answer: object, solver: z3.Solver) -> str:
    return answer if isinstance(answer, str) else str(solver.reason_unknown())


def _model(model: z3.ModelRef, enc: _Encoder) -> tuple[tuple[tuple[sp.Symbol, sp.Rational], ...], str]:
    """The model as text, and as an exact point when every value is rational."""
    values = {s: _model_value(model, v) for s, v in enc.variables.items()}
    shown = ", ".join(f"{s} = {values[s]}" for s in sorted(values, key=str))
    exact: list[tuple[sp.Symbol, sp.Rational]] = []
    for s, v in sorted(enc.variables.items(), key=lambda item: str(item[0])):
        value = model.eval(v, model_completion=True)
        if not z3.is_rational_value(value):
            return (), shown
        exact.append((s, sp.Rational(value.numerator_as_long(), value.denominator_as_long())))
    return tuple(exact), shown


def _model_value(model: z3.ModelRef, v: z3.ArithRef) -> str:
    value = model.eval(v, model_completion=True)
    if z3.is_rational_value(value):
        return str(sp.Rational(value.numerator_as_long(), value.denominator_as_long()))
    if z3.is_algebraic_value(value):
        return value.approx(20).as_decimal(20)
    return str(value)
