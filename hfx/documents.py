"""Derivation documents: `.typ`, `.tex`, an `\\input` fragment and a PDF per derivation, plus one combined PDF.

For each derivation `<id>`, `write_documents` writes into its folder

- `<id>.typ` and `<id>.tex`: standalone sources (`hfx.doc_typst`, `hfx.doc_latex`);
- `<id>.fragment.tex`: the steps as numbered equations, for a paper to ``\\input`` (broken for the text width
  of a one-column article, or the column of a two-column one; justifications beside, under or in comments);
- `<id>.pdf`: compiled with the embedded Typst compiler (default) or, with ``engine="latex"``, with
  latexmk or pdflatex and bibtex;

and `derivations.typ|tex|pdf` (title page with provenance, contents by topic and claim, every derivation,
the references) and `references.bib`, the bibliography every source cites.  Each step shows the status
that `theory.derivation.verify` gave it (the views of `hfx.theorems.verify_ids`).  Sources, fonts (Typst's
embedded fonts only, never the system's) and PDF metadata carry no dates (the title page shows the
commit's date), so the same input gives byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import typst

from hfx import __version__, doc_latex, doc_typst
from hfx.doc_layout import Provenance
from hfx.doc_model import DocView
from hfx.errors import UsageError
from hfx.output import write_bytes_atomic, write_text_atomic
from hfx.pool import thread_pool
from hfx.provenance import git_state
from theory.core.bibliography import bibtex

ENGINES = ("typst", "latex")
FRAGMENT_WIDTHS = {"text": doc_latex.ONE_COLUMN_EM, "column": doc_latex.TWO_COLUMN_EM}
COMBINED = "derivations"  # stem of the combined document
BIB = "references.bib"
LATEX_TIMEOUT_S = 120  # one pdflatex/latexmk run on one document


def latex_command() -> list[str] | None:
    """How to compile a `.tex` to PDF here: latexmk if present, else pdflatex; None without TeX."""
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet"]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    return None


def require_engine(engine: str) -> None:
    """UsageError, before anything is written, when `engine` cannot run on this machine."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "latex" and latex_command() is None:
        raise UsageError("--engine latex needs latexmk or pdflatex on PATH (install TeX Live, or use --engine typst)")


def provenance() -> Provenance:
    """hfx's version, and the commit (and its date) of the source tree it runs from."""
    state = git_state()
    commit = state.get("commit")
    date = None
    if isinstance(commit, str):
        try:
            date = subprocess.run(
                ["git", "show", "-s", "--format=%cs", commit], cwd=Path(__file__).resolve().parent,
                capture_output=True, text=True, encoding="utf-8", errors="replace", check=True, timeout=10,
            ).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            date = None
    dirty = state.get("dirty")
    return Provenance(__version__, commit if isinstance(commit, str) else None,
                      dirty if isinstance(dirty, bool) else None, date)


Format = Literal["pdf", "svg", "png", "html"]


def typst_pdf(source: str, fmt: Format = "pdf", ppi: float | None = None) -> tuple[bytes | list[bytes], list[str]]:
    """Compile Typst source (with references.bib beside it) with the embedded fonts: (output, warnings)."""
    with tempfile.TemporaryDirectory(prefix="hfx-typst-") as tmp:
        root = Path(tmp)
        write_text_atomic(root / BIB, bibtex())
        write_text_atomic(root / "main.typ", source)
        return _compile_typst(typst.Compiler(ignore_system_fonts=True), root / "main.typ", fmt, ppi)


def _compile_typst(
    compiler: typst.Compiler, path: Path, fmt: Format = "pdf", ppi: float | None = None
) -> tuple[bytes | list[bytes], list[str]]:
    try:
        out, warnings = compiler.compile_with_warnings(
            input=str(path), root=str(path.parent), format=fmt, ppi=ppi, timestamp=0
        )
    except typst.TypstError as exc:
        raise RuntimeError(f"typst could not compile {path.name}: {exc.message}\n{exc.diagnostic}") from exc
    if out is None:
        raise RuntimeError(f"typst wrote nothing for {path.name}")
    return out, [w.message for w in warnings]


