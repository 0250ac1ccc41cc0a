"""The batched classifiers and their training (numerics.degradation.nets, .fit) against independent twins:
one torch.nn network per run built from the same weights, and torch.optim.SGD."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from numerics.degradation.data import Dataset
from numerics.degradation.fit import Schedule, fit, run_shapes, sgd_step
from numerics.degradation.nets import (
    SHORTCUT_DROP,
    SHORTCUT_SCALE,
    Context,
    NetSpec,
    forward,
    init_params,
    trunk_gradient_norms,
)

TOL = 2e-4  # float32 through up to 14 layers of matmuls/convolutions and batch norm, summed in different orders


def _gens(n: int, seed: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed + i) for i in range(n)]


class _Shortcut(nn.Module):
    """h(x) of He et al. 2016b for one run, written directly from the paper's formulas."""

    def __init__(self, kind: str, gate: tuple[torch.Tensor, torch.Tensor] | None, conv: bool) -> None:
        super().__init__()
        self.kind, self.gate, self.conv = kind, gate, conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "identity":
            return x
        if self.kind == "scale":
            return SHORTCUT_SCALE * x
        if self.kind == "dropout":  # evaluation: the expectation (1 − p)·x
            return (1 - SHORTCUT_DROP) * x
        assert self.gate is not None
        W, b = self.gate
        if self.conv:
            z = torch.einsum("oc,bchw->bohw", W, x) + b.view(1, -1, 1, 1)
        else:
            z = x @ W.T + b
        return (1 - torch.sigmoid(z)) * x


def _norm(spec: NetSpec, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], key: str,
          index: int | None, r: int, channels: int) -> nn.Module:
    def pick(t: torch.Tensor) -> torch.Tensor:
        return (t[index] if index is not None else t)[r].clone()

    if spec.norm == "none":
        return _Bias(pick(params[f"{key}.bias"]), spec.model == "cnn")
    bn = nn.BatchNorm2d(channels) if spec.model == "cnn" else nn.BatchNorm1d(channels)
    with torch.no_grad():
        bn.weight.copy_(pick(params[f"{key}.gamma"]))
        bn.bias.copy_(pick(params[f"{key}.beta"]))
        bn.running_mean.copy_(pick(buffers[f"{key}.mean"]))
        bn.running_var.copy_(pick(buffers[f"{key}.var"]))
    return bn


class _Bias(nn.Module):
    def __init__(self, b: torch.Tensor, conv: bool) -> None:
        super().__init__()
        self.b, self.conv = b, conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (self.b.view(1, -1, 1, 1) if self.conv else self.b)


class _Reference(nn.Module):
    """One run of a NetSpec as ordinary torch.nn layers (the slow twin)."""

    def __init__(self, spec: NetSpec, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
                 r: int) -> None:
        super().__init__()
        self.spec = spec
        layers: list[tuple[nn.Module, nn.Module]] = []
        cnn = spec.model == "cnn"

        def conv_or_linear(w: torch.Tensor, stride: int = 1) -> nn.Module:
            if cnn:
                m: nn.Module = nn.Conv2d(w.shape[1], w.shape[0], 3, stride=stride, padding=1, bias=False)
            else:
                m = nn.Linear(w.shape[1], w.shape[0], bias=False)
            with torch.no_grad():
                m.weight.copy_(w)
            return m

        order: list[tuple[str, int | None, int]] = [("first", None, 1)]
        if cnn:
            n = spec.blocks_per_stage
            order += [("stack.stage0", i, 1) for i in range(2 * n)]
            for s in (1, 2):
                order += [(f"down{s}", None, 2)] + [(f"stack.stage{s}", i, 1) for i in range(2 * n - 1)]
        else:
            order += [("stack.trunk", i, 1) for i in range(spec.trunk_layers)]
        for key, index, stride in order:
            w = (params[f"{key}.W"][index] if index is not None else params[f"{key}.W"])[r]
            layers.append((conv_or_linear(w, stride), _norm(spec, params, buffers, key, index, r, w.shape[0])))
        self.layers = nn.ModuleList([nn.ModuleList(pair) for pair in layers])
        self.strides = [s for _, _, s in order]
        self.out = nn.Linear(params["out.W"].shape[2], spec.classes)
        with torch.no_grad():
            self.out.weight.copy_(params["out.W"][r])
            self.out.bias.copy_(params["out.bias"][r])
        pairs = spec.trunk_layers // 2
        self.shortcuts = [_Shortcut(spec.shortcut, (params[f"gate{p}.W"][r], params[f"gate{p}.bias"][r])
                                    if spec.shortcut == "gate" else None, cnn) for p in range(pairs)]

    def _layer(self, i: int, h: torch.Tensor) -> torch.Tensor:
        lin, norm = self.layers[i]  # type: ignore[misc]
        return norm(lin(h))  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cnn = self.spec.model == "cnn"
        h = x if cnn else x.flatten(1)
        h = torch.relu(self._layer(0, h))
        if self.spec.architecture == "plain":
            for i in range(1, len(self.layers)):
                h = torch.relu(self._layer(i, h))
        else:
            for p in range(self.spec.trunk_layers // 2):
                i = 1 + 2 * p
                branch = self._layer(i + 1, torch.relu(self._layer(i, h)))
                if self.strides[i] == 2:  # option A: subsample, then zero channels appended
                    sub = h[:, :, ::2, ::2]
                    h = torch.cat([sub, torch.zeros_like(sub)], dim=1)
                h = torch.relu(self.shortcuts[p](h) + branch)
        if cnn:
            h = h.mean(dim=(2, 3))
        return self.out(h)  # type: ignore[no-any-return]


SPECS = [NetSpec("mlp", a, 8, 6, n, image_shape=(1, 4, 4)) for a in ("plain", "residual") for n in ("batch", "none")]
SPECS += [NetSpec("cnn", a, 14, 3, n, image_shape=(2, 8, 8)) for a in ("plain", "residual") for n in ("batch", "none")]
SPECS += [NetSpec(m, "residual", 8 if m == "mlp" else 14, 3, "batch", s, (2, 8, 8)) for m in ("mlp", "cnn")
          for s in ("scale", "gate", "dropout")]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label)
