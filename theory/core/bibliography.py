"""The one bibliography: `references.bib` at the root of the repository (BibTeX), read once.

Derivations cite its keys: in prose as ``[@key]`` or ``[@key, Eq. (1)]`` (`theory.core.printing.prose`), in a
step's `citation` as ``"@key, Eq. (1)"``, and in `Derivation.references` as ``"@key"``.  Only the keys and
fields are read here (to check that every cited key exists); typesetting is left to bibtex and to Typst,
which both read the file itself.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

BIB_PATH = Path(__file__).resolve().parents[2] / "references.bib"  # the repository root
_ENTRY = re.compile(r"^@(\w+)\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)
_FIELD = re.compile(r"^\s*(\w+)\s*=\s*\{(.*?)\},?\s*$", re.MULTILINE | re.DOTALL)


@functools.cache
def bibtex() -> str:
    """The text of `references.bib`."""
    try:
        return BIB_PATH.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuntimeError(f"the bibliography {BIB_PATH} cannot be read: {exc}") from exc


@functools.cache
def entries() -> dict[str, dict[str, str]]:
    """key → {"type": …, field: value} for every entry; a key defined twice is an error."""
    text = bibtex()
    starts = list(_ENTRY.finditer(text))
    out: dict[str, dict[str, str]] = {}
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        kind, key = match.group(1).lower(), match.group(2)
        if key in out:
            raise ValueError(f"{BIB_PATH.name}: the key {key!r} is defined twice")
        body = text[match.end() : following.start() if following else len(text)]
        fields = {name.lower(): " ".join(value.split()) for name, value in _FIELD.findall(body)}
        out[key] = {"type": kind, **fields}
    return out


def keys() -> frozenset[str]:
    return frozenset(entries())


def unknown_keys(cited: list[str] | tuple[str, ...]) -> list[str]:
    """The cited keys that `references.bib` does not define, in order, once each."""
    known = keys()
    return list(dict.fromkeys(k for k in cited if k not in known))


def cite(key: str, locator: str = "") -> str:
    """``"@key"`` or ``"@key, locator"`` for a step's `citation`; KeyError for a key not in `references.bib`."""
    if key not in keys():
        raise KeyError(f"{key!r} is not a key of {BIB_PATH.name}")
    return f"@{key}, {locator}" if locator else f"@{key}"
