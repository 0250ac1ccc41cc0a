"""Imported once by the verification fork server (`hfx.theorems`): theory and every derivation, built.

Each derivation is then verified in a fresh fork of this one state, so that its status never depends
on which other derivations the same process happened to verify before (SymPy caches assumptions on
shared objects), nor on the hash seed (the server runs with ``PYTHONHASHSEED=0``).
"""

from __future__ import annotations

import os

from hfx.pool import die_with_parent

die_with_parent(os.getppid())  # first: the server (and so its workers) ends with hfx, even while it preloads

import sympy.core.random  # noqa: E402

from theory.core.registry import all_derivations  # noqa: E402

sympy.core.random.seed(0)
all_derivations()
