"""The fused CPU engine against its independent slow twins: autograd run by run, and the torch engine."""

from __future__ import annotations

import math

import pytest
import torch
from _fused_reference import FLOAT32_ROUNDING, FLOAT64_ROUNDING, autograd_per_run, problem

from numerics.blocks import fused
from numerics.models import ACTIVATIONS, VARIANTS, BlockSpec, init_params
from numerics.optim import per_run
from numerics.train import OptimizerSpec, train

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.skipif(not fused.available(), reason="no C++ compiler: the fused engine cannot be built here"),
]

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("block", ["linear", "mlp"])
def test_fused_loss_and_gradients_equal_autograd_run_by_run(block: str, variant: str, activation: str,
                                                            seed: int) -> None:
    # widths chosen to cross the kernel's narrower column tiles (2W, W, 4 and single columns; W = 8 doubles)
    spec = BlockSpec(block=block, variant=variant, depth=4, width=21, hidden=7, activation=activation)
    params, x, y = problem(spec, 3, 9, seed, torch.float64)
    loss, grads = fused.loss_and_grads(spec, params, x, y)
    assert grads is not None and set(grads) == set(params)
    for r in range(3):
        ref_loss, ref_grads = autograd_per_run(spec, params, x, y, r)
        torch.testing.assert_close(loss[r], ref_loss, rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING)
        for k, want in ref_grads.items():
            torch.testing.assert_close(grads[k][r], want, rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING)


@pytest.mark.parametrize("block", ["linear", "mlp"])
def test_wide_float64_blocks_cross_every_tile(block: str) -> None:
    # 45 = 32 + 8 + 4 + 1 and 58 = 32 + 16 + 8 + 1 + 1 columns: the 4W, 2W, W, 4 and 1-column tiles, and 8×8
    # register-block transposes with ragged edges
    spec = BlockSpec(block=block, variant="residual", depth=2, width=45, hidden=58, activation="tanh")
    params, x, y = problem(spec, 2, 11, 3, torch.float64)
    loss, grads = fused.loss_and_grads(spec, params, x, y)
    assert grads is not None
    for r in range(2):
        ref_loss, ref_grads = autograd_per_run(spec, params, x, y, r)
        torch.testing.assert_close(loss[r], ref_loss, rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING)
        for k, want in ref_grads.items():
            torch.testing.assert_close(grads[k][r], want, rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("width", "hidden"), [(16, 16), (64, 64), (3, 5), (70, 100)])
def test_fused_float32_equals_float64_autograd(width: int, hidden: int, seed: int) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=width, hidden=hidden, activation="tanh")
    params, x, y = problem(spec, 2, 32, seed, torch.float64)
    loss, grads = fused.loss_and_grads(spec, {k: v.float() for k, v in params.items()}, x.float(), y.float())
    assert loss.dtype == torch.float32 and grads is not None
    for r in range(2):
        ref_loss, ref_grads = autograd_per_run(spec, params, x, y, r)
        torch.testing.assert_close(loss[r].double(), ref_loss, rtol=FLOAT32_ROUNDING, atol=FLOAT32_ROUNDING)
        for k, want in ref_grads.items():
            torch.testing.assert_close(grads[k][r].double(), want, rtol=FLOAT32_ROUNDING, atol=FLOAT32_ROUNDING)


@pytest.mark.parametrize("segment", [1, 2, 3, 5, 7, 100])
@pytest.mark.parametrize("variant", ["plain", "rezero", "residual"])
def test_checkpoint_segments_give_the_same_numbers(variant: str, segment: int) -> None:
    # recomputing a segment's activations repeats the same operations in the same order: equal bit for bit
    spec = BlockSpec(block="mlp", variant=variant, depth=7, width=5, hidden=6, activation="gelu")
    params, x, y = problem(spec, 3, 6, 4, torch.float64)
    loss, grads = fused.loss_and_grads(spec, params, x, y, segment=spec.depth)
    loss_s, grads_s = fused.loss_and_grads(spec, params, x, y, segment=segment)
    assert grads is not None and grads_s is not None
    assert torch.equal(loss, loss_s)
    for k in grads:
        assert torch.equal(grads[k], grads_s[k])


def test_segment_length_bounds_the_activation_memory() -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=10_000, width=16, hidden=16)
    S = fused.segment_length(spec, 32, 8, budget=2**20)
    assert S == 100  # ⌈√10 000⌉: 10 000 layers of 8 KiB of activations (h and a: 32·16·2 float64) exceed 1 MiB
    assert fused.segment_length(BlockSpec(block="mlp", depth=8), 32, 8) == 8  # small stacks keep everything


