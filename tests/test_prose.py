"""The prose syntax of derivations (`theory.core.printing.prose`): rendering, errors, and every registered prose.

Every title, statement, conclusion, instance, remark, assumption and step reason of every registered
derivation must parse (no raw markup, no maths outside ``$…$``, no unknown command), its citations must be keys
of references.bib, and all of it must compile: with Typst (no warning), and, where TeX is installed, with
pdflatex (no error, no missing character).  The text of the Typst PDF must then hold no markup characters at all.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from io import BytesIO
from pathlib import Path

import pypdf
import pytest

from hfx import documents
from theory.core import bibliography
from theory.core.printing.prose import ProseError, citation_keys, parse
from theory.core.printing.prose_render import latex_text, plain_text, typst_markup
from theory.core.registry import all_derivations
from theory.derivation import Derivation

HAS_TEX = documents.latex_command() is not None


def prose_fields(d: Derivation) -> list[tuple[str, str]]:
    """(where, text) for every prose string of a derivation, citations included."""
    fields = [("title", d.title), ("statement", d.statement), ("conclusion", d.conclusion), ("instance", d.instance)]
    fields += [(f"remark {i}", r) for i, r in enumerate(d.remarks, start=1)]
    fields += [(f"assumption {a.name!r}", t) for a in d.assumptions for t in (a.name, a.statement)]
    fields += [(f"step {i}", s.reason) for i, s in enumerate(d.steps, start=1)]
    fields += [(f"citation {i}", f"[{s.citation}]" if s.citation.startswith("@") else s.citation)
               for i, s in enumerate(d.steps, start=1) if s.citation]
    return [(f"{d.id} {where}", text) for where, text in fields if text]


ALL_PROSE = [item for d in all_derivations() for item in prose_fields(d)]

CASES = [
    # (prose, Typst markup, LaTeX)
    ("plain text, with (brackets) and 50% off", '#"plain text, with (brackets) and 50% off"',
     r"plain text, with (brackets) and 50\% off"),
    ("$x ∈ ℝⁿ$", "$x ∈ bb(R)^(n)$", r"$x\in\mathbb{R}^{n}$"),
    (r"$W_2\sigma(W_1x + b_1)$", "$W_(2) sigma ( W_(1) x + b_(1) )$", r"$W_{2}\sigma(W_{1}x+b_{1})$"),
    ("$W₂σ(W₁x + b₁)$", "$W_(2) sigma ( W_(1) x + b_(1) )$", r"$W_{2}\sigma(W_{1}x+b_{1})$"),
    (r"$\frac{a, b}{2}$", r"$frac(a \, b, 2)$", r"$\frac{a,b}{2}$"),
    (r"$\sqrt{x}$ and $\sqrt[3]{u}$", '$sqrt(x)$#" and "$root(3, u)$', r"$\sqrt{x}$ and $\sqrt[3]{u}$"),
    (r"$\tr(WΣWᵀ)$", "$tr ( W Sigma W^(T) )$", r"$\operatorname{tr}(W\Sigma W^{T})$"),
    (r"$\|x\|^2_F$", '$class("opening", ‖) x class("closing", ‖)_(F)^(2)$', r"$\|x\|_{F}^{2}$"),
    (r"$\left. f(x) \right|_{x=0}$", "$lr( f ( x ) |)_(x = 0)$", r"$\left. f(x) \right|_{x=0}$"),
    (r"$[0, 1)$", r"$[ 0 \, 1 )$", r"$[0,\allowbreak 1)$"),
    (r"$(0, 1$", r"$\( 0 \, 1$", r"$(0,\allowbreak 1$"),
    (r"$ẇ = \text{if } x$", '$dot(w) = "if " x$', r"$\dot{w}=\text{if }x$"),
    (r"$a/b$", r"$a \/ b$", "$a/b$"),
    (r"a literal \$5", '#"a literal $5"', r"a literal \$5"),
    ("see [@he2016deep, Eq. (1)]", '#"see "#cite(<he2016deep>, supplement: [#"Eq. (1)"])',
     r"see \cite[{Eq. (1)}]{he2016deep}"),
    ("[@a2016; @b2017]", "#cite(<a2016>)#cite(<b2017>)", r"\cite{a2016}, \cite{b2017}"),
]


@pytest.mark.parametrize(("text", "typst", "latex"), CASES, ids=[c[0] for c in CASES])
def test_prose_renders_for_both_engines(text: str, typst: str, latex: str) -> None:
    assert typst_markup(text) == typst
    assert latex_text(text) == latex


BAD = [
    "x_1 outside maths", "a `code` span", "σ outside maths", "2 + 2 = 4", "x^{2}", r"\emph{x}", "{braces}",
    "unclosed $x", r"$\foo$", "$x^{2$", "$x^2^3$", "$x_1_2$", r"$\left( x$", r"$\right)$", "$}$", "$a & b$",
    "$x # y$", "[@ not a key]", "[@key, locator", "[@key locator]", '"straight quotes"',
    "$\u2603$", r"$\frac{1}$",
]


@pytest.mark.parametrize("text", BAD)
def test_markup_outside_the_syntax_is_an_error(text: str) -> None:
    with pytest.raises(ProseError):
        parse(text)


@pytest.mark.parametrize(("where", "text"), ALL_PROSE, ids=[w for w, _ in ALL_PROSE])
def test_every_registered_prose_string_is_in_the_syntax(where: str, text: str) -> None:
    segments = parse(text)
    assert bibliography.unknown_keys(citation_keys(segments)) == [], f"{where}: key not in references.bib"
    plain = plain_text(text)
    assert not re.search(r"\.py\b|\.json\b|\.md\b|\btests/|\btheory/|`", plain), f"{where}: names an internal file"


def test_every_registered_prose_string_compiles_with_typst_and_shows_no_markup(tmp_path: Path) -> None:
    body = "\n\n".join(typst_markup(text) for _, text in ALL_PROSE)
    source = '#set page(width: 16cm, height: auto)\n#set text(font: "New Computer Modern")\n' + body
    source += '\n#bibliography("references.bib")\n'
    pdf, warnings = documents.typst_pdf(source)
    assert warnings == []
    assert isinstance(pdf, bytes)
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages))
    for raw in ("^{", "_", "`", "\\", "$"):  # braces may be maths ({0, 1}); these never are
        assert raw not in text, f"raw markup {raw!r} reached the page"


@pytest.mark.skipif(not HAS_TEX, reason="no latexmk/pdflatex on PATH (CI installs TeX Live: see .ci/run)")
def test_every_registered_prose_string_compiles_with_pdflatex(tmp_path: Path) -> None:
    body = "\n\n".join(latex_text(text) + r"\par" for _, text in ALL_PROSE)
    (tmp_path / "references.bib").write_text(bibliography.bibtex(), encoding="utf-8")
    (tmp_path / "prose.tex").write_text(
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,amssymb}\n"
        f"\\begin{{document}}\n{body}\n\\bibliographystyle{{unsrt}}\\bibliography{{references}}\n\\end{{document}}\n",
        encoding="utf-8",
    )
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "prose.tex"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    log = (tmp_path / "prose.log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!") or "Missing character" in line]
    assert done.returncode == 0 and errors == [], errors[:5]


def test_references_bib_defines_every_work_once() -> None:
    entries = bibliography.entries()
    titles = [" ".join(e["title"].lower().replace("{", "").replace("}", "").split()) for e in entries.values()]
    assert len(set(titles)) == len(titles)
    for key, entry in entries.items():
        assert {"author", "title", "year"} <= set(entry), key


def test_every_reference_constant_and_source_is_a_key() -> None:
    from theory import references

    keys = [v[1:] for k, v in vars(references).items() if k.isupper()]
    assert keys and bibliography.unknown_keys(keys) == []
    for d in all_derivations():
        assert all(r.startswith("@") for r in d.references), d.id
        assert bibliography.unknown_keys([r[1:] for r in d.references]) == [], d.id


def test_a_bibtex_file_with_a_key_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bib = tmp_path / "references.bib"
    bib.write_text("@misc{a, title = {A}, author = {X}, year = {2000},}\n@misc{a, title = {B}, author = {Y}, "
                   "year = {2001},}\n", encoding="utf-8")
    monkeypatch.setattr(bibliography, "BIB_PATH", bib)
    bibliography.bibtex.cache_clear()
    bibliography.entries.cache_clear()
    try:
        with pytest.raises(ValueError, match="twice"):
            bibliography.entries()
    finally:
        bibliography.bibtex.cache_clear()
        bibliography.entries.cache_clear()