def test_batched_networks_equal_one_torch_nn_network_per_run(spec: NetSpec) -> None:
    R, B = 3, 5
    params, buffers = init_params(spec, _gens(R))
    for name in params:  # non-trivial scales and shifts, so a mix-up of runs or channels shows
        if name.endswith((".gamma", ".beta", ".bias")):
            params[name] = params[name] + 0.3 * torch.randn(params[name].shape, generator=_gens(1, 9)[0])
    x = torch.randn((R, B, *spec.image_shape), generator=_gens(1, 7)[0])
    refs = [_Reference(spec, params, buffers, r) for r in range(R)]
    modes = [False] if spec.shortcut == "dropout" else [True, False]  # dropout masks are random in training
    for training in modes:
        for ref in refs:
            ref.train(training)
        got = forward(spec, params, buffers, x, Context(training=training))
        want = torch.stack([ref(x[r]) for r, ref in enumerate(refs)])
        assert got.shape == (R, B, spec.classes)
        torch.testing.assert_close(got, want, rtol=TOL, atol=TOL)
    if spec.norm == "batch":  # the training pass updated every run's running statistics as torch.nn did
        for name, buf in buffers.items():
            if name.startswith("first."):
                stat = "running_mean" if name.endswith(".mean") else "running_var"
                want = torch.stack([getattr(ref.layers[0][1], stat) for ref in refs])
                torch.testing.assert_close(buf, want, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("model,depth", [("mlp", 20), ("mlp", 6), ("cnn", 20), ("cnn", 8)])
def test_networks_have_depth_weight_layers(model: str, depth: int) -> None:
    spec = NetSpec(model, "residual", depth, 4, "batch", image_shape=(1, 8, 8))
    params, _ = init_params(spec, _gens(1))
    weights = sum(p.shape[0] if n.startswith("stack.") else 1 for n, p in params.items() if n.endswith(".W"))
    assert weights == depth  # first layer + trunk + classifier, as He et al. count them


@pytest.mark.parametrize("bad", [dict(model="cnn", depth=12), dict(model="mlp", depth=7), dict(model="mlp", depth=2),
                                 dict(architecture="plain", shortcut="scale"), dict(norm="layer")])
def test_impossible_networks_are_refused(bad: dict[str, object]) -> None:
    kwargs: dict[str, object] = dict(model="mlp", architecture="residual", depth=8, width=4, norm="batch")
    kwargs.update(bad)
    with pytest.raises(ValueError):
        NetSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("model,depth", [("mlp", 20), ("cnn", 14)])
def test_fixup_branches_start_at_zero_and_the_net_is_its_stem(model: str, depth: int) -> None:
    """Fixup's rules 1–2 (Zhang et al. 2019): each branch's last layer is 0, so every block is relu(x + 0 + b) = x
    for x ≥ 0, and a residual net (identity shortcuts; option A only pads zeros and subsamples) computes its stem
    and classifier; the branches' first layers are the Kaiming draws scaled by P^(−1/2)."""
    kaiming = NetSpec(model, "residual", depth, 3, "none", image_shape=(1, 8, 8))
    fixup = NetSpec(model, "residual", depth, 3, "none", image_shape=(1, 8, 8), branch_init="fixup")
    pk, _ = init_params(kaiming, _gens(2))
    pf, bf = init_params(fixup, _gens(2))
    trunk = [n for n in pf if n.endswith(".W") and n not in ("first.W", "out.W")]
    pairs = (depth - 2) // 2
    layers_f = [w for n in sorted(trunk) for w in (pf[n].unbind(0) if n.startswith("stack.") else [pf[n]])]
    assert sum(bool(torch.all(w == 0)) for w in layers_f) == pairs  # one zero layer per branch
    nonzero_f = [w for w in layers_f if not torch.all(w == 0)]
    layers_k = [w for n in sorted(trunk) for w in (pk[n].unbind(0) if n.startswith("stack.") else [pk[n]])]
    scaled = [wk * pairs ** -0.5 for wk in layers_k]
    assert all(any(torch.equal(w, s) for s in scaled) for w in nonzero_f)
    x = torch.randn((2, 5, 1, 8, 8), generator=_gens(1, 7)[0])
    logits = forward(fixup, pf, bf, x, Context(training=False))
    stem = torch.relu(forward_stem(fixup, pf, x))
    if model == "mlp":
        want = torch.einsum("rkw,rbw->rbk", pf["out.W"], stem) + pf["out.bias"].unsqueeze(1)
    else:
        want = torch.einsum("rkc,rbc->rbk", pf["out.W"], stem) + pf["out.bias"].unsqueeze(1)
    torch.testing.assert_close(logits, want, rtol=1e-5, atol=1e-5)


def forward_stem(spec: NetSpec, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The first layer (with its bias) of each run, then (cnn) the option-A path to the last stage, pooled."""
    R, B = x.shape[:2]
    out = []
    for r in range(R):
        if spec.model == "mlp":
            out.append(x[r].reshape(B, -1) @ params["first.W"][r].T + params["first.bias"][r])
        else:
            h = torch.relu(nn.functional.conv2d(x[r], params["first.W"][r], padding=1)
                           + params["first.bias"][r].view(1, -1, 1, 1))
            for _ in range(2):  # option A: subsample by 2, pad channels with zeros
                h = h[:, :, ::2, ::2]
                h = torch.cat([h, torch.zeros_like(h)], dim=1)
            out.append(h.mean(dim=(2, 3)))
    return torch.stack(out)


def test_runs_of_a_batch_are_independent() -> None:
    spec = NetSpec("cnn", "residual", 8, 2, "batch", image_shape=(1, 8, 8))
    params, buffers = init_params(spec, _gens(2))
    x = torch.randn((2, 4, 1, 8, 8), generator=_gens(1, 3)[0])
    y = x.clone()
    y[1] = y[1] * 100 + 5  # only run 1's images change
    def grads(inp: torch.Tensor) -> dict[str, torch.Tensor]:
        ps = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        out = forward(spec, ps, {k: v.clone() for k, v in buffers.items()}, inp, Context(training=True))
        g = torch.autograd.grad(out.pow(2).sum(), list(ps.values()))
        return dict(zip(ps, g, strict=True))
    a, b = grads(x), grads(y)
    for name in params:
        axis = 1 if name.startswith("stack.") else 0
        torch.testing.assert_close(a[name].select(axis, 0), b[name].select(axis, 0), rtol=0, atol=0)
        assert not torch.equal(a[name].select(axis, 1), b[name].select(axis, 1)) or a[name].abs().max() == 0


def test_sgd_step_is_torch_optim_sgd() -> None:
    # run r's update with its own rate equals torch.optim.SGD(momentum, weight_decay) on that run alone
    g = _gens(1, 4)[0]
    params = {"stack.w": torch.randn(3, 2, 4, generator=g), "b": torch.randn(2, 5, generator=g)}
    rates = torch.tensor([0.1, 0.03], dtype=torch.float64)
    velocity = {k: torch.zeros_like(v) for k, v in params.items()}
    ref = {r: [params["stack.w"][:, r].clone().requires_grad_(True), params["b"][r].clone().requires_grad_(True)]
           for r in range(2)}
    opts = {r: torch.optim.SGD(ref[r], lr=float(rates[r]), momentum=0.9, weight_decay=1e-2) for r in range(2)}
    for _ in range(3):
        grads = {"stack.w": torch.randn(3, 2, 4, generator=g), "b": torch.randn(2, 5, generator=g)}
        sgd_step(params, grads, velocity, rates, 0.9, 1e-2, run_shapes(params))
        for r in range(2):
            ref[r][0].grad, ref[r][1].grad = grads["stack.w"][:, r].clone(), grads["b"][r].clone()
            opts[r].step()
    for r in range(2):
        torch.testing.assert_close(params["stack.w"][:, r], ref[r][0].detach())
        torch.testing.assert_close(params["b"][r], ref[r][1].detach())


def _tiny_data(n: int = 64, side: int = 8, seed: int = 0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n + 32, 1, side, side), generator=g)
    y = (x.flatten(1)[:, :10].argmax(1)).long()  # learnable labels
    return Dataset("digits", x[:n], y[:n], x[n:], y[n:], 10)


def test_a_job_is_reproducible_and_records_curves_and_responses() -> None:
    spec = NetSpec("mlp", "residual", 6, 8, "batch", image_shape=(1, 8, 8))
    data = _tiny_data()
    schedule = Schedule(batch_size=16, max_epochs=3)
    first = fit(spec, data, [0.01, 0.1], [0, 1], schedule)
    again = fit(spec, data, [0.01, 0.1], [0, 1], schedule)
    assert [(r.seed, r.lr) for r in first] == [(0, 0.01), (0, 0.1), (1, 0.01), (1, 0.1)]
    strip = lambda rs: [(r.train_error, r.test_error, r.curve_train_loss, r.responses) for r in rs]  # noqa: E731
    assert strip(first) == strip(again)
    for r in first:
        assert r.epochs == len(r.curve_train_loss) == len(r.curve_test_error) <= 3
        assert len(r.responses) == spec.depth - 1 and all(v > 0 for v in r.responses)  # every layer but the classifier
        assert r.train_error is not None and 0 <= r.train_error <= 1
    # the rates of one seed start from the same initialisation: same gradient norms at step 0
    assert first[0].grad_norm_first == first[1].grad_norm_first != first[2].grad_norm_first


def test_a_diverging_run_is_recorded_and_leaves_the_others_alone() -> None:
    spec = NetSpec("mlp", "plain", 6, 8, "none", image_shape=(1, 8, 8))
    data = _tiny_data()
    runs = fit(spec, data, [0.01, 1e6], [0], Schedule(batch_size=16, max_epochs=2))
    ok, blown = runs
    assert blown.status == "diverged" and blown.train_error is None and blown.responses == ()
    assert ok.status != "diverged" and ok.train_error is not None and math.isfinite(ok.train_loss or math.nan)


def test_gradient_norms_are_per_trunk_layer_and_run() -> None:
    spec = NetSpec("cnn", "plain", 14, 2, "batch", image_shape=(1, 8, 8))
    params, buffers = init_params(spec, _gens(2))
    ps = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    out = forward(spec, ps, buffers, torch.randn((2, 4, 1, 8, 8), generator=_gens(1)[0]), Context(training=True))
    grads = dict(zip(ps, torch.autograd.grad(out.sum(), list(ps.values())), strict=True))
    norms = trunk_gradient_norms(spec, grads)
    assert norms.shape == (spec.trunk_layers, 2)
    torch.testing.assert_close(norms[0, 1], grads["stack.stage0.W"][0, 1].norm())
    torch.testing.assert_close(norms[-1, 0], grads["stack.stage2.W"][-1, 0].norm())


@pytest.mark.parametrize("model,depth", [("mlp", 6), ("cnn", 8)])
def test_a_run_is_the_same_whatever_shares_its_batch(model: str, depth: int) -> None:
    """Initialisation, minibatch order and dropout masks come from the run's own seed: seed 1 trained beside
    seed 0 and another rate gives what seed 1 trained alone gives (dropout shortcut: the random part)."""
    from numerics.degradation.data import digits

    data = digits().limited(256)
    spec = NetSpec(model, "residual", depth, 4, "batch", "dropout", image_shape=(1, 8, 8))
    schedule = Schedule(batch_size=64, max_epochs=2, lr_drops=0)
    together = fit(spec, data, (0.02, 0.05), (0, 1), schedule, base_seed=3)
    alone = fit(spec, data, (0.05,), (1,), schedule, base_seed=3)
    (mine,) = [r for r in together if (r.seed, r.lr) == (1, 0.05)]
    assert mine.train_loss is not None and alone[0].train_loss is not None
    assert mine.train_loss == pytest.approx(alone[0].train_loss, rel=1e-4, abs=1e-5)
    assert mine.curve_train_loss == pytest.approx(alone[0].curve_train_loss, rel=1e-4, abs=1e-5)
