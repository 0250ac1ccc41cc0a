"""Memory an experiment will need, estimated from its shapes alone, before anything is allocated.

`hfx run` compares the estimate with the machine's available memory and refuses (exit 2, giving both numbers)
what cannot fit, instead of letting the allocator fail, or the machine swap, an hour later.  The model counts,
per batch of R runs trained at once by `numerics.train.train`:

* parameters and what the optimiser keeps per parameter (gradient, new value, the layer-major copy, the
  freeze mask's result, momentum/Adam buffers): `OPTIMIZER_COPIES` copies of the P parameters of a run;
* the data, indexed per run: inputs and targets, R·N·(d_in + d_out) values;
* activations saved for the backward pass and their gradients: about twice the layer outputs per sample;
* the curves recorded at every step (loss, metric, norm, each (T, R) float64, stacked once at the end);

times `SLACK` for autograd temporaries and allocator fragmentation.  `tests/test_experiments.py` checks the
estimate against the measured peak of a batch (it must not be below it, nor far above).
"""

from __future__ import annotations

from numerics.models import BlockSpec, num_params

SLACK = 2.0  # autograd temporaries and fragmentation; measured peaks are 0.5–0.9 of the estimate
OPTIMIZER_COPIES = {"gd": 6, "sgd": 6, "momentum": 7, "adam": 9}  # copies of the parameters alive during a step
CURVE_COPIES = 6  # loss, metric, norm: the per-step lists and their stacked arrays
DTYPE_BYTES = {"float32": 4, "float64": 8}
GIB = 2**30


def features(spec: BlockSpec) -> int:
    """Values per sample at the block's input (= output): d, or c·s·s for images."""
    return spec.width * (spec.image_size**2 if spec.block == "conv" else 1)


def activations(spec: BlockSpec) -> int:
    """Values per sample that a forward pass through the stack produces (pre-activations, activations, sums)."""
    pixels = spec.image_size**2 if spec.block == "conv" else 1
    per_layer = 2 * spec.width if spec.block == "linear" else 3 * (spec.hidden + spec.width)
    return spec.depth * per_layer * pixels


def batch_bytes(
    spec: BlockSpec, runs: int, samples: int, max_steps: int, dtype: str = "float64", optimizer: str = "gd",
    extra_per_run: int = 0,
) -> int:
    """Peak bytes of one `train` batch of `runs` runs (`extra_per_run`: values the experiment adds per run,
    e.g. the target matrix M* of a distance criterion)."""
    per_run = (OPTIMIZER_COPIES[optimizer] * num_params(spec) + 2 * samples * features(spec)
               + 2 * samples * activations(spec) + extra_per_run)
    curves = CURVE_COPIES * (max_steps + 1) * runs * 8
    return int(SLACK * (runs * per_run * DTYPE_BYTES[dtype] + curves))


def curve_bytes(runs: int, max_steps: int) -> int:
    """Bytes of one (T, R) float64 curve kept after its batch (for the figures)."""
    return (max_steps + 1) * runs * 8


def describe_bytes(n: float) -> str:
    """A size for a message: 7.1 GB, 350 MB."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"
