"""Batched blocks against independent per-run references (numpy / per-run torch calls)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numerics.models import (
    ACTIVATIONS,
    VARIANTS,
    BlockSpec,
    balanced_linear,
    data_with_covariance,
    end_to_end,
    forward,
    init_params,
    linear_target,
    loss_per_run,
    spectrum_matrix,
)

EXACT = 1e-12  # float64 products of a few small matrices: rounding only


pytestmark = pytest.mark.usefixtures("one_thread")


def _act(name: str, z: torch.Tensor) -> torch.Tensor:
    return {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu}[name](z)


def _reference(spec: BlockSpec, params: dict[str, torch.Tensor], x: torch.Tensor, r: int) -> torch.Tensor:
    """Run r alone, written as a researcher would: one sample matrix, one layer at a time."""
    h = x[r]
    for layer in range(spec.depth):
        if spec.block == "linear":
            f = h @ params["W"][r, layer].T
        elif spec.block == "mlp":
            f = _act(spec.activation, h @ params["W1"][r, layer].T) @ params["W2"][r, layer].T
        else:
            pad = spec.kernel_size // 2
            z = F.conv2d(h, params["K1"][r, layer], padding=pad)
            f = F.conv2d(_act(spec.activation, z), params["K2"][r, layer], padding=pad)
        if spec.scaled:
            f = params["alpha"][r, layer] * f
        h = h + f if spec.residual else f
    return h


@pytest.mark.parametrize("block", ["linear", "mlp", "conv"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_batched_forward_equals_each_run_alone(block: str, variant: str) -> None:
    g = torch.Generator().manual_seed(1)
    spec = BlockSpec(block=block, variant=variant, depth=3, width=3, hidden=5, activation="gelu", image_size=4)
    R = 4
    params = init_params(spec, R, "xavier", 1.0, g)
    if spec.scaled:  # α₀ = 0 would hide the branch; give it values to test the scaling too
        params["alpha"] = torch.randn(params["alpha"].shape, generator=g, dtype=torch.float64)
    shape = (R, 6, 3, 4, 4) if block == "conv" else (R, 6, 3)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    out = forward(spec, params, x)
    assert out.shape == x.shape
    for r in range(R):
        torch.testing.assert_close(out[r], _reference(spec, params, x, r), rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("variant", ["rezero", "skipinit", "fixup"])
def test_zero_initialised_branches_start_at_the_identity(activation: str, variant: str) -> None:
    g = torch.Generator().manual_seed(2)
    for block in ("linear", "mlp", "conv"):
        spec = BlockSpec(block=block, variant=variant, depth=4, width=2, hidden=3, activation=activation,
                         image_size=3)
        params = init_params(spec, 3, "kaiming", 1.0, g)
        x = torch.randn((3, 5, 2, 3, 3) if block == "conv" else (3, 5, 2), generator=g, dtype=torch.float64)
        assert torch.equal(forward(spec, params, x), x)
        assert torch.equal(loss_per_run(spec, params, x, x), torch.zeros(3, dtype=torch.float64))


def test_fixup_zeroes_the_last_layer_and_scales_the_others_by_depth_to_minus_one_half() -> None:
    # Zhang, Dauphin, Ma 2019 §3: m = 2 layers per branch ⇒ factor L^{−1/(2m−2)} = L^{−1/2}
    L = 9
    spec_res = BlockSpec(block="mlp", variant="residual", depth=L, width=3, hidden=4)
    spec_fix = BlockSpec(block="mlp", variant="fixup", depth=L, width=3, hidden=4)
    plain = init_params(spec_res, 2, "xavier", 1.0, torch.Generator().manual_seed(3))
    fixup = init_params(spec_fix, 2, "xavier", 1.0, torch.Generator().manual_seed(3))
    torch.testing.assert_close(fixup["W1"], plain["W1"] / 3.0, rtol=EXACT, atol=0)
    assert torch.count_nonzero(fixup["W2"]) == 0


def test_initialisation_scales() -> None:
    g = torch.Generator().manual_seed(4)
    spec = BlockSpec(block="mlp", variant="plain", depth=1, width=64, hidden=32)
    n = 400  # runs: the sample variance of 400·64·32 draws is within a few % of its expectation
    xav = init_params(spec, n, "xavier", 1.0, g)["W1"]
    kai = init_params(spec, n, "kaiming", 1.0, g)["W1"]
    assert float(xav.var()) == pytest.approx(2 / (64 + 32), rel=0.02)
    assert float(kai.var()) == pytest.approx(2 / 64, rel=0.02)
    orth = init_params(BlockSpec(block="linear", width=5), 3, "orthogonal", 1.0, g)["W"][:, 0]
    torch.testing.assert_close(orth @ orth.transpose(-2, -1), torch.eye(5, dtype=torch.float64).expand(3, 5, 5))
    ident = init_params(BlockSpec(block="linear", variant="plain", width=3), 2, "identity", 1.0, g)["W"]
    assert torch.equal(ident[:, 0], torch.eye(3, dtype=torch.float64).expand(2, 3, 3))
    assert torch.count_nonzero(init_params(spec, 2, "zero", 1.0, g)["W2"]) == 0


def test_balanced_init_is_balanced_with_product_c_to_the_L() -> None:
    g = torch.Generator().manual_seed(5)
    L, d, c = 5, 4, 0.7
    W = balanced_linear(3, L, d, c, g, torch.float64)  # (3, L, d, d)
    for layer in range(L - 1):
        torch.testing.assert_close(W[:, layer + 1].transpose(-2, -1) @ W[:, layer + 1],
                                   W[:, layer] @ W[:, layer].transpose(-2, -1))
    spec = BlockSpec(block="linear", variant="plain", depth=L, width=d)
    M = end_to_end(spec, {"W": W})
    torch.testing.assert_close(M, c**L * torch.eye(d, dtype=torch.float64).expand(3, d, d))


def test_end_to_end_map_equals_the_forward_pass() -> None:
    g = torch.Generator().manual_seed(6)
    for variant in ("plain", "residual", "rezero"):
        spec = BlockSpec(block="linear", variant=variant, depth=3, width=3)
        params = init_params(spec, 2, "gaussian", 0.5, g)
        if spec.scaled:
            params["alpha"] = torch.rand(params["alpha"].shape, generator=g, dtype=torch.float64)
        x = torch.randn((2, 7, 3), generator=g, dtype=torch.float64)
        torch.testing.assert_close(forward(spec, params, x), x @ end_to_end(spec, params).transpose(-2, -1))


def test_data_have_exactly_the_requested_covariance() -> None:
    g = torch.Generator().manual_seed(7)
    Sigma = spectrum_matrix(torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64), g)
    X = data_with_covariance(Sigma, 11, g)
    torch.testing.assert_close(X.T @ X / 11, Sigma, rtol=EXACT, atol=EXACT)
    with pytest.raises(ValueError):
        data_with_covariance(Sigma, 2, g)


def test_linear_targets_have_the_stated_spectra() -> None:
    g = torch.Generator().manual_seed(8)
    pd = np.linalg.eigvalsh(linear_target("linear-pd", 4, g, torch.float64, 0.5, 1.5).numpy())
    ind = np.linalg.eigvalsh(linear_target("linear-indefinite", 4, g, torch.float64, 0.5, 1.5).numpy())
    np.testing.assert_allclose(pd, np.linspace(0.5, 1.5, 4), atol=1e-12)
    assert (ind < 0).sum() == 1 and ind[0] == pytest.approx(-0.5)


def test_bad_specs_are_rejected() -> None:
    for kwargs in ({"block": "rnn"}, {"variant": "dense"}, {"width": 0}, {"kernel_size": 2},
                   {"activation": "sigmoid"}):
        with pytest.raises(ValueError):
            BlockSpec(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        init_params(BlockSpec(block="mlp"), 1, "balanced", 1.0, torch.Generator())


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("block", ["linear", "mlp", "conv"])
def test_batched_gradients_equal_autograd_of_each_run_alone(block: str, variant: str, activation: str) -> None:
    # autograd through the batched stack (one tensor program for R runs) against autograd through `_reference`,
    # one run at a time; loss ½ Σ (H − Y)² with a random Y so that every output entry has a different weight
    g = torch.Generator().manual_seed(5)
    spec = BlockSpec(block=block, variant=variant, depth=3, width=3, hidden=4, activation=activation, image_size=3)
    R = 3
    params = init_params(spec, R, "xavier", 1.0, g)
    if spec.scaled:
        params["alpha"] = torch.randn(params["alpha"].shape, generator=g, dtype=torch.float64)
    shape = (R, 5, 3, 3, 3) if block == "conv" else (R, 5, 3)
    x = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_(True)
    y = torch.randn(shape, generator=g, dtype=torch.float64)
    leaves = {k: p.clone().requires_grad_(True) for k, p in params.items()}
    mine = torch.autograd.grad(0.5 * (forward(spec, leaves, x) - y).pow(2).sum(), [x, *leaves.values()])
    for r in range(R):
        ref = torch.autograd.grad(0.5 * (_reference(spec, leaves, x, r) - y[r]).pow(2).sum(), [x, *leaves.values()])
        for got, want in zip(mine, ref, strict=True):
            torch.testing.assert_close(got[r], want[r], rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("segment", [1, 2, 3, 7])
@pytest.mark.parametrize("block", ["mlp", "conv"])
def test_checkpointed_stack_has_the_same_loss_and_gradients(block: str, segment: int) -> None:
    # activation checkpointing recomputes each segment in the backward pass: the same numbers, bit for bit
    # up to the order of accumulation (here identical operations, so equal to rounding)
    g = torch.Generator().manual_seed(9)
    spec = BlockSpec(block=block, variant="rezero", depth=7, width=2, hidden=3, activation="tanh", image_size=3)
    params = init_params(spec, 2, "xavier", 1.0, g)
    params["alpha"] = torch.randn(params["alpha"].shape, generator=g, dtype=torch.float64)
    x = torch.randn((2, 4, 2, 3, 3) if block == "conv" else (2, 4, 2), generator=g, dtype=torch.float64)
    leaves = {k: p.clone().requires_grad_(True) for k, p in params.items()}
    whole = loss_per_run(spec, leaves, x, x)
    ckpt = loss_per_run(spec, leaves, x, x, segment=segment)
    torch.testing.assert_close(ckpt, whole, rtol=EXACT, atol=EXACT)
    for a, b in zip(torch.autograd.grad(whole.sum(), list(leaves.values())),
                    torch.autograd.grad(ckpt.sum(), list(leaves.values())), strict=True):
        torch.testing.assert_close(a, b, rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("block", ["linear", "mlp", "conv"])
def test_forward_is_device_agnostic(block: str) -> None:
    # on the meta device nothing is computed, but every tensor the stack creates must follow its inputs:
    # a CPU-only constant inside would raise here (and would break CUDA the same way)
    spec = BlockSpec(block=block, variant="rezero", depth=2, width=2, hidden=3, image_size=3)
    params = init_params(spec, 2, "gaussian", 1.0, torch.Generator().manual_seed(0), device="meta")
    assert all(p.device.type == "meta" for p in params.values())
    x = torch.empty((2, 4, 2, 3, 3) if block == "conv" else (2, 4, 2), dtype=torch.float64, device="meta")
    out = loss_per_run(spec, params, x, x)
    assert out.device.type == "meta" and out.shape == (2,)
    if block == "linear":
        assert end_to_end(spec, params).device.type == "meta"
