"""Training of a batch of classifiers (one architecture, several seeds × learning rates) with SGD.

SGD with momentum and weight decay as He et al. 2016 (§4.2: momentum 0.9, weight decay 1e-4, minibatch 128)
and as PyTorch's `torch.optim.SGD` computes it (dampening 0): g ← ∇L + λθ, v ← μv + g, θ ← θ − η_r v, on every
parameter (batch-norm scales and shifts included); η_r is the rate of run r (times 0.1 per drop).  The loss is
the cross-entropy, mean over the minibatch; runs are independent, so the gradient of Σ_r L_r gives every run
its own gradient.  Minibatches: full batches only (batch norm needs them), in an order drawn per seed and epoch,
so the runs of one seed see the same images in the same order whatever their rate.  Initial parameters are drawn
per seed (the same for every rate).

Per epoch e and run: ℓ_e, the mean minibatch loss (training mode), the minibatch training error, and the test
error and loss (evaluation mode: running batch-norm statistics). A run ends when its loss has plateaued with no
rate drop left (`plateau`), when it diverges (a minibatch loss not finite, or above `DIVERGENCE_FACTOR`·(L₀ + 1)
with L₀ its first minibatch loss), or at the epoch budget. An ended run is frozen (no more updates); the batch
stops when every run has ended. At the end, every run's training and test error and loss are measured in
evaluation mode over the whole sets, and its layer responses on the test set: the std of the output of every
weight layer before the classifier (the first layer, then the trunk), after batch norm (without it: after the
bias) and before the ReLU or the addition, over all test images and units (He et al. 2016, Fig. 7, "the outputs of
each 3×3 layer, after BN and before other nonlinearity"). Gradient norms ‖∂L/∂W_l‖_F of every trunk layer are
taken at initialisation, on each run's first minibatch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from numerics.degradation.data import Dataset
from numerics.degradation.nets import Context, NetSpec, Params, forward, init_params, run_axis, trunk_gradient_norms
from numerics.degradation.plateau import PlateauRule, plateaued

DIVERGENCE_FACTOR = 1e3
EVAL_CHUNK = 512  # test/train images per evaluation pass (bounds memory on CIFAR-10)
PLATEAUED, MAX_EPOCHS, DIVERGED = "plateaued", "max-epochs", "diverged"


@dataclass(frozen=True)
class Schedule:
    """How every run of a batch is trained (the rate is per run)."""

    batch_size: int = 128  # minibatch (He et al. 2016, §4.2)
    momentum: float = 0.9  # μ (He et al. 2016, §4.2)
    weight_decay: float = 1e-4  # λ (He et al. 2016, §4.2)
    max_epochs: int = 60  # budget of epochs
    lr_drops: int = 1  # divisions of the rate by 10 at a plateau before the run ends
    plateau: PlateauRule = field(default_factory=PlateauRule)


@dataclass(frozen=True)
class FitRun:
    """What one run did (errors are rates in [0, 1]; None where the run diverged)."""

    seed: int  # replicate index
    lr: float  # initial learning rate η
    status: str  # plateaued, max-epochs or diverged
    epochs: int  # epochs trained
    plateau_epoch: int | None  # the epoch of the final plateau (None: not reached)
    drop_epochs: tuple[int, ...]  # epochs after which the rate was divided by 10
    train_error: float | None  # final, evaluation mode, whole training set
    train_loss: float | None
    test_error: float | None
    test_loss: float | None
    grad_norm_first: float | None  # ‖∂L/∂W‖_F of the first trunk layer at initialisation
    grad_norm_last: float | None  # … of the last trunk layer
    responses: tuple[float, ...]  # std of each layer's response before the classifier (test set, at the end)
    curve_train_loss: tuple[float | None, ...]  # per epoch ℓ_e
    curve_train_error: tuple[float | None, ...]  # per epoch, minibatch error in training mode
    curve_test_error: tuple[float | None, ...]  # per epoch, evaluation mode
    seconds: float  # wall time of the whole batch


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def run_shapes(params: Params) -> dict[str, list[int]]:
    """The shape that views a per-run (R,) tensor against each parameter's run axis."""
    out = {}
    for name, p in params.items():
        shape = [1] * p.dim()
        shape[run_axis(name)] = -1
        out[name] = shape
    return out


