"""Progress lines: the elapsed time and a linear estimate of the time left."""

from __future__ import annotations

import io

import pytest

from hfx.progress import Board, Event, report, routed, say, timing


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


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_routed_reports_go_to_the_sink_not_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    events: list[Event] = []
    with routed(events.append):
        report(1, 3, "derivations", started=5.0)
        say("hello")
    report(3, 3, "derivations")
    assert events == [("progress", "derivations", 1, 3, 5.0), ("line", "hello")]
    assert capsys.readouterr().err == "  derivations 3/3\n"  # the sink is gone after the block


def test_a_board_without_a_terminal_prints_finished_work_and_messages_only() -> None:
    out, shown = io.StringIO(), io.StringIO()
    board = Board(out)
    board(("progress", "verified derivations (a.b)", 1, 2, None))
    board(("progress", "experiment steps", 10, 100, None))
    board(("line", "hfx verify: measuring"))
    board(("progress", "verified derivations", 2, 2, None))
    board.show("the table", shown)
    assert out.getvalue() == "hfx verify: measuring\n  verified derivations 2/2\n"
    assert shown.getvalue() == "the table\n"
    assert list(board.live) == ["experiment steps"]  # unfinished work stays on the board


def test_a_board_on_a_terminal_shows_every_unfinished_piece_of_work_on_one_line() -> None:
    out = _Terminal()
    board = Board(out)
    board(("progress", "verified derivations (a.b)", 1, 2, None))
    board(("progress", "experiment steps", 10, 100, None))
    assert out.getvalue().rsplit("\r", 1)[-1] == "  verified derivations (a.b) 1/2 · experiment steps 10/100\033[K"
    board(("progress", "verified derivations", 2, 2, None))  # finished: its own line, then the rest redrawn
    finished, redrawn = out.getvalue().rsplit("\n", 1)
    assert finished.endswith("\r\033[K  verified derivations 2/2")
    assert redrawn == "\r  experiment steps 10/100\033[K"