def test_skipped_runs_cost_nothing_and_leave_the_others_alone() -> None:
    spec = BlockSpec(block="mlp", variant="rezero", depth=3, width=4, hidden=5, activation="relu")
    params, x, y = problem(spec, 4, 6, 5, torch.float64)
    skip = torch.tensor([False, True, False, True])
    loss, grads = fused.loss_and_grads(spec, params, x, y)
    loss_s, grads_s = fused.loss_and_grads(spec, params, x, y, skip=skip)
    assert grads is not None and grads_s is not None
    assert torch.isnan(loss_s[skip]).all() and torch.equal(loss_s[~skip], loss[~skip])
    for k in grads:
        assert torch.equal(grads_s[k][~skip], grads[k][~skip]) and not grads_s[k][skip].any()


@pytest.mark.parametrize("block", ["linear", "mlp"])
@pytest.mark.parametrize("variant", ["residual", "rezero"])
def test_a_pending_step_is_the_sgd_update_then_the_gradient(block: str, variant: str) -> None:
    # θ ← θ − (ηG + ηλθ) taken inside the native call equals the same update written with torch, then the call;
    # a run that does not move keeps its parameters exactly, even with NaN in G; a moving run with η = 0 takes
    # 0·G (NaN where G is NaN), as torch does
    spec = BlockSpec(block=block, variant=variant, depth=3, width=17, hidden=5, activation="tanh")
    params, x, y = problem(spec, 5, 6, 8, torch.float64)
    G = {k: torch.randn(v.shape, generator=torch.Generator().manual_seed(9), dtype=v.dtype) for k, v in params.items()}
    G = {k: v.index_fill(0, torch.tensor([2, 4]), torch.nan) for k, v in G.items()}
    rate = torch.tensor([0.1, 0.01, 0.2, 0.3, 0.0], dtype=torch.float64)
    decay = rate * torch.tensor([0.0, 0.5, 0.0, 2.0, 0.0], dtype=torch.float64)
    moving = torch.tensor([True, True, False, True, True])

    want = {k: torch.where(per_run(moving, v), v - (per_run(rate, v) * G[k] + per_run(decay, v) * v), v)
            for k, v in params.items()}
    loss_want, grads_want = fused.loss_and_grads(spec, want, x, y)
    mine = {k: v.clone() for k, v in params.items()}
    loss, grads = fused.loss_and_grads(spec, mine, x, y, step=fused.PendingStep(rate, decay, G, moving))
    assert grads is not None and grads_want is not None
    for k in params:
        torch.testing.assert_close(mine[k], want[k], rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING, equal_nan=True)
        assert torch.equal(mine[k][2], params[k][2]) and mine[k][4].isnan().all()
        torch.testing.assert_close(grads[k], grads_want[k], rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING,
                                   equal_nan=True)
    torch.testing.assert_close(loss, loss_want, rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING, equal_nan=True)
    # the step's gradients may be the very tensors the call writes: each run is stepped before it is overwritten
    out = {k: v.clone() for k, v in G.items()}
    again = {k: v.clone() for k, v in params.items()}
    fused.loss_and_grads(spec, again, x, y, out=out, step=fused.PendingStep(rate, decay, out, moving))
    assert all(torch.equal(again[k].nan_to_num(), mine[k].nan_to_num()) for k in params)
    assert all(torch.equal(out[k].nan_to_num(), grads[k].nan_to_num()) for k in grads)


def test_a_pending_step_refuses_parameters_it_cannot_update_in_place() -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=4, hidden=4)
    params, x, y = problem(spec, 2, 3, 0, torch.float64)
    step = fused.PendingStep(torch.ones(2), torch.zeros(2), {k: torch.zeros_like(v) for k, v in params.items()})
    strided = {**params, "W1": params["W1"].transpose(-1, -2).contiguous().transpose(-1, -2)}
    for bad in (strided, {k: v.float() for k, v in params.items()}):
        with pytest.raises(ValueError, match="in place"):
            fused.loss_and_grads(spec, bad, x, y, step=step)
    for bad_step in (fused.PendingStep(torch.ones(3), torch.zeros(2), step.grads),
                     fused.PendingStep(torch.ones(2), torch.zeros(2), {**step.grads, "W2": step.grads["W2"].float()}),
                     fused.PendingStep(torch.ones(2), torch.zeros(2), step.grads, torch.ones(3, dtype=torch.bool))):
        with pytest.raises(ValueError, match="pending step"):
            fused.loss_and_grads(spec, params, x, y, step=bad_step)


