"""The named experiments on tiny grids: registry, records, theory cross-checks, configuration checks."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest
import torch

from hfx import serialise
from numerics.experiments import EXPERIMENTS, AnyResult, CheckStatus, get, parameters, run
from numerics.experiments.contract import replicates
from numerics.experiments.params import ConfigBase, Value, replace_flat
from numerics.experiments.records import RunStatus

NAMES = ("branch-norms", "branch-rate", "deep-linear", "deep-stack", "degradation", "hardt-ma-bound", "identity-init",
         "linear-block", "nonlinear-block", "trainable-depth", "weight-decay")
MEASURED = ("branch-norms", "branch-rate", "hardt-ma-bound", "identity-init")  # trajectories and samples
BATCHED = tuple(n for n in NAMES if n != "degradation" and n not in MEASURED)  # Outcome records
RECORD_FIELDS = {"run", "seed", "status", "steps_to_converge", "diverged_step", "wall_seconds", "max_steps", "eps",
                 "criterion", "predicted_steps"}

# tiny grids: every experiment in a second or two
TINY: dict[str, dict[str, Value]] = {
    "linear-block": {"seeds": 2, "lr_factors": (0.3, 0.9, 1.2), "max_steps": 600},
    "deep-linear": {"depths": (1, 3), "lrs": (0.005, 0.02), "seeds": 1, "width": 2, "check_max_step": 0.05},
    "nonlinear-block": {"activations": ("relu",), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 2,
                        "max_steps": 60},
    "deep-stack": {"depths": (1, 4), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 2, "max_steps": 40},
    "weight-decay": {"lrs": (0.2,), "weight_decays": (0.5,), "seeds": 2, "max_steps": 120},
    "degradation": {"depths": (4, 6), "width": 8, "epochs": 1, "seeds": 1},
    "trainable-depth": {"depths": (1, 3), "rate_constants": (0.3,), "seeds": 2, "max_steps": 40, "width": 2},
    "branch-norms": {"activations": ("tanh",), "max_steps": 300, "record_every": 50, "seeds": 2},
    "branch-rate": {"depths": (1, 2), "max_steps": 400, "seeds": 1},
    "hardt-ma-bound": {"depths": (3,), "taus": (0.5,), "seeds": 40},
    "identity-init": {"depths": (1, 2), "max_steps": 400, "plateau_steps": 100, "seeds": 2},
}


pytestmark = pytest.mark.usefixtures("one_thread")


def _config(name: str, **extra: Value) -> ConfigBase:
    return replace_flat(get(name).Config(), {**TINY[name], **extra})


def _run(name: str, seed: int = 0, **extra: Value) -> AnyResult:
    config = _config(name, seed=seed, **extra)  # the base seed of every random stream
    return run(get(name), config)


def test_registry_finds_every_named_experiment() -> None:
    assert tuple(EXPERIMENTS) == NAMES
    with pytest.raises(KeyError, match="known: branch-norms"):
        get("no-such-experiment")


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_has_a_type_a_default_help_and_a_unique_flat_name(name: str) -> None:
    params = parameters(get(name).Config)
    assert len({p.name for p in params}) == len(params)
    for p in params:
        assert p.item_type in (int, float, str, bool) and p.help
        assert p.choices is not None or p.interval is not None or p.item_type is bool or p.path_like  # constrained
    replicates(get(name).Config())  # every experiment has its seeds block
    json.dumps(serialise.config(get(name).Config()))


@pytest.mark.parametrize("name", BATCHED)
def test_tiny_run_gives_complete_json_records_and_passing_checks(name: str) -> None:
    result = _run(name, seed=3)
    assert result.records and result.summaries
    for rec in (serialise.row(r) for r in result.records):
        assert RECORD_FIELDS <= set(rec)
        assert rec["status"] in {"converged", "censored", "diverged"}
        assert (rec["steps_to_converge"] is None) == (rec["status"] != RunStatus.CONVERGED)
        assert (rec["diverged_step"] is None) == (rec["status"] != RunStatus.DIVERGED)
    json.dumps(serialise.summary_document(result), allow_nan=False)
    failed = [c for c in result.checks if c.status is not CheckStatus.PASSED]
    assert not failed, failed


@pytest.mark.parametrize("seed", [0, 7])
def test_linear_block_steps_match_the_closed_form_and_the_stability_limit(seed: int) -> None:
    from numerics.experiments import linear_block

    result = _run("linear-block", seed=seed)
    assert isinstance(result.config, linear_block.Config)
    checks = {c.name: c for c in result.checks}
    assert checks["gd-steps-exact"].status is CheckStatus.PASSED and checks["gd-steps-exact"].examined > 0
    assert checks["stability-limit"].status is CheckStatus.PASSED and checks["stability-limit"].details["diverged"]
    for rec in result.records:
        assert (rec.lr_factor > 1) == (rec.outcome.status is RunStatus.DIVERGED)


def test_deep_linear_measured_time_is_within_two_percent_of_gradient_flow() -> None:
    result = _run("deep-linear")
    check = result.checks[0]
    assert check.status is CheckStatus.PASSED and check.examined > 0 and check.details["max_relative_error"] <= 0.02
    configured = [r for r in result.records if r.lr in result.config.lrs]  # the widened rates may overshoot
    assert configured and all(r.predicted_time > 0 and r.measured_time is not None for r in configured)


def test_weight_decay_norms_follow_the_closed_form() -> None:
    result = _run("weight-decay")
    check = next(c for c in result.checks if c.name == "weight-decay-trajectory")
    assert check.status is CheckStatus.PASSED and check.details["max_relative_error"] < 1e-6 and check.examined == 12


def test_zero_branch_variants_fit_the_identity_at_step_zero() -> None:
    result = _run("nonlinear-block")
    for rec in result.records:
        if rec.variant == "rezero":
            assert rec.predicted_steps == 0 and rec.outcome.steps_to_converge == 0
        else:
            assert rec.predicted_steps is None


def test_conv_blocks_in_float32_learn_a_near_identity_map() -> None:
    result = _run("nonlinear-block", block="conv", target="near-identity", dtype="float32", image_size=3,
                  variants=("residual",), lrs=(0.03,), max_steps=30, eps=1e-9)
    for rec in result.records:
        assert rec.outcome.status is RunStatus.CENSORED  # ε = 1e-9 is out of reach in 30 steps: nothing miscounted
        assert rec.outcome.final_loss is not None and rec.outcome.final_loss > 0
    loss = next(iter(result.curves.values())).values
    assert (loss[-1] < loss[0]).all()  # Adam made progress on every run


def test_initialisations_are_batched_with_seeds_and_learning_rates() -> None:
    # one batch per variant holds seeds × inits × lrs; a zero-initialised residual branch is exact at step 0
    result = _run("nonlinear-block", variants=("residual",), inits=("zero", "xavier"), lrs=(0.01, 0.03),
                  lr_max_widenings=0)  # the grid as given: this test is about batching
    recs = result.records
    assert len(recs) == 2 * 2 * 2 and len({r.outcome.batch_runs for r in recs}) == 1
    assert {(r.seed, r.init, r.lr) for r in recs} == {
        (s, i, lr) for s in (0, 1) for i in ("zero", "xavier") for lr in (0.01, 0.03)
    }
    for r in recs:
        assert (r.predicted_steps == 0) == (r.init == "zero")
        if r.init == "zero":
            assert r.outcome.steps_to_converge == 0
    best = [row for row in result.summaries if row.best_lr]
    assert sorted(row.group.init for row in best) == ["xavier", "zero"]  # a best rate per initialisation


def test_same_seed_same_records() -> None:
    a, b = _run("nonlinear-block", seed=5), _run("nonlinear-block", seed=5)
    assert [r.outcome for r in a.records] == [dataclasses.replace(r.outcome, wall_seconds=o.outcome.wall_seconds,
                                                                  batch_seconds=o.outcome.batch_seconds)
                                              for r, o in zip(b.records, a.records, strict=True)]


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("linear-block", {"width": -1}),
        ("linear-block", {"variants": ("plain", "dense")}),
        ("linear-block", {"samples": 2}),
        ("deep-linear", {"depths": ()}),
        ("deep-stack", {"lrs": (0.1, -0.1)}),
        ("nonlinear-block", {"block": "conv", "target": "linear-pd"}),
        ("weight-decay", {"seeds": 0}),
        ("degradation", {"depths": (20, 57)}),
        ("degradation", {"momentum": 1.0}),
        ("degradation", {"model": "cnn", "depths": (20, 22)}),
        ("degradation", {"shortcuts": ("identity", "scale"), "shortcut_depth": 7}),
        ("trainable-depth", {"rate_constants": (0.0,)}),
    ],
)
def test_bad_configurations_are_rejected(name: str, bad: dict[str, Value]) -> None:
    with pytest.raises(ValueError):
        replace_flat(get(name).Config(), bad)


@pytest.mark.parametrize("name", MEASURED)
def test_measured_experiments_give_json_records_and_passing_checks(name: str) -> None:
    result = _run(name, seed=4)
    assert result.records and result.summaries and result.checks
    json.dumps(serialise.summary_document(result), allow_nan=False)
    assert all(c.status is CheckStatus.PASSED for c in result.checks), result.checks


def test_figures_are_built_for_every_experiment() -> None:
    for name in ("linear-block", "weight-decay", "deep-linear", *MEASURED):
        figs = get(name).figures(_run(name))
        assert figs and all(f.axes for f in figs.values())


@pytest.mark.parametrize("name", [n for n in NAMES if n in TINY or n in MEASURED])
def test_every_figure_verify_writes_is_publication_grade(name: str) -> None:
    """Type 42 serif fonts (no Type 3), a column or text width, text ≥ 7 pt, mathtext (no literal _), no empty
    panel, and its data beside it (`hfx.figures`)."""
    import re

    from matplotlib.text import Text

    from hfx.figures import COLUMN, MIN_POINTS, TEXT, figure_data, publish, render, style

    result = _run(name)
    with style():
        figs = {k: publish(f) for k, f in get(name).figures(result).items()}
    for fig_name, fig in figs.items():
        assert float(fig.get_size_inches()[0]) in (COLUMN, TEXT), fig_name
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
        assert all(float(t.get_fontsize()) >= MIN_POINTS for t in texts), fig_name
        literal = [t.get_text() for t in texts if "_" in re.sub(r"\$[^$]*\$", "", t.get_text())]
        assert not literal, (fig_name, literal)
        assert all(ax.has_data() for ax in fig.axes if ax.get_visible()), f"{fig_name}: an empty panel"
        pdf = render(fig, "pdf")
        assert b"/Type3" not in pdf and b"/CIDFontType2" in pdf and b"Serif" in pdf, fig_name
        assert figure_data(fig), fig_name
        # nothing is cut by the page's edge: every label, title, tick label and legend lies inside the figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig).draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        page = fig.bbox

        def outside(box: Any, page: Any = page) -> bool:
            return box.x0 < page.x0 - 1 or box.y0 < page.y0 - 1 or box.x1 > page.x1 + 1 or box.y1 > page.y1 + 1

        # an axes' tight box holds what it draws: tick labels in view, axis labels, title, legend, texts
        cut = [f"panel {ax.get_title()!r}" for ax in fig.axes if ax.get_visible()
               and outside(ax.get_tightbbox(renderer))]
        cut += [f"{type(a).__name__} {getattr(a, 'get_text', lambda: '')()!r}"
                for a in [*fig.texts, *fig.legends,
                          *(getattr(fig, f"_sup{k}", None) for k in ("title", "xlabel", "ylabel"))]
                if a is not None and a.get_visible() and a.get_window_extent(renderer).width > 0
                and outside(a.get_window_extent(renderer))]
        assert not cut, (fig_name, cut)


# ---- the shared pieces: grid, constraints, progress, memory estimate ----------------------------------------


def test_run_grid_columns_are_the_row_major_product() -> None:
    from numerics.experiments.grid import RunGrid

    grid = RunGrid(3, ("zero", "xavier"), (0.1, 0.2, 0.3, 0.4))
    c = grid.columns()
    r = np.arange(grid.size)  # independent: the arithmetic the grid replaces
    assert (c.seed == r // (2 * 4)).all() and (c.init == (r // 4) % 2).all() and (c.setting == r % 4).all()
    assert grid.points()[5] == (0, "xavier", 0.2)
    per_seed = torch.arange(3.0).view(3, 1)
    assert grid.per_seed(per_seed).flatten().tolist() == [float(s) for s in c.seed]


def test_constraints_are_declared_once_and_checked_uniformly() -> None:
    from numerics.experiments import linear_block
    from numerics.experiments.params import Interval

    assert str(Interval(0, 1, low_open=True)) == "(0, 1]" and str(Interval(1, None)) == "[1, inf)"
    with pytest.raises(ValueError, match=r"width must be in \[1, 4096\], got 5000"):
        linear_block.Config(width=5000)
    with pytest.raises(ValueError, match="must be an integer"):
        linear_block.Config(width=True)  # a bool is not an int
    with pytest.raises(ValueError, match="finite"):
        replace_flat(linear_block.Config(), {"init_scale": 10**400})  # overflows float
    assert replace_flat(linear_block.Config(), {"eps": 1}).budget.eps == 1.0  # an int given for a float is a float
    with pytest.raises(KeyError):
        replace_flat(linear_block.Config(), {"no_such_parameter": 1})


def test_step_progress_reaches_the_budget_of_every_batch() -> None:
    from numerics.experiments.grid import StepProgress

    seen: list[int] = []
    steps = StepProgress(seen.append, budget=100)
    for k in (1, 2, 3, 40):
        steps(k)
    steps.finish()  # the batch stopped early: what is left of its budget is counted at once
    assert sum(seen) == 100 and all(n > 0 for n in seen)


@pytest.mark.parametrize(("name", "values"), [
    ("linear-block", {"width": 80, "samples": 80, "max_steps": 15, "seeds": 4}),
    ("nonlinear-block", {"width": 100, "hidden": 100, "max_steps": 10, "activations": ("relu",)}),
])
def test_memory_estimate_is_not_below_the_measured_working_set(name: str, values: dict[str, Value]) -> None:
    # in a fresh process, with glibc's heap growth switched off (MALLOC_MMAP_THRESHOLD_: freed blocks go back to
    # the system), the peak resident memory above the idle interpreter is the run's working set
    import os
    import subprocess
    import sys

    script = (
        "import json, resource, sys, torch\n"
        "from numerics.experiments import get, run\n"
        "from numerics.experiments.params import replace_flat\n"
        "name, values = sys.argv[1], json.loads(sys.argv[2])\n"
        "values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}\n"
        "torch.set_num_threads(1)\n"
        "e = get(name); c = replace_flat(e.Config(), values)\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "run(e, c)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024, e.cost(c).memory_bytes)\n"
    )
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", script, name, json.dumps(values)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    measured, estimate = int(out[0]), int(out[1])
    assert measured <= estimate <= 10 * max(measured, 50_000_000)  # an upper bound, and not an absurd one


def test_best_rate_bars_keep_long_labels_on_the_page() -> None:
    """The 'median (η)' labels of the best-rate bars stay inside a one-column figure, however long the bars and
    labels (beside a bar near the budget they ran off the page: '389 (η=0.09' was cut)."""
    from types import SimpleNamespace

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from hfx.figures import publish, render, style
    from numerics.plots import best_lr_bars

    def row(median: float | None, hi: float | None, name: str) -> Any:
        steps = SimpleNamespace(max_steps=1000, steps_median=median, steps_median_ci=(median, hi))
        return SimpleNamespace(best_lr=True, steps=steps, group=SimpleNamespace(name=name, lr=0.09))

    rows = [row(389.0, 900.0, "tanh plain xavier"), row(42.0, 47.0, "tanh residual xavier"),
            row(999.0, None, "gelu skipinit xavier"), row(None, None, "never converged")]
    with style():
        fig = publish(best_lr_bars(rows, lambda g: g.name, lambda g: g.lr, "steps at each one's best η"))
    render(fig, "png")
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = [t for ax in fig.axes for t in ax.texts]
    assert len(texts) == 3 and any("CI > budget" in t.get_text() for t in texts)
    page = fig.bbox
    for t in texts:
        box = t.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, t.get_text()
