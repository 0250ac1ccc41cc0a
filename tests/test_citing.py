"""LICENSE, CITATION.cff and the README's BibTeX entry agree with pyproject.toml (version, licence)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _cff_top_level() -> dict[str, str]:
    """The top-level scalar keys of CITATION.cff (a YAML mapping; nested blocks are skipped)."""
    fields: dict[str, str] = {}
    for line in (ROOT / "CITATION.cff").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([a-z-]+):\s*(.*)", line)
        if match:
            fields[match[1]] = match[2].strip().strip('"')
    return fields


def test_the_licence_file_is_the_licence_pyproject_declares() -> None:
    assert PROJECT["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_citation_cff_is_cff_1_2_for_this_version() -> None:
    # validated with `cffconvert --validate` (schema 1.2.0) when written; here: the required keys, kept current
    fields = _cff_top_level()
    assert fields["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type"):
        assert key in fields, key
    assert fields["version"] == PROJECT["version"]
    assert fields["license"] == "MIT"
    assert fields["type"] == "software"


def test_the_readme_bibtex_entry_is_balanced_and_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (entry,) = re.findall(r"```bibtex\n(.*?)```", readme, re.S)
    assert entry.startswith("@misc{hfx,")
    depth = 0
    for ch in entry:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert f"Version {PROJECT['version']}" in entry
    assert fields_in(entry) >= {"author", "title", "year", "note"}


def fields_in(entry: str) -> set[str]:
    return set(re.findall(r"^\s*([a-z]+)\s*=", entry, re.M))
