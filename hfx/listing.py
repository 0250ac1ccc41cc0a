"""`hfx list [theorems|experiments|claims] [--json]`.

Listing never verifies: `theorems` lists each registered derivation's id, title, claims and number of steps
(building the derivations, a few seconds, never checking them; `hfx verify` and `hfx derive` check).
"""

from __future__ import annotations

import argparse

KINDS = ("theorems", "experiments", "claims")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", default="theorems", choices=KINDS, help="what to list (default: theorems)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")


def _theorems(as_json: bool) -> int:
    from hfx.console import print_json
    from hfx.table import format_table
    from hfx.theorems import warn_plugin_problems
    from theory.core.printing.prose_unicode import readable
    from theory.core.registry import all_derivations

    derivations = all_derivations()
    warn_plugin_problems()
    if as_json:
        print_json([{"id": d.id, "title": d.title, "claims": list(d.claims), "steps": len(d.steps),
                     "statement": d.statement} for d in derivations])
    else:
        print(format_table(["theorem", "claims", "steps", "title"],
                           [[d.id, ",".join(d.claims), len(d.steps), readable(d.title)] for d in derivations]))
    return 0


def _experiments(as_json: bool) -> int:
    from hfx.console import print_json
    from hfx.serialise import value
    from hfx.table import format_table
    from numerics.experiments import EXPERIMENTS, parameters
    from numerics.experiments.params import type_name

    rows = []
    for e in EXPERIMENTS.values():
        params = []
        for p in parameters(e.Config):
            entry: dict[str, object] = {"name": p.name, "type": type_name(p.type), "default": value(p.default),
                                        "help": p.help}
            if p.choices is not None:
                entry["choices"] = list(p.choices)
            if p.interval is not None:
                entry["range"] = str(p.interval)
            if p.path_like:
                entry["path"] = True  # a file or folder (free text)
            params.append(entry)
        rows.append({"name": e.NAME, "description": e.DESCRIPTION, "parameters": params})
    if as_json:
        print_json(rows)
        return 0
    for e in EXPERIMENTS.values():
        print(f"{e.NAME}: {e.DESCRIPTION}")
        print(format_table(["parameter", "type", "default", "allowed", "help"],
                           [[p.name, type_name(p.type), _default(p.default),
                             _allowed(p.choices, p.interval, p.path_like), p.help]
                            for p in parameters(e.Config)]))
        print()
    return 0


def _default(v: object) -> str:
    return ",".join(str(x) for x in v) if isinstance(v, tuple) else str(v)


def _allowed(choices: tuple[str, ...] | None, interval: object, path_like: bool = False) -> str:
    if path_like:
        return "path"
    if choices is not None:
        return "|".join(choices)
    return "" if interval is None else str(interval)


def _claims(as_json: bool) -> int:
    from hfx.claims import CLAIMS
    from hfx.console import print_json
    from hfx.table import format_table

    rows = [{"id": c.id, "section": c.section, "claim": c.text} for c in CLAIMS]
    if as_json:
        print_json(rows)
    else:
        print(format_table(["id", "section", "claim"], [[r["id"], r["section"], r["claim"]] for r in rows]))
    return 0


def main(args: argparse.Namespace) -> int:
    if args.kind == "experiments":
        return _experiments(args.json)
    if args.kind == "claims":
        return _claims(args.json)
    return _theorems(args.json)
