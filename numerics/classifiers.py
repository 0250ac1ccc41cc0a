"""Classifiers of the degradation experiment: plain vs residual MLPs of increasing depth on real data.

The experiment itself (its Config, grid, summaries and figure) is `numerics.experiments.degradation`; the
evidence it gives for claims C1, C2, C3 and C13 is `hfx.evidence.degradation`.

He et al. 2016 ("Deep Residual Learning for Image Recognition", CVPR 2016,
Fig. 1 and Fig. 6) report that on CIFAR-10 a 56-layer *plain* net has higher
*training* error than a 20-layer one, while residual nets do not degrade.  hfx
cannot download CIFAR-10 here, so this experiment asks the same question on
real data that ships with scikit-learn: the 8×8 handwritten digits of
`sklearn.datasets.load_digits` (1,797 images, 10 classes).  It is a smaller,
fully connected analogue — it tests whether the *phenomenon* appears, not
He et al.'s numbers.

Architecture (depth = number of weight layers, as He et al. count them):
an input layer 64 → w, a trunk of depth − 2 layers of width w, and a linear
classifier w → 10.  Plain trunk layers are relu(BN(W h)); residual trunk layers
come in pairs, h ← relu(h + BN(W₂ relu(BN(W₁ h)))) (He et al. Eq. (1) with
the ReLU after the addition, their original block).  `norm="none"` drops the
batch normalisation.  Kaiming (fan-in, ReLU) initialisation.

Training: SGD with momentum 0.9 and weight decay 1e-4 (He et al. §4.2), batch
128, cross-entropy (mean over the batch), a fixed number of epochs.  Errors are
classification error rates in [0, 1] in evaluation mode.  Gradient norms are
measured at initialisation on one full training batch, per weight layer (C3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

TRAIN_FRACTION = 0.7  # share of the 1,797 digits used for training; the rest is the test set
TRAIN_SIZE = int(TRAIN_FRACTION * 1797)  # 1,257 training digits
ARCHITECTURES = ("plain", "residual")
NORMS = ("batch", "none")


@dataclass(frozen=True)
class Recipe:
    """How one network is built and trained (one run of the degradation grid)."""

    width: int = 64  # hidden width
    epochs: int = 30  # passes over the training set
    learning_rate: float = 0.05  # SGD step size
    momentum: float = 0.9  # SGD momentum (He et al. 2016, §4.2)
    weight_decay: float = 1e-4  # L2 weight decay (He et al. 2016, §4.2)
    batch_size: int = 128  # minibatch size (full batches only)
    norm: str = "batch"  # "batch" (BN after every trunk layer, as He et al.) or "none"


@dataclass(frozen=True)
class Measurement:
    """What one trained network measured."""

    train_error: float  # final training classification error
    test_error: float  # final test classification error
    train_loss: float | None  # final mean cross-entropy on the training set (None: not finite, the run diverged)
    grad_norm_first: float | None  # ‖∂L/∂W‖_F of the first trunk layer at initialisation (None: not finite)
    grad_norm_last: float | None  # ‖∂L/∂W‖_F of the last trunk layer at initialisation (None: not finite)
    seconds: float  # wall-clock training time


def load_digits_split(generator: np.random.Generator) -> tuple[torch.Tensor, ...]:
    """Standardised digits: (x_train, y_train, x_test, y_test), split by `generator`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.asarray(digits.data, dtype=np.float64)  # (1797, 64)
    y = np.asarray(digits.target, dtype=np.int64)  # (1797,)
    order = generator.permutation(len(x))
    cut = int(TRAIN_FRACTION * len(x))  # TRAIN_SIZE for the 1,797 digits
    train, test = order[:cut], order[cut:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
    x = (x - mean) / std
    as_f32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return as_f32(x[train]), torch.tensor(y[train]), as_f32(x[test]), torch.tensor(y[test])


class _Layer(nn.Module):
    def __init__(self, width: int, norm: str) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width, bias=norm == "none")
        self.norm = nn.BatchNorm1d(width) if norm == "batch" else nn.Identity()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.norm(self.linear(h))


class _ResidualPair(nn.Module):
    def __init__(self, width: int, norm: str) -> None:
        super().__init__()
        self.first, self.second = _Layer(width, norm), _Layer(width, norm)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(h + self.second(torch.relu(self.first(h))))


class _Plain(nn.Module):
    def __init__(self, layer: _Layer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.layer(h))


def build_network(architecture: str, depth: int, width: int, norm: str, generator: torch.Generator) -> nn.Sequential:
    """An MLP with `depth` weight layers (see module docstring), Kaiming-initialised from `generator`."""
    trunk_layers = depth - 2
    trunk: list[nn.Module]
    if architecture == "plain":
        trunk = [_Plain(_Layer(width, norm)) for _ in range(trunk_layers)]
    else:
        trunk = [_ResidualPair(width, norm) for _ in range(trunk_layers // 2)]
    net = nn.Sequential(nn.Linear(64, width), nn.ReLU(), *trunk, nn.Linear(width, 10))
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net


def _trunk_weights(net: nn.Sequential) -> list[torch.Tensor]:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    return [m.weight for m in linears[1:-1]]


def _error_and_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    net.eval()
    with torch.no_grad():
        logits = net(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        error = (logits.argmax(dim=1) != y).float().mean().item()
    return error, loss


def train_one(architecture: str, depth: int, recipe: Recipe, seed: int, data: tuple[torch.Tensor, ...],
              device: str = "cpu") -> Measurement:
    """Train one network from `seed` (its initialisation and batch order) and measure it, on `device` (the
    network is initialised and the batch order drawn on the CPU, so every device starts from the same numbers)."""
    import time

    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}")
    if depth < 4 or depth % 2:
        raise ValueError(f"depth must be even and ≥ 4, got {depth}")
    x_train, y_train, x_test, y_test = (t.to(device) for t in data)
    generator = torch.Generator().manual_seed(seed)
    net = build_network(architecture, depth, recipe.width, recipe.norm, generator).to(device)

    net.train()
    loss = nn.functional.cross_entropy(net(x_train), y_train)
    grads = torch.autograd.grad(loss, _trunk_weights(net))
    grad_first, grad_last = grads[0].norm().item(), grads[-1].norm().item()

    optimiser = torch.optim.SGD(
        net.parameters(), lr=recipe.learning_rate, momentum=recipe.momentum, weight_decay=recipe.weight_decay
    )
    start = time.perf_counter()
    n = len(x_train)
    for _ in range(recipe.epochs):
        net.train()
        order = torch.randperm(n, generator=generator).to(device)
        for i in range(0, n - recipe.batch_size + 1, recipe.batch_size):  # full batches only (BN statistics)
            batch = order[i : i + recipe.batch_size]
            optimiser.zero_grad()
            nn.functional.cross_entropy(net(x_train[batch]), y_train[batch]).backward()
            optimiser.step()
    seconds = time.perf_counter() - start
    train_error, train_loss = _error_and_loss(net, x_train, y_train)
    test_error, _ = _error_and_loss(net, x_test, y_test)
    if not math.isfinite(train_loss):
        train_error = test_error = 1.0  # a diverged network classifies nothing
    return Measurement(train_error, test_error, _finite(train_loss), _finite(grad_first), _finite(grad_last), seconds)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None
