"""`hfx run EXPERIMENT [--set KEY=VALUE ...] [--seeds N] [--out DIR] [--json] [--workers N | --scheduler ADDRESS]
[--resume] [--device cpu|cuda|auto]`.

A thin layer over `numerics.experiments`: parse every `--set` against the experiment's Config (by its flat
parameter names), check every value against the field's declared constraints, estimate the memory the run will
need and refuse what this machine cannot hold, validate the output folder, run, then write (atomically)

* ``DIR/runs.csv``      tidy, one row per run;
* ``DIR/summary.json``  the experiment, its configuration, checks, summaries and records
                        (schema: docs/experiments.md);
* ``DIR/manifest.json`` provenance (hfx.provenance), written last: every file with its sha256;
* ``DIR/figures/<name>.pdf`` and ``.png`` (and ``.csv``, the rows drawn, where the experiment gives them).

A scalar parameter given several comma-separated values (`--set width=16,64,256`) is a *sweep*, as Hydra's
multirun: one run per value (the product over several swept parameters), each written to
``DIR/<key>=<value>[,…]/``, with ``DIR/sweep.json`` listing them.

The grid runs chunk by chunk (`numerics.experiments.chunks`; `hfx.execute`): in this process by default, on a
Dask `LocalCluster` of N processes with `--workers N`, or on an existing Dask cluster with `--scheduler ADDRESS`
(`hfx.cluster`) — the same records, summaries and checks in every case.  The degradation study runs round by
round, each round's training jobs over one process per core or on that cluster (`hfx.degradation_jobs`).  Every
finished chunk (degradation: job) is persisted at once in ``DIR/chunks/`` (`hfx.store`); `--resume` after an
interruption (Ctrl-C, SIGKILL, a power cut, a lost worker) computes only the missing ones.  The small studies
of GD near the identity run whole, in this process (no cluster, no resume).  `--device` chooses
where the runs train (`hfx.devices`).

Exit codes: 0 no theory cross-check failed; 1 one failed; 2 bad input (one line on stderr naming the parameter
and its allowed range, nothing written); a run that would not fit in memory is bad input too (the line gives the
estimate and the available memory).  `--json` prints exactly one JSON document (the summary; for a sweep, the
list of summaries) on stdout; progress, with an estimate of the time left, goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hfx import cluster, options, preflight, resources
from hfx.console import visible
from hfx.devices import CHOICES as DEVICE_CHOICES
from hfx.errors import UsageError
from hfx.owner import check_owner
from hfx.paths import output_dir
from hfx.sweep import Point, build_configs

# the names of `numerics.experiments.EXPERIMENTS`, sorted, known without importing torch (a test keeps them equal)
EXPERIMENT_NAMES = ("branch-norms", "branch-rate", "deep-linear", "deep-stack", "degradation", "hardt-ma-bound",
                    "identity-init", "linear-block", "nonlinear-block", "trainable-depth", "weight-decay")

if TYPE_CHECKING:
    from hfx.execute import Backend
    from hfx.output import OutputFolder
    from hfx.store import StoreKey
    from numerics.experiments import AnyResult, Experiment

DEFAULT_OUT = "hfx-out/experiments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", metavar="EXPERIMENT", help="a named experiment (hfx list experiments)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a parameter (lists: comma-separated; a scalar with several comma-separated "
                             "values is a sweep: one run per value); repeatable")
    parser.add_argument("--seeds", type=int, default=None, metavar="N", help="independent seeds (overrides seeds)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help=f"output folder (default: {DEFAULT_OUT}/EXPERIMENT)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch intra-op threads (default 1: small batched problems run fastest on one)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="run the chunks (degradation: each round's training jobs) on a Dask LocalCluster of N "
                             "worker processes (one thread each)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the chunks (degradation: each round's training jobs) on the Dask cluster at ADDRESS "
                             "(tcp://HOST:PORT; docs/cluster.md)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the finished chunks (degradation: jobs) of an interrupted run into --out and "
                             "compute only the rest")
    parser.add_argument("--device", default=None, choices=DEVICE_CHOICES,
                        help="where the runs train: cpu (default; degradation: its own device parameter, auto), "
                        "cuda, or auto (CUDA when present, else the CPU)")


def main(args: argparse.Namespace) -> int:
    options.check_all(args, "threads", options.check_threads)  # every value given, an overridden one too
    options.check_all(args, "seeds", options.check_seeds)
    for workers in options.overridden(args, "workers"):
        cluster.validate(workers, None)
    for scheduler in options.overridden(args, "scheduler"):
        cluster.validate(None, scheduler)
    cluster.validate(args.workers, args.scheduler)
    for out in [*options.overridden(args, "out"), args.out]:  # before torch is imported: bad input costs no time
        if out is not None:
            output_dir(out)
    if args.experiment not in EXPERIMENT_NAMES:  # (the registry itself imports torch)
        raise UsageError(f"unknown experiment {args.experiment!r}; known: {', '.join(EXPERIMENT_NAMES)}")
    if args.out is None:  # the default folder too, before torch is imported (a read-only working folder: at once)
        output_dir(str(Path(DEFAULT_OUT) / args.experiment))
    value = args.out if args.out is not None else str(Path(DEFAULT_OUT) / args.experiment)
    check_owner(Path(value), ("run", args.experiment), value)  # another command's output is never replaced
    preflight.check(args.experiment, args.overrides, args.seeds)  # every --set alone, before torch
    cluster.probe(args.scheduler)  # a scheduler that does not answer: said before torch is imported
    from numerics import experiments

    try:
        module = experiments.get(args.experiment)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    points = build_configs(module, args.overrides, args.seeds)
    from hfx.execute import is_chunked

    if not is_chunked(module):
        return _run_study(module, points, args)
    concurrent = args.workers or (os.cpu_count() or 1 if module.LOCAL_POOL and args.scheduler is None else 1)
    units = resources.check_resources(module, points, resources.available_memory(), concurrent=concurrent,
                                      local=args.scheduler is None,
                                      process_bytes=resources.WORKER_PROCESS_BYTES if args.workers else 0)
    out = output_dir(args.out if args.out is not None else str(Path(DEFAULT_OUT) / module.NAME))
    folders = _folders(module, points, out)
    sweep = any(p.swept for p in points)

    import torch

    from hfx import devices
    from hfx.execute import Backend
    from hfx.output import open_output

    args.device = args.device or "cpu"
    local_device = None if args.scheduler is not None and args.device != "cpu" else devices.resolve(args.device)
    from hfx.store import check_store_path

    for folder in folders:  # a store that cannot be written is the user's input: before anything is written
        check_store_path(folder)
    if args.resume:  # refused before anything is written, and before a cluster is started
        _check_resume(module, points, folders, out, sweep,
                      None if local_device is None else lambda _: local_device)
    torch.set_num_threads(args.threads)
    documents: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        client = cluster.client_of(stack, args.workers, args.scheduler)
        device = local_device if local_device is not None else devices.resolve(args.device, client)
        if args.resume and local_device is None:
            _check_resume(module, points, folders, out, sweep, lambda _: device, announce=False)
        if client is not None and args.scheduler is not None:
            resources.check_worker_memory(module, points, cluster.worker_memory(client))
        backend = Backend(device=device, threads=args.threads, client=client)
        bar = stack.enter_context(_Bar(module.NAME, units, module.cost(points[0].config).unit))
        # a sweep's index folder, locked first
        top = stack.enter_context(open_output(out, owner=("run", module.NAME))) if sweep else None
        for point, folder in zip(points, folders, strict=True):
            documents.append(_run_point(module, point, folder, bar, args, backend))
        if top is not None:
            _finish_sweep(top, module.NAME, points, documents, args, backend)
    return _report(module.NAME, points, documents, out, args)


def _folders(module: Experiment, points: list[Point], out: Path) -> list[Path]:
    """Each point's output folder (a sweep's: one under `out` each), validated, and none holding the output of
    another command or experiment (`hfx.owner`): refused before any work."""
    folders = [output_dir(str(out / p.folder)) if p.swept else out for p in points]
    for folder in dict.fromkeys([out, *folders]):
        check_owner(folder, ("run", module.NAME))
    return folders


def _report(name: str, points: list[Point], documents: list[dict[str, Any]], out: Path,
            args: argparse.Namespace) -> int:
    sweep = any(p.swept for p in points)
    if args.json:
        from hfx.console import print_json

        print_json(documents[0] if not sweep else {
            "experiment": name,
            "sweep": [{"overrides": _overrides(p), "folder": p.folder, "summary": d}
                      for p, d in zip(points, documents, strict=True)]})
    else:
        print(f"wrote {', '.join(p.folder or '.' for p in points)} under {visible(out)}", file=sys.stderr)
    return 0 if all(d["passed"] for d in documents) else 1


RESUMABLE_STUDIES = ("degradation",)  # studies whose jobs run on a cluster and resume (hfx.degradation_jobs)


def _run_study(module: Experiment, points: list[Point], args: argparse.Namespace) -> int:
    """An experiment that runs whole (`numerics.experiments.contract.Study`: the degradation study, whose rounds of
    rates depend on their results, and the small studies of GD near the identity); `--device` sets its own device
    parameter.  The degradation study runs each round's jobs over a local pool or on the Dask cluster of
    `--workers` / `--scheduler`, and keeps every finished job in its store for `--resume` (`hfx.degradation_jobs`);
    the small studies run in this process, with no cluster and no store."""
    resumable = module.NAME in RESUMABLE_STUDIES
    if not resumable and (args.workers is not None or args.scheduler is not None or args.resume):
        raise UsageError(f"{module.NAME} runs whole (a study, not split into chunks): --workers, --scheduler and "
                         "--resume apply to the batched experiments and the degradation study")
    remote = args.scheduler is not None
    units = resources.check_resources(module, points, resources.available_memory(), local=not remote)
    out = output_dir(args.out if args.out is not None else str(Path(DEFAULT_OUT) / module.NAME))
    folders = _folders(module, points, out)
    sweep = any(p.swept for p in points)

    import torch

    from hfx import devices
    from hfx.execute import Backend
    from hfx.output import open_output
    from hfx.store import check_store_path

    if args.device is not None and not (remote and args.device != "cpu"):  # checked here, given to the parameter
        points = _with_device(points, devices.resolve(args.device))
    if resumable:
        for folder in folders:  # a store that cannot be written is the user's input: before anything is written
            check_store_path(folder)
    if args.resume:  # refused before anything is written, and before a cluster is started
        _check_resume(module, points, folders, out, sweep, None if remote else lambda c: _study_device(c, None))
    torch.set_num_threads(args.threads)
    documents: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        client = cluster.client_of(stack, args.workers, args.scheduler)
        if client is not None and remote:
            if args.device is not None and args.device != "cpu":  # where the cluster's workers train
                points = _with_device(points, devices.resolve(args.device, client))
            if args.resume:
                _check_resume(module, points, folders, out, sweep, lambda c: _study_device(c, client), announce=False)
            resources.check_worker_memory(module, points, cluster.worker_memory(client))
        backend = Backend(device=str(getattr(points[0].config, "device", "cpu")), threads=args.threads, client=client)
        bar = stack.enter_context(_Bar(module.NAME, units, module.cost(points[0].config).unit))
        top = stack.enter_context(open_output(out, owner=("run", module.NAME))) if sweep else None
        for point, folder in zip(points, folders, strict=True):
            documents.append(_run_point(module, point, folder, bar, args, backend))
        if top is not None:
            _finish_sweep(top, module.NAME, points, documents, args, backend)
    return _report(module.NAME, points, documents, out, args)


def _with_device(points: list[Point], device: str) -> list[Point]:
    import dataclasses

    from numerics.experiments.params import replace_flat

    try:
        return [dataclasses.replace(p, config=replace_flat(p.config, {"device": device}))
                if hasattr(p.config, "device") else p for p in points]
    except ValueError as exc:  # e.g. a cluster's CUDA device that this machine's torch does not see
        raise UsageError(f"--device {device}: {exc}") from None


def _study_device(config: Any, client: Any) -> str:
    """The device a study's configuration trains on (its `auto` resolved here, or on the cluster's workers)."""
    from hfx import devices

    return devices.resolve(str(getattr(config, "device", "cpu")), client)


def run_config(module: Experiment, config: Any) -> dict[str, Any]:
    """The configuration a run's manifest records (its config_hash is the store's key)."""
    from hfx import serialise

    return {"command": "run", "experiment": module.NAME, **serialise.config(config)}


def _store_key(module: Experiment, config: Any, device: str) -> StoreKey:
    """What a run's store belongs to: its experiment, config hash, device, and chunks (the degradation study: the
    jobs of its first round, `hfx.degradation_jobs`)."""
    from hfx.execute import is_chunked
    from hfx.provenance import config_hash
    from hfx.store import StoreKey

    if is_chunked(module):
        planned = len(module.chunks(config))
    else:
        from hfx.degradation_jobs import planned_jobs

        planned = planned_jobs(config)
    return StoreKey(module.NAME, config_hash(run_config(module, config)), device, planned)


def _check_resume(module: Experiment, points: list[Point], folders: list[Path], out: Path, sweep: bool,
                  device: Callable[[Any], str] | None, announce: bool = True) -> None:
    """UsageError if a folder holds a run that this one cannot resume (hfx.store); read-only.  `device`: the
    device of a configuration (None: not known yet, a remote cluster's: checked again once connected).
    With `announce`, a folder with nothing to resume is said on stderr (the run then computes everything)."""
    from hfx.store import HEADER, STORE, check_folder, check_resume

    if sweep:  # the index folder of a sweep: a single run there (its store, its manifest) is not this sweep's
        manifest = check_folder(out, module.NAME)
        config = manifest.get("config") if manifest is not None else None
        single = (out / STORE / HEADER).exists() or (isinstance(config, dict) and "sweep" not in config)
        if single:
            raise UsageError(f"--resume: {out} holds a single run of {module.NAME}, not a sweep; rerun without "
                             "--resume to start afresh, or resume it without the swept values")
    for point, folder in zip(points, folders, strict=True):
        key = _store_key(module, point.config, device(point.config) if device is not None else "cpu")
        found = check_resume(folder, key if device is not None else _any_device(key, folder))
        if announce and found == 0:
            print(f"hfx: --resume: nothing to resume in {visible(folder)}; every part will be computed",
                  file=sys.stderr)


def _any_device(key: StoreKey, folder: Path) -> StoreKey:
    """The key with the store's own device (before a remote cluster's device is known: checked again later)."""
    import dataclasses

    from hfx.encoding import parse_json
    from hfx.paths import MANIFEST_MAX_BYTES
    from hfx.readfile import read_small_text
    from hfx.store import HEADER, STORE

    try:
        document = parse_json(read_small_text(folder / STORE / HEADER, MANIFEST_MAX_BYTES))
    except (OSError, ValueError):
        return key
    found = document.get("device", key.device) if isinstance(document, dict) else key.device
    return dataclasses.replace(key, device=str(found))


def _overrides(point: Point) -> dict[str, object]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in point.swept}


def _run_point(module: Experiment, point: Point, out: Path, bar: Callable[[int], None],
               args: argparse.Namespace, backend: Backend) -> dict[str, Any]:
    """Run one configuration into its output folder; print its table unless --json; return its summary."""
    from hfx import serialise
    from hfx.execute import Job, execute, is_chunked
    from hfx.figures_out import write_figures
    from hfx.output import manifest, open_output, utc_now
    from hfx.store import ChunkStore
    from numerics.experiments.contract import replicates

    started = utc_now()
    resumable = is_chunked(module) or module.NAME in RESUMABLE_STUDIES
    hint = f"hfx run {module.NAME} --resume --out {out} computes only what is missing" if resumable else ""
    with open_output(out, hint=hint, owner=("run", module.NAME)) as folder:
        chunked: dict[str, Any]
        if is_chunked(module):
            store: ChunkStore | None = ChunkStore(folder, _store_key(module, point.config, backend.device),
                                                  resume=args.resume)
            result = execute(Job(module, point.config, store), backend, bar)
            folder.record(store.files() if store is not None else [])
            chunked = {"chunks": len(module.chunks(point.config)), "resumed_chunks": store.resumed if store else 0}
        elif resumable:
            from hfx.degradation_jobs import JobStore, run_study
            from numerics.experiments.degradation import Config

            jobs = JobStore(folder, _store_key(module, point.config, _study_device(point.config, backend.client)),
                            resume=args.resume)
            result = run_study(cast("Config", point.config), bar, backend.client, jobs)
            folder.record(jobs.files())
            chunked = {"jobs": jobs.resumed + jobs.computed, "resumed_jobs": jobs.resumed}
        else:
            from hfx.measure import run_experiment

            result, chunked = run_experiment(module, point.config, bar), {}
        summary = serialise.summary_document(result)
        folder.write_csv("runs.csv", [serialise.row(rec) for rec in result.records])
        folder.write_json("summary.json", summary)
        if not args.no_figures:
            from hfx.figures import publish, style
            from hfx.verify_measure import FIGURED

            data = getattr(module, "figure_data", None)
            with style():  # as hfx verify draws them: serif, print size, ≥ 7 pt (the studies size their own)
                figures = {name: fig if module.NAME in FIGURED else publish(fig)
                           for name, fig in module.figures(result).items()}
                write_figures(folder, figures, data(result) if data is not None else None)
        config = summary["config"]
        assert isinstance(config, dict)
        folder.finish(manifest(
            {"command": "run", "experiment": module.NAME, **config},
            started,
            seeds=list(range(replicates(point.config).seeds)),
            extra={"experiment": module.NAME, "base_seed": replicates(point.config).seed,
                   "seconds": round(result.seconds, 3), **_execution(args, backend),
                   **chunked,
                   **({"sweep": _overrides(point)} if point.swept else {})},
        ))
    if not args.json:
        if point.swept:
            print(f"== {point.folder}")
        print(_table(result))
    return summary


def _execution(args: argparse.Namespace, backend: Backend) -> dict[str, Any]:
    """Where the run ran (not part of the configuration: it does not change the results)."""
    where = {"workers": args.workers} if args.workers else {"scheduler": args.scheduler} if args.scheduler else {}
    return {"threads": args.threads, "device": backend.device, **where}


def _finish_sweep(top: OutputFolder, name: str, points: list[Point], documents: list[dict[str, Any]],
                  args: argparse.Namespace, backend: Backend) -> None:
    from hfx.output import manifest, utc_now

    index = {"experiment": name,
             "points": [{"overrides": _overrides(p), "folder": p.folder, "passed": d["passed"]}
                        for p, d in zip(points, documents, strict=True)]}
    top.write_json("sweep.json", index)
    top.finish(manifest({"command": "run", "experiment": name, "sweep": index["points"]}, utc_now(),
                        extra={"experiment": name, **_execution(args, backend)}))


class _Bar:
    """A tqdm bar on stderr (with the time left) that appears only if the work takes more than two seconds."""

    def __init__(self, name: str, total: int, unit: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=name, unit=unit, file=sys.stderr, delay=2.0, leave=False,
                         mininterval=0.5 if sys.stderr.isatty() else 10.0)

    def __call__(self, n: int) -> None:
        self._bar.update(n)

    def __enter__(self) -> Callable[[int], None]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


_HIDDEN = {"n_diverged", "steps_q25", "steps_q75", "seconds_median", "seconds_median_ci", "ci_level", "max_steps",
           "predicted_time"}


def _table(result: AnyResult) -> str:
    from hfx import serialise
    from hfx.table import format_table
    from numerics.experiments import CheckStatus

    summaries = [serialise.row(s) for s in result.summaries]
    keys = [k for k in summaries[0] if k not in _HIDDEN] if summaries else []
    rows = [[_fmt(s.get(k)) for k in keys] for s in summaries]
    text = format_table(keys, rows) if rows else "(no runs)"
    words = {CheckStatus.PASSED: "PASSED", CheckStatus.FAILED: "FAILED", CheckStatus.NO_EVIDENCE: "NO EVIDENCE"}
    checks = []
    for c in result.checks:
        note = f" ({c.excluded} runs it cannot judge left out: {c.excluded_reason})" if c.excluded else ""
        checks.append([c.name, words[c.status], f"{c.description}; {c.examined} runs judged{note}"])
    if checks:
        text += "\n\n" + format_table(["theory check", "result", "what"], checks)
    return text + f"\n\n{len(result.records)} runs in {result.seconds:.1f}s"


def _fmt(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)
