"""Imported once by the verification fork server (`hfx.theorems`): theory and every derivation, built.

Each derivation is then verified in a fresh fork of this one state, so that its status never depends
on which other derivations the same process happened to verify before (SymPy caches assumptions on
shared objects), nor on the hash seed (the server runs with ``PYTHONHASHSEED=0``).
"""

from __future__ import annotations

import os
import signal

# first: Ctrl-C is hfx's to handle (multiprocessing's server keeps this disposition as the one its forked workers
# restore, so they ignore SIGINT from birth); a Ctrl-C before this line ends the server, as it ends hfx
signal.signal(signal.SIGINT, signal.SIG_IGN)

from hfx.pool import die_with_parent  # noqa: E402

die_with_parent(os.getppid())  # the server (and so its workers) ends with hfx, even while it preloads

import sympy.core.random  # noqa: E402

from theory.core.registry import all_derivations  # noqa: E402

sympy.core.random.seed(0)
all_derivations()
