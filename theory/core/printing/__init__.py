"""Printing for the derivation documents: SymPy → Typst and SymPy → LaTeX, and the prose syntax of derivations.

- `typst(expr)` / `latex(expr)`: one printer per engine (`typst_printer`, `latex_printer`), sharing the house
  rules of `conventions`, so that both engines show the same mathematics;
- `prose`: the syntax of the prose of a derivation (plain text, inline maths ``$…$`` in a LaTeX subset,
  citations ``[@key, Eq. (1)]``), parsed once and rendered by `prose_render` for both engines.
"""

from __future__ import annotations

from theory.core.printing.conventions import LATEX_RELATIONS, TYPST_RELATIONS, typst_string
from theory.core.printing.latex_printer import HouseLatexPrinter, latex
from theory.core.printing.typst_printer import TypstPrinter, typst

__all__ = [
    "LATEX_RELATIONS",
    "TYPST_RELATIONS",
    "HouseLatexPrinter",
    "TypstPrinter",
    "latex",
    "typst",
    "typst_string",
]
