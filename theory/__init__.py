"""hfx theory: SymPy derivations, every step checked (pure; exact arithmetic)."""

from theory._ground import use_python_ground_types

GROUND_TYPES = use_python_ground_types()  # before SymPy is imported where possible: every CPU-time limit binds
