"""The documents of every registered derivation (Typst engine), read back from the PDFs and the sources.

- Nothing overflows: every equation, premise and definition is laid out within its column (the template
  marks any layout it could not fit with ``<hfx-overflow>``; Typst's query finds none).
- Nothing is typeset below the body size's footnote size: text at 8 pt or more; maths set at 8 pt or more,
  whose second-level scripts are half of that (4 pt).
- No raw markup or placeholder text reaches a page; no page after the contents is nearly empty.
- The contents number the theorems, group them by topic and show every id; the labels of the steps are unique.
- The step shown is the step checked: a view's two sides print differently unless they were built identical.
"""

from __future__ import annotations

import json
import re
import unicodedata
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
import typst

from hfx.doc_math import Seq, whole

pytestmark = pytest.mark.slow

TEXT_MIN_PT = 8.0  # \footnotesize of a 10 pt body
MATH_MIN_PT = 4.0  # maths at 8 pt or more; its second-level scripts at half size


def _reader(path: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(BytesIO(path.read_bytes()))


def _runs(page: pypdf.PageObject) -> list[tuple[str, str, float, float, float]]:
    """(text, font, size in pt, baseline y, left x) of every text run of a page."""
    runs: list[tuple[str, str, float, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: dict | None, size: float) -> None:
        if text.strip() and font is not None:
            runs.append((text, str(font.get("/BaseFont", "")), size * abs(tm[3] * cm[3]), tm[5] * cm[3] + cm[5],
                         tm[4] * cm[0] + cm[4]))

    page.extract_text(visitor_text=visit)
    return runs


def test_no_text_runs_into_the_right_margin(all_documents) -> None:  # type: ignore[no-untyped-def]
    # a run's right end is estimated low (0.4 em a character): only text clearly past the margin is caught
    margin = 2.1 / 2.54 * 72  # the documents' side margin (pt)
    for pdf in sorted(all_documents.folder.glob("*.pdf")):
        reader = _reader(pdf)
        width = float(reader.pages[0].mediabox.width)
        out = [(n, t[:30]) for n, page in enumerate(reader.pages, start=1) for t, _, size, _, x in _runs(page)
               if x + 0.4 * size * len(t.rstrip()) > width - margin / 2]
        assert out == [], f"{pdf.name}: {out[:5]}"


def test_no_layout_overflows_its_column(all_documents) -> None:  # type: ignore[no-untyped-def]
    folder = all_documents.folder
    for source in sorted(folder.glob("*.typ")):
        found = json.loads(typst.query(str(source), "<hfx-overflow>", field="value", root=str(folder),
                                       ignore_system_fonts=True))
        assert found == [], f"{source.name}: layouts wider than their column by {found} pt"


def test_nothing_is_set_below_footnote_size(all_documents) -> None:  # type: ignore[no-untyped-def]
    reader = _reader(all_documents.folder / "derivations.pdf")
    small = set()
    for number, page in enumerate(reader.pages, start=1):
        for text, font, size, _, _ in _runs(page):
            limit = MATH_MIN_PT if "Math" in font else TEXT_MIN_PT
            if size < limit - 0.05:
                small.add((number, font.split("+")[-1], round(size, 1), text[:20]))
    assert small == set()


def test_no_raw_markup_placeholder_or_unknown_glyph_reaches_a_page(all_documents) -> None:  # type: ignore[no-untyped-def]
    # read in the text fonts only: the maths font's pieces of big brackets extract as stray ASCII ($, !, %)
    for pdf in sorted(all_documents.folder.glob("*.pdf")):
        runs = [run for page in _reader(pdf).pages for run in _runs(page) if "Math" not in run[1]]
        text = unicodedata.normalize("NFKC", "".join(run[0] for run in runs))
        for raw in ("^{", "_", "`", "\\", "$", "too long to typeset", "U+", "\ufffd"):
            assert raw not in text, f"{pdf.name}: {raw!r} on a page"


def test_no_nearly_empty_page_after_the_contents(all_documents) -> None:  # type: ignore[no-untyped-def]
    reader = _reader(all_documents.folder / "derivations.pdf")
    height = float(reader.pages[0].mediabox.height)
    first = next(i for i, p in enumerate(reader.pages) if "1. " in p.extract_text() and "claims" in p.extract_text()
                 and "Contents" not in p.extract_text())
    empty = []
    for number in range(first, len(reader.pages) - 1):  # the last page may end where the document ends
        body = [y for text, _, _, y, _ in _runs(reader.pages[number]) if y > 80 and not text.strip().isdigit()]
        if not body or min(body) > 0.5 * height:  # the body stops above the middle of the page
            empty.append(number + 1)
    assert empty == []


def test_contents_number_group_and_identify_every_theorem(all_documents) -> None:  # type: ignore[no-untyped-def]
    reader = _reader(all_documents.folder / "derivations.pdf")
    contents = " ".join(p.extract_text() for p in reader.pages[1:6])
    contents = " ".join(unicodedata.normalize("NFKC", contents).split())
    views = all_documents.views
    for v in views:
        assert v.id in contents
    for n in range(1, len(views) + 1):
        assert f"{n}." in contents
    topics = ["The residual reformulation", "Zero sets of residual branches", "Weight decay"]
    assert all(t in contents for t in topics)
    assert "Theorems by claim" in contents


def test_every_step_label_is_unique_and_every_fragment_labels_its_steps(all_documents) -> None:  # type: ignore[no-untyped-def]
    seen = []
    for v in all_documents.views:
        fragment = (all_documents.folder / f"{v.id}.fragment.tex").read_text(encoding="utf-8")
        found = re.findall(r"\\label\{(hfx:[^}]+)\}", fragment)
        assert found == [f"hfx:{v.id}:{s.number}" for s in v.steps]
        seen += found
    assert len(seen) == len(set(seen))


def _hollow(all_documents) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for v in all_documents.views:
        for s in v.steps:
            assert isinstance(s.equation, Seq) and len(s.equation.rest) == 1
            (_, rhs), lhs = s.equation.rest[0], s.equation.first
            if whole(lhs).typst == whole(rhs).typst:
                out.append(f"{v.id} step {s.number}")
    return out


def test_no_step_is_shown_as_x_equals_x(all_documents) -> None:  # type: ignore[no-untyped-def]
    assert _hollow(all_documents) == []
