"""Whose output an output folder holds, so that one command never replaces another command's results.

Every output folder is owned by one kind of command: `hfx run EXPERIMENT` (one experiment: its sweeps and
reruns with other `--set` values included), `hfx verify`, `hfx derive` or `hfx check`.  A folder's owner is
read from its `manifest.json` (`hfx.output`): the final manifest's `config` (`command`, `experiment`), the
`owner` of a progress manifest (an interrupted command), or, from manifests written before `owner` existed,
the command line it records.

The decision (docs/design.md, "Output folders"): a command that finds in `--out` the output of *another*
owner — `hfx run linear-block` into the folder of `hfx verify`, of `hfx derive`, or of `hfx run
branch-norms` — is refused with one line (`UsageError`, exit 2), before any work, and nothing there is
touched: a rerun replaces its own earlier output (and removes what it no longer writes, `hfx.output`),
never another command's.  A folder without a manifest (the user's own, or a fresh one) is not owned: hfx
writes its files there and never removes one it did not write.

Standard library only: checked before the heavy imports.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfx.encoding import parse_json
from hfx.errors import UsageError
from hfx.readfile import read_small

MANIFEST_MAX_BYTES = 64 << 20  # = hfx.paths.MANIFEST_MAX_BYTES
COMMANDS = ("run", "verify", "derive", "check")  # the commands that write an output folder
Owner = tuple[str, str | None]  # (command, experiment of `hfx run`, else None)


def describe(owner: Owner) -> str:
    command, experiment = owner
    return f"hfx {command} {experiment}" if experiment else f"hfx {command}"


def owner_of(document: object) -> Owner | None:
    """The owner named by a manifest document; None when it names none (or is not an hfx manifest)."""
    if not isinstance(document, dict):
        return None
    for key in ("config", "owner"):
        found = document.get(key)
        if isinstance(found, dict) and found.get("command") in COMMANDS:
            experiment = found.get("experiment")
            return str(found["command"]), (str(experiment) if experiment is not None else None)
    line = document.get("command")
    words = line.split() if isinstance(line, str) else []
    command = next((w for w in words[1:] if w in COMMANDS), None)
    if command is None:
        return None
    if command != "run":
        return command, None
    from hfx.run import EXPERIMENT_NAMES  # (hfx.run imports the standard library only at its top)

    rest = words[words.index("run") + 1:]
    # `--out X` / `--set K=V` may come before the experiment: the first word that names one (else: unknown)
    return command, next((w for w in rest if w in EXPERIMENT_NAMES), None)


def read_owner(folder: Path) -> Owner | None:
    """The owner of `folder` (its manifest), or None: no manifest, unreadable, or naming no owner."""
    try:
        return owner_of(parse_json(read_small(Path(folder) / "manifest.json", MANIFEST_MAX_BYTES)))
    except (OSError, ValueError):
        return None


def same(found: Owner, wanted: Owner) -> bool:
    """Whether a folder owned by `found` may be written by `wanted` (an unknown experiment decides nothing)."""
    return found[0] == wanted[0] and (found[1] is None or wanted[1] is None or found[1] == wanted[1])


def check_owner(folder: Path, wanted: Owner, value: str | None = None) -> None:
    """UsageError if `folder` holds the output of another owner than `wanted` (module docstring)."""
    if not os.path.isdir(folder):
        return
    found = read_owner(folder)
    if found is not None and not same(found, wanted):
        raise refusal(value if value is not None else str(folder), found, wanted)


def refusal(shown: str, found: Owner, wanted: Owner) -> UsageError:
    """The one line that refuses a folder of `found` to `wanted`."""
    return UsageError(f"--out {shown!r} holds the output of '{describe(found)}', not of '{describe(wanted)}'; "
                      "hfx never replaces another command's output: choose another --out (or remove that folder)")
