"""Prose as Unicode text (terminal, REPORT.md, JSON): no `$`, no backslash command, no raw citation key."""

from __future__ import annotations

import re

import pytest

from theory.core.printing.prose_unicode import author_year, unicode_text
from theory.core.registry import all_derivations


@pytest.mark.parametrize(
    ("prose", "text"),
    [
        (r"$W_1 x + b_1 = 0$", "W₁x + b₁ = 0"),
        (r"$\sigma^2 \le 1$", "σ² ≤ 1"),
        (r"$\lambda_{\min}(\Sigma)$", "λₘᵢₙ(Σ)"),
        (r"$A^\top B$", "AᵀB"),
        (r"$\frac{1}{2}$", "1/2"),
        (r"$\frac{a+b}{n}$", "(a + b)/n"),
        (r"$\sqrt{n}$", "√n"),
        (r"$\mathbb{R}^{n}$", "ℝⁿ"),
        (r"$e^{-2\eta t}$", "e^(−2ηt)"),  # no superscript η: the whole exponent stays together
        (r"$x_{k+1}$", "xₖ₊₁"),
        (r"$W \in \mathbb{R}^{m \times n}$", "W ∈ ℝ^(m×n)"),
        ("plain words, no maths", "plain words, no maths"),
    ],
)
def test_maths_becomes_unicode(prose: str, text: str) -> None:
    assert unicode_text(prose) == text


def test_citations_become_author_year() -> None:
    assert author_year("he2016deep") == "He et al. 2016"
    assert unicode_text("as shown [@saxe2014exact, Eq. (11)]") == "as shown (Saxe et al. 2014, Eq. (11))"


def test_no_registered_prose_keeps_markup() -> None:
    for d in all_derivations():
        texts = [d.title, d.statement, d.conclusion, d.instance, *d.remarks, *(s.reason for s in d.steps)]
        for text in filter(None, texts):
            out = unicode_text(text)
            assert "$" not in out and "[@" not in out, (d.id, out)
            assert not re.search(r"\\[A-Za-z]", out), (d.id, out)
