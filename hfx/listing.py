"""`hfx list [theorems|experiments|claims] [--json]`."""

from __future__ import annotations

import argparse
import json

from hfx.claims import CLAIMS
from hfx.table import format_table, theorem_table
from hfx.theorems import resolve_ids, theorem_json, verify_ids

KINDS = ("theorems", "experiments", "claims")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", default="theorems", choices=KINDS, help="what to list (default: theorems)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")


def _experiments(as_json: bool) -> int:
    from numerics.experiments import all_experiments, describe

    rows = [describe(module) for module in all_experiments().values()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['name']}: {row['description']}")
            params = row["parameters"]
            assert isinstance(params, list)
            print(format_table(["parameter", "type", "default", "help"],
                               [[p["name"], p["type"], p["default"], p["help"]] for p in params]))
            print()
    return 0


def main(args: argparse.Namespace) -> int:
    if args.kind == "experiments":
        return _experiments(args.json)
    if args.kind == "claims":
        rows = [{"id": c.id, "section": c.section, "claim": c.text} for c in CLAIMS]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            print(format_table(["id", "section", "claim"], [[r["id"], r["section"], r["claim"]] for r in rows]))
        return 0
    records = verify_ids(resolve_ids([]), progress=not args.json)
    if args.json:
        keys = ("id", "title", "claims", "status", "steps", "seconds", "statement")
        summary = [{k: v for k, v in theorem_json(r).items() if k in keys} for r in records]
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(theorem_table(records))
    return 0
