"""Statuses do not change between runs (issue 8, class 2).

SymPy ≥ 1.12 orders its assumption handlers with an unseeded random generator
(`sympy.core.random`); where handlers disagree, an answer can change from run to
run.  The checker seeds that generator for every step, and `hfx` verifies in
worker processes with a fixed ``PYTHONHASHSEED`` (`hfx.theorems`), so that a
status and its method are the same in every run and every process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sympy as sp
import sympy.core.random as sympy_random

from theory.derivation import Derivation, Equal, Inequality, verify

x = sp.Symbol("x", real=True)
m = sp.Symbol("m", integer=True)

STEPS = (
    Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square"),
    Inequality(sp.atan(m) ** 2, 0, "a square", relation="≥"),
    Equal(sp.atan(x) + sp.atan(1 / x), sp.pi / 2, "false for x < 0"),
)
DERIVATION = Derivation(id="reproducible", title="", claims=(), statement="", steps=STEPS)


def _summary() -> list[tuple[str, str, tuple[str, ...]]]:
    return [(s.status.value, s.method, s.engines) for s in verify(DERIVATION).steps]


def test_statuses_do_not_depend_on_sympy_s_random_state() -> None:
    first = _summary()
    for seed in (1, 2, 3):
        sympy_random.seed(seed)  # disturb the generator that orders the assumption handlers
        sp.core.cache.clear_cache()
        assert _summary() == first


SCRIPT = """
import json, sympy as sp
from theory.derivation import Derivation, Equal, Inequality, verify
x = sp.Symbol("x", real=True); m = sp.Symbol("m", integer=True)
steps = (Equal((x + 1) ** 2, x**2 + 2 * x + 1, "square"),
         Inequality(sp.atan(m) ** 2, 0, "a square", relation="≥"),
         Equal(sp.atan(x) + sp.atan(1 / x), sp.pi / 2, "false for x < 0"))
r = verify(Derivation(id="reproducible", title="", claims=(), statement="", steps=steps))
print(json.dumps([[s.status.value, s.method, list(s.engines), s.detail] for s in r.steps]))
"""


def test_statuses_do_not_depend_on_the_hash_seed() -> None:
    root = Path(__file__).resolve().parents[1]
    outputs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True,
                              check=True, timeout=300)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1] == outputs[2]


RUNNER = """
import json, sys
from hfx.theorems import verify_ids

def main():
    records = verify_ids(sys.argv[1:], jobs=2, progress=False)
    print(json.dumps([[r.id, r.status.value, [[s.status.value, s.method, list(s.engines)] for s in r.steps]]
                      for r in records]))

if __name__ == "__main__":
    main()
"""


def test_hfx_verifies_the_same_way_whatever_the_hash_seed(tmp_path: Path) -> None:
    # hfx verify's runner: a fresh fork of one preloaded state per derivation, under PYTHONHASHSEED=0
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    root = Path(__file__).resolve().parents[1]
    ids = ["reformulation.identity-iff-zero", "weight-decay.gd-convergence", "jacobian.isometric-inits"]
    outputs = []
    for seed in ("3", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, str(script), *ids], cwd=root, env=env, capture_output=True,
                              text=True, check=True, timeout=600)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert [r[0] for r in outputs[0]] == ids
