"""A step's status is a function of the step: CPU-time limits bind, and no outcome rests on how fast a budget ran out.

1. SymPy on python-flint factorises univariate polynomials in one C call, which no signal can interrupt: the zero
   search of tanh(54w/143)/tanh(3w/185) (a polynomial of degree in the tens of thousands once solveset rewrites it)
   ran 72 CPU seconds under a 3-second limit.  `theory/_ground.py` puts SymPy's polynomials in Python, both where
   theory is imported first and where a script imported SymPy first (the usual order).
2. The adversarial points of a step (`critical.points`) were cut by CPU time (0.15 s per step, 0.05 s for a grid
   scan): which zeros were searched, and so whether a false step FAILED or was only CHECKED, depended on the
   machine's speed and load.  The search is now bounded by counts (`MAX_SEARCHES`, the whole grid), with CPU-time
   limits left only as safety nets far above what a search takes.
3. SymPy's cache and hfx's own caches made a derivation's work depend on what the process had verified before:
   each derivation is verified from empty caches.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp

from theory.core import critical

ROOT = Path(__file__).resolve().parents[1]

_HAZARD = """
import time
{first}
from theory.core import critical
critical.SOLVE_SECONDS = 1.0
w = sp.Symbol("w", real=True)
e = sp.Rational(-54, 143) + 3 * sp.tanh(sp.Rational(54, 143) * w) / (185 * sp.tanh(sp.Rational(3, 185) * w))
start = time.process_time()
exact, approx, complete = critical._zeros(e, w, None)
print(f"{{time.process_time() - start:.2f}} {{complete}} {{theory.GROUND_TYPES}}")
"""


@pytest.mark.parametrize("first", ["import sympy as sp\nimport theory", "import theory\nimport sympy as sp"],
                         ids=["sympy-imported-first", "theory-imported-first"])
def test_a_cpu_limit_binds_inside_polynomial_factorisation(first: str) -> None:
    """Before: factor_list ran in python-flint for 72 s under the 3 s limit (killed here after 60 s)."""
    code = textwrap.dedent(_HAZARD.format(first=first))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    seconds, complete, how = done.stdout.split()
    assert complete == "False"  # the limit cut the search short (and says so)
    assert float(seconds) < 10.0  # one second's limit, not minutes
    assert how == ("patched" if first.startswith("import sympy") else "environment")


def test_the_point_search_is_bounded_by_counts_not_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same step gives the same points on a machine a hundred times slower (every process_time reading
    100× what it was): before, the 0.15 s budget cut the search after its first zero search."""
    x, y, z = sp.symbols("x y z", real=True)
    exprs = [sp.Abs(x - sp.Rational(5, 7)) + sp.Heaviside(y - sp.Rational(3, 11)) + sp.floor(z - sp.Rational(2, 9))
             + sp.Abs(x * y - 1) + sp.Abs(y + z - 3)]
    base = {x: sp.Rational(1, 3), y: sp.Rational(2, 5), z: sp.Rational(7, 4)}

    def run() -> list[dict[sp.Symbol, sp.Basic]]:
        critical._zeros.cache_clear()
        return critical.points(exprs, [x, y, z], base, lambda value, symbol: True, 50)

    normal = run()
    import time as real_time
    clock = real_time.process_time
    monkeypatch.setattr(real_time, "process_time", lambda: 100.0 * clock())
    slow = run()
    assert slow == normal
    values = {(str(s), v) for point in normal for s, v in point.items() if point[s] != base[s]}
    R = sp.Rational
    assert {("x", R(5, 7)), ("x", R(5, 2)), ("y", R(3, 11)), ("y", R(3)), ("y", R(5, 4)), ("z", R(2, 9)),
            ("z", R(11, 9)), ("z", R(13, 5))} <= values  # every kink, each symbol in turn


