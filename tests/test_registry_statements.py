"""Every registered derivation states formally what it proves, and its steps establish it.

(The steps themselves are checked by `pytest proofs/`; this checks the glue, structurally,
without a CAS: each formula of `Derivation.proves` is one step's formula or the composition
of a chain of consecutive steps.  Hollow steps cannot be built at all: building the registry
would raise.)
"""

from __future__ import annotations

import pytest

from theory.core.registry import all_derivations
from theory.core.statement import establish
from theory.derivation import Derivation

DERIVATIONS = all_derivations()


@pytest.mark.parametrize("derivation", DERIVATIONS, ids=[d.id for d in DERIVATIONS])
def test_every_derivation_has_a_formal_statement_that_its_steps_establish(derivation: Derivation) -> None:
    assert derivation.proves, f"{derivation.id} states nothing formally (Derivation.proves is empty)"
    for formula in derivation.formulas():
        support = establish(formula, derivation.steps)
        assert support.established, f"{derivation.id}: {formula.text()}: {support.how}"


def test_no_registered_step_has_identical_sides() -> None:
    for d in DERIVATIONS:
        for i, step in enumerate(d.steps, start=1):
            assert not step.hollow(), f"{d.id} step {i}"
