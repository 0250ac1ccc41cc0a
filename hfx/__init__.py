"""hfx: a symbolic and numeric theory verifier for H(x) = F(x) + x."""

import os as _os
import sys as _sys

if "sympy" not in _sys.modules:  # SymPy's polynomials in Python, where CPU-time limits bind (theory/_ground.py;
    _os.environ["SYMPY_GROUND_TYPES"] = "python"  # importing theory here would cost the CLI's early checks)

__version__ = "0.1.0"
