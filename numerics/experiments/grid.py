"""The runs of one batch, declared once: seeds × initialisations × settings, as a value with index columns.

Every batched experiment trains, for one architecture, all its seeds × initialisations × settings (learning
rates, or (η, λ) pairs) as one tensor program.  `RunGrid` names that product; run r is
(seed, init, setting) = `numpy.unravel_index(r, (S, I, E))` (row-major: the setting varies fastest), so every
setting starts from the same parameters for a given seed and initialisation.  The columns index per-seed and
per-init tensors into per-run ones; nothing else in the experiments computes run indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import torch
from numpy.typing import NDArray

from numerics.experiments.contract import Progress
from numerics.models import BlockSpec, Params, init_params

T = TypeVar("T")


class GridPoint(NamedTuple, Generic[T]):
    """The coordinates of one run."""

    seed: int  # replicate index 0 … S − 1
    init: str  # initialisation name
    setting: T  # e.g. its learning rate


class GridColumns(NamedTuple):
    """Per-run indices into the axes, each (R,) int64."""

    seed: NDArray[np.int64]
    init: NDArray[np.int64]
    setting: NDArray[np.int64]


@dataclass(frozen=True)
class RunGrid(Generic[T]):
    """seeds × inits × settings, one batch of R = S·I·E runs."""

    seeds: int
    inits: tuple[str, ...]
    settings: tuple[T, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.seeds, len(self.inits), len(self.settings))

    @property
    def size(self) -> int:
        return self.seeds * len(self.inits) * len(self.settings)

    def columns(self) -> GridColumns:
        seed, init, setting = np.unravel_index(np.arange(self.size), self.shape)
        return GridColumns(seed.astype(np.int64), init.astype(np.int64), setting.astype(np.int64))

    def points(self) -> list[GridPoint[T]]:
        c = self.columns()
        return [GridPoint(int(s), self.inits[int(i)], self.settings[int(e)])
                for s, i, e in zip(c.seed, c.init, c.setting, strict=True)]

    def per_seed(self, t: torch.Tensor) -> torch.Tensor:
        """(S, …) → (R, …): each run's row of a per-seed tensor."""
        return t[torch.from_numpy(self.columns().seed)]

    def per_setting(self, values: Sequence[float], dtype: torch.dtype) -> torch.Tensor:
        """(R,): each run's value of a per-setting number (e.g. its learning rate)."""
        return torch.tensor(list(values), dtype=dtype)[torch.from_numpy(self.columns().setting)]

    def initial_params(self, spec: BlockSpec, init_scale: float, g: torch.Generator, dtype: torch.dtype) -> Params:
        """Parameters per run: one draw per (seed, init) from `g`, inits in order, shared by the settings."""
        return self.expand(self.draw(spec, init_scale, g, dtype))

    def draw(self, spec: BlockSpec, init_scale: float, g: torch.Generator, dtype: torch.dtype) -> Params:
        """One draw per (seed, init) from `g`, inits in order: (S, I, …) per tensor.  Keep it to train further
        settings (a widened learning-rate grid) from the same starting points (`expand`)."""
        per_init = [init_params(spec, self.seeds, init, init_scale, g, dtype) for init in self.inits]  # (S, …) each
        return {k: torch.stack([p[k] for p in per_init], dim=1) for k in per_init[0]}

    def expand(self, drawn: Params) -> Params:
        """(S, I, …) per (seed, init) → (R, …) per run of this grid (every setting from the same start)."""
        c = self.columns()
        seed, init = torch.from_numpy(c.seed), torch.from_numpy(c.init)
        return {k: v[seed, init] for k, v in drawn.items()}  # (R, …)


class StepProgress:
    """Turns `numerics.train.train`'s per-step callback (steps done so far) into increments of a `Progress`,
    and at the end of the batch counts what its early stop left of the budget, so that a progress bar over
    Σ max_steps reaches its total."""

    def __init__(self, progress: Progress | None, budget: int) -> None:
        self._progress, self._budget, self._done = progress, budget, 0

    def __call__(self, steps_done: int) -> None:
        if self._progress is not None and steps_done > self._done:
            self._progress(steps_done - self._done)
            self._done = steps_done

    def finish(self) -> None:
        self(self._budget)