def sgd_step(params: Params, grads: Params, velocity: Params, rate: torch.Tensor, momentum: float,
             weight_decay: float, shapes: dict[str, list[int]]) -> None:
    """One SGD update of every run, in place (`torch.optim.SGD`, dampening 0, no Nesterov):
    g ← ∇L + λθ,  v ← μv + g,  θ ← θ − η_r v;  `rate` (R,) is η_r (0 freezes a run)."""
    with torch.no_grad():
        for name, p in params.items():
            g = grads[name].add(p, alpha=weight_decay)
            v = velocity[name].mul_(momentum).add_(g)
            p.sub_(rate.view(shapes[name]).to(p.dtype) * v)


def _evaluate(spec: NetSpec, params: Params, buffers: Params, x: torch.Tensor, y: torch.Tensor, runs: int,
              responses: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(error (R,), loss (R,), response std per trunk layer (T, R) or None) over the whole set, evaluation mode."""
    errors = torch.zeros(runs, dtype=torch.float64)
    losses = torch.zeros(runs, dtype=torch.float64)
    moments: torch.Tensor | None = None
    with torch.no_grad():
        for i in range(0, len(y), EVAL_CHUNK):
            xb, yb = x[i: i + EVAL_CHUNK], y[i: i + EVAL_CHUNK]
            ctx = Context(training=False, responses=responses)
            logits = forward(spec, params, buffers, xb.unsqueeze(0).expand(runs, *xb.shape), ctx)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.repeat(runs), reduction="none")
            losses += ce.view(runs, -1).sum(1).double().cpu()
            errors += (logits.argmax(-1) != yb).sum(1).double().cpu()
            if ctx.responses is not None:
                m = torch.stack(ctx.responses).cpu()  # (T, 3, R)
                moments = m if moments is None else moments + m
    n = len(y)
    std = None
    if moments is not None:
        count, total, squares = moments[:, 0], moments[:, 1], moments[:, 2]
        mean = total / count
        std = ((squares / count - mean**2).clamp(min=0) * count / (count - 1)).sqrt()
    return errors / n, losses / n, std


def seed_generator(base_seed: int, kind: int, replicate: int) -> torch.Generator:
    """A CPU generator for stream `kind` (0: initialisation, 1: minibatch order, 2: dropout) of a replicate,
    derived from the base seed by NumPy's SeedSequence spawn keys (independent streams per key)."""
    state = np.random.SeedSequence(base_seed, spawn_key=(kind, replicate)).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def fit(spec: NetSpec, data: Dataset, lrs: Sequence[float], seeds: Sequence[int], schedule: Schedule,
        base_seed: int = 0, device: str = "cpu", progress: Callable[[int], None] | None = None) -> list[FitRun]:
    """Train every (seed, rate) of the batch (module docstring); records in the order seeds × rates."""
    t0 = time.perf_counter()
    dev = torch.device(device)
    pairs = [(s, lr) for s in seeds for lr in lrs]
    R = len(pairs)
    run_seed = torch.tensor([list(seeds).index(s) for s, _ in pairs])
    params, buffers = init_params(spec, [seed_generator(base_seed, 0, s) for s, _ in pairs])
    params = {k: v.to(dev).requires_grad_(True) for k, v in params.items()}
    buffers = {k: v.to(dev) for k, v in buffers.items()}
    velocity = {k: torch.zeros_like(v) for k, v in params.items()}
    orders = [seed_generator(base_seed, 1, s) for s in seeds]
    dropout = [torch.Generator(device=dev).manual_seed(seed_generator(base_seed, 2, s).initial_seed())
               for s, _ in pairs]  # per run, from its seed: the same masks whatever else shares the batch
    shapes = run_shapes(params)
    x_train, y_train = data.x_train.to(dev), data.y_train.to(dev)
    x_test, y_test = data.x_test.to(dev), data.y_test.to(dev)
    N, B = len(y_train), min(schedule.batch_size, len(y_train))
    rate = torch.tensor([lr for _, lr in pairs], dtype=torch.float64, device=dev)
    live = torch.ones(R, dtype=torch.bool, device=dev)
    status = [MAX_EPOCHS] * R
    drops_left = [schedule.lr_drops] * R
    segment_start = [0] * R
    drops: list[list[int]] = [[] for _ in range(R)]
    plateau_epoch: list[int | None] = [None] * R
    ended_at = [schedule.max_epochs] * R
    curves: list[list[tuple[float, float, float]]] = [[] for _ in range(R)]
    loss0: torch.Tensor | None = None
    grad_first = grad_last = torch.full((R,), math.nan)
    epoch = 0
    for epoch in range(schedule.max_epochs):
        order = torch.stack([torch.randperm(N, generator=g) for g in orders]).to(dev)[run_seed.to(dev)]  # (R, N)
        loss_sum = torch.zeros(R, dtype=torch.float64, device=dev)
        wrong = torch.zeros(R, dtype=torch.float64, device=dev)
        batches = 0
        blown = torch.zeros(R, dtype=torch.bool, device=dev)
        for i in range(0, N - B + 1, B):
            idx = order[:, i: i + B]  # (R, B)
            xb, yb = x_train[idx], y_train[idx]
            logits = forward(spec, params, buffers, xb, Context(training=True, generators=dropout))
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1), reduction="none").view(R, B)
            losses = ce.mean(1)
            grads = dict(zip(params, torch.autograd.grad(losses.sum(), list(params.values())), strict=True))
            with torch.no_grad():
                if loss0 is None:
                    loss0 = losses.detach().clone()
                    norms = trunk_gradient_norms(spec, grads).double().cpu()  # (T, R)
                    grad_first, grad_last = norms[0], norms[-1]
                bad = ~torch.isfinite(losses) | (losses > DIVERGENCE_FACTOR * (loss0 + 1))
                blown |= bad & live
                step = torch.where(live & ~blown, rate, torch.zeros_like(rate))
                sgd_step(params, grads, velocity, step, schedule.momentum, schedule.weight_decay, shapes)
                loss_sum += losses.detach().double()
                wrong += (logits.argmax(-1) != yb).sum(1).double()
                batches += 1
        train_loss = (loss_sum / max(batches, 1)).cpu()
        train_err = (wrong / max(batches * B, 1)).cpu()
        test_err, _, _ = _evaluate(spec, params, buffers, x_test, y_test, R)
        blown_cpu = blown.cpu()
        for r in range(R):
            if not bool(live[r]):
                continue
            curves[r].append((float(train_loss[r]), float(train_err[r]), float(test_err[r])))
            if bool(blown_cpu[r]) or not math.isfinite(float(train_loss[r])):
                status[r], ended_at[r] = DIVERGED, epoch + 1
                live[r] = False
                continue
            seg = curves[r][segment_start[r]:]
            if plateaued([c[0] for c in seg], [c[1] for c in seg], schedule.plateau):
                if drops_left[r] > 0:
                    drops_left[r] -= 1
                    rate[r] *= 0.1
                    drops[r].append(epoch + 1)
                    segment_start[r] = epoch + 1
                else:
                    status[r], plateau_epoch[r], ended_at[r] = PLATEAUED, epoch + 1, epoch + 1
                    live[r] = False
        if progress is not None:
            progress(1)
        if not bool(live.any()):
            break
    train_error, train_loss_final, _ = _evaluate(spec, params, buffers, x_train, y_train, R)
    test_error, test_loss, responses = _evaluate(spec, params, buffers, x_test, y_test, R, responses=True)
    seconds = time.perf_counter() - t0
    out = []
    for r, (s, lr) in enumerate(pairs):
        ok = status[r] != DIVERGED and math.isfinite(float(train_loss_final[r]))
        out.append(FitRun(
            seed=s, lr=lr, status=status[r] if ok or status[r] == DIVERGED else DIVERGED, epochs=ended_at[r],
            plateau_epoch=plateau_epoch[r], drop_epochs=tuple(drops[r]),
            train_error=float(train_error[r]) if ok else None, train_loss=_finite(float(train_loss_final[r])),
            test_error=float(test_error[r]) if ok else None, test_loss=_finite(float(test_loss[r])),
            grad_norm_first=_finite(float(grad_first[r])), grad_norm_last=_finite(float(grad_last[r])),
            responses=tuple(_finite(float(v)) or 0.0 for v in responses[:, r]) if responses is not None and ok
            else (),
            curve_train_loss=tuple(_finite(c[0]) for c in curves[r]),
            curve_train_error=tuple(_finite(c[1]) for c in curves[r]),
            curve_test_error=tuple(_finite(c[2]) for c in curves[r]),
            seconds=round(seconds, 3)))
    return out
