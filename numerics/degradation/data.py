"""The image data of the degradation study: scikit-learn's 8×8 digits, or CIFAR-10 from its python batches.

Both come as a `Dataset` of float32 images (N, C, H, W) with int64 labels, standardised with training-set
statistics only:

* **digits** (`sklearn.datasets.load_digits`, 1,797 grey 8×8 images, 10 classes; shipped with scikit-learn):
  split 70/30 into train and test by a NumPy generator (the study fixes it, `DIGITS_SPLIT_SEED`), then each
  pixel standardised by its training mean and standard deviation (+1e-6: border pixels are constant 0).
* **cifar10** (Krizhevsky, *Learning Multiple Layers of Features from Tiny Images*, 2009; the "python version"
  of https://www.cs.toronto.edu/~kriz/cifar.html): the folder `cifar-10-batches-py` (or a folder holding it)
  with `data_batch_1` … `data_batch_5` (training) and `test_batch`, each a pickled dict with ``data``, a
  (10000, 3072) uint8 array, rows of 1,024 red, then green, then blue values of a 32×32 image in row-major
  order, and ``labels``, a list of 10,000 ints in 0…9.  He et al. 2016 (§4.2) subtract the per-pixel mean; here
  each pixel and channel is centred by its training mean and the whole set scaled by one training standard
  deviation.  No data augmentation (He et al. pad by 4 pixels, crop and flip: not done here, stated).
  Nothing is downloaded.  The pickles are read with a restricted unpickler that builds only NumPy arrays,
  lists, dicts, strings and numbers (a pickle that asks for anything else is malformed data, never executed).

Every problem with the files is a `DataError` (a ValueError) with one line naming the file and what is wrong;
`hfx` reports it as bad input (exit 2) before anything is written.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

DATASETS = ("digits", "cifar10")
DIGITS_SPLIT_SEED = 0  # the train/test split of the digits is fixed: seeds vary only initialisation and order
DIGITS_TRAIN_FRACTION = 0.7  # 1,257 training and 540 test digits
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"
CIFAR_SIDE, CIFAR_CHANNELS, CIFAR_CLASSES = 32, 3, 10
MAX_PICKLE_BYTES = 512 << 20  # a CIFAR-10 batch is ~31 MB; anything far larger is not one


class DataError(ValueError):
    """The data on disk is missing or malformed (one line: the file and what is wrong)."""


@dataclass(frozen=True)
class Dataset:
    """Standardised images and labels, split into training and test sets."""

    name: str  # digits or cifar10
    x_train: torch.Tensor  # (N, C, H, W) float32
    y_train: torch.Tensor  # (N,) int64 in 0 … classes − 1
    x_test: torch.Tensor  # (M, C, H, W) float32
    y_test: torch.Tensor  # (M,) int64
    classes: int  # number of classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        c, h, w = self.x_train.shape[1:]
        return int(c), int(h), int(w)

    def limited(self, train: int) -> Dataset:
        """The first `train` training images (0: all): a smaller set for a CPU-sized look at CIFAR-10."""
        if train <= 0 or train >= len(self.y_train):
            return self
        return Dataset(self.name, self.x_train[:train], self.y_train[:train], self.x_test, self.y_test, self.classes)


def digits(split_seed: int = DIGITS_SPLIT_SEED) -> Dataset:
    """The 8×8 digits as (N, 1, 8, 8) images, split and standardised as in the module docstring."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = np.asarray(raw.data, dtype=np.float64)  # (1797, 64)
    y = np.asarray(raw.target, dtype=np.int64)  # (1797,)
    order = np.random.default_rng(split_seed).permutation(len(x))
    cut = int(DIGITS_TRAIN_FRACTION * len(x))
    train, test = order[:cut], order[cut:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
    x = ((x - mean) / std).reshape(-1, 1, 8, 8)
    return Dataset("digits", torch.tensor(x[train], dtype=torch.float32), torch.tensor(y[train]),
                   torch.tensor(x[test], dtype=torch.float32), torch.tensor(y[test]), 10)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles NumPy arrays and plain containers only (module docstring)."""

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset({
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"), ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"),
        ("__builtin__", "object"), ("builtins", "object"), ("__builtin__", "bytes"), ("builtins", "bytes"),
    })

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refuses to build {module}.{name}")


def cifar_folder(data_dir: str) -> Path:
    """The folder that holds the batches: `data_dir` itself or its `cifar-10-batches-py` (DataError if neither)."""
    if not data_dir:
        raise DataError("data=cifar10 needs data_dir=PATH (the CIFAR-10 python batches; nothing is downloaded)")
    root = Path(data_dir).expanduser()
    for folder in (root / CIFAR_FOLDER, root):
        if all((folder / name).is_file() for name in (*CIFAR_TRAIN, CIFAR_TEST)):
            return folder
    if not root.exists():
        raise DataError(f"data_dir {data_dir!r} does not exist")
    missing = [n for n in (*CIFAR_TRAIN, CIFAR_TEST) if not (root / n).is_file() and not (root / CIFAR_FOLDER / n)
               .is_file()]
    raise DataError(f"data_dir {data_dir!r} holds no CIFAR-10 python batches (missing {', '.join(missing)}; "
                    f"expected {CIFAR_FOLDER}/data_batch_1 … test_batch)")


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) of one pickled batch; DataError if malformed."""
    try:
        size = path.stat().st_size
        if size > MAX_PICKLE_BYTES:
            raise DataError(f"{path}: {size} bytes, too large for a CIFAR-10 batch")
        with open(path, "rb") as handle:
            blob = handle.read()
        obj = _ArraysOnly(io.BytesIO(blob), encoding="bytes").load()
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    except Exception as exc:  # any unpickling failure is malformed data
        raise DataError(f"{path}: not a CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: not a CIFAR-10 python batch (a {type(obj).__name__}, not a dict)")
    keys = {k.decode("latin-1") if isinstance(k, bytes) else k: v for k, v in obj.items()}
    if "data" not in keys or "labels" not in keys:
        raise DataError(f"{path}: not a CIFAR-10 python batch (no 'data' and 'labels' entries)")
    data, labels = keys["data"], keys["labels"]
    pixels = CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != pixels:
        shape = getattr(data, "shape", None)
        raise DataError(f"{path}: 'data' must be a (n, {pixels}) uint8 array, got {type(data).__name__} {shape}")
    if not len(data):
        raise DataError(f"{path}: an empty batch")
    try:
        y = np.asarray(labels)
    except Exception:
        raise DataError(f"{path}: 'labels' is not a list of integers") from None
    if y.ndim != 1 or len(y) != len(data) or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{path}: 'labels' must be {len(data)} integers, got {y.dtype} of shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= CIFAR_CLASSES):
        raise DataError(f"{path}: labels must be in 0…{CIFAR_CLASSES - 1}, got {int(y.min())}…{int(y.max())}")
    return data.reshape(-1, CIFAR_CHANNELS, CIFAR_SIDE, CIFAR_SIDE), y.astype(np.int64)


