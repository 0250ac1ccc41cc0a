"""`hfx run EXPERIMENT [--set KEY=VALUE ...] [--seeds N] [--out DIR] [--json]`.

A thin layer over `numerics.experiments`: parse and type-check every `--set` against the experiment's
Config dataclass, validate the output folder, run, then write (atomically)

* ``DIR/runs.csv``      tidy, one row per run;
* ``DIR/summary.json``  the experiment, its configuration, checks, summaries and records
                        (schema: docs/experiments.md);
* ``DIR/manifest.json`` provenance (hfx.provenance), written last: every file with its sha256;
* ``DIR/figures/<name>.pdf`` and ``.png``.

Exit codes: 0 every theory cross-check passed; 1 one failed; 2 bad input (one line on stderr,
nothing written).  `--json` prints exactly one JSON document (the summary) on stdout; progress goes
to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import math
import sys
import typing
from pathlib import Path
from typing import Any

from hfx.errors import UsageError
from hfx.paths import output_dir

DEFAULT_OUT = "hfx-out/experiments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", metavar="EXPERIMENT", help="a named experiment (hfx list experiments)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a configuration field (lists: comma-separated); repeatable")
    parser.add_argument("--seeds", type=int, default=None, metavar="N", help="independent seeds (overrides seeds)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help=f"output folder (default: {DEFAULT_OUT}/EXPERIMENT)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch intra-op threads (default 1: small batched problems run fastest on one)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_value(key: str, text: str, tp: object) -> object:
    """Convert `text` to the field type `tp` (int, float, str, bool, tuple[X, ...]); UsageError otherwise."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items:
            raise UsageError(f"--set {key}: expected a comma-separated list, got {text!r}")
        return tuple(parse_value(key, item, args[0]) for item in items)
    try:
        if tp is bool:
            low = text.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError
        if tp is int:
            return int(text)
        if tp is float:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        if tp is str:
            return text
    except ValueError:
        name = getattr(tp, "__name__", str(tp))
        raise UsageError(f"--set {key}: {text!r} is not a valid {name}") from None
    raise UsageError(f"--set {key}: unsupported type {tp!r}")


def build_config(module: Any, overrides: list[str], seeds: int | None) -> Any:
    """The experiment's Config with the overrides applied and validated; UsageError on any problem."""
    from numerics.experiments._common import field_types

    types = field_types(module.Config)
    values: dict[str, object] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        if key not in types:
            raise UsageError(f"--set: unknown parameter {key!r} of {module.NAME}; known: {', '.join(types)}")
        values[key] = parse_value(key, text, types[key])
    if seeds is not None:
        if seeds < 1:
            raise UsageError(f"--seeds must be ≥ 1, got {seeds}")
        values["seeds"] = seeds
    try:
        config = dataclasses.replace(module.Config(), **values)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{module.NAME}: {exc}") from None
    seed = getattr(config, "seed", 0)
    if not 0 <= seed < 2**63:  # what torch.Generator.manual_seed and numpy's default_rng accept
        raise UsageError(f"{module.NAME}: seed must be in [0, 2^63), got {seed}")
    return config


def _figure_bytes(fig: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}  # same inputs → same bytes
    fig.savefig(buf, format=fmt, dpi=150, metadata=metadata)
    return buf.getvalue()


def main(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise UsageError(f"--threads must be ≥ 1, got {args.threads}")
    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be ≥ 1, got {args.seeds}")
    if args.out is not None:  # checked before torch is imported: bad input costs no start-up time
        output_dir(args.out)
    import torch

    from hfx.console import print_json
    from hfx.output import manifest, open_output, utc_now
    from numerics import experiments

    try:
        module = experiments.get(args.experiment)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    config = build_config(module, args.overrides, args.seeds)
    out = output_dir(args.out if args.out is not None else str(Path(DEFAULT_OUT) / module.NAME))
    torch.set_num_threads(args.threads)
    started = utc_now()
    with open_output(out) as folder:
        generator = torch.Generator().manual_seed(config.seed)
        progress = _progress_bar(module, config)
        try:
            result = module.run(config, generator, progress=progress)
        finally:
            progress.close()
        summary = result.to_json()
        figures = {} if args.no_figures else module.figures(result)
        folder.write_csv("runs.csv", result.records)
        folder.write_json("summary.json", summary)
        for name, fig in figures.items():
            for fmt in ("pdf", "png"):
                folder.write_bytes(f"figures/{name}.{fmt}", _figure_bytes(fig, fmt))
        record = manifest(
            {"command": "run", "experiment": module.NAME, **summary["config"]},
            started,
            seeds=list(range(config.seeds)),
            extra={"experiment": module.NAME, "base_seed": config.seed, "seconds": round(result.seconds, 3),
                   "threads": args.threads},
        )
        folder.finish(record)
    if args.json:
        print_json(summary)
    else:
        print(_table(result))
        print(f"wrote {', '.join([*folder.written, 'manifest.json'])} under {out}", file=sys.stderr)
    return 0 if result.passed else 1


class _NoBar:
    def __call__(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(module: Any, config: Any) -> Any:
    """A tqdm bar on stderr that appears only if the run takes more than two seconds."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _NoBar()
    total = module.work_units(config) if hasattr(module, "work_units") else None
    bar = tqdm(total=total, desc=module.NAME, unit="batch", file=sys.stderr, delay=2.0, leave=False)

    class _Bar:
        def __call__(self, n: int) -> None:
            bar.update(n)

        def close(self) -> None:
            bar.close()

    return _Bar()


def _table(result: Any) -> str:
    from hfx.table import format_table

    keys = [k for k in result.summaries[0] if k not in {
        "n_diverged", "steps_q25", "steps_q75", "seconds_median", "seconds_median_ci", "ci_level", "max_steps",
        "predicted_time"}] if result.summaries else []
    rows = [[_fmt(s.get(k)) for k in keys] for s in result.summaries]
    text = format_table(keys, rows) if rows else "(no runs)"
    checks = [[c["name"], "PASSED" if c["passed"] else "FAILED", c["description"]] for c in result.checks]
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
