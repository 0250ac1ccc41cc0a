"""`hfx derive [ID ...] [--engine typst|latex] [--fragment-width text|column] [--reasons none|beside|under]
[--out DIR]`: derivation documents.

Verifies the derivations `ID ...` (all registered ones when none is given) and
writes, for each, `<id>.pdf`, `<id>.typ`, `<id>.tex` and `<id>.fragment.tex`
(the steps as numbered equations, for a paper to ``\\input``: broken for the
text width of a one-column article, or with ``--fragment-width column`` for
the column of a two-column one; ``--reasons`` puts each step's justification,
with its ``\\cite`` keys, beside or under it), plus `derivations.pdf` (title
page, contents by topic and claim, every derivation, references) with its
sources, and `references.bib`; see `hfx.documents`.  Unknown ids, and
``--engine latex`` without latexmk or pdflatex on PATH, are bad input (exit 2,
nothing written).  Exits 1 if a derivation failed (its document still shows
where), else 0.  Writes `manifest.json` last (`hfx.output`: every file with its
sha256).
"""

from __future__ import annotations

import argparse
import sys
import time

from hfx.console import visible
from hfx.errors import UsageError, unknown_theorem
from hfx.options import check_all, check_jobs, overridden
from hfx.owner import check_owner
from hfx.paths import output_dir

ENTRY_POINT_GROUP = "hfx.theorems"  # theory.core.registry's (not imported here: it imports SymPy)

DEFAULT_OUT = "hfx-out/derivations"
# named here so that --help starts fast; a test checks they are hfx.documents' and hfx.doc_latex's
ENGINES = ("typst", "latex")  # = hfx.documents.ENGINES
FRAGMENT_WIDTHS = ("text", "column")  # = tuple(hfx.documents.FRAGMENT_WIDTHS)
REASONS = ("none", "beside", "under")  # = hfx.doc_latex.REASONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="derivation ids (default: every registered derivation)")
    parser.add_argument("--engine", choices=ENGINES, default="typst", help="PDF engine (default: typst)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes (default: one per core)")
    parser.add_argument(
        "--fragment-width", choices=FRAGMENT_WIDTHS, default="text",
        help="break the .fragment.tex lines for the text width of a one-column article (text, default) "
             "or the column width of a two-column one (column)",
    )
    parser.add_argument(
        "--reasons", choices=REASONS, default="none",
        help="where a fragment puts each step's justification: beside or under the step, or none (a comment)",
    )


def _refuse_unknown_ids_early(requested: list[str]) -> None:
    """UsageError for an id that is none of hfx's own derivations' when no plugin is installed, before SymPy and
    the theory are imported (4-5 s): with a plugin, `resolve_ids` decides once the plugins are loaded."""
    from importlib import metadata

    from hfx.theorem_ids import OWN_IDS

    unknown = [i for i in requested if i not in OWN_IDS]
    if unknown and not metadata.entry_points(group=ENTRY_POINT_GROUP):
        raise unknown_theorem(unknown[0])


def main(args: argparse.Namespace) -> int:
    check_all(args, "jobs", check_jobs)  # every value given, an overridden one too
    for value in overridden(args, "out"):
        output_dir(value)
    out = output_dir(args.out)
    check_owner(out, ("derive", None))  # another command's output is never replaced (hfx.owner)
    _refuse_unknown_ids_early(args.ids)
    from hfx import documents
    from hfx.output import manifest, open_output, utc_now
    from hfx.theorems import resolve_ids, verify_with_views
    from theory.derivation import Status

    documents.require_engine(args.engine)
    ids = list(dict.fromkeys(resolve_ids(args.ids)))  # unknown id → UsageError; repeated ids once
    started = utc_now()
    with open_output(out, owner=("derive", None)) as folder:
        t0 = time.perf_counter()
        records, views, untypeset = verify_with_views(ids, jobs=args.jobs or None)  # views built in the workers
        t1 = time.perf_counter()
        if untypeset:  # a plugin's derivation outside the prose syntax: no document is written
            raise UsageError(untypeset[0])
        paths = documents.write_documents(
            views, out, engine=args.engine, jobs=args.jobs or None, fragment_width=args.fragment_width,
            reasons=args.reasons,
        )
        folder.record(paths)
        t2 = time.perf_counter()
        config = {"command": "derive", "ids": ids, "engine": args.engine, "fragment_width": args.fragment_width,
                  "reasons": args.reasons}
        folder.finish(manifest(config, started, extra={"seconds": round(t2 - t0, 3)}))
    failed = [r.id for r in records if r.status is Status.FAILED]
    print(
        f"hfx derive: {len(ids)} derivations verified in {t1 - t0:.1f}s, {len(paths)} files written to {visible(out)} "
        f"in {t2 - t1:.1f}s ({args.engine})",
        file=sys.stderr,
    )
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
