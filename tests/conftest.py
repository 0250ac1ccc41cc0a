"""Shared fixtures for tests/."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

import hfx  # noqa: F401  (before any SymPy import: the ground types `hfx verify` runs, theory/_ground.py)

if TYPE_CHECKING:
    from hfx.doc_model import DocView
    from theory.core.derivation import TheoremRecord

# A test run started in the background of a non-interactive shell (`.ci/run &`) inherits SIGINT ignored, and
# so would every hfx it starts; the Ctrl-C tests need what a terminal gives: the default handler (xdist workers
# import this file too, and the processes they start get SIG_DFL, so Python installs its handler there).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Run a module's batched-tensor tests on one torch thread (they are small; threads only add noise)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@dataclass(frozen=True)
class AllDocuments:
    """Every registered derivation verified once, its views, and its documents written with the Typst engine."""

    records: list[TheoremRecord]
    views: list[DocView]
    folder: Path  # hfx derive's output: .pdf, .typ, .tex, .fragment.tex (one-column), references.bib


@pytest.fixture(scope="session")
def all_documents(tmp_path_factory: pytest.TempPathFactory) -> AllDocuments:
    """Shared by the tests of the documents (verifying all 45 derivations takes a while)."""
    from hfx import documents
    from hfx.theorems import resolve_ids, verify_with_views

    records, views, untypeset = verify_with_views(resolve_ids([]), progress=False)
    assert untypeset == []
    folder = tmp_path_factory.mktemp("all-documents")
    documents.write_documents(views, folder, engine="typst")
    return AllDocuments(records, views, folder)


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any work that starts is a failure: validation must have refused the input first (the command-line tests)."""
    import hfx.theorems
    import numerics.experiments.branch_norms as branch_norms
    import numerics.experiments.linear_block as linear_block
    from hfx import isolated

    def work(*args: object, **kwargs: object) -> object:
        raise AssertionError("work started before the input was validated")

    monkeypatch.setattr(hfx.theorems, "verify_ids", work)
    monkeypatch.setattr(hfx.theorems, "verify_with_views", work)
    monkeypatch.setattr(linear_block, "run_chunk", work)
    monkeypatch.setattr(branch_norms, "run", work)
    monkeypatch.setattr(isolated, "run_all", work)  # `hfx check`: the user's code is the work
