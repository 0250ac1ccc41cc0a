"""Figures do not depend on the working directory.

Matplotlib's DejaVu mathtext sets map only the font classes rm, it, bf, bfit, sf, tt and ex; for any other class
(``\\mathcal`` → ``cal``, ``\\mathbb`` → ``bb``, ``\\mathfrak``, ``\\mathscr``, ``\\mathcircled``) it looks for a font
*file* of that name in the working directory (matplotlib's ``_mathtext.TruetypeFonts._get_font``).  A folder
``cal/`` beside the user made `hfx verify` fail at its last step ("Is a directory: 'cal'", exit 3).  So no label
of ours may use those classes: a class test over every string in the code that draws figures, and the hazard
itself shown on matplotlib, so that the test is known to guard something real.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNMAPPED = re.compile(r"\\math(cal|bb|frak|scr|circled)\b")
# modules that handle LaTeX or Typst text for documents, not matplotlib labels
NOT_FIGURES = {"hfx/doc_width.py"}


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_no_figure_label_uses_a_mathtext_class_that_dejavu_does_not_map() -> None:
    modules = [p for pkg in ("hfx", "numerics") for p in sorted((ROOT / pkg).rglob("*.py"))
               if str(p.relative_to(ROOT)) not in NOT_FIGURES and "matplotlib" in p.read_text(encoding="utf-8")]
    assert modules, "no figure code found"
    found = {str(p.relative_to(ROOT)): [(line, s) for line, s in _strings(p) if UNMAPPED.search(s)] for p in modules}
    assert not {k: v for k, v in found.items() if v}


def test_the_hazard_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cal").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        import matplotlib

        mp.setitem(matplotlib.rcParams, "mathtext.fontset", "dejavuserif")
        fig = Figure()
        fig.text(0.5, 0.5, r"$\mathcal{L}$")
        with pytest.raises(IsADirectoryError):
            fig.savefig(tmp_path / "f.png")
        fig = Figure()
        fig.text(0.5, 0.5, r"loss $< \varepsilon$, depth $L$")  # what the labels use instead
        fig.savefig(tmp_path / "g.png")
