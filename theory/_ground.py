"""SymPy's polynomial arithmetic in Python over gmpy2's integers, so that every limit of the checks binds.

With python-flint installed (hfx needs its Arb balls for certified comparisons), SymPy's default ground types are
python-flint's: univariate polynomials over ℤ and ℚ are then `fmpz_poly`/`fmpq_poly`, and their factorisation runs
inside one C call.  A signal handler runs only between Python bytecodes, and a count of calls sees none inside a C
call, so no `ladder.time_limit` can cut such a call short: the zero search of tanh(54w/143)/tanh(3w/185) (solveset
rewrites it as a polynomial of degree in the tens of thousands) ran 72 CPU seconds under a 3-second limit.

SymPy's "gmpy" ground types keep the polynomial algorithms in Python (each step interruptible and counted) while
its integers, and its integer number theory (`sympy.external.ntheory`: exact roots, removing a factor, primality),
are gmpy2's (GMP).  With Python's own integers ("python", the fallback where gmpy2 is missing) that number theory
is Python code on huge integers whose arithmetic happens inside single bytecodes, invisible to a count and slow:
the zero search of 83823/115 + log(21543226/567)/log(1/(p + 1)) spent 22 CPU seconds in `divmod` on integers of
hundreds of thousands of digits (cut by the 8-second safety net), and that of 215s/221 + exp(1804s/52455) − 1
6-7 s in a primality test, close enough to the same net that a slower machine would have cut it and so changed
the evidence.  With gmpy2 the two take 1-2 s and 0.8 s, and verifying all of hfx's derivations ~16 % less CPU.

`use_interruptible_ground_types` is called by `theory/__init__.py` (`hfx/__init__.py` sets the variables itself, so
as not to import theory before the command line's early checks), before anything imports SymPy where they can:
then the environment decides (SymPy and mpmath read it once, on import; child processes inherit it).  mpmath is
kept on Python's integers (`MPMATH_NOGMPY`): its results are the same either way, and this leaves SymPy's
floating-point paths exactly as they were tested.  Where SymPy was imported first (a script that starts with
``import sympy``), the three module globals through which SymPy 1.14's polynomials reach python-flint are switched
off instead: new polynomials are built on the Python representation (`DMP_Python`, over python-flint's integers:
each arithmetic operation is still one short C call), and integer factorisation takes SymPy's own Zassenhaus
algorithm.  Dense matrices over ℤ and ℚ (`DomainMatrix` on `DFM`) keep python-flint: the checks handle small
matrices only.

`logs_of_big_integers` works around a defect of SymPy 1.14 with gmpy2: some of its number theory passes an `mpz`
to `math.log`/`log2`/`log10`, which convert it to a float (OverflowError beyond 1.8e308), where a Python `int` of
any size is accepted: ``factorint`` of an integer above 10³⁰⁸ failed in `_perfect_power` (the numeric check of
identity-init.branch-decay at a large instance failed with it).  Those modules get a `math` whose logarithms take
the integer as a Python `int`.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import types

LOG_FUNCTIONS = ("log", "log2", "log10")
_MODULES_WITH_MATH = ("sympy.ntheory.factor_", "sympy.ntheory.partitions_", "sympy.core.intfunc", "sympy.core.evalf",
                      "sympy.core.numbers", "sympy.external.ntheory")
_MODULES_WITH_LOG = ("sympy.ntheory.ecm", "sympy.ntheory.qs")  # (``from math import log``)


def interruptible_ground_types() -> str:
    """SymPy's ground types for hfx: "gmpy" where gmpy2 is installed (a dependency of hfx), else "python"."""
    return "gmpy" if importlib.util.find_spec("gmpy2") is not None else "python"


def use_interruptible_ground_types() -> str:
    """Make SymPy's polynomials Python code (see the module docstring); return how: "environment" (SymPy not
    imported yet: the ground types are set), "patched" (imported with python-flint ground types: switched off) or
    "unchanged" (imported with gmpy or python ground types)."""
    if "sympy" not in sys.modules:
        os.environ["SYMPY_GROUND_TYPES"] = interruptible_ground_types()
        if "mpmath" not in sys.modules:
            os.environ["MPMATH_NOGMPY"] = "1"
        return "environment"
    from sympy.external import gmpy

    if gmpy.GROUND_TYPES != "flint":
        return "unchanged"
    from sympy.polys import factortools, polyclasses

    polyclasses.flint = None  # DMP.new / to_best / convert: DMP_Python, never DUP_Flint

    def _not_flint(domain: object) -> bool:
        return False

    polyclasses._supported_flint_domain = _not_flint
    factortools.GROUND_TYPES = "python"  # dup_zz_factor: Zassenhaus in Python, not fmpz_poly.factor
    return "patched"


def _as_int(x: object) -> object:
    return int(x) if type(x).__name__ == "mpz" else x  # type: ignore[call-overload]


def _logarithm(name: str) -> types.FunctionType:
    f = getattr(math, name)

    def logarithm(x: object, *base: object) -> float:
        return f(_as_int(x), *(_as_int(b) for b in base))

    logarithm.__name__ = name
    return logarithm  # type: ignore[return-value]


def logs_of_big_integers() -> list[str]:
    """Give SymPy's number theory logarithms that accept gmpy2 integers of any size (module docstring), where SymPy
    runs on gmpy2; return the modules changed."""
    from sympy.external import gmpy

    if gmpy.GROUND_TYPES != "gmpy":
        return []
    safe = types.ModuleType("math", "math, with logarithms of gmpy2 integers of any size (theory._ground)")
    safe.__dict__.update({k: v for k, v in vars(math).items() if not k.startswith("__")})
    for name in LOG_FUNCTIONS:
        setattr(safe, name, _logarithm(name))
    changed = []
    for module_name in _MODULES_WITH_MATH:
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        if getattr(module, "math", None) is math:
            module.math = safe  # type: ignore[attr-defined]
            changed.append(module_name)
    for module_name in _MODULES_WITH_LOG:
        module = importlib.import_module(module_name)
        if getattr(module, "log", None) is math.log:
            module.log = safe.log  # type: ignore[attr-defined]
            changed.append(module_name)
    return changed