def test_the_grid_scan_is_whole_whatever_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign changes at 5.3, −7.9 and 40.5: the scan finds all three however slow the clock says it is."""
    r = sp.Dummy("r", real=True)
    e = (r - sp.Rational(53, 10)) * (r + sp.Rational(79, 10)) * (r - sp.Rational(81, 2))
    fast = critical._numeric_zeros(e, r)
    import time as real_time
    clock = real_time.process_time
    monkeypatch.setattr(real_time, "process_time", lambda: 1000.0 * clock())
    slow = critical._numeric_zeros(e, r)
    assert slow == fast
    assert [round(float(v), 6) for v in sorted(fast)] == [-7.9, 5.3, 40.5]


def test_verifying_twice_in_one_process_gives_the_same_record() -> None:
    """Each derivation from empty caches: the second verification in a process repeats the first exactly (every
    field of every step but its time: status, method, detail, engines, cross-checks)."""
    from dataclasses import replace

    from theory.core.derivation import verify
    from theory.core.registry import derivation_by_id

    derivation = derivation_by_id("learning-time.closed-forms")
    first, second = verify(derivation).record(), verify(derivation).record()
    assert [replace(s, seconds=0.0) for s in first.steps] == [replace(s, seconds=0.0) for s in second.steps]
    assert replace(first, seconds=0.0, steps=()) == replace(second, seconds=0.0, steps=())


def test_a_limit_that_fired_holds_though_something_inside_catches_it() -> None:
    """A zero search inside a rung catches `Timeout` for its own limit, and so caught the rung's: the rung then ran
    on with no limit at all.  Now the limit fires again every 10 ms until its block ends, and the block raises
    `Timeout` at its end.  Before: 50 searches of 0.1 s each ran to the end (5 s) and the block ended normally."""
    import time

    from theory.core.ladder import Timeout, time_limit

    def spin(seconds: float) -> None:
        start = time.process_time()
        while time.process_time() - start < seconds:
            pass

    def search() -> None:
        try:
            spin(0.1)
        except Timeout:  # (for its own limit, it thinks)
            pass

    start = time.process_time()
    with pytest.raises(Timeout):
        with time_limit(0.1):
            for _ in range(50):
                search()
    assert time.process_time() - start < 2.5
    spin(0.05)  # and nothing fires once the block is over


def test_a_call_limit_is_a_count_of_calls_not_time() -> None:
    """`ladder.time_limit(seconds, calls=n)` stops a block after n function calls: the same block passes or stops
    the same way however long its calls take (here a slow big-integer product between them changes nothing)."""
    import sys

    from theory.core.ladder import Timeout, time_limit

    def work(slow: bool) -> int:
        total = 0
        for i in range(300):
            total += abs(-i)
            if slow and i % 100 == 0:
                total += (7**20000 * 11**20000) % 3  # CPU time without a single call event
        return total

    events = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal events
        events += 1

    sys.setprofile(count)
    work(False)
    sys.setprofile(None)
    for slow in (False, True):
        with time_limit(60.0, calls=events + 50):
            work(slow)
        with pytest.raises(Timeout):
            with time_limit(60.0, calls=events - 50):
                work(slow)
    assert sys.getprofile() is None


_GROUND = """
import os, time
import theory, sympy as sp, mpmath
from theory.core import critical
p = sp.Symbol("p", real=True)
e = sp.Rational(83823, 115) + sp.log(sp.Rational(21543226, 567)) / sp.log(1 / (p + 1))
start = time.process_time()
exact, approx, complete = critical._zeros(e, p, None)
print(theory.GROUND_TYPES, sp.external.gmpy.GROUND_TYPES, mpmath.libmp.BACKEND, os.environ.get("MPMATH_NOGMPY"),
      f"{time.process_time() - start:.2f}", complete)
"""


def test_huge_integers_are_gmp_work_not_python_loops_under_the_safety_net() -> None:
    """SymPy's number theory on Python integers spent 22 CPU seconds (cut by the 8 s safety net, a CPU-time limit:
    where it fires depends on the machine) in `divmod` on integers of hundreds of thousands of digits while solving
    83823/115 + log(21543226/567)/log(1/(p + 1)) = 0; on gmpy2's integers the search ends by itself, well inside
    the net (about 1-2 s here), its count of calls deciding.  mpmath stays on Python's integers."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_GROUND)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    how, ground, backend, nogmpy, seconds, complete = done.stdout.split()
    assert (how, ground, backend, nogmpy) == ("environment", "gmpy", "python", "1")
    assert complete == "True"  # no limit fired: the outcome does not depend on the machine's speed
    assert float(seconds) < critical.SOLVE_SECONDS / 2


def test_factorint_of_a_gmpy2_integer_beyond_the_float_range() -> None:
    """SymPy 1.14 on gmpy2 passed an `mpz` above 1.8e308 to `math.log` in `_perfect_power` (OverflowError: a step
    of identity-init.branch-decay failed with it at a large instance); theory/_ground.py gives those modules
    logarithms of integers of any size."""
    from sympy.external import gmpy

    import theory

    assert gmpy.GROUND_TYPES == "gmpy" and "sympy.ntheory.factor_" in theory.BIG_INTEGER_LOGS
    n = gmpy.MPZ(3) ** 700 * 7
    assert sp.factorint(n) == {3: 700, 7: 1}
    assert sp.Integer(2) ** sp.Rational(1, 3) * sp.Integer(10**400) ** sp.Rational(1, 2) == \
        sp.Integer(10**200) * sp.Integer(2) ** sp.Rational(1, 3)


def test_a_crash_of_the_exact_search_leaves_the_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside SymPy's exact search used to leave no zeros at all: the kink of d/dx|x³ − x − 1| at its
    irrational root then went unseen and the derivative was proved.  The grid's approximations remain."""
    from _soundness import verify_alone

    from theory.derivation import Equal, Status

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a SymPy failure")

    monkeypatch.setattr(critical, "_part_zeros", crash)
    critical._zeros.cache_clear()
    r = sp.Dummy("r", real=True)
    exact, approx, _ = critical._zeros(r**3 - r - 1, r, None)
    assert exact == [] and len(approx) == 1 and abs(float(approx[0]) - 1.324718) < 1e-6
    x = sp.Symbol("x", real=True)
    step = Equal(sp.Derivative(sp.Abs(x**3 - x - 1), x), (3 * x**2 - 1) * sp.sign(x**3 - x - 1), "r")
    assert verify_alone(step, (), "crash") is not Status.PROVED
    critical._zeros.cache_clear()