def test_tensors_off_the_cpu_never_reach_the_native_code() -> None:
    # a CUDA or meta tensor's pointer is not host memory: refused with a ValueError, never dereferenced
    spec = BlockSpec(block="mlp", variant="rezero", depth=2, width=4, hidden=4)
    params, x, y = problem(spec, 2, 3, 0, torch.float64)
    grads = {k: torch.zeros_like(v) for k, v in params.items()}
    meta = {k: v.to("meta") for k, v in params.items()}
    cases = [
        ({**params, "W2": meta["W2"]}, y, None, None),
        ({**params, "alpha": meta["alpha"]}, y, None, None),
        (params, y.to("meta"), None, None),
        (params, y, {**grads, "W1": grads["W1"].to("meta")}, None),
        (params, y, None, fused.PendingStep(torch.ones(2), torch.zeros(2), {**grads, "W1": meta["W1"]})),
        (params, y, None, fused.PendingStep(torch.ones(2, device="meta"), torch.zeros(2), grads)),
    ]
    for p, yy, out, step in cases:
        with pytest.raises(ValueError, match="on the CPU"):
            fused.loss_and_grads(spec, p, x, yy, out=out, step=step)


def test_threads_split_the_runs_without_changing_a_bit() -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=8, hidden=8, activation="tanh")
    params, x, y = problem(spec, 7, 6, 6, torch.float32)
    loss1, grads1 = fused.loss_and_grads(spec, params, x, y)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        loss3, grads3 = fused.loss_and_grads(spec, params, x, y)
    finally:
        torch.set_num_threads(before)
    assert grads1 is not None and grads3 is not None
    assert torch.equal(loss1, loss3) and all(torch.equal(grads1[k], grads3[k]) for k in grads1)


def test_only_dense_cpu_float_batches_are_fused() -> None:
    dense = BlockSpec(block="mlp")
    assert fused.supports(dense, torch.zeros((1, 2, 4)))
    assert fused.supports(dense, torch.zeros((1, 2, 4), dtype=torch.float64))
    assert not fused.supports(BlockSpec(block="conv"), torch.zeros((1, 2, 4, 6, 6)))
    assert not fused.supports(dense, torch.zeros((1, 2, 4), dtype=torch.float16))
    assert not fused.supports(dense, torch.zeros((1, 2, 4), device="meta"))
    with pytest.raises(ValueError, match="fused"):
        spec = BlockSpec(block="conv", image_size=3)
        p = init_params(spec, 1, "zero", 1.0, torch.Generator())
        x = torch.zeros((1, 2, 4, 3, 3), dtype=torch.float64)
        train(spec, p, x, x, OptimizerSpec(), torch.ones(1), torch.zeros(1), 1, 0.0, torch.Generator(),
              engine="fused")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("opt_name", "decay_mode", "batch"), [("gd", "l2", 0), ("gd", "decoupled", 0),
                                                                ("adam", "decoupled", 0), ("momentum", "l2", 0),
                                                                ("sgd", "l2", 4), ("sgd", "decoupled", 4)])
def test_training_with_the_fused_engine_equals_the_torch_engine(opt_name: str, decay_mode: str, batch: int,
                                                                 seed: int) -> None:
    # the whole loop (minibatches, decay, freezing, statuses) on the two engines from the same generator state
    spec = BlockSpec(block="mlp", variant="rezero", depth=4, width=3, hidden=5, activation="tanh")
    params, x, _ = problem(spec, 6, 10, seed, torch.float64)
    y = x + 0.3 * torch.tanh(x)
    lr = torch.tensor([0.003, 0.01, 0.03, 0.1, 0.2, 1e3], dtype=torch.float64)  # the last one diverges
    lam = torch.full((6,), 0.01, dtype=torch.float64)
    opt = OptimizerSpec(opt_name, decay_mode=decay_mode, batch_size=batch)
    out = {engine: train(spec, params, x, y, opt, lr, lam, 60, 2e-3, torch.Generator().manual_seed(seed),
                         engine=engine) for engine in ("fused", "torch")}
    a, b = out["fused"], out["torch"]
    assert a.engine == "fused" and b.engine == "torch"
    assert list(a.status) == list(b.status)
    assert (a.steps_to_converge == b.steps_to_converge).all() and (a.diverged_step == b.diverged_step).all()
    kept = torch.from_numpy(b.status != "diverged")  # a diverged run's last parameters amplify any rounding
    assert 0 < int(kept.sum()) < 6  # the grid has stable rates and at least one that diverges
    for k in params:
        torch.testing.assert_close(a.params[k][kept], b.params[k][kept], rtol=1e-9, atol=1e-9)


