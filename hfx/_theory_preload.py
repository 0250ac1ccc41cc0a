"""Imported once by the verification fork server (`hfx.theorems`): theory and every derivation, built.

Each derivation is then verified in a fresh fork of this one state, so that its status never depends
on which other derivations the same process happened to verify before (SymPy caches assumptions on
shared objects), nor on the hash seed (the server runs with ``PYTHONHASHSEED=0``).
"""

from __future__ import annotations

import sympy.core.random

from theory.core.registry import all_derivations

sympy.core.random.seed(0)
all_derivations()
