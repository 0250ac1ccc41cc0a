"""hfx theory: SymPy derivations, every step checked (pure; exact arithmetic)."""

from theory._ground import logs_of_big_integers, use_interruptible_ground_types

GROUND_TYPES = use_interruptible_ground_types()  # before SymPy is imported where possible: every limit binds
BIG_INTEGER_LOGS = logs_of_big_integers()  # (imports SymPy)
