"""Derivation documents: what `hfx derive` writes, what the PDFs say, determinism, snapshots, bad input.

Uses the two fast reformulation theorems (checked for real by `verify`); the
printer's coverage of every registered theorem is in tests/test_printing.py.
Snapshots live in tests/snapshots/; after an intended change of the layout,
regenerate them with ``HFX_UPDATE_SNAPSHOTS=1 pytest tests/test_documents.py``
and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
import sympy as sp

from hfx import doc_latex, doc_typst, documents
from hfx.cli import main
from hfx.doc_model import number_sources, view
from theory import reformulation
from theory.derivation import Derivation, Equal, Substitute, verify

SUBSET = ["reformulation.residual", "reformulation.identity-iff-zero"]  # fast theorems
SNAPSHOT_ID = "reformulation.identity-iff-zero"
SNAPSHOTS = Path(__file__).parent / "snapshots"
HAS_TEX = documents.latex_command() is not None


def _pdf_text(path: Path) -> str:
    """Text of a PDF, with mathematical italic letters (𝑊) folded to plain ones (W) and spaces squeezed."""
    reader = pypdf.PdfReader(BytesIO(path.read_bytes()))
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))
    return re.sub(r"\s+", " ", text)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace("−", "-")


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("derive") / "docs"
    code = main(["derive", *SUBSET, "--out", str(out), "--jobs", "1"])
    return code, out


def test_derive_writes_pdf_typst_latex_and_fragment_per_derivation(derived: tuple[int, Path]) -> None:
    code, out = derived
    assert code == 0
    expected = {f"{i}{suffix}" for i in SUBSET for suffix in (".pdf", ".typ", ".tex", ".fragment.tex")}
    expected |= {"derivations.pdf", "derivations.typ", "derivations.tex", "manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    for pdf in out.glob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF")


def test_pdf_text_holds_title_statement_steps_and_statuses(derived: tuple[int, Path]) -> None:
    _, out = derived
    for derivation in (reformulation.residual_reformulation(), reformulation.identity_iff_zero_residual()):
        text = _pdf_text(out / f"{derivation.id}.pdf")
        squeezed = _squeeze(text)
        assert _squeeze(derivation.title) in squeezed
        assert derivation.id in text
        for step in derivation.steps:
            assert _squeeze(step.reason) in squeezed
        assert "PROVED" in text
        assert f"{len(derivation.steps)}/{len(derivation.steps)} steps proved" in text
        assert "Sources" in text and "He, Zhang, Ren, Sun" in text
    # the steps' mathematics, recognisably: F = H − x ⟺ H = F + x; then, with F := H − x, F + x = H (a
    # substitution the checker performs, not one SymPy collapsed to H = H when the step was built)
    text = _squeeze(_pdf_text(out / "reformulation.residual.pdf"))
    assert "F=H-x⟺H=F+x" in text
    assert "(2)withF=H-x⟹F+x=H" in text
    text = _squeeze(_pdf_text(out / "reformulation.identity-iff-zero.pdf"))
    assert "H=x⟺F+x=x" in text and "F+x=x⟺F=0" in text


def test_combined_pdf_has_title_page_contents_and_every_derivation(derived: tuple[int, Path]) -> None:
    _, out = derived
    reader = pypdf.PdfReader(BytesIO((out / "derivations.pdf").read_bytes()))
    first = unicodedata.normalize("NFKC", reader.pages[0].extract_text())
    assert "Derivations" in first and "2 derivations: 2 proved, 0 checked, 0 failed" in " ".join(first.split())
    contents = _squeeze(reader.pages[1].extract_text())
    text = _squeeze(_pdf_text(out / "derivations.pdf"))
    for derivation in (reformulation.residual_reformulation(), reformulation.identity_iff_zero_residual()):
        assert _squeeze(derivation.title) in contents
        assert text.count(_squeeze(derivation.title)) >= 2  # in the contents and as a heading
    assert len(reader.pages) >= 4  # title page, contents, one page per derivation


def test_same_input_gives_byte_identical_pdfs(derived: tuple[int, Path], tmp_path: Path) -> None:
    _, out = derived
    assert main(["derive", *SUBSET, "--out", str(tmp_path), "--jobs", "1"]) == 0
    for name in ("derivations", *SUBSET):
        for suffix in (".pdf", ".typ", ".tex"):
            assert (tmp_path / f"{name}{suffix}").read_bytes() == (out / f"{name}{suffix}").read_bytes(), name
    assert b"CreationDate" not in (out / "derivations.pdf").read_bytes()


@pytest.mark.parametrize("suffix", [".typ", ".tex", ".fragment.tex"])
def test_snapshot_of_one_derivation(derived: tuple[int, Path], suffix: str) -> None:
    _, out = derived
    produced = (out / f"{SNAPSHOT_ID}{suffix}").read_text(encoding="utf-8")
    snapshot = SNAPSHOTS / f"{SNAPSHOT_ID}{suffix}"
    if os.environ.get("HFX_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(produced, encoding="utf-8")
    assert produced == snapshot.read_text(encoding="utf-8")


def test_a_failed_step_is_shown_failed_and_derive_exits_1() -> None:
    # a planted false step: x + x = 3x must come out failed, and the document must say so beside it
    x = sp.Symbol("x", real=True)
    planted = Derivation(
        id="planted.false", title="A planted false step", claims=("C7",), statement="x + x = 3x (false).",
        # x + x unevaluated: built evaluated it is 2x, and x + x = 2x would be a hollow step (a construction error)
        steps=(Equal(x + x, 3 * x, "planted error"), Equal(sp.Add(x, x, evaluate=False), 2 * x, "true")),
    )
    doc = view(planted, verify(planted).record())
    assert doc.status == "failed"
    assert [s.status for s in doc.steps] == ["failed", "proved"]
    source = doc_typst.single(doc)
    assert 'status: "failed"' in source and "planted error" in source
    pdf, warnings = documents.typst_pdf(source)
    assert pdf.startswith(b"%PDF") and warnings == []


def test_substitution_premise_and_relation_are_visible() -> None:
    # W₂ = b₂ = 0 ⇒ W₂x + b₂ = 0: the premise is grouped by value and precedes the ⟹
    x, W2, b2 = sp.symbols("x W_2 b_2", real=True)
    d = Derivation(
        id="premise.demo", title="premise", claims=("C8",), statement="demo",
        steps=(Substitute(W2 * x + b2, 0, "both zero", subs={W2: 0, b2: 0}),),
    )
    doc = view(d, verify(d).record())
    assert doc.steps[0].premise_typst == "W_(2) = b_(2) = 0"
    assert doc.steps[0].premise_latex == "W_{2} = b_{2} = 0"
    assert "premise: $W_(2) = b_(2) = 0 ==>$" in doc_typst.single(doc)
    assert r"\intertext{with $W_{2} = b_{2} = 0$:}" in doc_latex.fragment(doc)


def test_citations_are_numbered_against_the_references() -> None:
    refs = ("He, Zhang, Ren, Sun, Deep Residual Learning, CVPR 2016",)
    sources, marks = number_sources(
        refs, ["", "He, Zhang, Ren, Sun, Deep Residual Learning, CVPR 2016, Eq. (1)", "Goh, Momentum, Distill 2017"]
    )
    assert sources == (*refs, "Goh, Momentum, Distill 2017")
    assert marks == ("", "[1, Eq. (1)]", "[2]")


def test_unknown_id_is_exit_2_and_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    assert main(["derive", "no.such-theorem", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no.such-theorem" in err
    assert not out.exists()


def test_latex_engine_without_tex_is_exit_2_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "docs"
    assert main(["derive", SUBSET[0], "--engine", "latex", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pdflatex" in err
    assert not out.exists()


@pytest.mark.skipif(not HAS_TEX, reason="no latexmk/pdflatex on PATH (CI installs TeX Live: see .ci/run)")
def test_latex_engine_compiles_the_tex_for_real(tmp_path: Path) -> None:
    assert main(["derive", *SUBSET, "--engine", "latex", "--out", str(tmp_path), "--jobs", "2"]) == 0
    for name in SUBSET:
        text = _squeeze(_pdf_text(tmp_path / f"{name}.pdf"))
        assert _squeeze(reformulation.residual_reformulation().title if name == SUBSET[0]
                        else reformulation.identity_iff_zero_residual().title) in text
    combined = _pdf_text(tmp_path / "derivations.pdf")
    assert "Contents" in combined and "PROVED" in combined


@pytest.mark.skipif(not HAS_TEX, reason="no latexmk/pdflatex on PATH (CI installs TeX Live: see .ci/run)")
def test_fragment_inputs_into_a_paper(derived: tuple[int, Path], tmp_path: Path) -> None:
    # a minimal paper that \input's the fragment must compile with amsmath and amssymb only
    _, out = derived
    shutil.copy(out / f"{SNAPSHOT_ID}.fragment.tex", tmp_path / "fragment.tex")
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        f"\\input{{{tmp_path / 'fragment.tex'}}}\n\\end{{document}}\n"
    )
    pdf = documents.latex_pdf((tmp_path / "paper.tex").read_text(), "paper")
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    "argv",
    [
        ["derive", SUBSET[0], "--engine", "word"],
        ["derive", SUBSET[0], "--jobs", "-1"],
        ["derive", SUBSET[0], "--out", "taken"],
    ],
    ids=["unknown-engine", "negative-jobs", "out-is-a-file"],
)
def test_derive_bad_input_is_one_line_exit_2_nothing_written(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("keep me")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (tmp_path / "taken").read_text() == "keep me"
