"""Checks of the command line's numeric options that several commands share (standard library only)."""

from __future__ import annotations

from hfx.errors import UsageError

MAX_JOBS = 1024  # worker processes of --jobs (each derivation runs in one; more than there are is never used)


def check_jobs(jobs: int) -> None:
    """`--jobs N`: 0 (one per core) to `MAX_JOBS`; UsageError otherwise."""
    if jobs < 0:
        raise UsageError(f"--jobs must be ≥ 0, got {jobs}")
    if jobs > MAX_JOBS:
        raise UsageError(f"--jobs must be ≤ {MAX_JOBS} (0: one per core), got {jobs}")
