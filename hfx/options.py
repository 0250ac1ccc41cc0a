"""Checks of the command line's options that several commands share (standard library only).

An option given twice counts with its last value (a base command line plus overrides), but every value given
is the user's input and is checked (docs/design.md, "Command line"): `--jobs -1 --jobs 2` is refused like
`--jobs -1`.  The parser (`hfx.cli`) stores every option with `GivenStore`, which keeps each value given;
`given(args, dest)` returns them, so that a command checks an overridden value with the check of the last one.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from hfx.errors import UsageError

MAX_JOBS = 1024  # worker processes of --jobs (each derivation runs in one; more than there are is never used)
MAX_THREADS = 1024  # torch intra-op threads of --threads
_GIVEN = "_given_values"  # the namespace attribute where GivenStore keeps every value given, by dest


class GivenStore(argparse.Action):
    """argparse's `store`, keeping also every value given, in order (read with `given`)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        kept: dict[str, list[Any]] = dict(getattr(namespace, _GIVEN, None) or {})
        kept[self.dest] = [*kept.get(self.dest, []), values]
        setattr(namespace, _GIVEN, kept)


def given(args: argparse.Namespace, dest: str) -> Sequence[Any]:
    """Every value given for option `dest`, in order; the value it has (its default) when it was not given."""
    kept = getattr(args, _GIVEN, None) or {}
    return kept.get(dest) or [getattr(args, dest)]


def overridden(args: argparse.Namespace, dest: str) -> Sequence[Any]:
    """The values of option `dest` that a later one replaced (checked like the last: they are input too)."""
    return list(given(args, dest))[:-1]


def check_jobs(jobs: int) -> None:
    """`--jobs N`: 0 (one per core) to `MAX_JOBS`; UsageError otherwise."""
    if jobs < 0:
        raise UsageError(f"--jobs must be ≥ 0, got {jobs}")
    if jobs > MAX_JOBS:
        raise UsageError(f"--jobs must be ≤ {MAX_JOBS} (0: one per core), got {jobs}")


def check_threads(threads: int) -> None:
    """`--threads N`: 1 to `MAX_THREADS`; UsageError otherwise."""
    if not 1 <= threads <= MAX_THREADS:
        raise UsageError(f"--threads must be in [1, {MAX_THREADS}], got {threads}")


def check_seeds(seeds: int | None) -> None:
    """`--seeds N`: at least 1 (the upper bound is the experiment's, `hfx.preflight`); UsageError otherwise."""
    if seeds is not None and seeds < 1:
        raise UsageError(f"--seeds must be ≥ 1, got {seeds}")


def check_all(args: argparse.Namespace, dest: str, check: Any) -> None:
    """`check(value)` for every value of `dest` given (the overridden ones first), and for its default."""
    for value in given(args, dest):
        check(value)
