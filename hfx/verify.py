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
from hfx.console import visible
from hfx.devices import CHOICES as DEVICE_CHOICES
from hfx.errors import UsageError
from hfx.options import check_all, check_jobs, overridden
from hfx.owner import check_owner
from hfx.paths import output_dir
from hfx.progress import say

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hfx.audit import ClaimVerdict, Evidence
    from hfx.evidence import Measurements
    from hfx.output import OutputFolder
    from hfx.verify_measure import Place
    from theory.core.derivation import TheoremRecord

DEFAULT_OUT = "hfx-out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default: {DEFAULT_OUT})")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="a fast look: the degradation study and the trainable-depth stacks on smaller grids")
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


MEASUREMENT_OPTIONS = (("quick", "--quick"), ("full", "--full"), ("workers", "--workers"),
                       ("scheduler", "--scheduler"))


def _measurement_options_without_measurements(args: argparse.Namespace) -> None:
    """With --no-experiments an option of the measurements does nothing: given anyway, it is bad input (the
    user expects it to act: `--no-experiments --full` ran the derivations only, `--device cuda` on a CPU-only
    machine was not refused)."""
    if not args.no_experiments:
        return
    given = [flag for name, flag in MEASUREMENT_OPTIONS if getattr(args, name, None) not in (None, False)]
    if args.device != "cpu":
        given.append(f"--device {args.device}")
    if given:
        raise UsageError(f"{given[0]} acts on the measurements, which --no-experiments skips; leave one of them out")


def main(args: argparse.Namespace) -> int:
    check_all(args, "jobs", check_jobs)  # every value given, an overridden one too
    _measurement_options_without_measurements(args)
    for value in overridden(args, "out"):
        output_dir(value)
    for workers in overridden(args, "workers"):
        cluster.validate(workers, None)
    for scheduler in overridden(args, "scheduler"):
        cluster.validate(None, scheduler)
    cluster.validate(args.workers, args.scheduler)
    out = output_dir(args.out)
    check_owner(out, ("verify", None))  # another command's output is never replaced (hfx.owner)
    cluster.probe(args.scheduler)  # a scheduler that does not answer: said before the heavy imports
    from hfx.output import manifest, open_output, utc_now
    from hfx.verify_measure import concurrent, measuring

    started = utc_now()
    t0 = time.perf_counter()
    tier = "quick" if args.quick else "full" if getattr(args, "full", False) else "default"
    jobs = args.jobs or os.cpu_count() or 1
    with _place(args) as place, open_output(out, owner=("verify", None)) as folder, \
            measuring(tier, place, jobs) as (started_measuring, board):
        # the measurements have started (hfx.verify_measure); the derivations' server preloads the theory while
        # this process imports it (SymPy) for the audit
        from hfx.verify_server import fork_server

        fork_server()
        from hfx import theorems
        from hfx.audit import audit, report_markdown
        from hfx.documents import write_documents
        from hfx.table import failure_details, format_table, theorem_table
        from theory.derivation import Status

        ids = theorems.resolve_ids([])
        beside = place is not None and concurrent(place)  # (else the measurements run after the derivations)
        say(f"hfx verify: checking {len(ids)} derivations"
            + (", measuring beside them (hfx.verify_measure)" if beside else ""))
        records, views, untypeset = theorems.verify_with_views(ids, jobs=args.jobs or None)  # views: in the workers
        for line in untypeset:  # a plugin's prose outside the syntax: its document is left out, its record kept
            say(f"hfx verify: {line}; its document is not written")
        seconds = time.perf_counter() - t0
        failed = [r for r in records if r.status is Status.FAILED]
        table = theorem_table(records)
        # a PDF, .typ, .tex and fragment per derivation (typeset while the measurements go on)
        documents = write_documents(views, folder.path("derivations"))
        folder.record(documents)
        derivations = sorted(p.relative_to(folder.root).as_posix() for p in documents if p.suffix == ".pdf")
        board.show(table)
        # the measurements need torch: imported here (and in their process), so that other commands start fast
        from hfx import serialise
        from hfx.evidence import Measurements, experiment_evidence
        from numerics.experiments.contract import replicates

        drawn = started_measuring() if started_measuring is not None else None
        measured = drawn.measured if drawn is not None else Measurements()
        results = measured.results()
        evidence: dict[str, list[Evidence]] = experiment_evidence(measured)
        verdicts = audit(records, evidence)
        broken = [name for name, result in results.items() if not result.passed]
        lines = ["", format_table(["claim", "verdict", "why"], [[v.claim.id, v.verdict.upper(), v.reason]
                                                                 for v in verdicts])]
        if failed:
            lines.append("\nFailed steps:\n" + failure_details(failed))
        if broken:
            lines.append(f"\nExperiments whose theory cross-checks failed: {', '.join(broken)}")
        counts = {s.value: sum(1 for r in records if r.status is s) for s in Status}
        lines.append(f"\n{counts['proved']} proved, {counts['checked']} checked, {counts['failed']} failed in "
                     f"{seconds:.1f}s")
        board.show("\n".join(lines))
        config = {
            "command": "verify",
            "quick": bool(args.quick),
            "tier": tier,
            "experiments": {name: serialise.config(r.config) for name, r in results.items()},
        }
        seeds = list(range(replicates(measured.degradation.config).seeds)) if measured.degradation else []
        extra: dict[str, object] = {"seconds": round(time.perf_counter() - t0, 3),
                                    "device": place.device if place else None}
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
        for name, result in results.items():
            folder.write_csv(f"tables/{name}.csv", [serialise.row(rec) for rec in result.records])
            folder.write_json(f"experiments/{name}.json", serialise.summary_document(result))
        for path, content in drawn.files if drawn is not None else ():
            folder.write_bytes(path, content)
        report = report_markdown(verdicts, table, header)
        if measured.degradation is not None and drawn is not None:
            from hfx.degradation_report import section

            studies = [r for r in (measured.degradation, measured.degradation_cnn) if r is not None]
            report += "\n" + section(tier, studies, measured.trainable_depth,
                                     [p for p in drawn.pictures if p.endswith(".png")])
        appendix = _tables(folder, verdicts, records, measured, tier, derivations,
                           list(drawn.figures) if drawn is not None else [])
        folder.write_text("REPORT.md", report + "\n" + appendix)
        # the same report as one self-contained page, figures inline (written last: it embeds them)
        from hfx.report_html import report_html

        folder.write_text("REPORT.html", report_html(folder.path("REPORT.md").read_text(encoding="utf-8"), out))
        folder.finish(provenance)
    written = "REPORT.md, REPORT.html, claims.json, theorems.json, derivations/, tables/, manifest.json"
    print(f"wrote {visible(out)}/{written}", file=sys.stderr)
    return 1 if failed or broken else 0


