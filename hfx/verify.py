"""`hfx verify`: check every derivation and write the audit.

Writes `DIR/REPORT.md` and `DIR/claims.json` (the claim audit: a verdict for
every claim, derived from its evidence by `hfx.audit`), `DIR/theorems.json`
(one record per derivation, every step with its status, method and time) and
`DIR/manifest.json` (provenance); prints the theorem and claim tables; exits 1
if any derivation failed.
"""

from __future__ import annotations

import argparse
import sys
import time

from hfx.audit import audit, report_markdown
from hfx.paths import output_dir
from hfx.table import failure_details, format_table, theorem_table
from hfx.theorems import resolve_ids, verify_ids
from numerics.results import manifest, utc_now, write_json_atomic, write_text_atomic

DEFAULT_OUT = "hfx-out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true", help="smaller experiment grids (for a fast look)")
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes (default: one per core)")


def main(args: argparse.Namespace) -> int:
    out = output_dir(args.out)
    if args.jobs < 0:
        from hfx.errors import UsageError

        raise UsageError(f"--jobs must be ≥ 0, got {args.jobs}")
    started = utc_now()
    t0 = time.perf_counter()
    ids = resolve_ids([])
    print(f"hfx verify: checking {len(ids)} derivations", file=sys.stderr)
    records = verify_ids(ids, jobs=args.jobs or None)
    seconds = time.perf_counter() - t0
    failed = [r for r in records if r["status"] == "failed"]
    table = theorem_table(records)
    print(table)
    verdicts = audit(records)
    print()
    print(format_table(["claim", "verdict", "why"], [[v.claim.id, v.verdict.upper(), v.reason] for v in verdicts]))
    if failed:
        print("\nFailed steps:\n" + failure_details(failed))
    counts = {s: sum(1 for r in records if r["status"] == s) for s in ("proved", "checked", "failed")}
    print(f"\n{counts['proved']} proved, {counts['checked']} checked, {counts['failed']} failed in {seconds:.1f}s")
    config = {"command": "verify", "quick": bool(args.quick)}
    provenance = manifest(config, started, extra={"seconds": round(seconds, 3)})
    header = f"hfx {provenance['versions']['hfx']}, git {provenance['git']['commit']}, {provenance['finished_utc']}"
    write_json_atomic(out / "theorems.json", records)
    write_json_atomic(out / "claims.json", [v.to_json() for v in verdicts])
    write_text_atomic(out / "REPORT.md", report_markdown(verdicts, table, header))
    write_json_atomic(out / "manifest.json", provenance)
    print(f"wrote {out}/REPORT.md, claims.json, theorems.json, manifest.json", file=sys.stderr)
    return 1 if failed else 0
