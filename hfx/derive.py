"""`hfx derive [ID ...] [--engine typst|latex] [--out DIR]`: derivation documents.

Verifies the derivations `ID ...` (all registered ones when none is given) and
writes, for each, `<id>.pdf`, `<id>.typ`, `<id>.tex` and `<id>.fragment.tex`
(equations and steps only, for a paper to ``\\input``), plus `derivations.pdf`
(title page, contents, every derivation) with its sources; see
`hfx.documents`.  Unknown ids, and ``--engine latex`` without latexmk or
pdflatex on PATH, are bad input (exit 2, nothing written).  Exits 1 if a
derivation failed (its document still shows where), else 0.  Writes
`manifest.json` last (`hfx.output`: every file with its sha256).
"""

from __future__ import annotations

import argparse
import sys
import time

from hfx.errors import UsageError
from hfx.paths import output_dir

DEFAULT_OUT = "hfx-out/derivations"
ENGINES = ("typst", "latex")  # = hfx.documents.ENGINES (a test checks), named here so that --help starts fast


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="derivation ids (default: every registered derivation)")
    parser.add_argument("--engine", choices=ENGINES, default="typst", help="PDF engine (default: typst)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes (default: one per core)")


def main(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        raise UsageError(f"--jobs must be ≥ 0, got {args.jobs}")
    out = output_dir(args.out)
    from hfx import documents
    from hfx.output import manifest, open_output, utc_now
    from hfx.theorems import resolve_ids, verify_ids
    from theory.derivation import Status

    documents.require_engine(args.engine)
    ids = list(dict.fromkeys(resolve_ids(args.ids)))  # unknown id → UsageError; repeated ids once
    started = utc_now()
    with open_output(out) as folder:
        t0 = time.perf_counter()
        records = verify_ids(ids, jobs=args.jobs or None)
        t1 = time.perf_counter()
        paths = documents.write_documents(documents.views(records), out, engine=args.engine, jobs=args.jobs or None)
        folder.record(paths)
        t2 = time.perf_counter()
        config = {"command": "derive", "ids": ids, "engine": args.engine}
        folder.finish(manifest(config, started, extra={"seconds": round(t2 - t0, 3)}))
    failed = [r.id for r in records if r.status is Status.FAILED]
    print(
        f"hfx derive: {len(ids)} derivations verified in {t1 - t0:.1f}s, {len(paths)} files written to {out} "
        f"in {t2 - t1:.1f}s ({args.engine})",
        file=sys.stderr,
    )
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
