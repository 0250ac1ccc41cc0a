"""Shared fixtures for the proofs: run a derivation, record it, print the verdict table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hfx.table import failure_details, theorem_table
from theory.derivation import Derivation, DerivationResult, Status, verify

_RESULTS: dict[str, DerivationResult] = {}


@pytest.fixture
def prove() -> Callable[[Derivation], DerivationResult]:
    """Verify a derivation and record it for the closing verdict table."""

    def _prove(derivation: Derivation) -> DerivationResult:
        result = verify(derivation)
        _RESULTS[derivation.id] = result
        return result

    return _prove


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RESULTS:
        return
    records = [r.record() for r in _RESULTS.values()]
    terminalreporter.write_sep("=", "hfx verdicts")
    terminalreporter.write_line(theorem_table(records))
    details = failure_details([r for r in records if r.status is not Status.PROVED])
    if details:
        terminalreporter.write_line("")
        terminalreporter.write_line(details)
