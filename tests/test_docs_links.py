"""A fresh clone holds every file the documentation points to (no link leaves the repository)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve_inside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links to a missing file: {target}"
    assert "../shared" not in text, f"{doc.name} points outside the repository (../shared)"


def test_design_style_and_claims_are_in_docs() -> None:
    claims = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
    for cid in (f"C{i}" for i in range(1, 14)):
        assert f"| {cid} |" in claims
    assert "## The original note" in claims
    for name in ("design.md", "style.md", "api.md"):
        assert (ROOT / "docs" / name).stat().st_size > 1000