def latex_pdf(source: str, name: str, files: dict[str, str] | None = None) -> bytes:
    """Compile a `.tex` source to PDF bytes with latexmk, or pdflatex and bibtex (references.bib beside it)."""
    command = latex_command()
    if command is None:
        raise UsageError("--engine latex needs latexmk or pdflatex on PATH")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    with tempfile.TemporaryDirectory(prefix="hfx-latex-") as tmp:
        for file_name, text in {BIB: bibtex(), **(files or {})}.items():
            (Path(tmp) / file_name).write_text(text, encoding="utf-8")
        (Path(tmp) / f"{name}.tex").write_text(source, encoding="utf-8")
        if command[0] == "latexmk":
            runs = [[*command, f"{name}.tex"]]
        else:
            runs = [[*command, f"{name}.tex"], ["bibtex", name], [*command, f"{name}.tex"], [*command, f"{name}.tex"]]
        for run in runs:
            done = subprocess.run(run, cwd=tmp, env=env, capture_output=True, text=True, encoding="utf-8",
                                  errors="replace", timeout=LATEX_TIMEOUT_S, check=False)
            if done.returncode != 0 and run[0] != "bibtex":
                log = Path(tmp) / f"{name}.log"
                text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
                errors = [ln for ln in text.splitlines() if ln.startswith("!")]
                # a tool of the machine failed, not hfx: an I/O error's one line ("hfx: error: …", exit 3)
                raise OSError(f"{run[0]} failed on {name}.tex: {' / '.join(errors[:3]) or done.stdout[-500:]}")
        return (Path(tmp) / f"{name}.pdf").read_bytes()


def write_documents(
    doc_views: Sequence[DocView], folder: Path, engine: str = "typst", jobs: int | None = None,
    fragment_width: str = "text", reasons: str = "none", prov: Provenance | None = None,
) -> list[Path]:
    """Write every document of the module docstring into `folder`; returns the paths written, sorted."""
    require_engine(engine)
    if fragment_width not in FRAGMENT_WIDTHS:
        raise UsageError(f"unknown fragment width {fragment_width!r}; choose one of {', '.join(FRAGMENT_WIDTHS)}")
    if reasons not in doc_latex.REASONS:
        raise UsageError(f"unknown placement of reasons {reasons!r}; choose one of {', '.join(doc_latex.REASONS)}")
    prov = prov or provenance()
    sources: dict[str, tuple[str, str]] = {v.id: (doc_typst.single(v), doc_latex.single(v)) for v in doc_views}
    sources[COMBINED] = (doc_typst.combined(doc_views, prov), doc_latex.combined(doc_views, prov))
    written = [folder / BIB]
    write_text_atomic(folder / BIB, bibtex())
    for name, (typ, tex) in sources.items():
        for suffix, text in ((".typ", typ), (".tex", tex)):
            write_text_atomic(folder / f"{name}{suffix}", text)
            written.append(folder / f"{name}{suffix}")
    width = FRAGMENT_WIDTHS[fragment_width]
    for v in doc_views:
        write_text_atomic(folder / f"{v.id}.fragment.tex", doc_latex.fragment(v, width, reasons, prov))
        written.append(folder / f"{v.id}.fragment.tex")
    if engine == "typst":
        compiler = typst.Compiler(ignore_system_fonts=True)
        for name in sources:
            pdf, warnings = _compile_typst(compiler, folder / f"{name}.typ")
            assert isinstance(pdf, bytes)
            for message in warnings:
                print(f"hfx: typst warning in {name}.typ: {message}", file=sys.stderr)
            write_bytes_atomic(folder / f"{name}.pdf", pdf)
            written.append(folder / f"{name}.pdf")
    else:
        workers = jobs or os.cpu_count() or 1
        with thread_pool(workers) as pool:
            pdfs = dict(zip(sources, pool.map(lambda item: latex_pdf(item[1][1], item[0]), sources.items()),
                            strict=True))
        for name, pdf in pdfs.items():
            write_bytes_atomic(folder / f"{name}.pdf", pdf)
            written.append(folder / f"{name}.pdf")
    return sorted(written)
