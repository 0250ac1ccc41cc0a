"""Plain-text verdict tables, shared by `pytest proofs/` and `hfx verify`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SymPy is imported by the functions that need it, so that `hfx list claims` starts fast
    from theory.core.derivation import TheoremRecord


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])


def theorem_table(records: Sequence[TheoremRecord]) -> str:
    """One row per derivation: id, claims, status, steps (proved/total), time."""
    from theory.core.derivation import Status

    rows = []
    for r in records:
        proved = sum(1 for s in r.steps if s.status is Status.PROVED)
        rows.append([r.id, ",".join(r.claims), r.status.upper(), f"{proved}/{len(r.steps)}", f"{r.seconds:.2f}s"])
    return format_table(["theorem", "claims", "status", "steps proved", "time"], rows)


def failure_details(records: Sequence[TheoremRecord]) -> str:
    """For every step that is not proved: which, both sides, the method, the detail."""
    from theory.core.derivation import Status
    from theory.core.printing.prose_unicode import readable

    lines = []
    for r in records:
        for s in r.steps:
            if s.status is not Status.PROVED:
                lines.append(f"{r.id} step {s.index} {s.status} ({s.method}): {readable(s.reason)}")
                lines.append(f"    lhs: {s.lhs}")
                lines.append(f"    {s.relation} rhs: {s.rhs}")
                if s.detail:
                    lines.append(f"    {s.detail}")
    return "\n".join(lines)
