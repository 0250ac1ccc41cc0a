"""REPORT.html: one self-contained page (figures inline, relative links kept, nothing fetched)."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

from hfx.report_html import report_html

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
VOID = {"meta", "img", "br", "hr", "input", "link"}


class _Balance(HTMLParser):
    """Checks that every element is closed in order, and collects the resources the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "script", "link"):
            self.sources += [v for k, v in attrs if k in ("src", "href") and v is not None]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _parse(page: str) -> _Balance:
    parser = _Balance()
    parser.feed(page)
    parser.close()
    return parser


def test_local_figures_are_embedded_and_links_stay_relative(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a.png").write_bytes(PNG)
    (tmp_path / "figures" / "b.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "figures" / "b.png").write_bytes(PNG)
    md = (
        "# Audit\n\n| claim | verdict |\n|---|---|\n| C7 | PROVED |\n\n"
        "![loss](figures/a.png)\n\n![pdf twin](figures/b.pdf)\n\n![missing](figures/none.png)\n\n"
        "[table](tables/x.csv) and [derivation](derivations/d.pdf); <script>&</script>\n"
    )
    page = report_html(md, tmp_path)
    parsed = _parse(page)
    assert not parsed.errors and not parsed.stack
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<table>" in page and "<td>PROVED</td>" in page
    embedded = [s for s in parsed.sources if s.startswith("data:image/png;base64,")]
    assert len(embedded) == 2  # a.png and the PNG twin of b.pdf
    assert base64.b64decode(embedded[0].split(",", 1)[1]) == PNG
    assert 'src="figures/none.png"' in page  # a missing file is left visible as a broken link, not dropped
    assert 'href="tables/x.csv"' in page and 'href="derivations/d.pdf"' in page


def test_nothing_outside_the_folder_or_the_network_is_embedded(tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(PNG)
    folder = tmp_path / "out"
    folder.mkdir()
    page = report_html("![x](../secret.png) ![y](https://example.org/y.png)", folder)
    assert "data:" not in page
    assert 'src="../secret.png"' in page and 'src="https://example.org/y.png"' in page


def test_the_page_loads_no_external_resource(tmp_path: Path) -> None:
    page = report_html("# t\n\ntext", tmp_path, title="a <b> title")
    assert "<title>a &lt;b&gt; title</title>" in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
