"""The batched training loop against independent references: numpy GD and torch.optim per run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numerics.models import BlockSpec, data_with_covariance, end_to_end, init_params, loss_per_run, spectrum_matrix
from numerics.monitor import StopRule, monitor_init, monitor_step, statuses
from numerics.train import (
    CENSORED,
    CONVERGED,
    DIVERGED,
    AdamState,
    GDState,
    MomentumState,
    OptimizerSpec,
    opt_init,
    opt_step,
    opt_update_,
    train,
)

ROUNDING = 1e-10  # float64 over tens of steps of small matrix products


pytestmark = pytest.mark.usefixtures("one_thread")


def _linear_problem(seed: int, R: int, d: int = 3, n: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Generator]:
    g = torch.Generator().manual_seed(seed)
    Sigma = spectrum_matrix(torch.linspace(0.5, 2.0, d, dtype=torch.float64), g)
    X = data_with_covariance(Sigma, n, g)
    return X.expand(R, n, d).clone(), Sigma, g


@pytest.mark.parametrize("seed", [0, 1])
def test_gd_with_l2_decay_equals_an_independent_numpy_loop(seed: int) -> None:
    # residual block, θ = A: A ← A − η((A)Σ + λA)   (∇ of ½tr(AΣAᵀ) + (λ/2)‖A‖²)
    R, d, lam, steps = 3, 3, 0.1, 40
    x, Sigma, g = _linear_problem(seed, R, d)
    spec = BlockSpec(block="linear", variant="residual", width=d)
    p0 = init_params(spec, R, "gaussian", 0.5, g)
    lr = torch.tensor([0.05, 0.2, 0.4], dtype=torch.float64)
    res = train(spec, p0, x, x.clone(), OptimizerSpec("gd"), lr, torch.full((R,), lam, dtype=torch.float64),
                steps, 0.0, g, stop_when_converged=False)
    S = Sigma.numpy()
    for r in range(R):
        A = p0["W"][r, 0].numpy().copy()
        losses = []
        for _ in range(steps):
            losses.append(0.5 * np.trace(A @ S @ A.T))
            A = A - lr[r].item() * (A @ S + lam * A)
        np.testing.assert_allclose(res.params["W"][r, 0].numpy(), A, rtol=ROUNDING, atol=ROUNDING)
        np.testing.assert_allclose(res.loss_curve[:steps, r], losses, rtol=ROUNDING, atol=ROUNDING)


def _per_run_reference(opt_name: str, decay_mode: str, steps: int) -> tuple[dict, dict]:
    """The batched optimiser and torch.optim on the same two-layer problem, run by run."""
    R, lam = 2, 0.05
    g = torch.Generator().manual_seed(3)
    spec = BlockSpec(block="mlp", variant="residual", width=3, hidden=4, activation="tanh")
    p0 = init_params(spec, R, "xavier", 1.0, g)
    x = torch.randn((R, 10, 3), generator=g, dtype=torch.float64)
    y = x + 0.3 * torch.tanh(x)
    lr = torch.tensor([0.01, 0.03], dtype=torch.float64)
    spec_opt = OptimizerSpec(opt_name, decay_mode=decay_mode)
    res = train(spec, p0, x, y, spec_opt, lr, torch.full((R,), lam, dtype=torch.float64), steps, 0.0, g,
                stop_when_converged=False)
    refs = {}
    for r in range(R):
        W1 = p0["W1"][r, 0].clone().requires_grad_(True)
        W2 = p0["W2"][r, 0].clone().requires_grad_(True)
        wd = lam if decay_mode == "l2" else 0.0
        if opt_name == "momentum":
            o = torch.optim.SGD([W1, W2], lr=float(lr[r]), momentum=spec_opt.momentum, weight_decay=wd)
        elif decay_mode == "l2":
            o = torch.optim.Adam([W1, W2], lr=float(lr[r]), weight_decay=wd)
        else:
            o = torch.optim.AdamW([W1, W2], lr=float(lr[r]), weight_decay=lam)
        for _ in range(steps):
            o.zero_grad()
            h = x[r] + torch.tanh(x[r] @ W1.T) @ W2.T
            (0.5 * (h - y[r]).pow(2).sum(-1).mean()).backward()
            o.step()
        refs[r] = {"W1": W1.detach(), "W2": W2.detach()}
    return {r: {"W1": res.params["W1"][r, 0], "W2": res.params["W2"][r, 0]} for r in range(R)}, refs


@pytest.mark.parametrize(("opt_name", "decay_mode"), [("momentum", "l2"), ("adam", "l2"), ("adam", "decoupled")])
def test_optimisers_equal_torch_optim_run_by_run(opt_name: str, decay_mode: str) -> None:
    # torch.optim.SGD(momentum, weight_decay) is heavy ball with L2; Adam(weight_decay) is L2; AdamW is decoupled
    ours, refs = _per_run_reference(opt_name, decay_mode, steps=25)
    for r, ref in refs.items():
        for k in ("W1", "W2"):
            torch.testing.assert_close(ours[r][k], ref[k], rtol=ROUNDING, atol=ROUNDING)


def test_decoupled_and_l2_decay_coincide_for_gd_but_not_for_momentum() -> None:
    g = torch.Generator().manual_seed(4)
    params = {"W": torch.randn((2, 1, 3, 3), generator=g, dtype=torch.float64)}
    data_grad = {"W": torch.randn((2, 1, 3, 3), generator=g, dtype=torch.float64)}
    lr, lam = torch.tensor([0.1, 0.2], dtype=torch.float64), torch.tensor([0.3, 0.3], dtype=torch.float64)
    l2_grad = {"W": data_grad["W"] + 0.3 * params["W"]}
    gd_l2, _ = opt_step(OptimizerSpec("gd"), params, l2_grad, GDState(), lr, lam)
    gd_dec, _ = opt_step(OptimizerSpec("gd", decay_mode="decoupled"), params, data_grad, GDState(), lr,
                         lam)
    torch.testing.assert_close(gd_l2["W"], gd_dec["W"], rtol=1e-14, atol=1e-14)
    mom = OptimizerSpec("momentum")
    s = opt_init(mom, params)
    p1, s1 = opt_step(mom, params, l2_grad, s, lr, lam)
    p2, _ = opt_step(mom, p1, l2_grad, s1, lr, lam)
    mom_dec = OptimizerSpec("momentum", decay_mode="decoupled")
    q1, t1 = opt_step(mom_dec, params, data_grad, opt_init(mom_dec, params), lr, lam)
    q2, _ = opt_step(mom_dec, q1, data_grad, t1, lr, lam)
    assert not torch.allclose(p2["W"], q2["W"])  # L2 goes through the momentum buffer, decoupled does not


def test_statuses_converged_censored_diverged_with_steps() -> None:
    R, d = 3, 3
    x, Sigma, g = _linear_problem(5, R, d)
    spec = BlockSpec(block="linear", variant="plain", width=d)
    p0 = init_params(spec, R, "gaussian", 0.5, g)
    limit = 2.0 / float(torch.linalg.eigvalsh(Sigma).max())
    lr = torch.tensor([0.5 * limit, 1e-4, 1.5 * limit], dtype=torch.float64)
    eye = torch.eye(d, dtype=torch.float64)

    def dist(p: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.linalg.matrix_norm(end_to_end(spec, p) - eye)

    res = train(spec, p0, x, x.clone(), OptimizerSpec("gd"), lr, torch.zeros(R, dtype=torch.float64), 500, 1e-6,
                g, metric=dist)
    assert list(res.status) == [CONVERGED, CENSORED, DIVERGED]
    k = int(res.steps_to_converge[0])
    assert k > 0 and res.final_metric[0] < 1e-6
    assert res.metric_curve[k - 1, 0] >= 1e-6  # the smallest such k
    assert res.steps_to_converge[1] == -1 and res.diverged_step[1] == -1
    assert res.diverged_step[2] > 0 and res.steps_to_converge[2] == -1
    assert np.isnan(res.loss_curve[res.diverged_step[2] + 1:, 2]).all()
    assert res.wall_seconds[0] > 0 and np.isnan(res.wall_seconds[1:]).all()


def test_sgd_minibatches_come_from_the_generator() -> None:
    x, _, _ = _linear_problem(6, 2)
    spec = BlockSpec(block="linear", variant="residual", width=3)

    def final(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        p0 = {"W": torch.full((2, 1, 3, 3), 0.1, dtype=torch.float64)}
        res = train(spec, p0, x, x.clone(), OptimizerSpec("sgd", batch_size=2), torch.full((2,), 0.1,
                    dtype=torch.float64), torch.zeros(2, dtype=torch.float64), 20, 0.0, g)
        return res.params["W"]

    assert torch.equal(final(11), final(11))
    assert not torch.equal(final(11), final(12))
    full = loss_per_run(spec, {"W": torch.zeros((2, 1, 3, 3), dtype=torch.float64)}, x, x)
    assert torch.equal(full, torch.zeros(2, dtype=torch.float64))


def test_bad_optimizer_specs_are_rejected() -> None:
    for kwargs in ({"name": "lbfgs"}, {"decay_mode": "both"}, {"batch_size": -1}):
        with pytest.raises(ValueError):
            OptimizerSpec(**kwargs)  # type: ignore[arg-type]


def _stack_reference(spec: BlockSpec, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """One run's stack written plainly: p[name] is (L, …) for that run; torch.tanh, F.conv2d, one layer at a time."""
    pad = spec.kernel_size // 2
    h = x
    for layer in range(spec.depth):
        if spec.block == "linear":
            f = h @ p["W"][layer].T
        elif spec.block == "mlp":
            f = torch.tanh(h @ p["W1"][layer].T) @ p["W2"][layer].T
        else:
            z = torch.nn.functional.conv2d(h, p["K1"][layer], padding=pad)
            f = torch.nn.functional.conv2d(torch.tanh(z), p["K2"][layer], padding=pad)
        if spec.scaled:
            f = p["alpha"][layer] * f
        h = h + f if spec.residual else f
    return h


