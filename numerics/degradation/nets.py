"""Batched classifiers of the degradation study: R independent networks as one tensor program.

Two families, each plain or residual, with or without batch normalisation, of `depth` weight layers counted as
He et al. count them (He, Zhang, Ren, Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016, §4.2):

* ``cnn`` — He et al.'s CIFAR-10 network (§4.2): a 3×3 convolution of w filters, then three stages of 2n 3×3
  convolutions with w, 2w, 4w filters (He et al.: w = 16) on maps of side s, s/2, s/4 (the first convolution of
  stages 2 and 3 has stride 2), global average pooling and a fully connected classifier: 6n + 2 weight layers.
  Batch normalisation after every convolution, before the ReLU (§3.4).  Residual blocks pair the convolutions,
  y = relu(h(x) + BN(W₂ ⋆ relu(BN(W₁ ⋆ x)))) (Eq. (1) with the ReLU after the addition, their original block);
  where the width doubles, the shortcut is "option A" (§3.3, §4.2): the input subsampled by 2 and padded with
  zero channels.  Plain nets are the same layers without shortcuts.
* ``mlp`` — the fully connected analogue: an input layer D → w, a trunk of depth − 2 layers w → w and a
  classifier w → K; trunk layers are relu(BN(W h)), residual pairs y = relu(h(x) + BN(W₂ relu(BN(W₁ x)))).

``norm="none"`` drops every batch normalisation; the layers then have biases.  Initialisation: Kaiming (He et
al., *Delving Deep into Rectifiers*, ICCV 2015, Eq. (10): N(0, 2/fan_in)) for every convolution and linear
layer, biases 0, BN scale 1 and shift 0.  Residual branches may instead start as Fixup prescribes
(`branch_init="fixup"`; Zhang, Dauphin, Ma, *Fixup Initialization: Residual Learning Without Normalization*,
ICLR 2019, §3, rules 1–2): the last layer of every branch at 0 and the other branch layer Kaiming-drawn and scaled
by P^(−1/(2m−2)) = P^(−1/2) for P branches of m = 2 layers.  Fixup's scalar multipliers and extra biases (rule 3)
and its zero classifier are not used (stated).  Without normalisation a Kaiming-initialised residual stack's
response variance grows by about 2 per branch (Var(x + F(x)) = Var(x) + Var(F(x)), Var(F(x)) ≈ Var(x) for a
Kaiming-scaled ReLU branch), so 2^P at the output: the reason every such run of depth ≥ 20 diverges.

Shortcuts h of a residual pair (He, Zhang, Ren, Sun, *Identity Mappings in Deep Residual Networks*, ECCV 2016,
§3.1 and Table 1):

* ``identity``  h(x) = x;
* ``scale``     h(x) = λx with λ = `SHORTCUT_SCALE` = 0.5 ("constant scaling", the branch unscaled);
* ``gate``      h(x) = (1 − g(x)) ⊙ x, g(x) = σ(W_g x + b_g) ("shortcut-only gating"; W_g a 1×1 convolution or
  a w × w matrix, N(0, 1/fan_in), b_g = `GATE_BIAS` = 0 at initialisation, so g ≈ ½ at first);
* ``dropout``   h(x) = m ⊙ x, m ~ Bernoulli(1 − p) per element in training, without rescaling, and (1 − p)·x
  at evaluation, p = `SHORTCUT_DROP` = 0.5 ("dropout shortcut": a scale of expectation ½, as the paper says).

Batch normalisation is per run and per feature (channel) over the minibatch (and the pixels), in training mode
from the minibatch, in evaluation mode from running averages (momentum 0.1, ε = 1e-5, PyTorch's defaults).

Layouts: the MLP keeps activations as (R, w, B) (one `bmm` per layer), the CNN as (B, R·C, H, W) (one grouped
convolution per layer, `groups = R`), so batch norm is one `F.batch_norm` over R·w (R·C) features.
Parameters are stacked per shape with the run axis (`run_axis`) so that an optimiser touches a few tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MODELS = ("mlp", "cnn")
ARCHITECTURES = ("plain", "residual")
NORMS = ("batch", "none")
SHORTCUTS = ("identity", "scale", "gate", "dropout")
SHORTCUT_SCALE = 0.5  # λ of the constant-scaling shortcut (He et al. 2016b, Table 1)
SHORTCUT_DROP = 0.5  # p of the dropout shortcut (He et al. 2016b, Table 1)
GATE_BIAS = 0.0  # b_g at initialisation (He et al. 2016b, Table 1 tries 0 and −6)
BN_MOMENTUM, BN_EPS = 0.1, 1e-5
BRANCH_INITS = ("kaiming", "fixup")

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class NetSpec:
    """One architecture: every run of a batch shares it."""

    model: str  # mlp or cnn
    architecture: str  # plain or residual
    depth: int  # weight layers (cnn: 6n + 2; mlp: even, ≥ 4)
    width: int  # mlp: hidden width; cnn: filters of the first stage (He et al.: 16)
    norm: str  # batch or none
    shortcut: str = "identity"  # residual only (module docstring)
    image_shape: tuple[int, int, int] = (1, 8, 8)  # (C, H, W) of the inputs
    classes: int = 10
    branch_init: str = "kaiming"  # residual only: kaiming or fixup (module docstring)

    def __post_init__(self) -> None:
        for name, allowed in (("model", MODELS), ("architecture", ARCHITECTURES), ("norm", NORMS),
                              ("shortcut", SHORTCUTS), ("branch_init", BRANCH_INITS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        problem = depth_problem(self.model, self.depth)
        if problem:
            raise ValueError(problem)
        if self.width < 1 or self.classes < 2:
            raise ValueError(f"width must be ≥ 1 and classes ≥ 2, got {self.width}, {self.classes}")
        if self.architecture == "plain" and (self.shortcut != "identity" or self.branch_init != "kaiming"):
            raise ValueError("a plain network has no shortcut or residual branch to vary")
        if self.model == "cnn" and min(self.image_shape[1:]) < 4:
            raise ValueError(f"the cnn halves the image twice: images of side ≥ 4, got {self.image_shape}")

    @property
    def trunk_layers(self) -> int:
        """Weight layers between the first layer and the classifier (6n for the cnn)."""
        return self.depth - 2

    @property
    def blocks_per_stage(self) -> int:
        """n of the cnn (6n + 2 layers)."""
        return (self.depth - 2) // 6

    @property
    def label(self) -> str:
        cut = "" if self.shortcut == "identity" else f", {self.shortcut} shortcut"
        init = "" if self.branch_init == "kaiming" else f", {self.branch_init} branches"
        return f"{self.model} {self.architecture}-{self.depth}, norm={self.norm}{cut}{init}"


def depth_problem(model: str, depth: int) -> str:
    """Why `depth` is impossible for `model` ('' if it is possible)."""
    if model == "cnn" and (depth < 8 or (depth - 2) % 6):
        return f"cnn depth must be 6n + 2 with n ≥ 1 (8, 14, 20, …), got {depth}"
    if model == "mlp" and (depth < 4 or depth % 2):
        return f"mlp depth must be even and ≥ 4 (residual blocks hold two layers), got {depth}"
    return ""


def _stage_widths(spec: NetSpec) -> tuple[int, int, int]:
    return spec.width, 2 * spec.width, 4 * spec.width


def _kaiming(shape: tuple[int, ...], fan_in: int, g: torch.Generator, gain: float = 2.0) -> torch.Tensor:
    return torch.randn(shape, generator=g) * math.sqrt(gain / fan_in)


def run_axis(name: str) -> int:
    """The run axis of a parameter or buffer: stacked layers (names starting 'stack.') are (layers, R, …)."""
    return 1 if name.startswith("stack.") else 0


def _norm_or_bias(params: Params, buffers: Params, key: str, shape: tuple[int, ...], norm: str) -> None:
    if norm == "batch":
        params[f"{key}.gamma"] = torch.ones(shape)
        params[f"{key}.beta"] = torch.zeros(shape)
        buffers[f"{key}.mean"] = torch.zeros(shape)
        buffers[f"{key}.var"] = torch.ones(shape)
    else:
        params[f"{key}.bias"] = torch.zeros(shape)


def _layer_shapes(spec: NetSpec) -> list[tuple[str, int, int, int]]:
    """Per weight layer before the classifier: (stack key, index in the stack, fan-out, fan-in per position)."""
    if spec.model == "mlp":
        c, h, w = spec.image_shape
        return [("first", 0, spec.width, c * h * w)] + [("stack.trunk", i, spec.width, spec.width)
                                                        for i in range(spec.trunk_layers)]
    n = spec.blocks_per_stage
    widths = _stage_widths(spec)
    out = [("first", 0, widths[0], spec.image_shape[0])]
    for s, cw in enumerate(widths):
        for i in range(2 * n):
            if s > 0 and i == 0:
                out.append((f"down{s}", 0, cw, widths[s - 1]))
            else:
                out.append((f"stack.stage{s}", i if s == 0 else i - 1, cw, cw))
    return out


def init_params(spec: NetSpec, generators: list[torch.Generator]) -> tuple[Params, Params]:
    """Parameters and batch-norm buffers of R = len(generators) runs, run r drawn from generators[r]."""
    R = len(generators)
    params: Params = {}
    buffers: Params = {}
    k = 3 if spec.model == "cnn" else 1
    groups: dict[str, list[tuple[int, int, int]]] = {}
    for key, index, fan_out, fan_in in _layer_shapes(spec):
        groups.setdefault(key, []).append((index, fan_out, fan_in))
    for key, layers in groups.items():
        _, fan_out, fan_in = layers[0]
        shape = (fan_out, fan_in, k, k) if spec.model == "cnn" else (fan_out, fan_in)
        if key.startswith("stack."):
            w = torch.stack([torch.stack([_kaiming(shape, fan_in * k * k, g) for g in generators])
                             for _ in layers])  # (T, R, …)
            _norm_or_bias(params, buffers, key, (len(layers), R, fan_out), spec.norm)
        else:
            w = torch.stack([_kaiming(shape, fan_in * k * k, g) for g in generators])  # (R, …)
            _norm_or_bias(params, buffers, key, (R, fan_out), spec.norm)
        params[f"{key}.W"] = w
    last = spec.width if spec.model == "mlp" else _stage_widths(spec)[2]
    params["out.W"] = torch.stack([_kaiming((spec.classes, last), last, g) for g in generators])
    params["out.bias"] = torch.zeros(R, spec.classes)
    if spec.architecture == "residual" and spec.shortcut == "gate":
        pairs = spec.trunk_layers // 2
        widths = [spec.width] * pairs if spec.model == "mlp" else [
            cw for cw in _stage_widths(spec) for _ in range(spec.blocks_per_stage)]
        for p, cw in enumerate(widths):  # one gate per residual pair, N(0, 1/fan_in)
            params[f"gate{p}.W"] = torch.stack([_kaiming((cw, cw), cw, g, gain=1.0) for g in generators])
            params[f"gate{p}.bias"] = torch.full((R, cw), GATE_BIAS)
    if spec.architecture == "residual" and spec.branch_init == "fixup":
        _fixup(spec, params)
    return params, buffers


def _fixup(spec: NetSpec, params: Params) -> None:
    """Fixup's rules 1–2 on the residual branches, in place (module docstring): of every pair of trunk layers,
    the first scaled by P^(−1/2), the second (the branch's last layer) set to 0."""
    trunk = trunk_weight_names(spec)
    pairs = len(trunk) // 2
    with torch.no_grad():
        for t, (name, index) in enumerate(trunk):
            w = params[name] if index is None else params[name][index]
            if t % 2:
                w.zero_()
            else:
                w.mul_(pairs ** -0.5)


@dataclass
class _Layer:
    W: torch.Tensor  # (R, out, in) or (R, out, in, k, k)
    norm: tuple[torch.Tensor, ...]  # (gamma, beta, mean, var), each (R, out); or (bias,)


def _layers(spec: NetSpec, params: Params, buffers: Params) -> list[_Layer]:
    """Every weight layer before the classifier, in order, as per-run views of the stacked tensors."""
    stacks: dict[str, list[_Layer]] = {}
    names = ("gamma", "beta", "mean", "var") if spec.norm == "batch" else ("bias",)

    def norm_of(key: str) -> list[tuple[torch.Tensor, ...]]:
        source = [(params if n in ("gamma", "beta", "bias") else buffers)[f"{key}.{n}"] for n in names]
        if key.startswith("stack."):
            return list(zip(*(t.unbind(0) for t in source), strict=True))
        return [tuple(source)]

    out = []
    for key, index, _, _ in _layer_shapes(spec):
        if key not in stacks:
            ws = params[f"{key}.W"].unbind(0) if key.startswith("stack.") else [params[f"{key}.W"]]
            stacks[key] = [_Layer(w, n) for w, n in zip(ws, norm_of(key), strict=True)]
        out.append(stacks[key][index])
    return out


class Context:
    """What one forward pass needs besides the parameters: mode, dropout stream, and what to record."""

    def __init__(self, training: bool, generators: list[torch.Generator] | None = None,
                 responses: bool = False) -> None:
        self.training = training
        # dropout masks (dropout shortcut, training only): one stream per run, so that a run's masks do not
        # depend on the other runs of its batch
        self.generators = generators
        self.responses: list[torch.Tensor] | None = [] if responses else None  # per layer, (3, R) moments


def _normalise(spec: NetSpec, layer: _Layer, z: torch.Tensor, ctx: Context, flat: tuple[int, ...]) -> torch.Tensor:
    """BN (or bias) of a layer's output z, viewed as `flat` = (N, R·features, …) for F.batch_norm."""
    if spec.norm == "batch":
        gamma, beta, mean, var = layer.norm
        y = F.batch_norm(z.reshape(flat), mean.view(-1), var.view(-1), gamma.reshape(-1), beta.reshape(-1),
                         training=ctx.training, momentum=BN_MOMENTUM, eps=BN_EPS).view(z.shape)
    else:
        (bias,) = layer.norm
        y = z + (bias.unsqueeze(-1) if spec.model == "mlp" else bias.reshape(1, -1, 1, 1))
    if ctx.responses is not None:
        ctx.responses.append(_response_moments(spec, y, layer.W.shape[0]))
    return y


def _response_moments(spec: NetSpec, y: torch.Tensor, R: int) -> torch.Tensor:
    """(count, Σy, Σy²) over samples, units (and pixels) of a layer's response, per run: (3, R), float64."""
    if spec.model == "mlp":
        flat = y.detach().flatten(1)  # (R, w·B)
    else:
        flat = y.detach().reshape(y.shape[0], R, -1).transpose(0, 1).reshape(R, -1)  # (B, R·C, H, W) → (R, …)
    flat = flat.double()
    return torch.stack([torch.full((R,), float(flat.shape[1]), dtype=torch.float64, device=flat.device),
                        flat.sum(1), flat.pow(2).sum(1)])


def _apply(spec: NetSpec, layer: _Layer, h: torch.Tensor, stride: int, R: int) -> torch.Tensor:
    if spec.model == "mlp":
        return torch.bmm(layer.W, h)  # (R, out, in) @ (R, in, B)
    W = layer.W.reshape(-1, *layer.W.shape[2:])  # (R·out, in, k, k)
    return F.conv2d(h, W, stride=stride, padding=1, groups=R)


def _shortcut(spec: NetSpec, params: Params, pair: int, x: torch.Tensor, ctx: Context, R: int) -> torch.Tensor:
    if spec.shortcut == "identity":
        return x
    if spec.shortcut == "scale":
        return SHORTCUT_SCALE * x
    if spec.shortcut == "dropout":
        if not ctx.training:
            return (1 - SHORTCUT_DROP) * x
        if ctx.generators is None or len(ctx.generators) != R:
            raise ValueError("a dropout shortcut in training needs one generator per run")
        if spec.model == "mlp":  # (R, w, B)
            u = torch.stack([torch.rand(x.shape[1:], generator=g, device=x.device) for g in ctx.generators])
        else:  # (B, R·C, H, W)
            per_run = (x.shape[0], x.shape[1] // R, *x.shape[2:])
            u = torch.cat([torch.rand(per_run, generator=g, device=x.device) for g in ctx.generators], dim=1)
        return x * (u >= SHORTCUT_DROP)
    W, b = params[f"gate{pair}.W"], params[f"gate{pair}.bias"]  # (R, c, c), (R, c)
    if spec.model == "mlp":
        g = torch.sigmoid(torch.bmm(W, x) + b.unsqueeze(-1))
    else:
        g = torch.sigmoid(F.conv2d(x, W.reshape(-1, W.shape[2], 1, 1), groups=R) + b.reshape(1, -1, 1, 1))
    return (1 - g) * x


def _downsample(x: torch.Tensor, R: int) -> torch.Tensor:
    """Option A (He et al. 2016, §3.3): subsample by 2 and pad the per-run channels with as many zeros."""
    B, RC, H, W = x.shape
    xs = x[:, :, ::2, ::2].reshape(B, R, RC // R, (H + 1) // 2, (W + 1) // 2)
    return F.pad(xs, (0, 0, 0, 0, 0, RC // R)).reshape(B, 2 * RC, (H + 1) // 2, (W + 1) // 2)


def forward(spec: NetSpec, params: Params, buffers: Params, x: torch.Tensor, ctx: Context) -> torch.Tensor:
    """Logits (R, B, K) of R runs, each on its own images x: (R, B, C, H, W)."""
    R, B = x.shape[:2]
    layers = _layers(spec, params, buffers)
    mlp = spec.model == "mlp"

    def step(layer: _Layer, h: torch.Tensor, stride: int = 1) -> torch.Tensor:
        z = _apply(spec, layer, h, stride, R)
        flat = (1, z.shape[0] * z.shape[1], z.shape[2]) if mlp else (z.shape[0], z.shape[1], -1)
        return _normalise(spec, layer, z, ctx, flat)

    if mlp:
        h = x.reshape(R, B, -1).transpose(1, 2)  # (R, D, B)
        strides = [1] * spec.trunk_layers
    else:
        h = x.transpose(0, 1).reshape(B, R * x.shape[2], *x.shape[3:])  # (B, R·C, H, W)
        n = spec.blocks_per_stage
        strides = [2 if (s > 0 and i == 0) else 1 for s in range(3) for i in range(2 * n)]
    h = torch.relu(step(layers[0], h))
    trunk = layers[1:]
    if spec.architecture == "plain":
        for layer, stride in zip(trunk, strides, strict=True):
            h = torch.relu(step(layer, h, stride))
    else:
        for p in range(len(trunk) // 2):
            stride = strides[2 * p]
            branch = step(trunk[2 * p + 1], torch.relu(step(trunk[2 * p], h, stride)))
            x_in = _downsample(h, R) if stride == 2 else h
            h = torch.relu(_shortcut(spec, params, p, x_in, ctx, R) + branch)
    if mlp:
        logits = torch.bmm(params["out.W"], h) + params["out.bias"].unsqueeze(-1)  # (R, K, B)
        return logits.transpose(1, 2)
    pooled = h.mean(dim=(2, 3)).view(B, R, -1)  # (B, R, C3)
    return torch.einsum("brc,rkc->rbk", pooled, params["out.W"]) + params["out.bias"].unsqueeze(1)


def trunk_weight_names(spec: NetSpec) -> list[tuple[str, int | None]]:
    """(parameter name, index in its stack or None) of every trunk layer's weight, in order."""
    return [(f"{key}.W", index if key.startswith("stack.") else None) for key, index, _, _ in _layer_shapes(spec)[1:]]


def trunk_gradient_norms(spec: NetSpec, grads: Params) -> torch.Tensor:
    """‖∂L/∂W_l‖_F of every trunk layer l, per run: (T, R)."""
    rows = []
    for name, index in trunk_weight_names(spec):
        g = grads[name] if index is None else grads[name][index]
        rows.append(g.flatten(1).norm(dim=1))
    return torch.stack(rows)
