"""`hfx check FILE.py [--pdf] [--out DIR] [--json]`: check the derivations of your own module.

Imports FILE alone (`hfx.user_module`: nothing else of the user's runs), builds the derivations that its
`@theorem` builders return, verifies each with the same ladder as `hfx verify` (`theory.derivation.verify`),
in a fresh fork of the same verification server (`hfx.verify_server`: ``PYTHONHASHSEED=0``; the process imports
FILE again and checks that it is unchanged), so that a derivation gets the status `hfx verify` would give
it; prints the same table, and writes, through `hfx.output`,

* ``DIR/theorems.json``  one record per derivation (`hfx.theorems.theorem_json`, as `hfx verify` writes it);
* ``DIR/derivations/``   with ``--pdf``: the documents of `hfx derive` (`hfx.documents`) for these derivations;
* ``DIR/manifest.json``  provenance, written last; it names FILE and its sha256.

None of the user's code runs in hfx's own process: FILE is imported, built, verified and typeset in processes of
its own, killed once they have answered (`hfx.isolated`), so that what it does to its process (``os._exit``,
``os.chdir``, closing its streams, a thread or a child process left running, a signal handler) cannot end, move
or hold hfx; a process that ends without answering is the user's input (exit 2, one line).

Everything the user's code can get wrong is found before anything is written: FILE is imported and
built, the derivations verified and (with ``--pdf``) typeset into document views, and only then is DIR
opened.  DIR defaults to ``hfx-check/<FILE's stem>``.  hfx's own derivations are not checked.  Exit codes: 0 every
derivation proved or checked; 1 one failed (the failed steps are printed with their counterexamples); 2 bad
input, which here includes the user's code (one line on stderr naming FILE and the builder, nothing
written; ``HFX_DEBUG=1`` adds the traceback).  ``--json`` prints the records (as in theorems.json) on stdout
and nothing else there; the table goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hfx.errors import UsageError
from hfx.options import check_all, check_jobs, overridden
from hfx.owner import check_owner
from hfx.paths import output_dir

if TYPE_CHECKING:
    from hfx.doc_model import DocView
    from theory.derivation import TheoremRecord

DEFAULT_OUT = "hfx-check"  # DIR is DEFAULT_OUT/<stem of FILE> unless --out says otherwise


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.py", help="a Python module whose @theorem builders return Derivations")
    parser.add_argument("--pdf", action="store_true",
                        help="also write the derivation documents (PDF, Typst, LaTeX, fragment) to DIR/derivations/")
    parser.add_argument("--out", default=None, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT}/<stem>)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes (default: one per core)")


def source_file(value: str) -> Path:
    """FILE as given, if it is a readable `.py` file; UsageError (one line) otherwise."""
    if not value.strip() or "\0" in value:
        raise UsageError(f"FILE {value!r}: not a file name")
    path = Path(value)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{value}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{value}: {exc.strerror or type(exc).__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{value}: not a file")
    if path.suffix != ".py":
        raise UsageError(f"{value}: not a Python module (expected a .py file)")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{value}: permission denied")
    return path


def main(args: argparse.Namespace) -> int:
    check_all(args, "jobs", check_jobs)  # every value given, an overridden one too
    for value in overridden(args, "out"):
        output_dir(value)
    source = source_file(args.file)
    out = output_dir(args.out if args.out is not None else str(Path(DEFAULT_OUT) / source.stem))
    check_owner(out, ("check", None))  # another command's output is never replaced (hfx.owner)
    # SymPy, and the user's module, only now that the command line is known to be good
    from hfx.console import print_json, visible
    from hfx.output import manifest, open_output, sha256_file, utc_now
    from hfx.table import failure_details, theorem_table
    from hfx.theorems import theorem_json
    from theory.derivation import Status

    started = utc_now()
    source_sha256 = sha256_file(source)  # what was checked: the file as it is now
    t0 = time.perf_counter()
    records, views = _check_in_children(source, args.file, source_sha256, args.json, args.jobs, args.pdf)
    seconds = time.perf_counter() - t0
    failed = [r for r in records if r.status is Status.FAILED]
    talk = sys.stderr if args.json else sys.stdout
    print(theorem_table(records), file=talk)
    if failed:
        print("\nFailed steps:\n" + failure_details(failed), file=talk)
    counts = {s: sum(1 for r in records if r.status is s) for s in Status}
    print(f"\n{counts[Status.PROVED]} proved, {counts[Status.CHECKED]} checked, {counts[Status.FAILED]} failed "
          f"in {seconds:.1f}s", file=talk)
    documents = [theorem_json(r) for r in records]
    with open_output(out, owner=("check", None)) as folder:
        folder.write_json("theorems.json", documents)
        if views is not None:
            from hfx.documents import write_documents

            folder.record(write_documents(views, folder.path("derivations")))
        config = {"command": "check", "file": args.file, "pdf": bool(args.pdf)}
        extra = {"seconds": round(time.perf_counter() - t0, 3),
                 "source": {"file": str(source.resolve()), "sha256": source_sha256}}
        folder.finish(manifest(config, started, extra=extra))
    if args.json:
        print_json(documents)
    written = "theorems.json, derivations/, manifest.json" if args.pdf else "theorems.json, manifest.json"
    print(f"wrote {written} under {visible(out)}", file=sys.stderr)
    return 1 if failed else 0


def _check_in_children(source: Path, shown: str, sha256: str, quiet: bool, jobs: int, pdf: bool
                       ) -> tuple[list[TheoremRecord], list[DocView] | None]:
    """FILE imported, built, verified (and with `pdf` typeset) in processes of its own (`hfx.isolated`), never in
    this one: first a census (the ids; what FILE prints is shown, on stderr under --json), then each derivation
    in a fresh fork of hfx's verification server (`hfx.verify_server`), as `hfx verify` verifies its own."""
    from hfx import isolated
    from hfx.console import visible
    from hfx.user_module import census, verify_one
    from hfx.verify_server import fork_server

    context = fork_server()  # PYTHONHASHSEED=0, theory preloaded
    path = str(source.resolve())
    try:
        [found] = isolated.run_all(context, [(census, (path, shown, sha256, isolated.Output(2 if quiet else 1),
                                                       isolated.Output(2)))], jobs=1)
        for derivation_id, proves in found:
            if not proves:
                print(f"hfx check: note: {visible(derivation_id)} states nothing formally (its `proves` is empty): its "
                      "status covers its steps only", file=sys.stderr)
        print(f"hfx check: checking {len(found)} derivation(s) from {visible(shown)}", file=sys.stderr)
        workers = max(1, min(jobs or os.cpu_count() or 1, len(found)))
        results = isolated.run_all(context, [(verify_one, (path, shown, i, sha256, pdf)) for i in range(len(found))],
                                   jobs=workers)
    except isolated.Ended as exc:
        raise UsageError(f"{shown}: the process that ran it {exc.how} before it answered (does its code end its "
                         "process: os._exit, a signal?)") from None
    records = [record for record, _ in results]
    if [r.id for r in records] != [i for i, _ in found]:
        raise UsageError(f"{shown} gave other derivations when imported again; is its top level deterministic?")
    if not pdf:
        return records, None
    views = []
    for record, view in results:
        if isinstance(view, str) or view is None:
            raise UsageError(f"{shown}: derivation {record.id!r} cannot be typeset: {view}")
        views.append(view)
    return records, views