@pytest.mark.parametrize(("opt_name", "decay_mode"), [("momentum", "l2"), ("adam", "decoupled")])
@pytest.mark.parametrize(("block", "variant"), [("linear", "rezero"), ("mlp", "rezero"), ("mlp", "plain"),
                                                 ("conv", "residual")])
def test_deep_stacks_train_as_torch_optim_run_by_run(block: str, variant: str, opt_name: str,
                                                     decay_mode: str) -> None:
    # depth 3: the training loop's layer-major layout, the dense stack's own backward and the per-run optimiser
    # against torch.optim on each run's parameters, one run at a time
    R, lam, steps = 2, 0.05, 12
    g = torch.Generator().manual_seed(11)
    spec = BlockSpec(block=block, variant=variant, depth=3, width=2, hidden=3, activation="tanh", image_size=4)
    p0 = init_params(spec, R, "xavier", 1.0, g)
    if spec.scaled:  # α₀ = 0 would leave the branch weights still for the first step; start elsewhere
        p0["alpha"] = 0.5 * torch.randn(p0["alpha"].shape, generator=g, dtype=torch.float64)
    shape = (R, 5, 2, 4, 4) if block == "conv" else (R, 5, 2)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    y = x + 0.3 * torch.tanh(x)
    lr = torch.tensor([0.01, 0.03], dtype=torch.float64)
    opt = OptimizerSpec(opt_name, decay_mode=decay_mode)
    res = train(spec, p0, x, y, opt, lr, torch.full((R,), lam, dtype=torch.float64), steps, 0.0, g,
                stop_when_converged=False)
    for r in range(R):
        leaves = {k: v[r].clone().requires_grad_(True) for k, v in p0.items()}
        if opt_name == "momentum":
            o: torch.optim.Optimizer = torch.optim.SGD(list(leaves.values()), lr=float(lr[r]),
                                                       momentum=opt.momentum, weight_decay=lam)
        else:
            o = torch.optim.AdamW(list(leaves.values()), lr=float(lr[r]), weight_decay=lam)
        for _ in range(steps):
            o.zero_grad()
            out = _stack_reference(spec, leaves, x[r])
            (0.5 * (out - y[r]).flatten(1).pow(2).sum(-1).mean()).backward()
            o.step()
        for k, v in leaves.items():
            torch.testing.assert_close(res.params[k][r], v.detach(), rtol=ROUNDING, atol=ROUNDING)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("decay_mode", ["l2", "decoupled"])
