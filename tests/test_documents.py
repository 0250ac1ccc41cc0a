"""Derivation documents: what `hfx derive` writes, what the PDFs say, citations, determinism, snapshots, bad input.

Uses the two fast reformulation theorems (checked for real by `verify`); every registered derivation's
documents are tested in tests/test_documents_all.py and tests/test_fragments.py.  Snapshots live in
tests/snapshots/; after an intended change of the layout, regenerate them with
``HFX_UPDATE_SNAPSHOTS=1 pytest tests/test_documents.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
import unicodedata
from io import BytesIO
from pathlib import Path

import pypdf
import pytest
import sympy as sp

from hfx import doc_latex, doc_typst, documents
from hfx.cli import main
from hfx.doc_math import whole
from hfx.doc_model import DocView, view
from theory import reformulation
from theory.core.printing.prose import Text, parse
from theory.derivation import Derivation, Equal, Formula, Substitute, verify

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


def _words(prose: str) -> list[str]:
    """The plain-text runs of a prose string (maths and citations set aside)."""
    return [s.text for s in parse(prose) if isinstance(s, Text) and s.text.strip(" ,.;:()")]


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("derive") / "docs"
    code = main(["derive", *SUBSET, "--out", str(out), "--jobs", "1"])
    return code, out


def test_derive_writes_pdf_typst_latex_fragment_and_bibliography(derived: tuple[int, Path]) -> None:
    code, out = derived
    assert code == 0
    expected = {f"{i}{suffix}" for i in SUBSET for suffix in (".pdf", ".typ", ".tex", ".fragment.tex")}
    expected |= {"derivations.pdf", "derivations.typ", "derivations.tex", "references.bib", "manifest.json"}
    assert {p.name for p in out.iterdir()} == expected
    for pdf in out.glob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF")
    assert "@inproceedings{he2016deep," in (out / "references.bib").read_text(encoding="utf-8")


def test_pdf_text_holds_title_statement_steps_statuses_and_references(derived: tuple[int, Path]) -> None:
    _, out = derived
    for derivation in (reformulation.residual_reformulation(), reformulation.identity_iff_zero_residual()):
        text = _pdf_text(out / f"{derivation.id}.pdf")
        squeezed = _squeeze(text)
        for prose in (derivation.title, derivation.statement, *(s.reason for s in derivation.steps)):
            for words in _words(prose):
                assert _squeeze(words) in squeezed, words
        assert derivation.id in text
        assert "PROVED" in text
        assert f"{len(derivation.steps)}/{len(derivation.steps)} steps proved" in text
        assert "References" in text and "Deep Residual Learning for Image Recognition" in text
        assert "$" not in text and "_" not in text and "\\" not in text  # no raw markup reached the page
    # the steps' mathematics, recognisably: F = H − x ⟺ H = F + x; then, with F := H − x, F + x = H (a
    # substitution the checker performs, not one SymPy collapsed to H = H when the step was built)
    text = _squeeze(_pdf_text(out / "reformulation.residual.pdf"))
    assert "F=H-x⟺H=F+x" in text
    assert "withF=H-x⟹F+x=H" in text
    text = _squeeze(_pdf_text(out / "reformulation.identity-iff-zero.pdf"))
    assert "H=x⟺F+x=x" in text and "F+x=x⟺F=0" in text


def test_combined_pdf_title_page_contents_by_topic_and_claim(derived: tuple[int, Path]) -> None:
    _, out = derived
    reader = pypdf.PdfReader(BytesIO((out / "derivations.pdf").read_bytes()))
    first = " ".join(unicodedata.normalize("NFKC", reader.pages[0].extract_text()).split())
    assert "Derivations" in first and "2 derivations: 2 proved, 0 checked, 0 failed" in first
    prov = documents.provenance()
    assert f"hfx {prov.version}" in first
    if prov.commit:
        assert prov.commit[:12] in first and (prov.date or "") in first
    for words in ("What the statuses guarantee", "PROVED", "CHECKED", "FAILED", "evidence, never a proof",
                  "How to cite", "hfx:ID:K"):
        assert words in first, words
    contents = " ".join(unicodedata.normalize("NFKC", reader.pages[1].extract_text()).split())
    assert "The residual reformulation" in contents  # the topic
    assert "1." in contents and "2." in contents  # numbered
    for i in SUBSET:
        assert i in contents  # ids shown
    assert "Theorems by claim" in contents and "C6" in contents and "C7" in contents


def test_citations_are_keys_of_the_bibliography_in_both_sources(derived: tuple[int, Path]) -> None:
    _, out = derived
    typ = (out / "reformulation.residual.typ").read_text(encoding="utf-8")
    tex = (out / "reformulation.residual.tex").read_text(encoding="utf-8")
    fragment = doc_latex.fragment(_view(reformulation.residual_reformulation()), reasons="under")
    assert '#cite(<he2016deep>, supplement: [#"Eq. (1)"])' in typ and '#bibliography("references.bib"' in typ
    assert r"\cite[{Eq. (1)}]{he2016deep}" in tex and r"\bibliography{references}" in tex
    assert r"\cite[{Eq. (1)}]{he2016deep}" in fragment
    assert "He, Zhang" not in typ + tex  # the reference is defined once, in references.bib


def test_same_input_gives_byte_identical_files(derived: tuple[int, Path], tmp_path: Path) -> None:
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
    produced = re.sub(r"% hfx [^;\n]*;", "% hfx VERSION;", produced)  # the fragment's provenance line
    snapshot = SNAPSHOTS / f"{SNAPSHOT_ID}{suffix}"
    if os.environ.get("HFX_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(produced, encoding="utf-8")
    assert produced == snapshot.read_text(encoding="utf-8")


def _view(derivation: Derivation) -> DocView:
    return view(derivation, verify(derivation).record())


def test_a_failed_step_is_shown_failed_and_the_document_compiles() -> None:
    # a planted false step: x + x = 3x must come out failed, and the document must say so beside it
    x = sp.Symbol("x", real=True)
    planted = Derivation(
        id="planted.false", title="A planted false step", claims=("C7",), statement="$x + x = 3x$ (false).",
        # x + x unevaluated: built evaluated it is 2x, and x + x = 2x would be a hollow step (a construction error)
        steps=(Equal(x + x, 3 * x, "planted error"), Equal(sp.Add(x, x, evaluate=False), 2 * x, "true")),
    )
    doc = _view(planted)
    assert doc.status == "failed"
    assert [s.status for s in doc.steps] == ["failed", "proved"]
    source = doc_typst.single(doc)
    assert 'status: "failed"' in source and "planted error" in source
    pdf, warnings = documents.typst_pdf(source)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF") and warnings == []


def test_formal_statement_instance_and_remarks_are_shown_by_both_engines() -> None:
    # what PROVED covers is shown: the formal statement formula by formula with the steps it follows from, the
    # instance the theorem is shown for, and the remarks, set apart as not proved
    x, y = sp.symbols("x y", real=True)
    first = Equal(sp.Add(x, x, evaluate=False), 2 * x, "collect $x$")
    split = sp.Add(x + y, x - y, evaluate=False)
    second = Equal(2 * x, split, "add and subtract $y$")
    d = Derivation(
        id="formal.demo", title="Doubling, shown for $n = 2$", claims=("C7",),
        statement="$x + x = 2x$ (shown for $n = 2$).", steps=(first, second),
        conclusion="It holds for $n = 2$.", instance="$n = 2$",
        proves=(Formula(sp.Add(x, x, evaluate=False), "=", split), first),
        remarks=("That it holds for every $n$ is not a step.",),
    )
    doc = _view(d)
    assert doc.status == "proved" and doc.instance is not None and doc.instance.plain == "n = 2"
    assert [(f.how, f.established) for f in doc.formal] == [("chain of steps 1–2", True), ("step 1", True)]
    assert [r.plain for r in doc.remarks] == ["That it holds for every n is not a step."]
    pdf, warnings = documents.typst_pdf(doc_typst.single(doc))
    assert isinstance(pdf, bytes) and warnings == []
    text = _squeeze(" ".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages))
    for words in ("Statement(shownforn=2only).", "Formalstatement.", "(ii)x+x=2x", "chainofsteps1–2", "step1",
                  "Remarks(notcheckedbyanystep,sonotpartofwhatisproved).", "Thatitholdsforeverynisnotastep."):
        assert words in text, words
    tex = doc_latex.single(doc)
    assert r"\textbf{Statement (shown for $n=2$ only).}" in tex and r"\textbf{Formal statement.}" in tex
    assert "chain of steps 1--2" in tex and r"\item That it holds for every $n$ is not a step." in tex


def test_substitution_premise_is_grouped_by_value() -> None:
    # W₂ = b₂ = 0 ⇒ W₂x + b₂ = 0: the premise is grouped by value and precedes the ⟹
    x, W2, b2 = sp.symbols("x W_2 b_2", real=True)
    d = Derivation(
        id="premise.demo", title="premise", claims=("C8",), statement="demo",
        steps=(Substitute(W2 * x + b2, 0, "both zero", subs={W2: 0, b2: 0}),),
    )
    doc = _view(d)
    premise = doc.steps[0].premise
    assert premise is not None and whole(premise).typst == "W_(2) = b_(2) = 0"
    assert whole(premise).latex == "W_{2} = b_{2} = 0"
    assert r"\intertext{with $W_{2} = b_{2} = 0$:}" in doc_latex.fragment(doc)


def test_prose_outside_the_syntax_or_an_unknown_key_is_refused() -> None:
    x = sp.Symbol("x", real=True)

    def build(**prose: str) -> Derivation:
        fields = {"title": "t", "statement": "s", **prose}
        step = Equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1, fields.pop("reason", "r"))
        return Derivation(id="bad.prose", claims=("C7",), steps=(step,), title=fields["title"],
                          statement=fields["statement"])

    from theory.core.printing.prose import ProseError

    with pytest.raises(ProseError):
        _view(build(statement="x_1 is raw"))
    with pytest.raises(ValueError, match=r"not in references\.bib"):
        _view(build(statement="see [@no-such-key2099]"))


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
def test_latex_engine_compiles_the_tex_with_its_bibliography(tmp_path: Path) -> None:
    assert main(["derive", *SUBSET, "--engine", "latex", "--out", str(tmp_path), "--jobs", "2"]) == 0
    for derivation in (reformulation.residual_reformulation(), reformulation.identity_iff_zero_residual()):
        text = _squeeze(_pdf_text(tmp_path / f"{derivation.id}.pdf"))
        for words in _words(derivation.title):
            assert _squeeze(words) in text
    combined = _pdf_text(tmp_path / "derivations.pdf")
    assert "Contents" in combined and "PROVED" in combined and "deep residual learning" in combined.lower()


@pytest.mark.parametrize(
    "argv",
    [
        ["derive", SUBSET[0], "--engine", "word"],
        ["derive", SUBSET[0], "--jobs", "-1"],
        ["derive", SUBSET[0], "--out", "taken"],
        ["derive", SUBSET[0], "--reasons", "above"],
        ["derive", SUBSET[0], "--fragment-width", "page"],
    ],
    ids=["unknown-engine", "negative-jobs", "out-is-a-file", "unknown-reasons", "unknown-fragment-width"],
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


def test_derive_names_the_same_options_as_the_writers() -> None:
    from hfx import derive

    assert derive.FRAGMENT_WIDTHS == tuple(documents.FRAGMENT_WIDTHS)
    assert derive.REASONS == doc_latex.REASONS
