"""`hfx derive` refuses an unknown id before SymPy and the theory are imported, when no plugin is installed."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from hfx import derive
from hfx.errors import UsageError
from hfx.theorem_ids import OWN_IDS


def test_the_generated_ids_are_the_registry_s() -> None:
    scripts = str(Path(__file__).resolve().parents[1] / "scripts")
    sys.path.insert(0, scripts)
    try:
        from update_theorem_ids import own_ids
    finally:
        sys.path.remove(scripts)
    assert set(own_ids()) == OWN_IDS, "run scripts/update_theorem_ids.py"


def test_the_entry_point_group_is_the_registry_s() -> None:
    from theory.core.registry import ENTRY_POINT_GROUP

    assert derive.ENTRY_POINT_GROUP == ENTRY_POINT_GROUP


def test_an_unknown_id_is_refused_without_importing_the_theory() -> None:
    code = ("import sys\nfrom hfx import derive\nfrom hfx.errors import UsageError\n"
            "try:\n    derive._refuse_unknown_ids_early(['reformulation.residual', 'no-such-id'])\n"
            "except UsageError as exc:\n    print(exc)\nprint('sympy' in sys.modules, 'theory' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["unknown theorem id 'no-such-id' (see `hfx list theorems`)", "False False"]


def test_own_ids_pass_and_a_plugin_defers_the_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    derive._refuse_unknown_ids_early(sorted(OWN_IDS)[:3])
    with pytest.raises(UsageError):
        derive._refuse_unknown_ids_early(["no-such-id"])
    plugin = metadata.EntryPoint(name="mine", value="my_theorems", group=derive.ENTRY_POINT_GROUP)
    monkeypatch.setattr(metadata, "entry_points", lambda **kw: [plugin])
    derive._refuse_unknown_ids_early(["no-such-id"])  # a plugin may register it: resolve_ids decides
