"""`hfx check FILE.py [--pdf] [--out DIR] [--json]`: check the derivations of your own module.

Imports FILE alone (`hfx.user_module`: nothing else of the user's runs), builds the derivations that its
`@theorem` builders return, verifies each with the same ladder as `hfx verify` (`theory.derivation.verify`),
in a fresh fork of the same verification server (`hfx.theorems`: ``PYTHONHASHSEED=0``; the worker imports
FILE again and checks that it is unchanged), so that a derivation gets the status `hfx verify` would give
it; prints the same table, and writes, through `hfx.output`,

* ``DIR/theorems.json``  one record per derivation (`hfx.theorems.theorem_json`, as `hfx verify` writes it);
* ``DIR/derivations/``   with ``--pdf``: the documents of `hfx derive` (`hfx.documents`) for these derivations;
* ``DIR/manifest.json``  provenance, written last; it names FILE and its sha256.

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
import contextlib
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from hfx.errors import UsageError
from hfx.options import check_all, check_jobs, overridden
from hfx.owner import check_owner
from hfx.paths import output_dir

if TYPE_CHECKING:
    from hfx.doc_model import DocView
    from theory.derivation import Derivation, TheoremRecord

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
    from hfx.console import print_json
    from hfx.output import manifest, open_output, sha256_file, utc_now
    from hfx.table import failure_details, theorem_table
    from hfx.theorems import theorem_json
    from hfx.user_module import load_derivations
    from theory.derivation import Status

    started = utc_now()
    source_sha256 = sha256_file(source)  # what was checked: the file as it is now
    # what the user's code prints goes to stderr under --json, so that stdout holds the JSON document only
    with _own_streams():  # the user's code cannot close hfx's stdout or stderr
        users_stdout = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
        with users_stdout:
            derivations = load_derivations(source, shown=args.file)  # the user's code: UsageError for anything wrong
    for d in derivations:
        if not d.proves:
            print(f"hfx check: note: {d.id} states nothing formally (its `proves` is empty): its status covers "
                  "its steps only", file=sys.stderr)
    print(f"hfx check: checking {len(derivations)} derivation(s) from {args.file}", file=sys.stderr)
    t0 = time.perf_counter()
    records = _verify(source, args.file, len(derivations), source_sha256, args.json, args.jobs)
    if [r.id for r in records] != [d.id for d in derivations]:
        raise UsageError(f"{args.file} gave other derivations when imported again; is its top level deterministic?")
    seconds = time.perf_counter() - t0
    views = _views(derivations, records, args.file) if args.pdf else None  # before anything is written
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
    print(f"wrote {written} under {out}", file=sys.stderr)
    return 1 if failed else 0


@contextlib.contextmanager
def _own_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr as streams of their own (duplicated descriptors) while the user's module is
    imported: what it prints goes where hfx's output goes, but closing them (`sys.stdout.close()`) closes only
    the duplicates; hfx's own streams, and its signal handlers, are put back afterwards."""
    saved = (sys.stdout, sys.stderr)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with contextlib.ExitStack() as stack:
        stack.callback(_restore_handlers, handlers)  # nor change what Ctrl-C does (signal.SIG_IGN at import)
        stack.enter_context(_own_folder())  # nor hfx's working folder (`os.chdir` beside FILE, a common idiom)
        yield from _dup_streams(saved)


@contextlib.contextmanager
def _own_folder() -> Iterator[None]:
    """The working folder as it was, whatever the user's code does to it (FILE, --out and every relative path
    were read against it: after `os.chdir` at FILE's top level, FILE was looked for again from FILE's folder, exit
    3, and a relative --out was written there)."""
    try:
        here = os.open(".", os.O_RDONLY)
    except OSError:  # a working folder that cannot be opened: nothing to put back
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.fchdir(here)
        os.close(here)


def _restore_handlers(handlers: dict[signal.Signals, Any]) -> None:
    if threading.current_thread() is threading.main_thread():
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)


def _dup_streams(saved: tuple[TextIO, TextIO]) -> Iterator[None]:
    own = []
    try:
        for stream in saved:
            stream.flush()
            own.append(open(os.dup(stream.fileno()), "w", encoding=stream.encoding, errors="backslashreplace",
                            buffering=1))
    except (OSError, ValueError, AttributeError):  # streams without a descriptor (tests capture them): as they are
        for handle in own:
            handle.close()
        yield
        return
    sys.stdout, sys.stderr = own
    try:
        yield
    finally:
        for handle in own:
            with contextlib.suppress(OSError, ValueError):
                handle.close()
        sys.stdout, sys.stderr = saved


def _verify(source: Path, shown: str, count: int, sha256: str, quiet: bool, jobs: int) -> list[TheoremRecord]:
    """Each derivation verified in a fresh fork of hfx's verification server, as `hfx verify` verifies its own."""
    from hfx.pool import worker_pool
    from hfx.user_module import verify_one
    from hfx.verify_server import fork_server  # the fork server of `hfx verify` (PYTHONHASHSEED=0, theory preloaded)

    workers = max(1, min(jobs or os.cpu_count() or 1, count))
    path = str(source.resolve())
    with worker_pool(workers, mp_context=fork_server(), max_tasks_per_child=1) as pool:
        futures = [pool.submit(verify_one, path, shown, i, sha256, quiet) for i in range(count)]
        return [f.result() for f in futures]


def _views(derivations: Sequence[Derivation], records: Sequence[TheoremRecord], shown: str) -> list[DocView]:
    """The document views (`hfx.doc_model.view`); a derivation that cannot be typeset is the user's input (exit 2)."""
    from hfx.doc_model import view

    views = []
    for d, r in zip(derivations, records, strict=True):
        try:
            views.append(view(d, r))
        except ValueError as exc:
            raise UsageError(f"{shown}: derivation {d.id!r} cannot be typeset: {' '.join(str(exc).split())}") from None
    return views
