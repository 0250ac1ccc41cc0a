"""Progress lines: the elapsed time and a linear estimate of the time left."""

from __future__ import annotations

import pytest

from hfx.progress import report, timing


def test_the_estimate_extrapolates_the_items_done() -> None:
    # 5 of 20 items in 30 s: 15 more at 6 s each
    assert timing(5, 20, started=100.0, now=130.0) == ", 30s elapsed, about 1m30s left"
    assert timing(0, 20, started=100.0, now=107.0) == ", 7s elapsed"
    assert timing(20, 20, started=0.0, now=2 * 3600 + 5 * 60) == " in 2h05m"
    assert timing(3, 20, started=None) == ""


def test_without_a_terminal_only_the_last_line_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    for done in range(1, 4):
        report(done, 3, "derivations")
    assert capsys.readouterr().err == "  derivations 3/3\n"
