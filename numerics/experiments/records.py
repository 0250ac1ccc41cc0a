"""Typed records of the batched experiments: what happened to each run, and censoring-aware group summaries.

Each experiment defines its own run record (a frozen dataclass holding its set-up fields, an `Outcome`, and its
index `run`), next to the code that produces it.  This module holds what they share: the outcome of one run of a
`numerics.train.train` batch, and the Kaplan–Meier summary of a group of runs (`numerics.stats`); the choice of
the best learning rate per architecture is `rate_search.mark_best_lr`.  Nothing here is JSON: `hfx.serialise`
writes these records at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

import numpy as np

from numerics.stats import summarize
from numerics.train import TrainResult

K = TypeVar("K", bound=Hashable)  # a group key: a NamedTuple of the grouping fields
R = TypeVar("R", bound="HasOutcome")


class RunStatus(StrEnum):
    """How a run ended (numerics.train): its criterion fell below ε, it blew up, or the budget ran out."""

    CONVERGED = "converged"
    CENSORED = "censored"
    DIVERGED = "diverged"


def finite_or_none(value: float) -> float | None:
    """A measurement as a float, or None where it is not finite (written as JSON null; the status says why)."""
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Outcome:
    """What happened to one run of a batch."""

    status: RunStatus
    steps_to_converge: int | None  # smallest k with the criterion < ε; None unless converged
    diverged_step: int | None  # the step at which it blew up (also after converging, if it kept moving); else None
    wall_seconds: float | None  # batch wall time when this run converged; None unless converged
    batch_seconds: float  # wall time of the whole batch
    batch_runs: int  # runs in the batch
    final_loss: float | None  # data loss at the run's last step (None: not finite)
    final_metric: float | None  # criterion at the run's last step (None: not finite)


def outcomes(result: TrainResult) -> list[Outcome]:
    """One `Outcome` per run of a trained batch."""
    R = len(result.status)
    out = []
    for r in range(R):
        k, d = int(result.steps_to_converge[r]), int(result.diverged_step[r])
        out.append(Outcome(
            status=RunStatus(str(result.status[r])),
            steps_to_converge=k if k >= 0 else None,
            diverged_step=d if d >= 0 else None,
            wall_seconds=finite_or_none(float(result.wall_seconds[r])),
            batch_seconds=round(result.total_seconds, 6),
            batch_runs=R,
            final_loss=finite_or_none(float(result.final_loss[r])),
            final_metric=finite_or_none(float(result.final_metric[r])),
        ))
    return out


class HasOutcome(Protocol):
    """A run record: its budget and its outcome."""

    @property
    def max_steps(self) -> int: ...

    @property
    def outcome(self) -> Outcome: ...


@dataclass(frozen=True)
class StepsSummary:
    """Kaplan–Meier summary of the steps (and wall seconds) to converge of a group of runs."""

    n: int
    n_converged: int
    n_diverged: int
    steps_q25: float | None  # None: beyond the budget
    steps_median: float | None
    steps_q75: float | None
    steps_median_ci: tuple[float | None, float | None]  # bootstrap 95%; None: unbounded
    seconds_median: float | None
    seconds_median_ci: tuple[float | None, float | None]
    ci_level: float
    max_steps: int
    final_loss_median: float | None = None  # median data loss at the runs' last step (diverged: +∞; None: +∞)


@dataclass(frozen=True)
class Prediction:
    """Theory's prediction for a whole group (deep-linear: the gradient-flow time is seed-invariant)."""

    predicted_steps: float | None
    predicted_time: float | None


@dataclass(frozen=True)
class GroupSummary(Generic[K]):
    """One group of runs (an architecture at one learning rate): its key and its summary."""

    group: K
    steps: StepsSummary


@dataclass(frozen=True)
class RankedSummary(GroupSummary[K]):
    """A group summary with its architecture's best learning rate flagged (`rate_search.mark_best_lr`)."""

    best_lr: bool  # this architecture's best learning rate
    best_lr_at_grid_edge: bool | None  # on the best row: the smallest or largest rate of the grid; else None
    grid_limited: bool | None  # on the best row: a faster rate may lie beyond the grid (rate_search); else None


@dataclass(frozen=True)
class PredictedSummary(RankedSummary[K]):
    """A ranked summary that carries theory's prediction beside the measured median."""

    prediction: Prediction


def group_summaries(
    records: Sequence[R], key: Callable[[R], K], rng: np.random.Generator, n_boot: int = 1000
) -> list[GroupSummary[K]]:
    """Censoring-aware summaries of the steps (and wall seconds) to converge per group, in first-seen order.

    Censored and diverged runs are censored at their budget (`max_steps`, and the batch's wall time).
    """
    groups: dict[K, list[R]] = {}
    for rec in records:
        groups.setdefault(key(rec), []).append(rec)
    out = []
    for k, recs in groups.items():
        events = np.array([r.outcome.status is RunStatus.CONVERGED for r in recs])
        steps = np.array([_event_or(r.outcome.steps_to_converge, r.max_steps) for r in recs], dtype=float)
        secs = np.array([_event_or(r.outcome.wall_seconds, r.outcome.batch_seconds) for r in recs], dtype=float)
        s = summarize(steps, events, rng, n_boot=n_boot)
        w = summarize(secs, events, rng, n_boot=n_boot)
        out.append(GroupSummary(k, StepsSummary(
            n=s.n, n_converged=s.n_converged,
            n_diverged=sum(r.outcome.status is RunStatus.DIVERGED for r in recs),
            steps_q25=s.q25, steps_median=s.median, steps_q75=s.q75, steps_median_ci=s.median_ci,
            seconds_median=w.median, seconds_median_ci=w.median_ci, ci_level=s.ci_level,
            max_steps=max(r.max_steps for r in recs),
            final_loss_median=finite_or_none(float(np.median([_loss_or_inf(r) for r in recs]))),
        )))
    return out


def _loss_or_inf(r: HasOutcome) -> float:
    """A run's final data loss, +∞ where it is not finite (it diverged)."""
    return math.inf if r.outcome.final_loss is None else r.outcome.final_loss


def _event_or(value: float | None, budget: float) -> float:
    return budget if value is None else float(value)
