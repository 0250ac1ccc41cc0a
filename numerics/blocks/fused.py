"""The fused CPU engine: loss and gradients of R dense stacks in one native call per step.

What it computes, per run r (the same quantities as `loss_per_run` and autograd, see `stack.py`):
L_r = (1/2N) Σ_j ‖H(x_j) − y_j‖² and ∂L_r/∂θ_r for every weight of a linear or mlp stack, any variant
(plain, residual, rezero, skipinit, fixup), σ ∈ {relu, tanh, gelu (exact, erf)}, float32 or float64.

Why: the batched tensor program spends its time in tiny batched matmuls (16×16 per run) and in the
memory traffic between them; here each run's forward and backward passes run from beginning to end
with its activations in cache, every product a register-tiled loop (`_fused.cpp`).  Runs are split
over `torch.get_num_threads()` threads (ctypes releases the GIL).  Activations are checkpointed
(kept for one segment of S layers and recomputed from the segment's input) when keeping all of them
would take more than `CHECKPOINT_BYTES` per thread, so memory stays linear in depth and small.  Each
thread keeps its scratch memory (at most about that budget) for the next call.

How: `_fused.cpp` is compiled once per machine with the system C++ compiler (`$CXX`, `c++` or `g++`)
into a cache folder (`$HFX_CACHE_DIR`, else `$XDG_CACHE_HOME/hfx`, else `~/.cache/hfx` if the home folder
exists, else a private folder under the temporary folder), keyed by a
hash of the source, the compiler and the CPU, and loaded with ctypes.  Where no compiler is found,
or on any other device than the CPU, `available()` is False and the training loop uses autograd
(`stack.py`), its independent slow twin: the two are compared in tests/test_fused.py.
Full-batch (S)GD goes one step further and takes a block of steps per call (`fused_steps.py`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import itertools
import math
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from numerics.blocks.spec import BlockSpec, Params

SOURCE = Path(__file__).with_name("_fused.cpp")
CHECKPOINT_BYTES = 64 * 2**20  # per thread: keep every layer's activations up to this size, else checkpoint
_FLAGS = ["-O3", "-march=native", "-std=c++17", "-fPIC", "-shared", "-fopenmp-simd"]
if platform.machine().lower() in ("x86_64", "amd64"):  # an x86 option: elsewhere it is a compile error
    _FLAGS.append("-mprefer-vector-width=512")  # GCC's default on AVX-512 CPUs is 256-bit vectors in loops
_ACT = {"relu": 0, "tanh": 1, "gelu": 2}


class _Shape(ctypes.Structure):
    _fields_ = [("R", ctypes.c_int64), ("L", ctypes.c_int64), ("N", ctypes.c_int64), ("d", ctypes.c_int64),
                ("m", ctypes.c_int64), ("mlp", ctypes.c_int), ("variant", ctypes.c_int), ("act", ctypes.c_int),
                ("S", ctypes.c_int64)]


def _cache_dir() -> Path:
    """$HFX_CACHE_DIR, else $XDG_CACHE_HOME/hfx, else ~/.cache/hfx; a home folder that does not exist (a service
    account's HOME=/nonexistent) is never created: the machine's temporary folder holds the cache instead."""
    if os.environ.get("HFX_CACHE_DIR"):
        return Path(os.environ["HFX_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "hfx"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        home = None
    if home is None or not home.is_dir():
        return _private_temp()
    return home / ".cache" / "hfx"


def _private_temp() -> Path:
    """A folder of this user's alone under the temporary folder (created 0700; one that another user made, or a
    link, is not used: a compiled library is loaded from it)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"hfx-cache-{uid}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = os.lstat(folder)
    if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o022:
        return folder
    return Path(tempfile.mkdtemp(prefix="hfx-cache-"))


def cpu_info() -> tuple[str, frozenset[str]]:
    """The CPU's model name and feature flags as Linux's /proc/cpuinfo gives them for its first CPU; elsewhere the
    platform's processor name and no flags."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() + platform.machine(), frozenset()
    lines = text.splitlines()
    model = next((ln.partition(":")[2].strip() for ln in lines if ln.startswith("model name")), platform.machine())
    flags = next((ln.partition(":")[2].split() for ln in lines if ln.startswith("flags")), [])
    return model, frozenset(flags)


def _cpu_key() -> str:
    """The CPU's identity for -march=native: its model and feature flags."""
    model, flags = cpu_info()
    return model + "\n" + " ".join(sorted(flags))


