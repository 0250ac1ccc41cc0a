"""What the audit's additions cost inside `hfx verify`: the new measurements, the tables and the figures.

    .venv/bin/python benchmarks/bench_audit_additions.py [--quick] [--jobs N]

Runs every audited experiment once (`hfx.measure.run_audited`, as `hfx verify` does) and reports each one's own
time (`result.seconds`), then times, on those results, building the published-vs-measured rows and the three
summary tables (`hfx.published`, `hfx.tables`) and rendering every figure with its data (`hfx.figures`, over
`--jobs` processes).  Wall and CPU seconds are printed with the load average, since the development machine is
shared: the budget (issue 10) is `hfx verify` ≤ 3 min on defaults and ≤ 60 s with `--quick` on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time

from hfx.measure import run_audited
from hfx.published import published_rows
from hfx.tables import booktabs, markdown, median_table, published_table
from hfx.theorems import resolve_ids, verify_ids
from hfx.verify_measure import draw

ADDED = ("branch-norms", "branch-rate", "identity-init", "hardt-ma-bound")  # measurements new in issue 10
WIDENED = ("nonlinear-block", "deep-stack")  # grids widened until the best rate is interior


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> str:
    return f"{time.perf_counter() - t[0]:.1f} s wall, {time.process_time() - t[1]:.1f} s CPU (this process)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the `hfx verify --quick` settings")
    parser.add_argument("--jobs", type=int, default=0, help="figure worker processes (default: one per core)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    t = _clock()
    measured = run_audited("quick" if args.quick else "default", progress=False)
    print(f"all measurements: {_since(t)}")
    results = measured.results()
    for name, result in results.items():
        tag = " (new)" if name in ADDED else " (widened grids)" if name in WIDENED else ""
        print(f"  {name}: {result.seconds:.1f} s{tag}")
    print(f"  new measurements together: {sum(results[n].seconds for n in ADDED if n in results):.1f} s")

    records = verify_ids([i for i in resolve_ids([]) if i.startswith(("hardt-ma", "identity-init", "jacobian"))],
                         jobs=1, progress=False)
    t = _clock()
    rows = published_rows(measured, records, "quick" if args.quick else "default")
    tables = [published_table(rows), median_table(results)]
    for table in tables:
        markdown(table), booktabs(table), table.csv_rows()
    print(f"published rows ({len(rows)}) and summary tables: {_since(t)}")

    t = _clock()
    drawn = draw(measured, args.jobs or os.cpu_count() or 1)  # as hfx verify draws them
    size = sum(len(content) for _, content in drawn.files)
    print(f"figures ({len(drawn.files)} files, {size / 1e6:.1f} MB of PDF, PNG and CSV): {_since(t)}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
