"""Batched blocks: many independent models as one tensor program.

R independent runs (seeds × learning rates × initialisations, flattened) share
one set of tensors whose leading axis is the run: a linear layer of R runs is one
`(R, d, d)` tensor and a forward pass is one batched matmul, never a Python loop
over models.  A stack of L blocks stores its layers along a second axis,
`(R, L, …)`.  Internally (`to_layers`, the training loop) the layout is layer-major,
`(L, R, …)` with dense weights transposed, so that each layer is one contiguous block;
dense stacks have a hand-written backward (`_DenseStack`), tested against autograd.

Blocks (He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016,
Eq. (1): y = F(x, {W_i}) + x with F = W₂σ(W₁x)):

* ``linear``  F(x) = W x                              W: (R, L, d, d)
* ``mlp``     F(x) = W₂ σ(W₁ x), σ ∈ {relu, tanh, gelu}  W₁: (R, L, m, d), W₂: (R, L, d, m)
* ``conv``    F(x) = K₂ ⋆ σ(K₁ ⋆ x) on c×s×s images, 'same' padding, no bias
              K₁: (R, L, m, c, k, k), K₂: (R, L, c, m, k, k)

Variants (how the block output H is formed from the branch F):

* ``plain``     H = F(x)
* ``residual``  H = x + F(x)
* ``rezero``    H = x + α F(x), α scalar per block, α₀ = 0 (Bachlechner et al.,
                *ReZero is All You Need*, 2020, arXiv:2003.04887, Eq. (3))
* ``skipinit``  H = x + α F(x), α₀ = 0 (De & Smith, *Batch Normalization Biases
                Residual Blocks Towards the Identity Function in Deep Networks*,
                NeurIPS 2020, §4).  Without normalisation layers in the branch (as
                here) SkipInit and ReZero are the same parameterisation; the
                papers differ in whether the branch contains batch norm.
* ``fixup``     H = x + F(x) with Fixup's initialisation only: the last layer of
                each branch at 0, the others scaled by L^{−1/(2m−2)} for m layers
                per branch (Zhang, Dauphin, Ma, *Fixup Initialization*, ICLR 2019,
                §3, Eq. (3)); Fixup's scalar multipliers and biases are not used.

No layer has a bias.  Loss (CONTRIBUTING.md): the mean over samples with a ½,
L = (1/2N) Σ_j ‖H(x_j) − y_j‖², one value per run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

BLOCKS = ("linear", "mlp", "conv")
VARIANTS = ("plain", "residual", "rezero", "skipinit", "fixup")
ACTIVATIONS = ("relu", "tanh", "gelu")
INITS = ("zero", "gaussian", "xavier", "kaiming", "orthogonal", "identity", "balanced")
TARGETS = ("identity", "near-identity", "linear-pd", "linear-indefinite")

Params = dict[str, torch.Tensor]  # name ↦ (R, L, …) (alpha: (R, L))
Layers = dict[str, torch.Tensor]  # name ↦ layer-major contiguous (L, R, …), dense weights as Wᵀ (see to_layers)


@dataclass(frozen=True)
class BlockSpec:
    """The architecture shared by every run of a batch."""

    block: str = "linear"  # one of BLOCKS
    variant: str = "residual"  # one of VARIANTS
    depth: int = 1  # L: number of blocks stacked
    width: int = 4  # d: features (linear, mlp) or channels c (conv)
    hidden: int = 8  # m: hidden width (mlp) or hidden channels (conv); unused for linear
    activation: str = "relu"  # σ for mlp and conv branches, one of ACTIVATIONS
    image_size: int = 6  # s: images are c × s × s (conv only)
    kernel_size: int = 3  # k: odd kernel side (conv only)

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {self.block!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name in ("depth", "width", "hidden", "image_size", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")

    @property
    def residual(self) -> bool:
        """Whether the block has an identity shortcut."""
        return self.variant != "plain"

    @property
    def scaled(self) -> bool:
        """Whether the branch is multiplied by a learnable scalar α (ReZero, SkipInit)."""
        return self.variant in ("rezero", "skipinit")

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-run shapes of the weight tensors (without the leading R)."""
        L, d, m, k = self.depth, self.width, self.hidden, self.kernel_size
        if self.block == "linear":
            return {"W": (L, d, d)}
        if self.block == "mlp":
            return {"W1": (L, m, d), "W2": (L, d, m)}
        return {"K1": (L, m, d, k, k), "K2": (L, d, m, k, k)}


