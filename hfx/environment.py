"""The environment variables that the libraries hfx runs read, checked before any work (standard library only,
tqdm aside).

An environment variable is input like a command-line option: a value that a library cannot use is refused with
one line naming it (`UsageError`, exit 2) before anything is written, not an internal error after the work
(exit 3).  What hfx checks here:

* `SOURCE_DATE_EPOCH` (reproducible builds): a whole number of seconds since 1970, as NumPy, matplotlib and Typst
  read it; `abc` or `1.5` stops NumPy's and matplotlib's imports.
* `TQDM_*` (tqdm's defaults, e.g. `TQDM_MININTERVAL`): each is parsed by tqdm when a bar starts; a value of the
  wrong type would stop `hfx run` at its first progress bar.
* `OMP_NUM_THREADS` (OpenMP, which PyTorch's CPU kernels use): a positive whole number, or a comma-separated list
  of them (one per nesting level), as GNU libgomp parses it; libgomp reads it when PyTorch is loaded and says
  "libgomp: Invalid value for environment variable OMP_NUM_THREADS" on standard error for anything else (`abc`,
  `0`, an empty value, a number over 2^64 − 1), once per copy of the library, then goes on with its default.
* `MKL_NUM_THREADS` (Intel MKL, in PyTorch's CPU build): digits only; PyTorch caps a larger number at the
  cores and takes 0 or an empty value as its default, but anything else (`abc`, `2abc`, ` 3`, `+3`, `-1`) makes
  it run on 1 thread without a word (measured with torch 2.13).
* `MPLBACKEND`: hfx only writes figures to files (PDF, PNG) and never opens a window, so the backend is always
  matplotlib's file backend, Agg, whatever the variable says (`MPLBACKEND=nope` stops matplotlib's import, and an
  interactive backend would need a display).
"""

from __future__ import annotations

import io
import os
import re

from hfx.errors import UsageError

_EPOCH = re.compile(r"^[0-9]{1,12}$")
_THREADS = re.compile(r"^[ \t\n\v\f\r]*\+?([0-9]+)[ \t\n\v\f\r]*$")  # one entry as libgomp's strtoul takes it
_ULONG_MAX = 2**64 - 1
_MKL_THREADS = re.compile(r"^[0-9]+$")
# the types tqdm gives the TQDM_* variables of parameters whose default is None (tqdm.std, `envwrap(types=…)`)
_TQDM_TYPES = {"total": float, "ncols": int, "miniters": float, "position": int, "nrows": int}


def check_environment() -> None:
    """UsageError for an environment variable that a library hfx uses cannot take (module docstring); sets
    MPLBACKEND to Agg for this process and its workers."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and not _EPOCH.match(epoch.strip()):
        raise UsageError(f"the environment variable SOURCE_DATE_EPOCH must be a whole number of seconds since "
                         f"1970-01-01 (reproducible builds), got {epoch!r}; unset it or correct it")
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads is not None and not _omp_threads_valid(threads):
        raise UsageError(f"the environment variable OMP_NUM_THREADS must be a positive whole number of threads (or a "
                         f"comma-separated list of them), got {threads!r}; unset it or correct it")
    mkl = os.environ.get("MKL_NUM_THREADS")
    if mkl and not _MKL_THREADS.match(mkl):
        raise UsageError(f"the environment variable MKL_NUM_THREADS must be a whole number of threads (digits only), "
                         f"got {mkl!r}, with which PyTorch runs on 1 thread; unset it or correct it")
    tqdm_names = sorted(k for k in os.environ if k.startswith("TQDM_"))
    if tqdm_names:
        _check_tqdm(tqdm_names)
    os.environ["MPLBACKEND"] = "agg"


def _omp_threads_valid(value: str) -> bool:
    """Whether GNU libgomp takes `value` for OMP_NUM_THREADS: entries 1 … 2^64 − 1 separated by commas."""
    entries = [_THREADS.match(entry) for entry in value.split(",")]
    return all(m is not None and 0 < int(m.group(1)) <= _ULONG_MAX for m in entries)


def _check_tqdm(names: list[str]) -> None:
    """UsageError if tqdm cannot start a bar with the TQDM_* variables `names` (it parses them then)."""
    try:  # tqdm applies the variables to its defaults when it is imported: the same again, now (an earlier
        # import, in this process, saw another environment)
        from tqdm import std, utils

        init = std.tqdm.__dict__["__init__"]
        utils.envwrap("TQDM", is_method=True, types=_TQDM_TYPES)(getattr(init, "func", init))
        std.tqdm(total=1, file=io.StringIO(), disable=False).close()
    except ImportError:
        return
    except Exception as exc:  # tqdm's own parsing: ValueError, TypeError, … (whatever the variable holds)
        shown = ", ".join(f"{k}={os.environ[k]!r}" for k in names)
        raise UsageError(f"the environment variables {shown} hold a value that tqdm (the progress bars) cannot use "
                         f"({type(exc).__name__}: {exc}); unset or correct them") from None
