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


def _ulps(got: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """|got − tanh x| in units of the last place of float32 at tanh x (float64 reference; 2^-149 at least)."""
    want = torch.tanh(x.double())
    _, exponent = torch.frexp(want)
    ulp = torch.ldexp(torch.ones_like(want), (exponent - 24).clamp(min=-149))
    return (got.double() - want).abs() / ulp


def _tanh_sample(generator: torch.Generator) -> torch.Tensor:
    """Random floats over every binade up to 10, and every float near the points where the AVX2 tanh changes
    its reduction (k·ln2/2), its clamp (10) and 0.25 (its worst case)."""
    bits = torch.randint(0, 0x41200001, (1 << 20,), generator=generator, dtype=torch.int64).to(torch.int32)
    near = [torch.tensor([k * 0.34657359027997264], dtype=torch.float32) for k in range(1, 29)]
    near += [torch.tensor([10.0, 0.25243, 9.0109], dtype=torch.float32)]
    centre = torch.cat(near).view(torch.int32)
    around = (centre[:, None] + torch.arange(-2048, 2049, dtype=torch.int32)[None, :]).flatten()
    x = torch.cat([bits, around]).view(torch.float32)
    return torch.cat([x, -x])


def test_each_instruction_set_has_its_float32_tanh(level: tuple[str, ctypes.CDLL]) -> None:
    """The engine's own AVX2 tanh (x86-64-v3 build) is within 1 ulp and gives each value the same result
    whatever its place in the array (it takes 8 at a time; the last n mod 8 through the same code; the C
    library's vector loop computes a tail with its scalar tanhf); every build keeps tanh odd, NaN as NaN,
    ±∞ → ±1, ±0 and subnormals unchanged."""
    name, lib = level
    assert fused.tanh_kind(lib) == ("avx2" if name == "x86-64-v3" else "libm")
    x = _tanh_sample(torch.Generator().manual_seed(12))
    got = fused.tanh_f32(x, lib)
    if name == "x86-64-v3":
        assert _ulps(got, x).max().item() < 1.0
        for n in range(1, 20):
            assert torch.equal(fused.tanh_f32(x[n:2 * n], lib), got[n:2 * n])
    half = x.numel() // 2
    assert torch.equal(got[half:], -got[:half])
    special = torch.tensor([0.0, -0.0, float("inf"), -float("inf"), float("nan"), 1e-40, -1.4e-45, 9.2, -30.0])
    out = fused.tanh_f32(special, lib)
    assert out[:2].tolist() == [0.0, -0.0] and torch.signbit(out[:2]).tolist() == [False, True]
    assert out[2:4].tolist() == [1.0, -1.0] and torch.isnan(out[4])
    assert out[5:7].tolist() == special[5:7].tolist() and out[7:].tolist() == [1.0, -1.0]
