"""SymPy's polynomial arithmetic in Python, so that every CPU-time limit of the checks can interrupt it.

With python-flint installed (hfx needs its Arb balls for certified comparisons), SymPy's default ground types are
python-flint's: univariate polynomials over ℤ and ℚ are then `fmpz_poly`/`fmpq_poly`, and their factorisation runs
inside one C call.  A signal handler runs only between Python bytecodes, so no `ladder.time_limit` can cut such a
call short: the zero search of tanh(54w/143)/tanh(3w/185) (solveset rewrites it as a polynomial of degree in the
tens of thousands) ran 72 CPU seconds under a 3-second limit.  In pure Python every limit binds within
milliseconds; verifying all of hfx's derivations gave the same statuses either way, in 84 s instead of 100 s.

`use_python_ground_types` is called by `theory/__init__.py` (`hfx/__init__.py` sets the variable itself, so as not to
import theory before the command line's early checks), before anything imports SymPy where they can: then the
environment variable decides (SymPy reads it once, on import; child processes inherit it).  Where SymPy was
imported first (a script that starts with ``import sympy``), the three module globals through which SymPy 1.14's
polynomials reach python-flint are switched off instead: new polynomials are built on the Python representation
(`DMP_Python`, over python-flint's integers: each arithmetic operation is still one short C call), and integer
factorisation takes SymPy's own Zassenhaus algorithm.  Dense matrices over ℤ and ℚ (`DomainMatrix` on `DFM`)
keep python-flint: the checks handle small matrices only.
"""

from __future__ import annotations

import os
import sys


def use_python_ground_types() -> str:
    """Make SymPy's polynomials pure Python (see the module docstring); return how: "environment" (SymPy not
    imported yet), "patched" (imported with python-flint ground types: switched off) or "python" (already)."""
    if "sympy" not in sys.modules:
        os.environ["SYMPY_GROUND_TYPES"] = "python"
        return "environment"
    from sympy.external import gmpy

    if gmpy.GROUND_TYPES != "flint":
        return "python"
    from sympy.polys import factortools, polyclasses

    polyclasses.flint = None  # DMP.new / to_best / convert: DMP_Python, never DUP_Flint

    def _not_flint(domain: object) -> bool:
        return False

    polyclasses._supported_flint_domain = _not_flint
    factortools.GROUND_TYPES = "python"  # dup_zz_factor: Zassenhaus in Python, not fmpz_poly.factor
    return "patched"