def _compile(compiler: str, flags: list[str], out: Path) -> bool:
    """Compile `_fused.cpp` to `out` (atomically); first with glibc's vector maths (libmvec), then without."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for extra in (["-lmvec"], ["-DHFX_NO_MVEC"]):
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
        os.close(fd)
        try:
            done = subprocess.run([compiler, *flags, str(SOURCE), "-o", tmp, *extra], capture_output=True,
                                  timeout=300, check=False)
            if done.returncode == 0:
                ctypes.CDLL(tmp)  # loads: every symbol resolved
                os.replace(tmp, out)
                return True
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return False


@cache
def _library() -> ctypes.CDLL | None:
    """The compiled engine for this CPU (-march=native), compiled on first use; None where it cannot be built."""
    return build("native")


def build(march: str = "native") -> ctypes.CDLL | None:
    """The engine compiled for `-march=<march>` (cached like the native one); None where it cannot be built.

    Other instruction sets than the CPU's own are for tests: the register tiles differ by instruction set
    (`vector_geometry`), and a build for a set this CPU lacks must not be called (illegal instruction).
    """
    compiler = next((c for c in (os.environ.get("CXX"), "c++", "g++") if c and shutil.which(c)), None)
    if compiler is None or platform.system() != "Linux":
        return None
    try:
        done = subprocess.run([compiler, "--version"], capture_output=True, timeout=30)
        version = done.stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    flags = [f"-march={march}" if f == "-march=native" else f for f in _FLAGS]
    source = SOURCE.read_text(encoding="utf-8")
    key = hashlib.sha256("\0".join([source, version, " ".join(flags), _cpu_key()]).encode())
    try:
        path = _cache_dir() / f"fused-{key.hexdigest()[:20]}.so"
        if not path.exists():
            if sys.stderr is not None and sys.stderr.isatty():  # (a terminal only: logs and pipes stay as they were)
                print(f"hfx: compiling the fused engine for this CPU (-march={march}), once: about 10 s",
                      file=sys.stderr, flush=True)
            if not _compile(compiler, flags, path):
                return None
        lib = ctypes.CDLL(str(path))
    except OSError:
        return None
    p, i64 = ctypes.c_void_p, ctypes.c_int64
    for name in ("hfx_dense_f32", "hfx_dense_f64"):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.POINTER(_Shape), i64, i64, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p]
        fn.restype = ctypes.c_int
    for name in ("hfx_vector_bytes", "hfx_vector_registers", "hfx_tanh_kind"):
        getattr(lib, name).argtypes, getattr(lib, name).restype = [], ctypes.c_int
    lib.hfx_tanh_f32.argtypes, lib.hfx_tanh_f32.restype = [i64, p, p], None
    return lib


def vector_geometry(lib: ctypes.CDLL | None = None) -> tuple[int, int] | None:
    """(bytes per vector register, number of registers) that the engine's tiles were sized for (AVX-512: 64, 32;
    AVX2: 32, 16; SSE2: 16, 16; AArch64: 16, 32); None where no engine is built."""
    lib = lib if lib is not None else _library()
    return None if lib is None else (lib.hfx_vector_bytes(), lib.hfx_vector_registers())


def tanh_f32(z: torch.Tensor, lib: ctypes.CDLL | None = None) -> torch.Tensor:
    """The engine's float32 tanh of `z` (any shape, device and floating type; the result is a float32 CPU tensor),
    as its forward pass computes it: on AVX2 CPUs without AVX-512 its own vector tanh (`_fused.cpp`, below 1
    ulp), elsewhere the C library's `tanhf`."""
    lib = lib if lib is not None else _library()
    if lib is None:
        raise RuntimeError("the fused engine is not built on this machine")
    x = z.detach().to(device="cpu", dtype=torch.float32).contiguous()  # the engine reads CPU memory
    out = torch.empty_like(x)
    lib.hfx_tanh_f32(x.numel(), x.data_ptr(), out.data_ptr())
    return out


def tanh_kind(lib: ctypes.CDLL | None = None) -> str | None:
    """Which float32 tanh the engine uses: "avx2" (its own) or "libm" (the C library's); None without an engine."""
    lib = lib if lib is not None else _library()
    return None if lib is None else ("avx2" if lib.hfx_tanh_kind() == 1 else "libm")


def available() -> bool:
    """Whether the fused engine is built (or can be built) on this machine."""
    return _library() is not None


def supports(spec: BlockSpec, x: torch.Tensor) -> bool:
    """Whether the fused engine computes this batch: dense blocks, CPU float32/float64 tensors, built engine."""
    return (spec.block in ("linear", "mlp") and x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            and available())


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hfx-fused")