@pytest.mark.parametrize("opt_name", ["gd", "momentum", "adam"])
def test_in_place_update_equals_the_pure_step(opt_name: str, decay_mode: str, seed: int) -> None:
    # opt_update_ (the loop's fast path) against opt_step (its pure twin) over a few steps, with one run frozen
    # from the start whose gradient is NaN, whose λ is inf and whose weights hold an inf (as a diverged run's
    # do): it must keep its parameters bit for bit
    g = torch.Generator().manual_seed(seed)
    spec = OptimizerSpec(opt_name, decay_mode=decay_mode)
    params = {"W": torch.randn((3, 2, 4, 4), generator=g, dtype=torch.float64),
              "alpha": torch.randn((3, 2), generator=g, dtype=torch.float64)}
    params["W"][1, 0, 0, 0] = -math.inf
    lr = torch.tensor([0.1, 0.05, 0.2], dtype=torch.float64)
    lam = torch.tensor([0.3, math.inf, 0.1], dtype=torch.float64)
    moving = torch.tensor([True, False, True])
    pure, pure_state = dict(params), opt_init(spec, params)
    mine = {k: v.clone() for k, v in params.items()}
    mine_state = opt_init(spec, mine)
    for _ in range(4):
        grads = {k: torch.randn(v.shape, generator=g, dtype=torch.float64) for k, v in params.items()}
        grads["W"][1] = float("nan")
        pure_new, pure_state = opt_step(spec, pure, grads, pure_state, lr, lam)
        pure = {k: torch.where(moving.view(-1, *[1] * (v.dim() - 1)), pure_new[k], v) for k, v in pure.items()}
        mine_state = opt_update_(spec, mine, {k: v.clone() for k, v in grads.items()}, mine_state, lr, lam, moving)
    for k in params:
        torch.testing.assert_close(mine[k], pure[k], rtol=1e-14, atol=1e-14)
        assert torch.equal(mine[k][1], params[k][1])  # the frozen run did not move
    assert type(mine_state) is type(pure_state)


