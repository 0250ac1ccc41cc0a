"""Derivation documents: `.typ`, `.tex`, an `\\input` fragment and a PDF per derivation, plus one combined PDF.

For each derivation `<id>`, `write_documents` writes into its folder

- `<id>.typ` and `<id>.tex`: standalone sources (`hfx.doc_typst`, `hfx.doc_latex`);
- `<id>.fragment.tex`: the equations and steps only, for a paper to ``\\input``;
- `<id>.pdf`: compiled with the embedded Typst compiler (default) or, with
  ``engine="latex"``, with latexmk or pdflatex;

and `derivations.typ|tex|pdf`: a title page, a table of contents and every
derivation.  Each step shows the status that `theory.derivation.verify` gave it
(the records of `hfx.theorems.verify_ids`).  Sources, fonts (Typst's embedded
fonts only, never the system's) and PDF metadata carry no dates, so the same
input gives byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import typst

from hfx import __version__, doc_latex, doc_typst
from hfx.doc_model import DocView, view
from hfx.errors import UsageError
from hfx.output import write_bytes_atomic, write_text_atomic
from hfx.pool import thread_pool
from theory.core.registry import all_derivations
from theory.derivation import TheoremRecord

ENGINES = ("typst", "latex")
COMBINED = "derivations"  # stem of the combined document
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


def views(records: Sequence[TheoremRecord]) -> list[DocView]:
    """Document views for verification records, in the records' order."""
    by_id = {d.id: d for d in all_derivations()}
    return [view(by_id[r.id], r) for r in records]


def typst_pdf(source: str, compiler: typst.Compiler | None = None) -> tuple[bytes, list[str]]:
    """Compile Typst source to PDF bytes with the embedded fonts; returns (pdf, warnings)."""
    compiler = compiler or typst.Compiler(ignore_system_fonts=True)
    try:
        pdf, warnings = compiler.compile_with_warnings(source.encode(), format="pdf", timestamp=0)
    except typst.TypstError as exc:
        raise RuntimeError(f"typst could not compile a generated document: {exc.message}\n{exc.diagnostic}") from exc
    assert isinstance(pdf, bytes)
    return pdf, [w.message for w in warnings]


def latex_pdf(source: str, name: str) -> bytes:
    """Compile a `.tex` source to PDF bytes with latexmk or pdflatex (twice, for the contents)."""
    command = latex_command()
    if command is None:
        raise UsageError("--engine latex needs latexmk or pdflatex on PATH")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    with tempfile.TemporaryDirectory(prefix="hfx-latex-") as tmp:
        tex = Path(tmp) / f"{name}.tex"
        tex.write_text(source, encoding="utf-8")
        runs = 1 if command[0] == "latexmk" else 2
        for _ in range(runs):
            done = subprocess.run(
                [*command, tex.name], cwd=tmp, env=env, capture_output=True, text=True,
                timeout=LATEX_TIMEOUT_S, check=False,
            )
            if done.returncode != 0:
                log = Path(tmp) / f"{name}.log"
                errors = [ln for ln in log.read_text(errors="replace").splitlines() if ln.startswith("!")] if (
                    log.exists()
                ) else []
                raise RuntimeError(f"{command[0]} failed on {name}.tex: {' / '.join(errors[:3]) or done.stdout[-500:]}")
        return (Path(tmp) / f"{name}.pdf").read_bytes()


def write_documents(
    doc_views: Sequence[DocView], folder: Path, engine: str = "typst", jobs: int | None = None
) -> list[Path]:
    """Write every document of the module docstring into `folder`; returns the paths written, sorted."""
    require_engine(engine)
    sources: dict[str, tuple[str, str]] = {v.id: (doc_typst.single(v), doc_latex.single(v)) for v in doc_views}
    sources[COMBINED] = (doc_typst.combined(doc_views, __version__), doc_latex.combined(doc_views, __version__))
    written: list[Path] = []
    for name, (typ, tex) in sources.items():
        for suffix, text in ((".typ", typ), (".tex", tex)):
            write_text_atomic(folder / f"{name}{suffix}", text)
            written.append(folder / f"{name}{suffix}")
    for v in doc_views:
        write_text_atomic(folder / f"{v.id}.fragment.tex", doc_latex.fragment(v))
        written.append(folder / f"{v.id}.fragment.tex")
    if engine == "typst":
        compiler = typst.Compiler(ignore_system_fonts=True)
        for name, (typ, _) in sources.items():
            pdf, warnings = typst_pdf(typ, compiler)
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