class _SigmoidTanh(torch.autograd.Function):
    """tanh through the logistic function: tanh z = 2σ(2z) − 1, σ(u) = 1/(1 + e^{−u}).

    The identity is exact in real arithmetic (2/(1 + e^{−2z}) − 1 = (1 − e^{−2z})/(1 + e^{−2z}) = tanh z).
    In floating point the error is absolute, not relative: 2·fl(σ) carries σ's rounding times 2 (≤ ε) and
    the subtraction of 1 at most ε/2 more, so |Δ| is a few ε near z = 0 where tanh z is small (measured:
    ≤ 1.5ε in float32 and float64 against a float64 `torch.tanh` reference, tests/test_models.py).
    It is used because this build's `torch.tanh` takes about 4× as long as 2σ(2z) − 1 on the
    benchmark's activations (1.8 ms vs 0.4 ms for 524k float32 values, one thread).  The derivative
    is the one of tanh written with the output, 1 − tanh²z, as `torch.tanh`'s own backward computes it.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, z: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        y = torch.sigmoid(z * 2).mul_(2).sub_(1)  # 2σ(2z) − 1; ×2 is exact in binary floating point
        ctx.save_for_backward(y)  # type: ignore[attr-defined]
        return y

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (y,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return torch.ops.aten.tanh_backward(grad, y)  # grad·(1 − y²), differentiable again


def fast_tanh(z: torch.Tensor) -> torch.Tensor:
    """tanh z = 2σ(2z) − 1 (exact identity; see `_SigmoidTanh`), with the derivative 1 − tanh²z."""
    return _SigmoidTanh.apply(z)  # type: ignore[no-any-return]


def _activation(name: str, z: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(z)
    if name == "tanh":
        return fast_tanh(z)
    return F.gelu(z)  # exact (erf) GELU


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of one layer with shape (out, in[, k, k])."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _identity_like(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """I (padded with zeros when not square); for a kernel, the centred delta on matching channels."""
    out = torch.zeros(shape, dtype=dtype)
    n = min(shape[0], shape[1])
    idx = torch.arange(n)
    if len(shape) == 2:
        out[idx, idx] = 1.0
    else:
        c = shape[2] // 2
        out[idx, idx, c, c] = 1.0
    return out


def _orthogonal(R: int, L: int, shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Haar-random (semi-)orthogonal matrices, (R, L, *shape): QR with the sign of diag(R) fixed."""
    rows, cols = shape[0], math.prod(shape[1:])
    big, small = max(rows, cols), min(rows, cols)
    Z = torch.randn((R, L, big, small), generator=g, dtype=dtype)
    Q, Rm = torch.linalg.qr(Z)  # Q: (R, L, big, small)
    Q = Q * torch.sign(torch.diagonal(Rm, dim1=-2, dim2=-1)).unsqueeze(-2)
    if rows < cols:
        Q = Q.transpose(-2, -1)
    return Q.reshape((R, L, *shape))


def init_weight(
    init: str, R: int, L: int, shape: tuple[int, ...], scale: float, g: torch.Generator, dtype: torch.dtype
) -> torch.Tensor:
    """Initial weights (R, L, *shape) for one layer position of every block.

    zero: 0.  gaussian: N(0, scale²).  xavier: N(0, scale²·2/(fan_in+fan_out)) (Glorot & Bengio 2010,
    Eq. (16), normal form).  kaiming: N(0, scale²·2/fan_in) (He et al. 2015, Eq. (10)).  orthogonal:
    scale·Q, Q Haar-orthogonal (Saxe et al. 2014, §3).  identity: scale·I (centred delta for kernels).
    """
    fan_in, fan_out = _fans(shape)
    if init == "zero":
        return torch.zeros((R, L, *shape), dtype=dtype)
    if init in ("gaussian", "xavier", "kaiming"):
        std = scale * {
            "gaussian": 1.0,
            "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
            "kaiming": math.sqrt(2.0 / fan_in),
        }[init]
        return std * torch.randn((R, L, *shape), generator=g, dtype=dtype)
    if init == "orthogonal":
        return scale * _orthogonal(R, L, shape, g, dtype)
    if init == "identity":
        return scale * _identity_like(shape, dtype).expand((R, L, *shape)).clone()
    raise ValueError(f"init {init!r} is not a per-layer initialisation (one of {INITS[:-1]})")


