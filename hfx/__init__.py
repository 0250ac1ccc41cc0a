"""hfx: a symbolic and numeric theory verifier for H(x) = F(x) + x."""

import os as _os
import sys as _sys

if "sympy" not in _sys.modules:  # SymPy's polynomials in Python, where every limit binds (theory/_ground.py;
    import importlib.util as _util  # importing theory here would cost the command line's early checks)

    _os.environ["SYMPY_GROUND_TYPES"] = "gmpy" if _util.find_spec("gmpy2") is not None else "python"
    if "mpmath" not in _sys.modules:
        _os.environ["MPMATH_NOGMPY"] = "1"

__version__ = "0.1.0"
