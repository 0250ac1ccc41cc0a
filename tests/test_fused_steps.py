"""Blocks of steps per native call (`numerics.blocked`) against one call per step: the same numbers, bit for bit."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from numerics import blocked
from numerics.blocks import fused, fused_steps
from numerics.models import BlockSpec, init_params
from numerics.train import OptimizerSpec, TrainResult, train

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.skipif(not fused.available(), reason="no C++ compiler: the fused engine cannot be built here"),
]


def _problem(spec: BlockSpec, R: int, seed: int, dtype: torch.dtype, noise: float
             ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    """Runs toward y = x + noise, rates spread from slow to unstable (so that runs converge, stall and diverge)."""
    g = torch.Generator().manual_seed(seed)
    params = {k: v.to(dtype) for k, v in init_params(spec, R, "xavier", 0.5, g, torch.float64).items()}
    if spec.scaled:
        params["alpha"] = 0.5 * torch.randn(params["alpha"].shape, generator=g, dtype=dtype)
    x = torch.randn((R, 6, spec.width), generator=g, dtype=dtype)
    y = x + noise * torch.randn(x.shape, generator=g, dtype=dtype)
    lr = torch.tensor(np.geomspace(0.01, 3.0, R), dtype=dtype)
    return params, x, y, lr


def _both(spec: BlockSpec, R: int, seed: int, dtype: torch.dtype, noise: float = 0.3, lam: float = 0.0,
          **kw: object) -> tuple[TrainResult, TrainResult]:
    params, x, y, lr = _problem(spec, R, seed, dtype, noise)
    lams = torch.full((R,), lam, dtype=dtype)
    opts: dict[str, Any] = {"max_steps": 120, "eps": 0.03} | kw
    steps, eps = opts.pop("max_steps"), opts.pop("eps")
    runs = [train(spec, params, x, y, OptimizerSpec("gd"), lr, lams, steps, eps, torch.Generator(), max_block=mb,
                  **opts) for mb in (0, blocked.MAX_BLOCK)]
    return runs[0], runs[1]


def _assert_same(a: TrainResult, b: TrainResult) -> None:
    for f in ("status", "steps_to_converge", "diverged_step", "recorded_steps"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    for f in ("final_loss", "final_metric", "loss_curve", "metric_curve"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f
    for k in a.params:  # bit for bit; NaN where a run that kept moving after it converged blew up, in both
        torch.testing.assert_close(a.params[k], b.params[k], rtol=0, atol=0, equal_nan=True, msg=k)
    assert a.steps_run == b.steps_run and a.engine == b.engine == "fused"
    # ‖θ‖: the lock-step loop sums squares in the batch's dtype, the native loop in float64
    rounding = 1e-6 if a.params[next(iter(a.params))].dtype == torch.float32 else 1e-13
    np.testing.assert_allclose(a.norm_curve, b.norm_curve, rtol=rounding)


CASES = [("mlp", "residual", "tanh", torch.float32), ("mlp", "plain", "relu", torch.float64),
         ("linear", "residual", "tanh", torch.float64), ("mlp", "rezero", "gelu", torch.float32),
         ("linear", "fixup", "tanh", torch.float32), ("mlp", "skipinit", "tanh", torch.float64)]


@pytest.mark.parametrize(("block", "variant", "activation", "dtype"), CASES)
@pytest.mark.parametrize("options", [{}, {"stop_when_converged": False, "record_every": 7}, {"lam": 0.1},
                                     {"max_steps": 0}, {"max_steps": 1}, {"noise": 30.0, "eps": 0.0}])
def test_blocks_of_steps_equal_one_call_per_step(block: str, variant: str, activation: str, dtype: torch.dtype,
                                                 options: dict[str, object]) -> None:
    spec = BlockSpec(block=block, variant=variant, depth=3, width=5, hidden=4, activation=activation)
    a, b = _both(spec, 24, 3, dtype, **options)  # type: ignore[arg-type]
    _assert_same(a, b)


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("width", "hidden", "lam"), [(21, 18, 0.1), (16, 37, 0.0), (3, 9, 0.05)])
def test_steps_taken_inside_the_products_equal_the_separate_update(activation: str, dtype: torch.dtype, width: int,
                                                                   hidden: int, lam: float) -> None:
    # the blocked path takes each layer's step in the epilogue of the product that forms its gradient (never
    # stored), the lock-step path stores the gradient and steps afterwards: equal bit for bit, with and without
    # decay, on shapes whose columns cross every register tile (wide blocks, one vector, 4 and 1 columns)
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=width, hidden=hidden, activation=activation)
    a, b = _both(spec, 12, 11, dtype, lam=lam, max_steps=40)
    _assert_same(a, b)


def test_the_cases_reach_every_outcome() -> None:
    # the comparison above is only worth something if runs converge, diverge and stall within the budget
    spec = BlockSpec(block="mlp", variant="residual", depth=3, width=5, hidden=4, activation="tanh")
    a, b = _both(spec, 24, 3, torch.float32)
    assert set(b.status) == {"converged", "diverged", "censored"}
    _assert_same(a, b)


@pytest.mark.parametrize("max_block", [1, 3, 64])
def test_block_boundaries_anywhere_and_threads_change_nothing(max_block: int, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=4, hidden=3, activation="tanh")
    params, x, y, lr = _problem(spec, 37, 5, torch.float64, 0.3)
    lam = torch.full((37,), 0.01, dtype=torch.float64)
    want = train(spec, params, x, y, OptimizerSpec("gd"), lr, lam, 300, 0.03, torch.Generator(), max_block=0)
    monkeypatch.setattr(blocked, "BLOCK_SECONDS", 1e9)  # every block as long as max_block allows
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # 37 runs in 8 pieces over 2 threads
    try:
        got = train(spec, params, x, y, OptimizerSpec("gd"), lr, lam, 300, 0.03, torch.Generator(), max_block=max_block)
    finally:
        torch.set_num_threads(threads)
    _assert_same(want, got)


def test_the_blocked_path_is_taken_and_blocks_grow_from_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=4, hidden=3, activation="tanh")
    params, x, y, lr = _problem(spec, 8, 1, torch.float32, 0.3)
    sizes: list[int] = []
    real = fused_steps.gd_steps

    def spy(*args: object, **kw: object) -> tuple[torch.Tensor, torch.Tensor]:
        sizes.append(args[9])  # type: ignore[arg-type]  # K
        return real(*args, **kw)  # type: ignore[arg-type]

    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("one call per step on the blocked path")

    monkeypatch.setattr(fused_steps, "gd_steps", spy)
    monkeypatch.setattr(fused, "loss_and_grads", refuse)
    monkeypatch.setattr(blocked, "BLOCK_SECONDS", 1e9)
    res = train(spec, params, x, y, OptimizerSpec("gd"), lr, torch.zeros(8), 200, 0.0, torch.Generator(),
                stop_when_converged=False, max_block=16)
    assert sizes[0] == 1 and max(sizes) == 16 and sum(sizes) == 201 and res.steps_run == 200


def test_a_metric_or_a_minibatch_keeps_one_call_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=4, hidden=3, activation="tanh")
    params, x, y, lr = _problem(spec, 4, 2, torch.float64, 0.3)

    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("the blocked path cannot judge a metric other than the loss, or draw minibatches")

    monkeypatch.setattr(fused_steps, "gd_steps", refuse)
    train(spec, params, x, y, OptimizerSpec("gd"), lr, torch.zeros(4, dtype=torch.float64), 5, 0.0,
          torch.Generator(), metric=lambda p: p["W1"].flatten(1).norm(dim=1))
    train(spec, params, x, y, OptimizerSpec("sgd", batch_size=2), lr, torch.zeros(4, dtype=torch.float64), 5, 0.0,
          torch.Generator().manual_seed(0))


def test_a_native_decision_the_monitor_does_not_make_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # the replay through numerics.monitor is a live cross-check: a monitor that disagrees is caught
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=4, hidden=3, activation="tanh")
    params, x, y, lr = _problem(spec, 24, 3, torch.float64, 0.05)
    honest = train(spec, params, x, y, OptimizerSpec("gd"), lr, torch.zeros(24, dtype=torch.float64), 300, 0.03,
                   torch.Generator())
    assert "converged" in set(honest.status)  # so that a monitor blind to convergence disagrees
    real = blocked.monitor_step

    def lenient(state: object, k: int, loss: torch.Tensor, metric: torch.Tensor, seconds: float, rule: object):  # type: ignore[no-untyped-def]
        return real(state, k, loss, metric, seconds, type(rule)(eps=0.0))  # type: ignore[arg-type, call-arg]

    monkeypatch.setattr(blocked, "monitor_step", lenient)
    with pytest.raises(RuntimeError, match="disagree"):
        train(spec, params, x, y, OptimizerSpec("gd"), lr, torch.zeros(24, dtype=torch.float64), 300, 0.03,
              torch.Generator())


def test_bad_arguments_are_refused_before_the_native_call() -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=4, hidden=3, activation="tanh")
    params, x, y, lr = _problem(spec, 3, 0, torch.float64, 0.3)
    rule = fused_steps.StepRule(10, 1, 0.0, 1e6, True)
    decay = torch.zeros(3, dtype=torch.float64)
    bad: list[dict[str, object]] = [
        {"k0": 10, "K": 2}, {"k0": -1}, {"K": 0},
        {"params": {**params, "W1": params["W1"].float()}},
        {"params": {**params, "W2": params["W2"].transpose(-1, -2)}},
        {"y": y[:2]}, {"rate": lr[:2]},
        {"state": dataclasses.replace(fused_steps.RunState.start(3), moving=torch.ones(3, dtype=torch.bool))},
        {"state": dataclasses.replace(fused_steps.RunState.start(3), diverged=torch.zeros(2, dtype=torch.int64))},
    ]
    for change in bad:
        args: dict[str, object] = {"params": params, "y": y, "rate": lr, "state": fused_steps.RunState.start(3),
                                   "k0": 0, "K": 1} | change
        with pytest.raises(ValueError):
            fused_steps.gd_steps(spec, args["params"], x, args["y"], args["rate"], decay,  # type: ignore[arg-type]
                                 args["state"], rule, args["k0"], args["K"])  # type: ignore[arg-type]



@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_run_that_blows_up_after_it_converged_records_both_steps(dtype: torch.dtype) -> None:
    """Without stop_when_converged a converged run keeps moving; one that then blows up was left with status
    converged, no diverging step, and NaN or huge parameters.  Here every run starts within ε of its target
    (converged at k = 0) and the faster rates are beyond the stability limit: their runs blow up later.  Both
    steps are now recorded and the run is frozen where it blew up, alike in both loops (bit for bit)."""
    spec = BlockSpec(block="linear", variant="residual", depth=2, width=5, activation="tanh")
    R = 12
    g = torch.Generator().manual_seed(7)
    params = {"W": 1e-3 * torch.randn((R, 2, 5, 5), generator=g, dtype=torch.float64).to(dtype)}
    x = torch.randn((R, 6, 5), generator=g, dtype=torch.float64).to(dtype)
    y = x + 1e-3 * torch.randn(x.shape, generator=g, dtype=torch.float64).to(dtype)
    lr = torch.tensor(np.geomspace(0.05, 5.0, R), dtype=dtype)
    lam = torch.zeros(R, dtype=dtype)
    a, b = (train(spec, params, x, y, OptimizerSpec("gd"), lr, lam, 200, 0.03, torch.Generator(), max_block=mb,
                  stop_when_converged=False, record_every=3) for mb in (0, blocked.MAX_BLOCK))
    _assert_same(a, b)
    assert (b.steps_to_converge == 0).all() and set(b.status) == {"converged"}
    blew = b.diverged_step >= 0
    assert blew.any() and not blew.all(), b.diverged_step  # the slow rates stay, the fast ones blow up
    for r in np.nonzero(blew)[0]:
        k = b.diverged_step[r]
        assert not np.isfinite(b.final_loss[r]) or b.final_loss[r] > 1e6 * (b.loss_curve[0, r] + 1)
        assert np.isnan(b.loss_curve[b.recorded_steps > k, r]).all()  # frozen where it blew up
        assert np.isfinite(b.loss_curve[b.recorded_steps <= k - 3, r]).all()