def test_optimiser_states_are_typed_and_checked() -> None:
    params = {"W": torch.zeros((1, 1, 2, 2), dtype=torch.float64)}
    assert isinstance(opt_init(OptimizerSpec("gd"), params), GDState)
    assert isinstance(opt_init(OptimizerSpec("momentum"), params), MomentumState)
    adam = opt_init(OptimizerSpec("adam"), params)
    assert isinstance(adam, AdamState) and adam.t == 0
    one = torch.ones(1, dtype=torch.float64)
    _, after = opt_step(OptimizerSpec("adam"), params, params, adam, one, one)
    assert isinstance(after, AdamState) and after.t == 1 and adam.t == 0  # pure: the old state is unchanged
    with pytest.raises(TypeError, match="AdamState"):
        opt_step(OptimizerSpec("adam"), params, params, GDState(), one, one)


def test_monitor_step_is_pure_and_decides_by_the_documented_rules() -> None:
    # runs: converges at k = 1, diverges (loss > factor·(L₀ + 1)) at k = 1, non-finite at k = 1, keeps going
    rule = StopRule(eps=0.1, divergence_factor=10.0)
    s0 = monitor_init(4)
    loss0 = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    s1 = monitor_step(s0, 0, loss0, loss0, 0.5, rule)
    assert s0.active.all() and s0.bound.isnan().all()  # the argument is not changed
    loss1 = torch.tensor([0.05, 25.0, float("nan"), 0.5], dtype=torch.float64)
    s2 = monitor_step(s1, 1, loss1, loss1, 1.5, rule)
    assert s2.steps_to_converge.tolist() == [1, -1, -1, -1]
    assert s2.diverged_step.tolist() == [-1, 1, 1, -1]
    assert s2.active.tolist() == [False, False, False, True]
    assert s2.moving.tolist() == [False, False, False, True]
    assert s2.wall_seconds[0] == 1.5 and s2.wall_seconds[1:].isnan().all()
    assert statuses(s2) == [CONVERGED, DIVERGED, DIVERGED, CENSORED]
    keep = monitor_step(s1, 1, loss1, loss1, 1.5, StopRule(eps=0.1, divergence_factor=10.0,
                                                           stop_when_converged=False))
    assert keep.moving.tolist() == [True, False, False, True]  # a converged run keeps moving when asked to
    nan = torch.tensor([float("nan"), 0.5, 0.5, 0.5], dtype=torch.float64)
    later = monitor_step(keep, 2, nan, nan, 2.0, StopRule(eps=0.1, divergence_factor=10.0, stop_when_converged=False))
    assert later.diverged_step.tolist() == [2, 1, 1, -1]  # ... and is still watched: it blew up at k = 2
    assert later.steps_to_converge.tolist() == [1, -1, -1, -1] and later.moving.tolist() == [False, False, False, True]
    assert statuses(later) == [CONVERGED, DIVERGED, DIVERGED, CENSORED] and later.last_loss[0].isnan()
    s3 = monitor_step(s2, 2, torch.full((4,), 7.0, dtype=torch.float64), torch.full((4,), 7.0, dtype=torch.float64),
                      2.0, rule)
    assert s3.last_loss[0] == 0.05 and s3.last_loss[1] == 25.0 and s3.last_loss[3] == 7.0  # frozen runs keep theirs


