"""hfx: a symbolic and numeric theory verifier for H(x) = F(x) + x."""

from theory._ground import use_python_ground_types

use_python_ground_types()  # (theory/_ground.py: SymPy's polynomials in Python, where CPU-time limits bind)

__version__ = "0.1.0"