def segment_length(spec: BlockSpec, samples: int, itemsize: int, budget: int = CHECKPOINT_BYTES) -> int:
    """S: layers whose activations a thread keeps at once: L if all fit in `budget`, else ⌈√L⌉.

    Memory per thread is then S·b + ⌈L/S⌉·N·d·itemsize (b: bytes per layer), at most 2√L·b, and the
    backward pass recomputes every segment but the last once (one extra forward pass).
    """
    # per layer: h (N·d), then for an mlp a (N·m) and, for GELU only, z (N·m); F (N·d) for a scaled variant
    hidden = (spec.block == "mlp") * (1 + (spec.activation == "gelu")) * spec.hidden / spec.width
    per_layer = samples * spec.width * (1 + hidden + spec.scaled)
    if spec.depth * per_layer * itemsize <= budget:
        return spec.depth
    return max(1, math.isqrt(spec.depth - 1) + 1)


@dataclass(frozen=True)
class PendingStep:
    """A plain (S)GD step not yet taken: θ_r ← θ_r − (η_r·G_r + c_r·θ_r) for every run r that moves.

    `rate` η (R,), `decay` c = ηλ (R,) (l2 and decoupled decay coincide for (S)GD), `grads` G: the gradients
    the step was computed from (they may be the `out` tensors of the call that takes the step), `moving` (R,)
    bool: the runs that take the step (None: all); the others keep their parameters exactly, whatever their
    η, c or G.  A moving run with η = 0 still takes it (0·G is NaN where G is not finite, as in torch).
    `loss_and_grads(..., step=)` takes it on each run, in place, just before the run's loss and gradients are
    computed, while its weights are in cache: no separate pass over memory.  All tensors on the CPU.
    """

    rate: torch.Tensor
    decay: torch.Tensor
    grads: Params
    moving: torch.Tensor | None = None


def weight_shapes(spec: BlockSpec, R: int) -> dict[str, tuple[int, ...]]:
    """The shape of each parameter of R runs in the native layout: (R, L, out, in), α (R, L)."""
    return {k: (R, *shape) for k, shape in spec.weight_shapes().items()} | {"alpha": (R, spec.depth)}


def native_shape(spec: BlockSpec, x: torch.Tensor, y: torch.Tensor, segment: int | None) -> _Shape:
    """The native code's description of a batch, after checking what it trusts: x and y (R, N ≥ 1, d) alike, and
    a checkpoint segment ≥ 1 (default `segment_length`).  (The native code is handed pointers: every shape is
    checked before, by this function and the callers' own checks of the parameters.)"""
    if x.dim() != 3 or x.shape[2] != spec.width or x.shape[1] < 1 or tuple(y.shape) != tuple(x.shape):
        raise ValueError(f"x and y must both be (R, N ≥ 1, {spec.width}), got {tuple(x.shape)} and {tuple(y.shape)}")
    R, N = x.shape[0], x.shape[1]
    S = segment if segment is not None else segment_length(spec, N, x.element_size())
    if S < 1:
        raise ValueError(f"segment must be ≥ 1, got {S}")
    variant = 2 if spec.scaled else (1 if spec.residual else 0)
    return _Shape(R, spec.depth, N, spec.width, spec.hidden, int(spec.block == "mlp"), variant,
                  _ACT[spec.activation], min(S, spec.depth))


