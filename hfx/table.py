"""Plain-text verdict tables, shared by `pytest proofs/` and `hfx verify`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])


def theorem_table(records: Sequence[Mapping[str, object]]) -> str:
    """One row per derivation: id, claims, status, steps (proved/total), time."""
    rows = []
    for r in records:
        steps = r["step_results"]
        assert isinstance(steps, list)
        proved = sum(1 for s in steps if s["status"] == "proved")
        claims = r["claims"]
        assert isinstance(claims, list)
        rows.append(
            [r["id"], ",".join(claims), str(r["status"]).upper(), f"{proved}/{len(steps)}", f"{r['seconds']:.2f}s"]
        )
    return format_table(["theorem", "claims", "status", "steps proved", "time"], rows)


def failure_details(records: Sequence[Mapping[str, object]]) -> str:
    """For every step that is not proved: which, both sides, the method, the detail."""
    lines = []
    for r in records:
        steps = r["step_results"]
        assert isinstance(steps, list)
        for s in steps:
            if s["status"] != "proved":
                lines.append(f"{r['id']} step {s['index']} {s['status']} ({s['method']}): {s['reason']}")
                lines.append(f"    lhs: {s['lhs']}")
                lines.append(f"    {s['relation']} rhs: {s['rhs']}")
                if s["detail"]:
                    lines.append(f"    {s['detail']}")
    return "\n".join(lines)
