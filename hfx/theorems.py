"""Verify registered derivations, in parallel, for the command line.

Derivations are built inside each worker process from their id (SymPy
objects travel badly between processes); each worker returns the typed
`TheoremRecord` (plain data); `theorem_json` serialises it for the files.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import as_completed

from hfx.errors import UsageError
from hfx.pool import worker_pool
from hfx.progress import report
from theory.core.derivation import TheoremRecord
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


def _verify_one(derivation_id: str) -> TheoremRecord:
    return verify(derivation_by_id(derivation_id)).record()


def theorem_json(record: TheoremRecord) -> dict[str, object]:
    """The record as written to `theorems.json` (times rounded; `steps` counts, `step_results` lists)."""
    return {
        "id": record.id,
        "title": record.title,
        "claims": list(record.claims),
        "status": record.status.value,
        "steps": len(record.steps),
        "seconds": round(record.seconds, 3),
        "statement": record.statement,
        "conclusion": record.conclusion,
        "bearing": {c: b.value for c, b in record.bearing.items()},
        "step_results": [
            {
                "index": s.index,
                "status": s.status.value,
                "method": s.method,
                "seconds": round(s.seconds, 4),
                "reason": s.reason,
                "relation": s.relation,
                "lhs": s.lhs,
                "rhs": s.rhs,
                "detail": s.detail,
            }
            for s in record.steps
        ],
    }


def verify_ids(ids: Sequence[str], jobs: int | None = None, progress: bool = True) -> list[TheoremRecord]:
    """Verify the derivations `ids`, returning their records in the order given."""
    jobs = jobs or min(len(ids), os.cpu_count() or 1)
    started = time.monotonic()
    records: dict[str, TheoremRecord] = {}
    if jobs <= 1 or len(ids) <= 1:
        for i, derivation_id in enumerate(ids, start=1):
            records[derivation_id] = _verify_one(derivation_id)
            _progress(progress, i, len(ids), derivation_id, started)
    else:
        with worker_pool(jobs) as pool:  # Ctrl-C: pending work cancelled, workers stopped
            futures = {pool.submit(_verify_one, i): i for i in ids}
            for done, future in enumerate(as_completed(futures), start=1):
                records[futures[future]] = future.result()
                _progress(progress, done, len(ids), futures[future], started)
    return [records[i] for i in ids]


def _progress(enabled: bool, done: int, total: int, derivation_id: str, started: float) -> None:
    if enabled:
        label = f"verified derivations ({derivation_id})" if done < total else "verified derivations"
        report(done, total, label, started)