@pytest.mark.parametrize("engine", ["auto", "torch"])
def test_training_leaves_the_callers_tensors_alone(engine: str) -> None:
    # the loop updates its own copies in place: the initial parameters and data a caller passes are not changed
    g = torch.Generator().manual_seed(12)
    spec = BlockSpec(block="mlp", variant="rezero", depth=2, width=3, hidden=4, activation="tanh")
    p0 = init_params(spec, 2, "xavier", 1.0, g)
    x = torch.randn((2, 6, 3), generator=g, dtype=torch.float64)
    before = {k: v.clone() for k, v in p0.items()}
    x_before = x.clone()
    res = train(spec, p0, x, x, OptimizerSpec("adam", decay_mode="decoupled"), torch.full((2,), 0.1,
                dtype=torch.float64), torch.full((2,), 0.1, dtype=torch.float64), 5, 0.0, g, engine=engine)
    assert all(torch.equal(p0[k], before[k]) for k in p0) and torch.equal(x, x_before)
    assert not torch.equal(res.params["W1"], p0["W1"])


@pytest.mark.parametrize("engine", ["torch", "fused", "auto"])
def test_parameters_in_another_dtype_than_the_data_are_refused_with_a_clear_error(engine: str) -> None:
    spec = BlockSpec(block="mlp", variant="residual", depth=2, width=3, hidden=4)
    params = init_params(spec, 2, "xavier", 1.0, torch.Generator().manual_seed(0), torch.float32)
    x = torch.zeros((2, 5, 3), dtype=torch.float64)
    with pytest.raises(ValueError, match="train in one dtype"):
        train(spec, params, x, x, OptimizerSpec("gd"), torch.full((2,), 0.1), torch.zeros(2), 3, 0.0,
              torch.Generator(), engine=engine)
