"""The chunked execution contract: every run in exactly one chunk, merges independent of the order chunks finish
in, random streams derived from positions, and a lossless store format."""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import math
import random

import numpy as np
import pytest
import torch
from _outputs import same

from hfx.chunkcodec import decode, encode
from numerics.experiments import EXPERIMENTS, get, run
from numerics.experiments.chunks import (
    derived_seed,
    merge_curves,
    ordered,
    replicate_generator,
    seed_blocks,
)
from numerics.experiments.contract import Curves, replicates
from numerics.experiments.params import ConfigBase, Value, replace_flat

pytestmark = pytest.mark.usefixtures("one_thread")

TINY: dict[str, dict[str, Value]] = {  # every experiment in about a second, several chunks each
    "linear-block": {"seeds": 3, "lr_factors": (0.3, 1.2), "max_steps": 300, "chunk_seeds": 2},
    "deep-linear": {"depths": (1, 3), "lrs": (0.005, 0.02), "seeds": 2, "width": 2, "max_steps": 3000,
                    "chunk_seeds": 1},
    "nonlinear-block": {"activations": ("relu",), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 3,
                        "max_steps": 40, "chunk_seeds": 2, "optimizer": "sgd", "batch_size": 8},
    "deep-stack": {"depths": (1, 3), "variants": ("plain", "rezero"), "lrs": (0.03,), "seeds": 2, "max_steps": 30,
                   "chunk_seeds": 1},
    "weight-decay": {"lrs": (0.2,), "weight_decays": (0.5,), "seeds": 3, "max_steps": 60, "chunk_seeds": 2},
    "trainable-depth": {"depths": (1, 10), "variants": ("plain", "rezero"), "rate_constants": (0.3, 1.0),
                        "seeds": 3, "max_steps": 50, "chunk_seeds": 2},
}
CHUNKED = sorted(TINY)  # every experiment but the studies, which run whole (contract.Study)
STUDIES = ["branch-norms", "branch-rate", "degradation", "hardt-ma-bound", "identity-init"]


def test_every_experiment_but_the_whole_studies_is_chunked() -> None:
    from hfx.execute import is_chunked

    assert sorted(n for n, e in EXPERIMENTS.items() if is_chunked(e)) == CHUNKED
    assert [n for n, e in EXPERIMENTS.items() if not is_chunked(e)] == STUDIES


def _config(name: str, **extra: Value) -> ConfigBase:
    return replace_flat(get(name).Config(), {**TINY[name], **extra})


@pytest.mark.parametrize("name", CHUNKED)
def test_every_run_is_in_exactly_one_chunk_in_run_order(name: str) -> None:
    module, config = get(name), _config(name)
    chunks = module.chunks(config)
    assert [c.index for c in chunks] == list(range(len(chunks))) and len(chunks) > 1
    assert chunks[0].first_run == 0
    for before, after in itertools.pairwise(chunks):
        assert after.first_run == before.first_run + before.runs  # consecutive: nothing skipped, nothing twice
    per_part: dict[int, list[range]] = {}
    for c in chunks:
        per_part.setdefault(c.part, []).append(c.seeds)
    for blocks in per_part.values():  # each part covers every replicate once, in blocks of chunk_seeds
        assert [s for b in blocks for s in b] == list(range(replicates(config).seeds))
        assert all(len(b) <= replicates(config).chunk_seeds for b in blocks)
    assert sum(c.units for c in chunks) == module.cost(config).units  # the progress bar reaches its total


def test_seed_blocks_split_in_order() -> None:
    assert seed_blocks(7, 3) == [range(0, 3), range(3, 6), range(6, 7)]
    assert seed_blocks(2, 32) == [range(0, 2)]


@pytest.mark.parametrize("name", CHUNKED)
def test_merging_does_not_depend_on_the_order_chunks_finish_in(name: str) -> None:
    module, config = get(name), _config(name)
    parts = [module.run_chunk(config, chunk) for chunk in module.chunks(config)]
    in_order = module.merge(config, parts)
    shuffled = parts[::-1]
    random.Random(0).shuffle(shuffled)
    same(in_order, module.merge(config, shuffled))
    same(in_order, run(module, config))  # computed again, in this process: the same bits
    assert [getattr(r, "run", i) for i, r in enumerate(in_order.records)] == list(range(len(in_order.records)))


def test_a_missing_doubled_or_foreign_chunk_is_refused() -> None:
    module, config = get("linear-block"), _config("linear-block")
    planned = module.chunks(config)
    parts = [module.run_chunk(config, c) for c in planned]
    with pytest.raises(ValueError, match="missing"):
        ordered(planned, parts[1:])
    with pytest.raises(ValueError, match="twice"):
        ordered(planned, [*parts, parts[0]])
    other = module.chunks(_config("linear-block", seeds=4))
    with pytest.raises(ValueError, match="not a chunk of this configuration"):
        ordered(other, parts)
    short = dataclasses.replace(parts[0], records=parts[0].records[:-1])
    with pytest.raises(ValueError, match="holds"):
        ordered(planned, [short, *parts[1:]])


@pytest.mark.parametrize(("name", "sub"), [("linear-block", {"variants": ("residual",)}),
                                           ("deep-stack", {"variants": ("rezero",), "depths": (3,)})])
