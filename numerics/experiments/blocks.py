"""Configuration blocks shared by the experiments, and the documented upper bounds of their values.

An experiment's Config composes these blocks (`params.block`) instead of declaring the same fields again:

* `Replicates` (every experiment): how many independent seeds, and the base seed;
* `Budget` (the batched convergence experiments): ε and the step budget;
* `Training` (nonlinear-block, deep-stack): optimiser, minibatch, weight decay, learning-rate grid, dtype.

Upper bounds (the `MAX_*` constants) reject values that are absurd rather than merely large: they would not fit
in memory or time on any machine hfx runs on, and they keep every intermediate float finite.  What is within them
but still too large for *this* machine is refused by the memory estimate of `hfx run` (`numerics.experiments.
resources`).
"""

from __future__ import annotations

from dataclasses import dataclass

from numerics.experiments.params import ConfigBase, Interval, at_least, param, positive
from numerics.train import DECAY_MODES, OPTIMIZERS

MAX_SEEDS = 100_000  # independent seeds of one experiment
MAX_STEPS = 1_000_000  # optimisation steps per run (curves are recorded at every step; all of them in weight-decay)
MAX_WIDTH = 4096  # features, hidden units or channels of a layer
MAX_DEPTH = 10_000  # layers or blocks of a stack (Fixup and ReZero train 10,000)
MAX_SAMPLES = 1_000_000  # training samples
MAX_RATE = 1e3  # learning rates (far beyond any stable rate of these losses; they diverge and are recorded so)
MAX_DECAY = 1e3  # weight decay λ
MAX_SCALE = 1e3  # initialisation multipliers, spectra, target scales
MAX_EPS = 1e6  # ε of the convergence criterion
CHUNK_SEEDS = 32  # default seeds per chunk: the default grids are one chunk per architecture, as one batch before
SEED_RANGE = Interval(0, 2**63 - 1)  # what torch.Generator.manual_seed and numpy's default_rng accept
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Replicates(ConfigBase):
    """Independent repetitions: replicate i of `seeds` draws its own data and initialisation from streams derived
    from the base `seed` and i (`numerics.experiments.chunks`); the runs of `chunk_seeds` consecutive replicates
    of one architecture are one chunk (a task of a cluster, and what `hfx run --resume` keeps)."""

    seeds: int = param(3, "independent seeds (data and initialisation)", interval=at_least(1, MAX_SEEDS))
    seed: int = param(0, "base seed of every random stream", interval=SEED_RANGE)
    chunk_seeds: int = param(CHUNK_SEEDS, "seeds per chunk: each architecture's seeds run in blocks of this many "
                             "(one batch, one task of --workers/--scheduler, the unit that --resume keeps)",
                             interval=at_least(1, MAX_SEEDS))


@dataclass(frozen=True)
class Budget(ConfigBase):
    """When a run stops: its criterion below ε (converged), or `max_steps` updates (censored)."""

    eps: float = param(1e-3, "ε: a run has converged when its criterion is below ε", interval=positive(MAX_EPS))
    max_steps: int = param(1000, "budget of optimisation steps per run", interval=at_least(0, MAX_STEPS))


@dataclass(frozen=True)
class Training(ConfigBase):
    """How the batched runs are optimised (the learning rate is a grid: every rate is a run)."""

    optimizer: str = param("adam", "optimiser", choices=OPTIMIZERS)
    batch_size: int = param(16, "minibatch size (sgd only)", interval=at_least(1, MAX_SAMPLES))
    weight_decay: float = param(0.0, "λ of the weight decay", interval=at_least(0, MAX_DECAY))
    decay_mode: str = param("l2", "l2: (λ/2)‖θ‖² in the loss; decoupled: θ ← θ − ηλθ", choices=DECAY_MODES)
    lrs: tuple[float, ...] = param((0.003, 0.01, 0.03), "learning-rate grid per architecture",
                                   interval=positive(MAX_RATE))
    dtype: str = param("float64", "floating-point type of the runs", choices=DTYPES)
