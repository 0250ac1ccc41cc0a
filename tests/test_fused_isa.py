"""The fused engine built for every x86 instruction set this CPU can run, against autograd.

The engine sizes its register tiles for the vector registers it is compiled for (`_fused.cpp`: HFX_VBYTES,
HFX_NREG), so each instruction set runs different code: the other tests check only the CPU's own.  A build
for a set the CPU lacks is never called (it would stop on an illegal instruction).
"""

from __future__ import annotations

import ctypes
import platform

import pytest
import torch
from _fused_reference import FLOAT32_ROUNDING, FLOAT64_ROUNDING, autograd_per_run, problem
from test_fused_steps import _assert_same, _both

from numerics.blocks import fused
from numerics.models import BlockSpec

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 instruction sets"),
    pytest.mark.skipif(not fused.available(), reason="no C++ compiler: the fused engine cannot be built here"),
]

# -march level: (the CPU flags it needs, the register geometry the engine must then be built for)
LEVELS = {
    "x86-64": (set(), (16, 16)),
    "x86-64-v3": ({"avx", "avx2", "fma", "bmi2"}, (32, 16)),
    "x86-64-v4": ({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}, (64, 32)),
}


@pytest.fixture(params=list(LEVELS))
def level(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ctypes.CDLL]:
    """An instruction set this CPU runs, and the engine built for it, installed as `fused`'s engine."""
    name: str = request.param
    missing = LEVELS[name][0] - fused.cpu_info()[1]
    if missing:
        pytest.skip(f"this CPU lacks {sorted(missing)} for {name}")
    lib = fused.build(name)
    if lib is None:
        pytest.skip(f"the compiler cannot build for -march={name}")
    monkeypatch.setattr(fused, "_library", lambda: lib)
    return name, lib


def test_the_build_has_the_register_geometry_of_its_instruction_set(level: tuple[str, ctypes.CDLL]) -> None:
    name, lib = level
    assert fused.vector_geometry(lib) == LEVELS[name][1]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("width", "hidden"), [(16, 16), (64, 64), (45, 58), (21, 7), (3, 5)])
def test_each_instruction_set_computes_the_autograd_gradients(level: tuple[str, ctypes.CDLL], width: int,
                                                              hidden: int, dtype: torch.dtype) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=width, hidden=hidden, activation="tanh")
    params, x, y = problem(spec, 2, 13, width * 1000 + hidden, torch.float64)  # 13 samples: ragged row tiles
    loss, grads = fused.loss_and_grads(spec, {k: v.to(dtype) for k, v in params.items()}, x.to(dtype), y.to(dtype))
    assert grads is not None
    tol = FLOAT64_ROUNDING if dtype == torch.float64 else FLOAT32_ROUNDING
    for r in range(2):
        want_loss, want = autograd_per_run(spec, params, x, y, r)
        torch.testing.assert_close(loss[r].double(), want_loss, rtol=tol, atol=tol)
        for k in want:
            torch.testing.assert_close(grads[k][r].double(), want[k], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_each_instruction_set_takes_blocks_of_steps_as_one_call_per_step(level: tuple[str, ctypes.CDLL],
                                                                         dtype: torch.dtype) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=16, hidden=16, activation="tanh")
    a, b = _both(spec, 24, 3, dtype)
    _assert_same(a, b)  # bit for bit, as on the CPU's own build
