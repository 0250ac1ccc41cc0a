"""Verify registered derivations, in parallel, for the command line.

Derivations are built inside the worker processes from their id (SymPy
objects travel badly between processes); each worker returns the typed
`TheoremRecord` (plain data) and, when asked (`verify_with_views`), the
derivation's document view (`hfx.doc_model.DocView`, plain data too), built
while the `Derivation` is in hand; `theorem_json` serialises a record for the
files.

Reproducible: every derivation is verified in a fresh fork of one preloaded
state (a fork server that has imported theory and built every derivation,
`hfx._theory_preload`), started with ``PYTHONHASHSEED=0``.  So a status and its
method never depend on the hash seed of the `hfx` process, on `--jobs`, or on
which other derivations a worker verified before (SymPy caches assumptions on
shared objects); the checker seeds SymPy's own random order per step.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import as_completed

from hfx.doc_model import DocView, view
from hfx.errors import unknown_theorem
from hfx.pool import worker_pool
from hfx.progress import report, say
from hfx.verify_server import fork_server
from theory.core.derivation import Derivation, TheoremRecord
from theory.core.printing.prose import ProseError
from theory.core.registry import all_derivations, derivation_by_id, plugin_problems, plugins
from theory.derivation import verify

_WARNED: set[str] = set()  # plugin problems already printed by this process


def warn_plugin_problems(problems: Sequence[str] | None = None) -> None:
    """One line on stderr for each plugin (entry point of ``hfx.theorems``) that was left out, once per process
    (`problems`: as found by another process, e.g. the verification server; default: this one's)."""
    for line in plugin_problems() if problems is None else problems:
        if line not in _WARNED:
            _WARNED.add(line)
            say(f"hfx: warning: {line}")


def plugin_records() -> list[dict[str, object]]:
    """The plugins, loaded or left out, for a manifest: entry point, module, distribution, ids, problem."""
    return [{"name": p.name, "module": p.module, "distribution": p.distribution, "ids": list(p.ids),
             "problem": p.problem} for p in plugins()]


def known_ids() -> list[str]:
    """Every registered derivation's id: hfx's own, then the plugins' (problems with plugins printed)."""
    ids = [d.id for d in all_derivations()]
    warn_plugin_problems()
    return ids


def resolve_ids(requested: Sequence[str]) -> list[str]:
    """The ids to verify: all if none requested (listed by the verification server: `server_ids`); UsageError for
    an unknown id."""
    if not requested:
        return server_ids()
    known = known_ids()
    unknown = [i for i in requested if i not in known]
    if unknown:
        raise unknown_theorem(unknown[0])
    return list(requested)


def _verify_one(derivation_id: str, with_view: bool = False) -> tuple[TheoremRecord, DocView | str | None]:
    """The record, and (`with_view`) the document view, or why the derivation cannot be typeset (one line)."""
    derivation = derivation_by_id(derivation_id)
    record = verify(derivation).record()
    return record, (view_or_problem(derivation, record) if with_view else None)


def view_or_problem(derivation: Derivation, record: TheoremRecord) -> DocView | str:
    """The document view, or one line saying why `derivation` cannot be typeset (a plugin's prose outside the
    syntax, a key not in references.bib)."""
    try:
        return view(derivation, record)
    except (ProseError, ValueError) as err:
        return f"derivation {derivation.id!r} cannot be typeset: {err}"


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
        "instance": record.instance,
        "proves": [
            {"formula": f.formula, "established": f.established, "steps": list(f.steps), "how": f.how}
            for f in record.proves
        ],
        "remarks": list(record.remarks),
        "refusal": record.refusal,
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
                "engines": list(s.engines),
                "cross_checks": list(s.cross_checks),
            }
            for s in record.steps
        ],
    }


def verify_ids(ids: Sequence[str], jobs: int | None = None, progress: bool = True) -> list[TheoremRecord]:
    """Verify the derivations `ids`, returning their records in the order given (module docstring)."""
    return [record for record, _ in _run(ids, jobs, progress, with_view=False)]


def verify_with_views(
    ids: Sequence[str], jobs: int | None = None, progress: bool = True
) -> tuple[list[TheoremRecord], list[DocView], list[str]]:
    """Verify the derivations `ids`: their records, their document views and, one line each, why a derivation
    cannot be typeset (its view is then missing), in the order given."""
    results = _run(ids, jobs, progress, with_view=True)
    views = [v for _, v in results if isinstance(v, DocView)]
    return [r for r, _ in results], views, [v for _, v in results if isinstance(v, str)]


def _known() -> tuple[list[str], list[str]]:
    """In a worker of the fork server: every registered id, and the plugins' problems (`known_ids`)."""
    return [d.id for d in all_derivations()], plugin_problems()


def server_ids() -> list[str]:
    """Every registered derivation's id (as `known_ids`), listed by the verification server, which has built them
    all (building them in this process too took seconds before any derivation was verified)."""
    with worker_pool(1, mp_context=fork_server(), max_tasks_per_child=1) as pool:
        ids, problems = pool.submit(_known).result()
    warn_plugin_problems(problems)
    return ids


def _run(
    ids: Sequence[str], jobs: int | None, progress: bool, with_view: bool
) -> list[tuple[TheoremRecord, DocView | str | None]]:
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(ids)))
    started = time.monotonic()
    results: dict[str, tuple[TheoremRecord, DocView | str | None]] = {}
    # a fresh fork of the preloaded server per derivation; Ctrl-C: pending work cancelled, workers stopped
    with worker_pool(jobs, mp_context=fork_server(), max_tasks_per_child=1) as pool:
        futures = {pool.submit(_verify_one, i, with_view): i for i in ids}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            _progress(progress, done, len(ids), futures[future], started)
    return [results[i] for i in ids]


def _progress(enabled: bool, done: int, total: int, derivation_id: str, started: float) -> None:
    if enabled:
        label = f"verified derivations ({derivation_id})" if done < total else "verified derivations"
        report(done, total, label, started)
