"""Verify registered derivations, in parallel, for the command line.

Derivations are rebuilt inside each worker process from their id (SymPy
objects travel badly between processes); each worker returns the
`DerivationResult.to_json()` record.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from hfx.errors import UsageError
from hfx.progress import report
from theory.core.registry import all_derivations, derivation_by_id
from theory.derivation import verify


def known_ids() -> list[str]:
    return [d.id for d in all_derivations()]


def resolve_ids(requested: Sequence[str]) -> list[str]:
    """The ids to verify: all if none requested; UsageError for an unknown id."""
    known = known_ids()
    if not requested:
        return known
    unknown = [i for i in requested if i not in known]
    if unknown:
        raise UsageError(f"unknown theorem id {unknown[0]!r} (see `hfx list theorems`)")
    return list(requested)


def _verify_one(derivation_id: str) -> dict[str, object]:
    return verify(derivation_by_id(derivation_id)).to_json()


def verify_ids(ids: Sequence[str], jobs: int | None = None, progress: bool = True) -> list[dict[str, object]]:
    """Verify the derivations `ids`, returning their records in the order given."""
    jobs = jobs or min(len(ids), os.cpu_count() or 1)
    records: dict[str, dict[str, object]] = {}
    if jobs <= 1 or len(ids) <= 1:
        for i, derivation_id in enumerate(ids, start=1):
            records[derivation_id] = _verify_one(derivation_id)
            _progress(progress, i, len(ids), derivation_id)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_verify_one, i): i for i in ids}
            for done, future in enumerate(as_completed(futures), start=1):
                records[futures[future]] = future.result()
                _progress(progress, done, len(ids), futures[future])
    return [records[i] for i in ids]


def _progress(enabled: bool, done: int, total: int, derivation_id: str) -> None:
    if enabled:
        report(done, total, f"verified derivations ({derivation_id})" if done < total else "verified derivations")
