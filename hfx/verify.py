"""`hfx verify`: check every derivation and write the audit.

Writes `DIR/REPORT.md` and `DIR/claims.json` (the claim audit: a verdict for
every claim, derived from its evidence by `hfx.audit`), `DIR/theorems.json`
(one record per derivation, every step with its status, method and time) and
`DIR/manifest.json` (provenance), and the measurements behind the claims that
need them (`DIR/tables/<experiment>.csv`, `DIR/experiments/<experiment>.json`;
run by `hfx.measure`, audited by the rules of `hfx.evidence`), the summary tables
(`DIR/tables/{verdicts,medians,published-vs-measured}.csv|tex`: `hfx.tables`,
`hfx.published`) and the figures (`DIR/figures/<name>.pdf|png|csv`: `hfx.figures`),
all linked from REPORT.md; prints the theorem and
claim tables; exits 1 if a derivation or an experiment's theory cross-check failed.
Everything is written through `hfx.output`: the folder is locked while the
command runs, its manifest says `complete: false` until the final one, written
last, lists every file with its sha256.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from hfx import cluster
from hfx.devices import CHOICES as DEVICE_CHOICES
from hfx.errors import UsageError
from hfx.paths import output_dir

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hfx.audit import ClaimVerdict, Evidence
    from hfx.evidence import Measurements
    from hfx.execute import Backend
    from hfx.output import OutputFolder
    from numerics.experiments import AnyResult
    from theory.core.derivation import TheoremRecord

DEFAULT_OUT = "hfx-out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT})")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller experiment grids (for a fast look)")
    size.add_argument("--full", action="store_true",
                      help="the full degradation study, He et al.'s CIFAR ResNet, ≥ 1,000-layer nets and 10,000-layer "
                           "stacks (hours on a laptop; minutes on a GPU)")
    parser.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes (default: one per core)")
    parser.add_argument(
        "--no-experiments", action="store_true", help="derivations only: skip the measurements (claims stay unsettled)"
    )
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="run the measurements on a Dask LocalCluster of N worker processes")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the measurements on the Dask cluster at ADDRESS (tcp://HOST:PORT; docs/cluster.md)")
    parser.add_argument("--device", default="cpu", choices=DEVICE_CHOICES,
                        help="where the measurements train: cpu (default), cuda, or auto (CUDA when present)")


def main(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        raise UsageError(f"--jobs must be ≥ 0, got {args.jobs}")
    cluster.validate(args.workers, args.scheduler)
    out = output_dir(args.out)
    # SymPy (and, for the measurements, torch) only now that the input is known to be good
    from hfx import theorems
    from hfx.audit import audit, report_markdown
    from hfx.documents import write_documents
    from hfx.output import manifest, open_output, utc_now
    from hfx.table import failure_details, format_table, theorem_table
    from theory.derivation import Status

    started = utc_now()
    t0 = time.perf_counter()
    ids = theorems.resolve_ids([])
    with _backend(args) as backend, open_output(out) as folder:
        print(f"hfx verify: checking {len(ids)} derivations", file=sys.stderr)
        records, views, untypeset = theorems.verify_with_views(ids, jobs=args.jobs or None)  # views: in the workers
        for line in untypeset:  # a plugin's prose outside the syntax: its document is left out, its record kept
            print(f"hfx verify: {line}; its document is not written", file=sys.stderr)
        seconds = time.perf_counter() - t0
        failed = [r for r in records if r.status is Status.FAILED]
        table = theorem_table(records)
        print(table)
        # the measurements need torch: imported here, so that other commands start fast
        from hfx import serialise
        from hfx.evidence import Measurements, experiment_evidence
        from numerics.experiments.contract import replicates

        tier = "quick" if args.quick else "full" if getattr(args, "full", False) else "default"
        measured = Measurements() if backend is None else _measure(tier, backend)
        results = measured.results()
        evidence: dict[str, list[Evidence]] = experiment_evidence(measured)
        verdicts = audit(records, evidence)
        broken = [name for name, result in results.items() if not result.passed]
        print()
        print(format_table(["claim", "verdict", "why"], [[v.claim.id, v.verdict.upper(), v.reason] for v in verdicts]))
        if failed:
            print("\nFailed steps:\n" + failure_details(failed))
        if broken:
            print(f"\nExperiments whose theory cross-checks failed: {', '.join(broken)}")
        counts = {s.value: sum(1 for r in records if r.status is s) for s in Status}
        print(f"\n{counts['proved']} proved, {counts['checked']} checked, {counts['failed']} failed in {seconds:.1f}s")
        config = {
            "command": "verify",
            "quick": bool(args.quick),
            "tier": tier,
            "experiments": {name: serialise.config(r.config) for name, r in results.items()},
        }
        seeds = list(range(replicates(measured.degradation.config).seeds)) if measured.degradation else []
        extra: dict[str, object] = {"seconds": round(time.perf_counter() - t0, 3),
                                    "device": backend.device if backend else None}
        if args.workers:
            extra["workers"] = args.workers
        elif args.scheduler:
            extra["scheduler"] = args.scheduler
        if theorems.plugin_records():  # theorem modules of other packages (entry points of `hfx.theorems`)
            extra["plugins"] = theorems.plugin_records()
        provenance = manifest(config, started, seeds=seeds, extra=extra)
        versions, git = provenance["versions"], provenance["git"]
        assert isinstance(versions, dict) and isinstance(git, dict)
        header = f"hfx {versions['hfx']}, git {git['commit']} (dirty: {git['dirty']}), {provenance['finished_utc']}"
        folder.write_json("theorems.json", [theorems.theorem_json(r) for r in records])
        folder.write_json("claims.json", [v.to_json() for v in verdicts])
        pictures: list[str] = []
        for name, result in results.items():
            folder.write_csv(f"tables/{name}.csv", [serialise.row(rec) for rec in result.records])
            folder.write_json(f"experiments/{name}.json", serialise.summary_document(result))
            if name in FIGURED:
                pictures += _figures(folder, name, result)
        report = report_markdown(verdicts, table, header)
        if measured.degradation is not None:
            from hfx.degradation_report import section

            studies = [r for r in (measured.degradation, measured.degradation_cnn) if r is not None]
            report += "\n" + section(tier, studies, measured.trainable_depth,
                                     [p for p in pictures if p.endswith(".png")])
        # a PDF, .typ, .tex and fragment per derivation
        documents = write_documents(views, folder.path("derivations"))
        folder.record(documents)
        derivations = sorted(p.relative_to(folder.root).as_posix() for p in documents if p.suffix == ".pdf")
        appendix = _tables_and_figures(folder, verdicts, records, measured, tier, derivations,
                                       args.jobs or os.cpu_count() or 1)
        folder.write_text("REPORT.md", report + "\n" + appendix)
        # the same report as one self-contained page, figures inline (written last: it embeds them)
        from hfx.report_html import report_html

        folder.write_text("REPORT.html", report_html(folder.path("REPORT.md").read_text(encoding="utf-8"), out))
        folder.finish(provenance)
    written = "REPORT.md, REPORT.html, claims.json, theorems.json, derivations/, tables/, manifest.json"
    print(f"wrote {out}/{written}", file=sys.stderr)
    return 1 if failed or broken else 0


def _tables_and_figures(folder: OutputFolder, verdicts: Sequence[ClaimVerdict], records: Sequence[TheoremRecord],
                        measured: Measurements, tier: str, derivations: Sequence[str], jobs: int) -> str:
    """The summary tables (`hfx.tables`: CSV and booktabs .tex) and the figures (`hfx.figures`: PDF, PNG and their
    data as CSV); returns REPORT.md's sections that show and link them."""
    from hfx.figures import all_figure_files
    from hfx.published import published_rows
    from hfx.tables import booktabs, median_table, published_table, report_sections, verdict_table

    started = time.perf_counter()
    results = measured.results()
    settings = {"quick": "--quick", "full": "--full"}.get(tier, tier)
    summary = [verdict_table(verdicts), median_table(results),
               published_table(published_rows(measured, records, tier))]
    # (the median table and figures of the degradation study and trainable-depth are its own: `_figures`)
    for t in summary:
        folder.write_csv(f"tables/{t.name}.csv", t.csv_rows())
        folder.write_text(f"tables/{t.name}.tex", booktabs(t))
    files = all_figure_files({name: r for name, r in results.items() if name not in FIGURED}, jobs)  # `_figures`
    figures = [name for name, *_ in files]
    for name, pdf, png, data in files:
        folder.write_bytes(f"figures/{name}.pdf", pdf)
        folder.write_bytes(f"figures/{name}.png", png)
        folder.write_csv(f"figures/{name}.csv", data)
    print(f"hfx verify: {len(summary)} summary tables and {len(figures)} figures in "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    return report_sections(summary, list(figures), derivations, settings)


FIGURED = ("degradation", "degradation-cnn", "trainable-depth")  # results whose figures REPORT.md embeds


def _figures(folder: OutputFolder, name: str, result: AnyResult) -> list[str]:
    """The figures (PDF, PNG) and their data (CSV) of one audited result, under figures/<name>/."""
    from hfx.figures_out import write_figures
    from numerics.experiments import get

    module = get(result.name)
    data = getattr(module, "figure_data", None)
    return write_figures(folder, module.figures(result), data(result) if data is not None else None,
                         prefix=f"figures/{name}")


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Backend | None]:
    """Where the measurements run (None with --no-experiments): the device resolved, and the Dask cluster of
    --workers / --scheduler connected, before any work (bad input is exit 2 at once)."""
    if args.no_experiments:
        yield None
        return
    from hfx import devices
    from hfx.execute import Backend

    with contextlib.ExitStack() as stack:
        client = None
        if args.workers is not None or args.scheduler is not None:
            client = stack.enter_context(cluster.connect(args.workers, args.scheduler))
        yield Backend(device=devices.resolve(args.device, client), client=client)


def _measure(tier: str, backend: Backend) -> Measurements:
    from hfx.measure import run_audited

    return run_audited(tier, backend=backend)
