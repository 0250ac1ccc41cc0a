"""Theorems that installed packages register (entry points of the group ``hfx.theorems``; docs/api.md).

Each is verified like hfx's own and joins the closing verdict table; none may fail.  Without installed
plugins the parametrised test has nothing to run (pytest reports it skipped).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from theory.core import registry
from theory.derivation import Derivation, DerivationResult, Status

PLUGINS = registry.plugin_derivations()


@pytest.mark.parametrize("derivation", PLUGINS, ids=[d.id for d in PLUGINS])
def test_a_plugins_theorem_does_not_fail(
    derivation: Derivation, prove: Callable[[Derivation], DerivationResult]
) -> None:
    result = prove(derivation)
    assert result.status is not Status.FAILED, result.report()


def test_every_installed_plugin_loads() -> None:
    problems = registry.plugin_problems()
    assert not problems, "\n".join(problems)
