"""docs/api.md: its complete example, and every other complete Python block, run as written, in order.

A block holding a placeholder (`...`) is a skeleton and is skipped; the TOML block is not Python.  The
output the page shows for `failed.report()` must be what the example prints.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from theory.derivation import DerivationResult, Status

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    return [(lang, body) for lang, body in BLOCK.findall(DOC.read_text(encoding="utf-8"))]


def test_the_example_is_marked_short_and_complete() -> None:
    text = DOC.read_text(encoding="utf-8")
    marked = text.split("<!-- api-example -->")[1].split("<!-- /api-example -->")[0]
    code = [ln for ln in marked.splitlines() if ln.strip() and not ln.startswith("```")]
    assert 15 <= len(code) <= 32, len(code)  # "a complete ~20-line example"
    for word in ("verify(", "Status.FAILED", "report()", "_repr_html_", "write_documents"):
        assert word in marked


def test_every_complete_python_block_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_doc"}
    printed = io.StringIO()
    ran = 0
    for lang, body in _blocks():
        if lang != "python" or re.search(r"^\s*\.\.\.\s*$", body, re.M):
            continue
        with contextlib.redirect_stdout(printed):
            exec(compile(body, f"{DOC}:block{ran}", "exec"), namespace)
        ran += 1
    assert ran >= 4
    result, failed = namespace["result"], namespace["failed"]
    assert isinstance(result, DerivationResult) and result.status is Status.PROVED
    assert isinstance(failed, DerivationResult) and failed.status is Status.FAILED
    assert (tmp_path / "mine-docs" / "mine.slope-at-zero.pdf").read_bytes().startswith(b"%PDF")
    assert "PROVED" in str(namespace["html"]) and r"\textsf{PROVED}" in str(namespace["tex"])
    # the report the page shows is the report the example prints
    shown = next(body for lang, body in _blocks() if lang == "" and body.startswith("mine.slope-everywhere"))
    assert shown.strip() in printed.getvalue(), printed.getvalue()
    assert "at a = " in failed.steps[0].detail  # the counterexample names the point
    verdicts = namespace["verdicts"]
    assert {v.claim.id: v.verdict for v in verdicts}["C11"] == "qualified"  # linear-block, cross-checked
