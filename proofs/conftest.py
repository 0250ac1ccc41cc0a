"""Shared fixtures for the proofs: run a derivation, record it, print the verdict table.

The proofs may run in several worker processes (pytest-xdist): each test attaches its
derivation's row of the verdict table to its report (`user_properties`), and the table is
printed at the end from the reports, wherever the tests ran.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hfx.table import failure_details, format_table
from theory.derivation import Derivation, DerivationResult, Status, verify

_KEY = "hfx_theorem"


@pytest.fixture
def prove(request: pytest.FixtureRequest) -> Callable[[Derivation], DerivationResult]:
    """Verify a derivation and record it for the closing verdict table."""

    def _prove(derivation: Derivation) -> DerivationResult:
        result = verify(derivation)
        record = result.record()
        proved = sum(1 for s in record.steps if s.status is Status.PROVED)
        row = [record.id, ",".join(record.claims), record.status.upper(), f"{proved}/{len(record.steps)}",
               f"{record.seconds:.2f}s"]
        details = failure_details([record]) if record.status is not Status.PROVED else ""
        request.node.user_properties.append((_KEY, {"row": row, "details": details}))
        return result

    return _prove


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    entries: dict[str, dict[str, object]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == _KEY and isinstance(value, dict):
                    entries[str(value["row"][0])] = value  # type: ignore[index]
    if not entries:
        return
    ordered = [entries[k] for k in sorted(entries)]
    terminalreporter.write_sep("=", "hfx verdicts")
    terminalreporter.write_line(
        format_table(["theorem", "claims", "status", "steps proved", "time"], [e["row"] for e in ordered])  # type: ignore[misc]
    )
    details = "\n".join(str(e["details"]) for e in ordered if e["details"])
    if details:
        terminalreporter.write_line("")
        terminalreporter.write_line(details)