def _tables(folder: OutputFolder, verdicts: Sequence[ClaimVerdict], records: Sequence[TheoremRecord],
            measured: Measurements, tier: str, derivations: Sequence[str], figures: Sequence[str]) -> str:
    """The summary tables (`hfx.tables`: CSV and booktabs .tex); returns REPORT.md's sections that show and
    link them and the figures (`figures`, written with the measurements: `hfx.verify_measure`)."""
    from hfx.published import published_rows
    from hfx.tables import booktabs, median_table, published_table, report_sections, verdict_table

    results = measured.results()
    settings = {"quick": "--quick", "full": "--full"}.get(tier, tier)
    summary = [verdict_table(verdicts), median_table(results),
               published_table(published_rows(measured, records, tier))]
    # (the median table and figures of the degradation study and trainable-depth are its own)
    for t in summary:
        folder.write_csv(f"tables/{t.name}.csv", t.csv_rows())
        folder.write_text(f"tables/{t.name}.tex", booktabs(t))
    return report_sections(summary, list(figures), derivations, settings)


@contextlib.contextmanager
def _place(args: argparse.Namespace) -> Iterator[Place | None]:
    """Where the measurements run (None with --no-experiments): the device resolved, and the Dask cluster of
    --workers / --scheduler connected, before any work (bad input is exit 2 at once)."""
    if args.no_experiments:
        yield None
        return
    from hfx import devices
    from hfx.verify_measure import Place

    with contextlib.ExitStack() as stack:
        client = cluster.client_of(stack, args.workers, args.scheduler)
        yield Place(device=devices.resolve(args.device, client), client=client)
