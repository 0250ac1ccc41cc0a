"""The fused engine built for every x86 instruction set this CPU can run, against autograd.

The engine sizes its register tiles for the vector registers it is compiled for (`_fused.cpp`: HFX_VBYTES,
HFX_NREG), so each instruction set runs different code: the other tests check only the CPU's own.  A build
for a set the CPU lacks is never called (it would stop on an illegal instruction).
"""

from __future__ import annotations

import ctypes
import platform
from pathlib import Path

import pytest
import torch

from numerics.blocks import fused, fused_steps
from numerics.models import BlockSpec, init_params

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


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def _level(level: str) -> ctypes.CDLL:
    needs, _ = LEVELS[level]
    missing = needs - _cpu_flags()
    if missing:
        pytest.skip(f"this CPU lacks {sorted(missing)} for {level}")
    lib = fused.build(level)
    if lib is None:
        pytest.skip(f"the compiler cannot build for -march={level}")
    return lib


def _one_run(spec: BlockSpec, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = x
    for layer in range(spec.depth):
        f = torch.tanh(h @ p["W1"][layer].T) @ p["W2"][layer].T
        h = h + f
    return h


@pytest.mark.parametrize("level", list(LEVELS))
def test_the_build_has_the_register_geometry_of_its_instruction_set(level: str) -> None:
    lib = _level(level)
    assert fused.vector_geometry(lib) == LEVELS[level][1]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("width", "hidden"), [(16, 16), (64, 64), (45, 58), (21, 7), (3, 5)])
@pytest.mark.parametrize("level", list(LEVELS))
def test_each_instruction_set_computes_the_autograd_gradients(level: str, width: int, hidden: int, dtype: torch.dtype,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _level(level)
    monkeypatch.setattr(fused, "_library", lambda: lib)
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=width, hidden=hidden, activation="tanh")
    g = torch.Generator().manual_seed(width * 1000 + hidden)
    params = init_params(spec, 2, "xavier", 1.0, g, torch.float64)
    x = torch.randn((2, 13, width), generator=g, dtype=torch.float64)  # 13 samples: ragged row tiles
    y = torch.randn((2, 13, width), generator=g, dtype=torch.float64)
    loss, grads = fused.loss_and_grads(spec, {k: v.to(dtype) for k, v in params.items()}, x.to(dtype), y.to(dtype))
    assert grads is not None
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    for r in range(2):
        leaves = {k: v[r].clone().requires_grad_(True) for k, v in params.items()}
        ref = 0.5 * (_one_run(spec, leaves, x[r]) - y[r]).pow(2).sum(-1).mean()
        want = dict(zip(leaves, torch.autograd.grad(ref, list(leaves.values())), strict=True))
        torch.testing.assert_close(loss[r].double(), ref.detach(), rtol=tol, atol=tol)
        for k in want:
            torch.testing.assert_close(grads[k][r].double(), want[k], rtol=tol, atol=tol)


@pytest.mark.parametrize("level", list(LEVELS))
def test_each_instruction_set_takes_the_same_steps_as_the_lock_step_loop(level: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _level(level)
    monkeypatch.setattr(fused, "_library", lambda: lib)
    spec = BlockSpec(block="mlp", variant="residual", depth=4, width=16, hidden=16, activation="tanh")
    g = torch.Generator().manual_seed(7)
    params = init_params(spec, 3, "xavier", 1.0, g, torch.float64)
    x = torch.randn((3, 32, 16), generator=g, dtype=torch.float64)
    y = x + 0.3 * torch.randn((3, 32, 16), generator=g, dtype=torch.float64)
    rate = torch.tensor([0.01, 0.05, 0.1], dtype=torch.float64)
    decay = torch.zeros(3, dtype=torch.float64)
    rule = fused_steps.StepRule(max_steps=20, record_every=1, eps=0.0, divergence_factor=1e30,
                                freeze_converged=False)
    blocked = {k: v.clone() for k, v in params.items()}
    loss, _ = fused_steps.gd_steps(spec, blocked, x, y, rate, decay, fused_steps.RunState.start(3), rule, 0, 21)
    lock = {k: v.clone() for k, v in params.items()}
    for k in range(21):
        step_loss, grads = fused.loss_and_grads(spec, lock, x, y)
        torch.testing.assert_close(step_loss, loss[k].to(step_loss.dtype), rtol=1e-13, atol=1e-13)
        if k < 20:
            assert grads is not None
            for name in lock:
                lock[name] -= rate.view(-1, 1, 1, 1) * grads[name]
    for name in lock:
        torch.testing.assert_close(blocked[name], lock[name], rtol=1e-13, atol=1e-13)
