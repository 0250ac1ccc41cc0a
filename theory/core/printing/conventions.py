"""House rules shared by both printers (SymPy → Typst, SymPy → LaTeX), so that both engines show the same mathematics.

- a name ``x1_11`` is x with subscript "1,11" (SymPy's default joins them with a
  space); a multi-letter subscript is upright (``lambda_ESL`` → λ_ESL); the subscript
  ``star`` marks an optimum and prints as a superscript star (``W_star`` → W^*);
- ``epsilon`` is ε and ``phi`` is φ in both engines (LaTeX ``\\varepsilon``, ``\\varphi``);
- the identity matrix is I and the zero matrix 0 (SymPy: 𝕀 and 𝟘);
- a sum that would start with a minus sign starts with its first positive term
  (1 − ηλ rather than −ηλ + 1);
- an elementwise application σ∘(z) is written σ(z), as papers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp

GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
    "upsilon phi chi psi omega"
).split()
GREEK_NAMES = set(GREEK) | {g.capitalize() for g in GREEK} | {"ell", "hbar", "nabla", "partial"}

# relations as written in a Derivation's steps → Typst math and LaTeX math
TYPST_RELATIONS = {"=": "=", "⟺": "<==>", "⇒": "==>", "<": "<", "≤": "<=", ">": ">", "≥": ">=", "≠": "!="}
LATEX_RELATIONS = {
    "=": "=", "⟺": r"\iff", "⇒": r"\implies", "<": "<", "≤": r"\leq", ">": ">", "≥": r"\geq", "≠": r"\neq",
}


def star_to_super(supers: list[str], subs: list[str]) -> tuple[list[str], list[str]]:
    """The subscript ``star`` (``W_star``, an optimum) moved to a superscript ``*``: W^*, as papers write it."""
    if "star" not in subs:
        return supers, subs
    return [*supers, "*"], [s for s in subs if s != "star"]


def typst_string(text: str) -> str:
    """A Typst string literal (valid in code and in math, where it prints upright)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def positive_first(terms: list[sp.Basic]) -> list[sp.Basic]:
    """Move the first term without a leading minus to the front (1 − ηλ, not −ηλ + 1)."""
    if terms and is_negative(terms[0]):
        for i, term in enumerate(terms):
            if not is_negative(term):
                return [term, *terms[:i], *terms[i + 1 :]]
    return terms


def is_negative(expr: sp.Basic) -> bool:
    """Whether `expr` prints with a leading minus sign."""
    if isinstance(expr, sp.MatMul):
        coeff = expr.as_coeff_mmul()[0]
        return bool(getattr(coeff, "is_number", False) and coeff.is_extended_negative)
    return bool(expr.could_extract_minus_sign()) if isinstance(expr, sp.Expr) else False


def elementwise_function_name(fn: sp.Lambda) -> sp.Basic | None:
    """For ``Lambda(t, f(t))`` the function f; None for any other lambda."""
    (var,) = fn.variables if len(fn.variables) == 1 else (None,)
    body = fn.expr
    if var is not None and isinstance(body, sp.Function) and body.args == (var,):
        return body.func
    return None


class NamedObjects:
    """Printer mixin: objects given a name in the ``names`` setting (large matrices defined once) print as
    that name, and never need brackets (`_named`).  Put it before the SymPy printer class in the bases."""

    _settings: dict[str, Any]

    def _name_of(self, expr: Any) -> str | None:
        names: Mapping[object, str] = self._settings["names"]
        if not names:
            return None
        key = sp.ImmutableMatrix(expr) if isinstance(expr, sp.MatrixBase) else expr
        return names.get(key) if isinstance(key, sp.Basic) else None

    def _named(self, expr: Any) -> bool:
        return self._name_of(expr) is not None

    def _print(self, expr: Any, **kwargs: Any) -> str:
        name = self._name_of(expr)
        return name if name is not None else str(super()._print(expr, **kwargs))  # type: ignore[misc]  # (the printer after this mixin)