def test_a_sub_grid_gives_its_runs_the_numbers_of_the_full_grid(name: str, sub: dict[str, Value]) -> None:
    # the streams are keyed by a part's coordinates in the full grid, not by its position in the configured lists
    full, part = run(get(name), _config(name)), run(get(name), _config(name, **sub))
    wanted = {k: v for k, v in sub.items() if k in ("variants", "depths")}

    def kept(r: object) -> bool:
        return all(getattr(r, k[:-1]) in v for k, v in wanted.items())  # variants → variant, depths → depth

    mine = [r for r in full.records if kept(r)]
    assert len(mine) == len(part.records) > 0
    for a, b in zip(mine, part.records, strict=True):
        same(dataclasses.replace(a, run=0), dataclasses.replace(b, run=0))


def test_streams_are_keyed_by_position() -> None:
    seeds = {derived_seed(0, 0, s) for s in range(100)} | {derived_seed(0, 1, s) for s in range(100)}
    assert len(seeds) == 200 and all(0 <= s < 2**64 for s in seeds)
    assert derived_seed(5, 1, 2, 3) == derived_seed(5, 1, 2, 3) != derived_seed(6, 1, 2, 3)
    a = torch.randn(3, generator=replicate_generator(7, 4))
    b = torch.randn(3, generator=replicate_generator(7, 4))
    assert torch.equal(a, b) and not torch.equal(a, torch.randn(3, generator=replicate_generator(7, 5)))


def test_data_and_initial_parameters_do_not_depend_on_the_chunk_size() -> None:
    from numerics.experiments.contract import Chunk
    from numerics.experiments.grid import RunGrid
    from numerics.experiments.tasks import Task, task_data
    from numerics.models import BlockSpec

    spec, task = BlockSpec(block="mlp", width=3, hidden=4), Task(target="near-identity", samples=5)
    x, y = task_data(spec, task, range(0, 3), 11, torch.float64)
    x1, y1 = task_data(spec, task, range(1, 2), 11, torch.float64)
    assert torch.equal(x[1:2], x1) and torch.equal(y[1:2], y1)

    def chunk(first: int, stop: int) -> Chunk:
        return Chunk(0, 0, (2, 1), "", first, stop, 0, 0, 0)

    from numerics.experiments.chunks import init_generator

    whole = RunGrid(3, ("xavier",), (0.1,)).initial_params(
        spec, 1.0, [init_generator(11, chunk(0, 3), s) for s in range(3)], torch.float64)
    block = RunGrid(1, ("xavier",), (0.1,), first_seed=2).initial_params(
        spec, 1.0, [init_generator(11, chunk(2, 3), 2)], torch.float64)
    assert all(torch.equal(whole[k][2:], block[k]) for k in whole)


def test_merged_curves_put_columns_side_by_side_and_pad_with_nan() -> None:
    a = Curves(np.arange(3), np.ones((3, 2)), ("a", "b"))
    b = Curves(np.arange(5), np.zeros((5, 1)), ("c",), predicted=(np.full(5, 2.0),), floor=0.5)
    m = merge_curves([a, b])
    assert m.labels == ("a", "b", "c") and m.values.shape == (5, 3) and m.floor == 0.5
    assert np.isnan(m.values[3:, :2]).all() and (m.values[:3, :2] == 1).all() and (m.values[:, 2] == 0).all()
    assert m.predicted[:2] == (None, None) and m.predicted[2] is not None
    with pytest.raises(ValueError, match="same steps"):
        merge_curves([a, Curves(np.arange(1, 4), np.ones((3, 1)), ("d",))])


# ---- the store's format: lossless ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["linear-block", "weight-decay", "trainable-depth"])
def test_chunk_results_read_back_bit_for_bit(name: str) -> None:
    module, config = get(name), _config(name)
    for chunk in module.chunks(config)[:2]:
        part = module.run_chunk(config, chunk)
        text = json.dumps(encode(part))  # what the store writes
        back = decode(json.loads(text))
        same(part, back)
        assert back.seconds == part.seconds  # even the clock


class _Colour(enum.StrEnum):
    RED = "red"


def test_the_codec_keeps_types_and_non_finite_numbers() -> None:
    from numerics.experiments.records import RunStatus

    values = [math.nan, math.inf, -math.inf, 0.1, -0.0, 2**70, True, None, "x", (1, (2.5,)), [1, 2],
              {"a": 1, (1, 2): 3}, np.float64(0.1), np.array([[np.nan, 1e-300]]), np.array([1, 2], dtype=np.int64),
              RunStatus.CONVERGED]
    back = decode(json.loads(json.dumps(encode(values))))
    for a, b in zip(values, back, strict=True):
        assert type(a) is type(b)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
        elif isinstance(a, float) and math.isnan(a):
            assert math.isnan(b)
        else:
            assert a == b and repr(a) == repr(b)
    assert back[-1] is RunStatus.CONVERGED  # the member itself, not an equal string


@pytest.mark.parametrize("document", [
    {"type": "os:system", "fields": {}},  # only hfx's own types may be named
    {"enum": "subprocess:Popen", "value": 1},
    {"type": "numerics.experiments.contract:Cost", "fields": {"memory_bytes": 1}},  # a field missing
    {"ndarray": "|O", "shape": [1], "data": ""},  # object arrays
    {"ndarray": "<f8", "shape": [2], "data": "AAAA"},  # wrong length
    {"float": "large"},
    {"what": 1},
    {"tuple": 3},
])
def test_the_codec_refuses_what_it_did_not_write(document: object) -> None:
    with pytest.raises(ValueError):
        decode(document)


def test_the_codec_refuses_types_it_cannot_store() -> None:
    with pytest.raises(TypeError):
        encode(_Colour.RED.__class__)  # a class
    with pytest.raises(TypeError):
        encode(object())