def loss_and_grads(
    spec: BlockSpec,
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    want_grads: bool = True,
    skip: torch.Tensor | None = None,
    segment: int | None = None,
    out: Params | None = None,
    step: PendingStep | None = None,
) -> tuple[torch.Tensor, Params | None]:
    """L_r (R,) and, with `want_grads`, ∂L_r/∂θ_r in the layout of `params` ((R, L, out, in); α (R, L)).

    x, y: (R, N, d).  `skip` (R,) bool: runs not computed (loss NaN, gradients 0), e.g. frozen runs.
    `segment`: layers per checkpoint segment (default `segment_length`).  `out`: contiguous tensors shaped
    as `params` to write the gradients into (reused across steps: no allocation, no page faults).
    `step`: a pending (S)GD step, taken first on `params` in place (they must then be contiguous tensors of
    x's dtype); the loss and gradients are those of the parameters after it.
    Requires `supports(spec, x)`.
    """
    lib = _library()
    if lib is None or not supports(spec, x):
        raise RuntimeError("the fused engine does not support this batch (see numerics.blocks.fused.supports)")
    dtype = x.dtype
    names = ("W1", "W2") if spec.block == "mlp" else ("W",)
    weights = [params[k].detach().to(dtype).contiguous() for k in names]
    alpha = params["alpha"].detach().to(dtype).contiguous() if spec.scaled else None
    x, y = x.detach().contiguous(), y.detach().to(dtype).contiguous()
    R = x.shape[0]
    expected = weight_shapes(spec, R)
    for k, t in zip((*names, "alpha"), (*weights, alpha), strict=True):
        if t is not None and tuple(t.shape) != expected[k]:
            raise ValueError(f"{k} has shape {tuple(t.shape)}, expected {expected[k]} for {R} runs of {spec}")
    shape = native_shape(spec, x, y, segment)
    if skip is not None and tuple(skip.shape) != (R,):
        raise ValueError(f"skip must be ({R},), got {tuple(skip.shape)}")
    pending: list[torch.Tensor | None] = [None] * 6
    if step is not None:
        for k, w in zip((*names, "alpha"), (*weights, alpha), strict=True):
            if w is not None and w.data_ptr() != params[k].data_ptr():
                raise ValueError(f"a pending step updates {k} in place: it must be a contiguous {dtype} tensor")
        rate, decay = (t.detach().to(dtype).contiguous() for t in (step.rate, step.decay))
        if tuple(rate.shape) != (R,) or tuple(decay.shape) != (R,):
            raise ValueError(f"a pending step's rate and decay must be ({R},)")
        G = {k: step.grads[k] for k in (*names, *(("alpha",) if alpha is not None else ()))}
        for k, gk in G.items():
            if gk.dtype != dtype or not gk.is_contiguous() or gk.shape != params[k].shape:
                raise ValueError(f"a pending step's grads[{k!r}] must be a contiguous {dtype} tensor shaped as {k}")
        move = step.moving.to(torch.uint8).contiguous() if step.moving is not None else None
        if move is not None and tuple(move.shape) != (R,):
            raise ValueError(f"a pending step's moving must be ({R},), got {tuple(move.shape)}")
        pending = [rate, decay, G[names[0]], G[names[-1]], G.get("alpha"), move]
    loss = torch.empty(R, dtype=dtype)
    grads: Params | None = None
    if want_grads:
        like = dict(zip(names, weights, strict=True)) | ({"alpha": alpha} if alpha is not None else {})
        if out is None:
            grads = {k: torch.empty_like(w) for k, w in like.items()}
        else:
            for k, w in like.items():
                if out[k].shape != w.shape or out[k].dtype != w.dtype or not out[k].is_contiguous():
                    raise ValueError(f"out[{k!r}] must be a contiguous {w.dtype} tensor of shape {tuple(w.shape)}")
            grads = {k: out[k] for k in like}
    skip_u8 = skip.to(torch.uint8).contiguous() if skip is not None else None
    # the native code reads and writes host memory: a tensor elsewhere (CUDA, meta) would hand it a bad pointer
    handed = [("params", t) for t in (*weights, alpha)] + [("y", y), ("skip", skip_u8)]
    handed += [("the pending step", t) for t in pending] + [("out", t) for t in (grads or {}).values()]
    for what, t in handed:
        if t is not None and t.device.type != "cpu":
            raise ValueError(f"the fused engine needs {what} on the CPU, got a tensor on {t.device}")

    def ptr(t: torch.Tensor | None) -> int | None:
        return t.data_ptr() if t is not None else None

    fn = lib.hfx_dense_f64 if dtype == torch.float64 else lib.hfx_dense_f32
    g1 = grads[names[0]] if grads is not None else None
    g2 = grads[names[-1]] if grads is not None else None
    ga = grads.get("alpha") if grads is not None else None
    args = (ptr(x), ptr(y), ptr(weights[0]), ptr(weights[-1]), ptr(alpha), ptr(skip_u8), ptr(loss), ptr(g1),
            ptr(g2), ptr(ga), *(ptr(t) for t in pending))

    def call(r0: int, r1: int) -> None:
        if fn(ctypes.byref(shape), r0, r1, *args) != 0:
            raise RuntimeError("the fused engine failed")

    threads = max(1, min(torch.get_num_threads(), R))
    if threads == 1:
        call(0, R)
    else:
        bounds = [R * i // threads for i in range(threads + 1)]
        for f in [_pool(threads).submit(call, a, b) for a, b in itertools.pairwise(bounds)]:
            f.result()
    return loss, grads