def balanced_linear(R: int, L: int, d: int, scale: float, g: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Balanced deep-linear initialisation W_l = c O_l O_{l−1}ᵀ, O_0 = O_L = I, other O_l Haar-random.

    Balanced means W_{l+1}ᵀ W_{l+1} = W_l W_lᵀ (= c² I here), the condition under which the
    end-to-end map follows the closed dynamics of Arora, Cohen, Hazan, *On the Optimization of
    Deep Networks*, ICML 2018, Eq. (6); the product is W_L⋯W_1 = c^L I.  Returns (R, L, d, d).
    """
    eye = torch.eye(d, dtype=dtype).expand(R, 1, d, d)
    inner = _orthogonal(R, L - 1, (d, d), g, dtype) if L > 1 else torch.empty((R, 0, d, d), dtype=dtype)
    Q = torch.cat([eye, inner, eye], dim=1)  # (R, L+1, d, d): O_0, …, O_L
    return scale * Q[:, 1:] @ Q[:, :-1].transpose(-2, -1)


def init_params(
    spec: BlockSpec,
    R: int,
    init: str,
    scale: float,
    g: torch.Generator,
    dtype: torch.dtype = torch.float64,
) -> Params:
    """Initial parameters of R runs.  `init` applies to the plain weights or the residual branch.

    Variants override it where their paper says so: rezero/skipinit add α = 0 (branch weights still
    from `init`); fixup zeroes the last layer of each branch and scales the others by L^{−1/(2m−2)}.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    shapes = spec.weight_shapes()
    params: Params = {}
    if init == "balanced":
        if spec.block != "linear":
            raise ValueError("balanced initialisation is defined for deep linear stacks only")
        params["W"] = balanced_linear(R, spec.depth, spec.width, scale, g, dtype)
    else:
        for name, shape in shapes.items():
            params[name] = init_weight(init, R, spec.depth, shape[1:], scale, g, dtype)
    if spec.variant == "fixup":
        names = list(shapes)
        params[names[-1]] = torch.zeros_like(params[names[-1]])  # last layer of each branch at 0
        m = len(names)
        if m > 1:
            factor = spec.depth ** (-1.0 / (2 * m - 2))
            for name in names[:-1]:
                params[name] = params[name] * factor
    if spec.scaled:
        params["alpha"] = torch.zeros((R, spec.depth), dtype=dtype)  # (R, L), α₀ = 0
    return params


def num_params(spec: BlockSpec) -> int:
    """Trainable parameters per run."""
    n = sum(math.prod(s) for s in spec.weight_shapes().values())
    return n + (spec.depth if spec.scaled else 0)


# ---- forward ---------------------------------------------------------------------------------------------


def _act_backward(name: str, grad: torch.Tensor, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """∂L/∂z from ∂L/∂a for a = σ(z): the same kernels autograd uses for these activations."""
    if name == "relu":
        return torch.ops.aten.threshold_backward(grad, a, 0)  # grad·[z > 0]  (a > 0 ⇔ z > 0)
    if name == "tanh":
        return torch.ops.aten.tanh_backward(grad, a)  # grad·(1 − a²)
    return torch.ops.aten.gelu_backward(grad, z)  # grad·(Φ(z) + z φ(z)), exact GELU


class _DenseStack(torch.autograd.Function):
    """A stack of L dense blocks (linear or mlp, any variant) with a hand-written backward.

    Forward, layer by layer (weights stored as Wᵀ, see `to_layers`; α only for scaled variants):
        linear  F = h Wᵀ                     mlp  z = h W₁ᵀ,  a = σ(z),  F = a W₂ᵀ
        H = h + αF (scaled) | h + F (residual, fixup) | F (plain)
    Backward with g = ∂L/∂H (row-vector convention, per run):
        ∂L/∂α = Σ g ⊙ F,   g_F = α g (scaled) or g;
        ∂L/∂W₂ᵀ = aᵀ g_F,  g_a = g_F W₂,  g_z = g_a ⊙ σ'(z),  ∂L/∂W₁ᵀ = hᵀ g_z,
        ∂L/∂h = g + g_z W₁ (residual) or g_z W₁ (plain)       (linear: ∂L/∂Wᵀ = hᵀ g_F, g_F W).
    Every product is one batched matmul, and the shortcut additions are fused into the matmuls
    (baddbmm), which autograd does not do.  Verified against autograd through an unfused per-run
    composite in float64 (tests/test_models.py).  Not twice differentiable (`once_differentiable`:
    a second derivative raises instead of being silently wrong).
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, spec: BlockSpec, x: torch.Tensor,  # type: ignore[override]
                *weights: torch.Tensor) -> torch.Tensor:
        # weights: layer-major (to_layers): Wᵀ (L, R, d, d), or W₁ᵀ (L, R, d, m) and W₂ᵀ (L, R, m, d); then α (L, R)
        mlp = spec.block == "mlp"
        first, second = (weights[0], weights[1]) if mlp else (weights[0], weights[0])
        alpha = weights[-1] if spec.scaled else None
        h = x
        saved: list[torch.Tensor] = []
        for layer in range(spec.depth):
            saved.append(h)
            if mlp:
                z = torch.bmm(h, first[layer])  # h W₁ᵀ
                a = _activation(spec.activation, z)
                saved += [z, a] if spec.activation == "gelu" else [a]
                inner = a
            else:
                inner = h
            Wt = second[layer]
            if alpha is not None:
                f = torch.bmm(inner, Wt)
                saved.append(f)
                h = torch.addcmul(h, alpha[layer].view(-1, 1, 1), f)  # h + αF
            elif spec.residual:
                h = torch.baddbmm(h, inner, Wt)  # h + F in one product
            else:
                h = torch.bmm(inner, Wt)
        ctx.spec = spec  # type: ignore[attr-defined]
        ctx.save_for_backward(*saved, *weights)
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor  # type: ignore[override]
                 ) -> tuple[torch.Tensor | None, ...]:
        spec: BlockSpec = ctx.spec  # type: ignore[attr-defined]
        mlp, gelu, L = spec.block == "mlp", spec.activation == "gelu", spec.depth
        per_layer = 1 + (2 if gelu else 1) * mlp + spec.scaled  # saved tensors per layer
        tensors = ctx.saved_tensors  # type: ignore[attr-defined]
        saved, weights = tensors[:per_layer * L], tensors[per_layer * L:]
        first, second = (weights[0], weights[1]) if mlp else (weights[0], weights[0])
        alpha = weights[-1] if spec.scaled else None
        g_first = torch.empty_like(first)  # (L, R, …), filled layer by layer with out=
        g_second = torch.empty_like(second) if mlp else g_first
        g_alpha = torch.empty_like(alpha) if alpha is not None else None
        need_x = ctx.needs_input_grad[1]  # type: ignore[attr-defined]
        g = grad
        for layer in reversed(range(L)):
            s = saved[per_layer * layer:per_layer * (layer + 1)]
            h = s[0]
            gF = g
            if alpha is not None and g_alpha is not None:
                torch.sum(g * s[-1], (1, 2), out=g_alpha[layer])  # ∂L/∂α = Σ g ⊙ F
                gF = g * alpha[layer].view(-1, 1, 1)
            if mlp:
                z, a = (s[1], s[2]) if gelu else (s[1], s[1])
                torch.bmm(a.transpose(1, 2), gF, out=g_second[layer])  # ∂L/∂W₂ᵀ = aᵀ g_F
                gin = _act_backward(spec.activation, torch.bmm(gF, second[layer].transpose(1, 2)), z, a)
            else:
                gin = gF
            torch.bmm(h.transpose(1, 2), gin, out=g_first[layer])  # ∂L/∂W₁ᵀ = hᵀ g_z  (linear: ∂L/∂Wᵀ = hᵀ g_F)
            if layer == 0 and not need_x:
                break  # ∂L/∂x is not wanted: skip the last product
            Wback = first[layer].transpose(1, 2)
            g = torch.baddbmm(g, gin, Wback) if spec.residual else torch.bmm(gin, Wback)
        grads = (g_first, g_second) if mlp else (g_first,)
        return (None, g if need_x else None, *grads, *((g_alpha,) if alpha is not None else ()))


def _dense_stack(spec: BlockSpec, layers: Layers, x: torch.Tensor) -> torch.Tensor:
    """H(x) of a dense stack, x: (R, N, d) → (R, N, d), through `_DenseStack`."""
    names = (("W1", "W2") if spec.block == "mlp" else ("W",)) + (("alpha",) if spec.scaled else ())
    return _DenseStack.apply(spec, x, *(layers[name] for name in names))  # type: ignore[no-any-return]


def _conv_branch(spec: BlockSpec, layers: dict[str, tuple[torch.Tensor, ...]], layer: int, h: torch.Tensor,
                 R: int) -> torch.Tensor:
    """F(h) for conv blocks in the grouped layout h: (N, R·c, s, s) → (N, R·c, s, s)."""
    k, pad = spec.kernel_size, spec.kernel_size // 2
    K1 = layers["K1"][layer].reshape(R * spec.hidden, spec.width, k, k)  # (R·m, c, k, k)
    K2 = layers["K2"][layer].reshape(R * spec.width, spec.hidden, k, k)  # (R·c, m, k, k)
    z = F.conv2d(h, K1, padding=pad, groups=R)  # (N, R·m, s, s)
    return F.conv2d(_activation(spec.activation, z), K2, padding=pad, groups=R)


TRANSPOSED = ("W", "W1", "W2")  # dense weights, kept as Wᵀ in the per-layer layout


def to_layers(params: Params) -> Layers:
    """(R, L, …) parameters → layer-major: name ↦ contiguous (L, R, …) (one copy, differentiable).

    Layer-major: every layer's weights, [layer], are one contiguous (R, …) block (fast batched matmuls).
    Dense weights W (R, L, out, in) are stored transposed, as Wᵀ: (L, R, in, out).  Then the branch h Wᵀ
    multiplies contiguous operands and the weight gradient hᵀ g is contiguous (as a gradient of W it
    would be a transposed view, which makes the elementwise update ~5× slower).  The training loop keeps
    this layout for the whole run (numerics/train.py).
    """
    return {
        name: (p.permute(1, 0, 3, 2) if name in TRANSPOSED else p.transpose(0, 1)).contiguous()
        for name, p in params.items()
    }


def from_layers(layers: Layers) -> Params:
    """Inverse of `to_layers`: name ↦ contiguous (R, L, …)."""
    return {
        name: (p.permute(1, 0, 3, 2) if name in TRANSPOSED else p.transpose(0, 1)).contiguous()
        for name, p in layers.items()
    }


def forward_layers(spec: BlockSpec, layers: Layers, x: torch.Tensor) -> torch.Tensor:
    """H(x) of every run from per-layer parameters (see `to_layers`); shapes as in `forward`.

    The training loop keeps its parameters in this layout for the whole run, so no step pays for
    re-laying them out (numerics/train.py).
    """
    if spec.block != "conv":
        return _dense_stack(spec, layers, x)
    # unbind once: indexing [layer] on a tensor that needs a gradient would make autograd allocate and fill
    # a full (L, R, …) gradient per layer (O(L²) memory traffic); unbind's backward is one stack
    per_layer = {name: p.unbind(0) for name, p in layers.items()}
    R = next(iter(layers.values())).shape[1]
    N = x.shape[1]
    h = x.transpose(0, 1).reshape(N, R * spec.width, spec.image_size, spec.image_size)  # (N, R·c, s, s)
    for layer in range(spec.depth):
        f = _conv_branch(spec, per_layer, layer, h, R)
        if spec.scaled:
            f = per_layer["alpha"][layer].repeat_interleave(spec.width).view(1, -1, 1, 1) * f  # α per run
        h = h + f if spec.residual else f
    return h.reshape(N, R, spec.width, spec.image_size, spec.image_size).transpose(0, 1)


def forward(spec: BlockSpec, params: Params, x: torch.Tensor) -> torch.Tensor:
    """H(x) of every run.  Dense: x (R, N, d) → (R, N, d).  Conv: x (R, N, c, s, s) → same shape."""
    return forward_layers(spec, to_layers(params), x)


def _half_mean_sq(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    diff = out - y
    return 0.5 * diff.flatten(2).pow(2).sum(-1).mean(-1)


def loss_per_run(spec: BlockSpec, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L = (1/2N) Σ_j ‖H(x_j) − y_j‖² for each run: (R,)."""
    return _half_mean_sq(forward(spec, params, x), y)


def loss_per_run_layers(spec: BlockSpec, layers: Layers, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """`loss_per_run` from per-layer parameters (see `to_layers`): (R,)."""
    return _half_mean_sq(forward_layers(spec, layers, x), y)


def end_to_end(spec: BlockSpec, params: Params) -> torch.Tensor:
    """The end-to-end linear map M = H_L ⋯ H_1 of a linear stack, (R, d, d); H_l = W_l, I + W_l or I + α_l W_l."""
    if spec.block != "linear":
        raise ValueError("end_to_end is defined for linear blocks only")
    W = params["W"]  # (R, L, d, d)
    R, d = W.shape[0], spec.width
    M = torch.eye(d, dtype=W.dtype).expand(R, d, d)
    eye = torch.eye(d, dtype=W.dtype)
    for layer in range(spec.depth):
        Wl = W[:, layer]
        if spec.scaled:
            Wl = params["alpha"][:, layer].view(R, 1, 1) * Wl
        H = eye + Wl if spec.residual else Wl
        M = H @ M
    return M


# ---- data and targets ------------------------------------------------------------------------------------


def data_with_covariance(Sigma: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """Rows x_j (n, d) whose empirical covariance XᵀX/n equals Σ exactly (up to rounding).

    X = √n Q Σ^{1/2} with Q (n, d) having orthonormal columns, so XᵀX/n = Σ^{1/2} QᵀQ Σ^{1/2} = Σ;
    then gradient descent on the sample loss is gradient descent on the population loss ½tr((M−I)Σ(M−I)ᵀ).
    """
    d = Sigma.shape[0]
    if n < d:
        raise ValueError(f"need n ≥ d samples for an exact covariance, got n={n}, d={d}")
    Q, _ = torch.linalg.qr(torch.randn((n, d), generator=g, dtype=Sigma.dtype))
    evals, evecs = torch.linalg.eigh(Sigma)
    root = evecs @ torch.diag(evals.clamp_min(0).sqrt()) @ evecs.T
    return math.sqrt(n) * Q @ root


def spectrum_matrix(eigs: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A symmetric matrix V diag(eigs) Vᵀ with a Haar-random orthogonal V: (d, d)."""
    V = _orthogonal(1, 1, (len(eigs), len(eigs)), g, eigs.dtype)[0, 0]
    return V @ torch.diag(eigs) @ V.T


def linear_target(kind: str, d: int, g: torch.Generator, dtype: torch.dtype, low: float, high: float) -> torch.Tensor:
    """A target map Φ (d, d): linear-pd has eigenvalues evenly in [low, high] (low > 0);
    linear-indefinite is the same with its smallest eigenvalue replaced by −low (one negative eigenvalue,
    the case Bartlett, Helmbold, Long, ICML 2018, Thm 1/§5 show is never learnt from identity init)."""
    eigs = torch.linspace(low, high, d, dtype=dtype)
    if kind == "linear-indefinite":
        eigs[0] = -low
    elif kind != "linear-pd":
        raise ValueError(f"not a linear target: {kind!r}")
    return spectrum_matrix(eigs, g)


def apply_target(kind: str, x: torch.Tensor, delta: float = 0.1, B: torch.Tensor | None = None,
                 Phi: torch.Tensor | None = None) -> torch.Tensor:
    """Targets y for inputs x (…, N, d): identity x; near-identity x + δ tanh(Bx); linear Φx."""
    if kind == "identity":
        return x.clone()
    if kind == "near-identity":
        if B is None:
            raise ValueError("near-identity needs B")
        return x + delta * torch.tanh(x @ B.transpose(-2, -1))
    if kind in ("linear-pd", "linear-indefinite"):
        if Phi is None:
            raise ValueError("a linear target needs Φ")
        return x @ Phi.transpose(-2, -1)
    raise ValueError(f"target must be one of {TARGETS}, got {kind!r}")