def cifar10(data_dir: str) -> Dataset:
    """CIFAR-10 from its python batches under `data_dir` (module docstring); DataError if missing or malformed.

    Cached per folder and file modification times, so that validating a configuration and running it read
    the files once per process.
    """
    folder = cifar_folder(data_dir)
    stamps = tuple((n, os.stat(folder / n).st_mtime_ns, os.stat(folder / n).st_size) for n in (*CIFAR_TRAIN,
                                                                                                  CIFAR_TEST))
    return _cifar10_cached(str(folder.resolve()), stamps)


@functools.lru_cache(maxsize=2)
def _cifar10_cached(folder: str, stamps: tuple[tuple[str, int, int], ...]) -> Dataset:
    parts = [_read_batch(Path(folder) / n) for n in CIFAR_TRAIN]
    x_train = np.concatenate([p[0] for p in parts]).astype(np.float32)
    y_train = np.concatenate([p[1] for p in parts])
    test_x, y_test = _read_batch(Path(folder) / CIFAR_TEST)
    mean = x_train.mean(axis=0, keepdims=True)  # per pixel and channel
    std = float(x_train.std()) or 1.0
    x_test = (test_x.astype(np.float32) - mean) / std
    x_train = (x_train - mean) / std
    return Dataset("cifar10", torch.from_numpy(x_train), torch.from_numpy(y_train), torch.from_numpy(x_test),
                   torch.from_numpy(y_test), CIFAR_CLASSES)


def load(name: str, data_dir: str = "", train_samples: int = 0) -> Dataset:
    """The dataset `name` (one of DATASETS), its training set limited to `train_samples` images (0: all)."""
    if name == "digits":
        return digits().limited(train_samples)
    if name == "cifar10":
        return cifar10(data_dir).limited(train_samples)
    raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")


def write_cifar_like(folder: Path, images_per_batch: int, generator: np.random.Generator) -> None:
    """Write a small synthetic data set in the CIFAR-10 python format (for tests): random images, labels
    0…9 cycled, five training batches and a test batch, pickled (protocol 2, as the originals) with NumPy."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE
    for i, name in enumerate((*CIFAR_TRAIN, CIFAR_TEST)):
        data = generator.integers(0, 256, size=(images_per_batch, pixels), dtype=np.uint8)
        labels = [int((i + j) % CIFAR_CLASSES) for j in range(images_per_batch)]
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"{name}_{j}.png".encode() for j in range(images_per_batch)]}
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle, protocol=2)
