"""Data of the degradation study (numerics.degradation.data): the digits, CIFAR-10's python batches (a small
synthetic set in that format), and every way the files can be wrong (exit 2 from the command line, nothing
written)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from hfx.cli import main
from numerics.degradation.data import (
    CIFAR_FOLDER,
    CIFAR_TEST,
    CIFAR_TRAIN,
    DataError,
    cifar10,
    digits,
    write_cifar_like,
)

PER_BATCH = 20


@pytest.fixture
def cifar_dir(tmp_path: Path) -> Path:
    write_cifar_like(tmp_path / CIFAR_FOLDER, PER_BATCH, np.random.default_rng(0))
    return tmp_path


def test_digits_split_is_a_partition_standardised_on_the_training_set() -> None:
    d = digits()
    assert d.x_train.shape[1:] == (1, 8, 8) and len(d.y_train) + len(d.y_test) == 1797
    assert torch.allclose(d.x_train.mean(dim=0), torch.zeros(1, 8, 8), atol=1e-4)
    assert set(d.y_train.tolist()) == set(range(10))


def test_cifar_batches_are_read_as_images_and_labels(cifar_dir: Path) -> None:
    d = cifar10(str(cifar_dir))  # the folder holding cifar-10-batches-py …
    again = cifar10(str(cifar_dir / CIFAR_FOLDER))  # … or that folder itself
    assert d.x_train.shape == (5 * PER_BATCH, 3, 32, 32) and d.x_test.shape == (PER_BATCH, 3, 32, 32)
    assert torch.equal(d.x_train, again.x_train) and d.x_train.dtype == torch.float32
    # labels as written: batch i holds (i + j) mod 10
    assert d.y_train[:3].tolist() == [0, 1, 2] and d.y_train[PER_BATCH:PER_BATCH + 2].tolist() == [1, 2]
    # pixel (channel 1, row 2, column 3) of the first image is byte 1024 + 2·32 + 3 of its row
    def raw_batch(name: str) -> np.ndarray:
        with open(cifar_dir / CIFAR_FOLDER / name, "rb") as handle:
            return np.asarray(pickle.load(handle, encoding="bytes")[b"data"], dtype=np.float64)

    raw = raw_batch(CIFAR_TRAIN[0])
    train = np.concatenate([raw_batch(n) for n in CIFAR_TRAIN])
    mean, std = train.mean(axis=0), train.std()
    expected = (raw[0, 1024 + 2 * 32 + 3] - mean[1024 + 2 * 32 + 3]) / std
    assert float(d.x_train[0, 1, 2, 3]) == pytest.approx(expected, rel=1e-5)
    assert d.limited(7).x_train.shape[0] == 7 and d.limited(0) is d


def _rewrite(folder: Path, name: str, obj: object) -> None:
    with open(folder / CIFAR_FOLDER / name, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch hacked",))


@pytest.mark.parametrize("case,obj,message", [
    ("a list", [1, 2], "not a dict"),
    ("no labels", {b"data": np.zeros((2, 3072), np.uint8)}, "no 'data' and 'labels'"),
    ("wrong shape", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, "uint8 array"),
    ("wrong dtype", {b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8 array"),
    ("label count", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "must be 2 integers"),
    ("label range", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "labels must be in 0…9"),
    ("empty", {b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, "empty batch"),
    ("code", _Evil(), "refuses to build"),
])
def test_malformed_batches_are_data_errors(cifar_dir: Path, case: str, obj: object, message: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cifar_dir)
    _rewrite(cifar_dir, CIFAR_TEST, obj)
    with pytest.raises(DataError, match=message):
        cifar10(str(cifar_dir))
    assert not (cifar_dir / "hacked").exists()  # nothing in a data file is executed


def test_missing_or_truncated_files_are_data_errors(cifar_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        cifar10(str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="needs data_dir"):
        cifar10("")
    (cifar_dir / CIFAR_FOLDER / CIFAR_TRAIN[2]).unlink()
    with pytest.raises(DataError, match="missing data_batch_3"):
        cifar10(str(cifar_dir))
    write_cifar_like(cifar_dir / CIFAR_FOLDER, PER_BATCH, np.random.default_rng(1))
    blob = (cifar_dir / CIFAR_FOLDER / CIFAR_TRAIN[1]).read_bytes()
    (cifar_dir / CIFAR_FOLDER / CIFAR_TRAIN[1]).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="not a CIFAR-10 python batch"):
        cifar10(str(cifar_dir))


@pytest.mark.parametrize("sets,message", [
    (["data=cifar10"], "needs data_dir"),
    (["data=cifar10", "data_dir=/nonexistent/cifar"], "does not exist"),
    (["data_dir=/tmp"], "data_dir is for data=cifar10"),
    (["model=cnn", "depths=20,22"], "6n + 2"),
    (["device=cuda"], "CUDA") if not torch.cuda.is_available() else (["depths=7"], "even"),
])
def test_bad_data_options_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  sets: list[str], message: str) -> None:
    out = tmp_path / "out"
    args = ["run", "degradation", "--out", str(out)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_a_malformed_batch_on_the_command_line_writes_nothing(cifar_dir: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    _rewrite(cifar_dir, CIFAR_TRAIN[0], {b"data": np.zeros((2, 5), np.uint8), b"labels": [0, 1]})
    out = tmp_path / "out"
    code = main(["run", "degradation", "--out", str(out), "--set", "data=cifar10", "--set", f"data_dir={cifar_dir}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "data_batch_1" in err and "\n" not in err and not out.exists()


def test_the_cnn_trains_on_cifar_format_data(cifar_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["run", "degradation", "--out", str(out), "--json", "--set", "data=cifar10",
                 "--set", f"data_dir={cifar_dir}", "--set", "model=cnn", "--set", "depths=8", "--set", "width=2",
                 "--set", "epochs=1", "--set", "batch_size=16", "--set", "lrs=0.1", "--set", "widen=0",
                 "--set", "norms=batch", "--seeds", "1", "--no-figures"])
    assert code == 0
    import json

    doc = json.loads((out / "summary.json").read_text())
    assert doc["config"]["data"] == "cifar10" and len(doc["records"]) == 2  # plain and residual, one seed
    assert all(r["data"] == "cifar10" and r["model"] == "cnn" and r["depth"] == 8 for r in doc["records"])
