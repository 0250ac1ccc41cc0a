"""One-line progress on stderr: redrawn in place on a terminal, a single line otherwise."""

from __future__ import annotations

import sys


def report(done: int, total: int, label: str) -> None:
    """Report `done` of `total` items of `label` (e.g. "derivations")."""
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r  {label} {done}/{total}\033[K", end=end, file=sys.stderr, flush=True)
    elif done == total:
        print(f"  {label} {total}/{total}", file=sys.stderr, flush=True)