def test_torch_engine_with_checkpoint_segments_trains_the_same() -> None:
    # the torch engine's activation checkpointing (segment < L) recomputes the same operations: same training
    spec = BlockSpec(block="mlp", variant="residual", depth=5, width=3, hidden=4, activation="gelu")
    params, x, _ = problem(spec, 3, 8, 7, torch.float64)
    y = x + 0.3 * torch.tanh(x)
    lr, lam = torch.full((3,), 0.05, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    runs = [train(spec, params, x, y, OptimizerSpec("momentum"), lr, lam, 15, 0.0, torch.Generator(), engine="torch",
                  device="cpu", segment=s) for s in (None, 2)]
    for k in params:
        torch.testing.assert_close(runs[0].params[k], runs[1].params[k], rtol=FLOAT64_ROUNDING, atol=FLOAT64_ROUNDING)
    assert runs[0].params["W1"].device.type == "cpu"


def test_mismatched_shapes_are_refused_before_the_native_code_sees_them() -> None:
    spec = BlockSpec(block="mlp", variant="rezero", depth=3, width=4, hidden=5)
    params, x, y = problem(spec, 2, 6, 0, torch.float64)
    bad = [
        ({**params, "W1": params["W1"][:1]}, x, y),  # fewer runs in a weight
        ({**params, "W2": params["W2"][:, :2]}, x, y),  # fewer layers
        ({**params, "alpha": params["alpha"][:, :1]}, x, y),
        (params, x[:1], y[:1]),  # fewer runs in the data
        (params, x, y[:, :3]),  # y not shaped as x
        (params, x[:, :0], y[:, :0]),  # no samples
    ]
    for p, xx, yy in bad:
        with pytest.raises(ValueError):
            fused.loss_and_grads(spec, p, xx, yy)
    with pytest.raises(ValueError):
        fused.loss_and_grads(spec, params, x, y, skip=torch.zeros(3, dtype=torch.bool))
    with pytest.raises(ValueError):
        fused.loss_and_grads(spec, params, x, y, segment=0)


@pytest.mark.parametrize("opt_name", ["gd", "sgd"])
@pytest.mark.parametrize("decay_mode", ["l2", "decoupled"])
def test_hostile_rates_and_decays_train_as_on_the_torch_engine(opt_name: str, decay_mode: str) -> None:
    # run 0: η = 0 with a gradient that overflows (0·inf = NaN: diverged at step 1 on both engines);
    # run 1: λ = inf (diverges, then stays frozen: its parameters are those of its diverging step, not stepped
    # again); run 2: ordinary, converges and freezes
    spec = BlockSpec(block="linear", variant="plain", depth=2, width=2)
    W = torch.empty(3, 2, 2, 2)
    W[0, 0], W[0, 1] = 1e-38 * torch.eye(2), 3e38 * torch.eye(2)
    W[1:] = 0.5 * torch.eye(2)
    x = torch.full((3, 4, 2), 2.0)
    y = x.clone()
    y[0] = 0.0
    lr = torch.tensor([0.0, 0.1, 0.1])
    lam = torch.tensor([0.0, math.inf, 0.0])
    opt = OptimizerSpec(opt_name, decay_mode=decay_mode, batch_size=2 if opt_name == "sgd" else 0)
    res = {e: train(spec, {"W": W}, x, y, opt, lr, lam, 40, 1e-3, torch.Generator().manual_seed(0), engine=e)
           for e in ("fused", "torch")}
    a, b = res["fused"], res["torch"]
    assert a.engine == "fused" and b.engine == "torch"
    assert list(a.status) == list(b.status) == ["diverged", "diverged", "converged"]
    assert (a.diverged_step == b.diverged_step).all() and (a.steps_to_converge == b.steps_to_converge).all()
    # the frozen runs' parameters are bit for bit the torch engine's (NaN and ±inf in the same places)
    assert torch.equal(a.params["W"][:2].nan_to_num(), b.params["W"][:2].nan_to_num())
    assert torch.equal(a.params["W"][:2].isnan(), b.params["W"][:2].isnan())
