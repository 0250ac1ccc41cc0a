"""Every derivation's LaTeX fragment in a real paper: alone, and all of them in a one- and a two-column article.

A fragment must compile with ``\\usepackage{amsmath,amssymb}`` only, fit the text width of a one-column
article (the default) or the column of a two-column one (``--fragment-width column``) without an overfull box
or a missing glyph, continue the paper's equation numbering, and label step k ``hfx:<id>:<k>``; with
``--reasons beside|under`` the justifications (with their ``\\cite`` keys) must fit too.  The full LaTeX
document of every derivation must compile the same way.  TeX's log is the judge.  CI installs TeX Live
(see .ci/run); without it these tests are skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hfx import doc_latex, documents
from theory.core.bibliography import bibtex

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(documents.latex_command() is None or shutil.which("latexmk") is None,
                       reason="no latexmk on PATH (CI installs TeX Live: see .ci/run)"),
]

ONE_COLUMN = "article"  # 345 pt text width at 10 pt
TWO_COLUMN = "article[twocolumn,a4paper]"  # 221 pt columns, the narrowest of the standard classes


def compile_paper(folder: Path, documentclass: str, body: str, files: dict[str, str]) -> str:
    """Compile a paper with latexmk in `folder`; return its log (the test reads the log, not the exit code)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {"references.bib": bibtex(), **files}.items():
        (folder / name).write_text(text, encoding="utf-8")
    name, _, options = documentclass.partition("[")
    head = f"\\documentclass[{options.rstrip(']')}]{{{name}}}" if options else f"\\documentclass{{{name}}}"
    (folder / "paper.tex").write_text(
        f"{head}\n\\usepackage{{amsmath,amssymb}}\n\\begin{{document}}\n{body}\n"
        "\\bibliographystyle{unsrt}\\bibliography{references}\n\\end{document}\n", encoding="utf-8")
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=folder,
                   capture_output=True, text=True, timeout=300, check=False)
    return (folder / "paper.log").read_text(errors="replace")


def problems(log: str) -> list[str]:
    """Errors, overfull boxes (too wide, or a display too tall for a page) and missing glyphs in a TeX log."""
    bad = re.compile(r"^!|Overfull \\[hv]box|Missing character|Undefined control sequence")
    return [line for line in log.splitlines() if bad.search(line)]


def labels(folder: Path) -> dict[str, int]:
    """hfx:<id>:<k> → the equation number the paper gave it (from the .aux)."""
    aux = (folder / "paper.aux").read_text(errors="replace")
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\\newlabel\{(hfx:[^}]+)\}\{\{(\d+)\}", aux)}


def _inputs(names: list[str]) -> str:
    return "\n".join(f"\\section*{{Derivation {i}}}\n\\input{{{n}}}" for i, n in enumerate(names, start=1))


@pytest.mark.parametrize(("documentclass", "width"), [(ONE_COLUMN, "text"), (TWO_COLUMN, "column")])
def test_every_fragment_fits_one_paper_and_numbering_continues(
    all_documents, tmp_path: Path, documentclass: str, width: str  # type: ignore[no-untyped-def]
) -> None:
    views = all_documents.views
    files = {f"{v.id}.fragment.tex": doc_latex.fragment(v, documents.FRAGMENT_WIDTHS[width]) for v in views}
    log = compile_paper(tmp_path, documentclass, _inputs(list(files)), files)
    assert problems(log) == []
    numbers = labels(tmp_path)
    expected = [f"hfx:{v.id}:{s.number}" for v in views for s in v.steps]
    assert len(set(expected)) == len(expected)  # one label per step
    assert [numbers[k] for k in expected] == list(range(1, len(expected) + 1))  # numbering continues


@pytest.mark.parametrize(("documentclass", "width", "reasons"), [
    (ONE_COLUMN, "text", "beside"), (ONE_COLUMN, "text", "under"), (TWO_COLUMN, "column", "under"),
])
def test_fragments_with_their_reasons_and_citations_fit(
    all_documents, tmp_path: Path, documentclass: str, width: str, reasons: str  # type: ignore[no-untyped-def]
) -> None:
    views = all_documents.views
    files = {f"{v.id}.fragment.tex": doc_latex.fragment(v, documents.FRAGMENT_WIDTHS[width], reasons)
             for v in views}
    log = compile_paper(tmp_path, documentclass, _inputs(list(files)), files)
    assert problems(log) == []
    assert not re.search(r"Citation .* undefined", log)  # every cite key resolved from references.bib
    assert (tmp_path / "paper.bbl").read_text().count("\\bibitem") >= 5


def test_every_fragment_compiles_alone(all_documents, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = all_documents.folder

    def alone(fragment: Path) -> tuple[str, list[str]]:
        here = tmp_path / fragment.name.removesuffix(".fragment.tex")
        log = compile_paper(here, ONE_COLUMN, f"\\input{{{fragment.name}}}",
                            {fragment.name: fragment.read_text(encoding="utf-8")})
        return fragment.name, problems(log)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(alone, sorted(folder.glob("*.fragment.tex"))))
    assert len(results) == len(all_documents.views)
    assert {name: found for name, found in results.items() if found} == {}


def test_the_full_latex_document_compiles_cleanly(all_documents, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = (all_documents.folder / "derivations.tex").read_text(encoding="utf-8")
    (tmp_path / "derivations.tex").write_text(source, encoding="utf-8")
    (tmp_path / "references.bib").write_text(bibtex(), encoding="utf-8")
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "derivations.tex"],
                   cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    log = (tmp_path / "derivations.log").read_text(errors="replace")
    assert problems(log) == []
    assert (tmp_path / "derivations.pdf").exists()
