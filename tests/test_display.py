"""Rich display of a verified derivation (theory.core.display): badges per step, escaped text, balanced markup."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import pytest
import sympy as sp

from theory.derivation import Derivation, DerivationResult, Equal, Formula, Substitute, verify

x = sp.Symbol("x", real=True)
n = sp.Symbol("n", integer=True, positive=True)
HOSTILE = "<script>alert('x')</script> & 50% of x_1 {#} $y$ ~^\\"

VOID = {"br", "hr", "img", "meta", "input"}


class _Balance(HTMLParser):
    """Fails on a closing tag that does not close the innermost open one, and on a <script> element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.scripts += tag == "script"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


@pytest.fixture(scope="module")
def mixed() -> DerivationResult:
    # one proved step, one failed step (a counterexample), a Substitute; hostile text everywhere
    good = Equal(sp.Derivative(x**2, x), 2 * x, f"power rule {HOSTILE}", citation=HOSTILE)
    bad = Equal(2 * x, x + 1, "wrong on purpose")
    sub = Substitute(2 * x, 6, "x := 3", subs={x: 3})
    derivation = Derivation(
        id="display.mixed", title=f"Title {HOSTILE} n = 2", claims=("C1",), statement=f"Statement {HOSTILE} n = 2",
        steps=(good, bad, sub), proves=(good, Formula(2 * x, "=", 7)), remarks=(f"remark {HOSTILE}",),
        instance="n = 2", conclusion="n = 2",
    )
    return verify(derivation)


def test_html_shows_every_step_with_its_badge_and_the_counterexample(mixed: DerivationResult) -> None:
    html = mixed._repr_html_()
    statuses = [r.status.value.upper() for r in mixed.steps]
    assert statuses == ["PROVED", "FAILED", "PROVED"]
    assert html.count(">PROVED</span>") == 2 and html.count(">FAILED</span>") == 2  # the steps', and the title's
    assert mixed.steps[1].detail and escape(mixed.steps[1].detail) in html
    assert "does not follow from the steps" in html  # 2x = 7 is no step's formula
    assert "Remarks (not checked by any step)" in html and "shown for n = 2" in html
    assert " at x = 3" in html


def test_html_escapes_every_text_and_is_balanced(mixed: DerivationResult) -> None:
    html = mixed._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.stack == [] and parser.scripts == 0


def test_latex_is_one_balanced_display_with_escaped_text(mixed: DerivationResult) -> None:
    tex = mixed._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$") and tex.count("$$") == 2
    assert tex.count(r"\begin{array}") == tex.count(r"\end{array}") == 2
    assert tex.count(r"\textsf{PROVED}") == 2 and tex.count(r"\textsf{FAILED}") == 2
    assert r"50\% of x\_1 \{\#\} \$y\$" in tex
    assert r"\left. 2 x \right|_{x = 3}" in tex
    depth = 0
    for ch in tex.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_repr_is_one_short_line(mixed: DerivationResult) -> None:
    assert repr(mixed) == "<DerivationResult display.mixed: failed, 3 steps>"
