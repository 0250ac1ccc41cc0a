"""How long the derivation documents take, beside the verification they need.

    .venv/bin/python benchmarks/bench_documents.py [--jobs N] [--latex] [--out DIR]

Times, separately: verifying every registered derivation alone (`hfx.theorems.verify_ids`); verifying and
building the document views in the same workers (`verify_with_views`: printing every side in Typst and
LaTeX, naming large objects, parsing the prose), so the difference is the cost of the views; and writing
every document with Typst (each derivation's PDF, .typ, .tex and fragment, the combined PDF, references.bib);
with ``--latex``, also compiling with latexmk/pdflatex and bibtex.  The budget (issue 4): rendering with Typst
≤ 10 s on the 2-core development machine, beyond the time the derivations take to verify.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hfx import documents
from hfx.theorems import resolve_ids, verify_ids, verify_with_views

TYPST_BUDGET_S = 10.0  # issue 4: rendering every PDF with Typst, beyond verification


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=0, help="worker processes for verification (default: per core)")
    parser.add_argument("--latex", action="store_true", help="also time the LaTeX engine")
    parser.add_argument("--out", default="", help="keep the documents in this folder (default: a temporary one)")
    args = parser.parse_args()

    ids = resolve_ids([])
    t0 = time.perf_counter()
    verify_ids(ids, jobs=args.jobs or None, progress=False)
    t1 = time.perf_counter()
    records, views, _ = verify_with_views(ids, jobs=args.jobs or None, progress=False)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.out) if args.out else Path(tmp)
        written = documents.write_documents(views, folder / "typst", engine="typst")
        t3 = time.perf_counter()
        views_s, typst_s = max(0.0, (t2 - t1) - (t1 - t0)), t3 - t2
        print(f"derivations:                   {len(records)}")
        print(f"verify (all):                  {t1 - t0:6.2f} s")
        print(f"verify + views, in the workers: {t2 - t1:6.2f} s  (views: about {views_s:.2f} s of it)")
        print(f"typst: write + compile:        {typst_s:6.2f} s  ({len(written)} files)")
        rendering = views_s + typst_s
        verdict = "within" if rendering <= TYPST_BUDGET_S else "OVER"
        print(f"rendering with Typst:          {rendering:6.2f} s  ({verdict} the {TYPST_BUDGET_S:.0f} s budget)")
        if args.latex:
            documents.require_engine("latex")
            written = documents.write_documents(views, folder / "latex", engine="latex", jobs=args.jobs or None)
            print(f"latex: write + compile:        {time.perf_counter() - t3:6.2f} s  ({len(written)} files)")


if __name__ == "__main__":
    main()
