"""Dask's distributed scheduler for `hfx run` and `hfx verify`: `--workers N` and `--scheduler ADDRESS`.

``--workers N`` starts a `distributed.LocalCluster` on this machine: N worker processes of one thread each (the
chunks are small tensor programs that run fastest on one thread; `--threads` sets torch's threads inside each
chunk, as it does for a local run).  ``--scheduler ADDRESS`` uses an existing cluster (e.g. `dask-jobqueue` on
SLURM: docs/cluster.md).  Every worker must run the same packages as this process: the numbers are identical
only then, so the versions of hfx, Python, torch, NumPy, SciPy and scikit-learn on the workers are compared with
ours, and a difference is refused (exit 2) before any work.  Dask is imported only when one of these options is
given; `validate` (standard library only) checks them before anything heavy is imported.

The workers of a `LocalCluster` ignore Ctrl-C (the terminal sends it to the whole process group: hfx cancels the
pending chunks and exits 130) and die with this process, however it ends (`hfx.pool.die_with_parent`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hfx.errors import UsageError
from hfx.pool import children_ignore_sigint

if TYPE_CHECKING:
    from distributed import Client

MAX_WORKERS = 1024  # worker processes of a LocalCluster
CONNECT_TIMEOUT_S = 10  # to reach a scheduler
WORKER_WAIT_S = 120  # for a scheduler's first worker (batch-queued workers may still be starting)
CLOSE_TIMEOUT_S = 5  # to close a LocalCluster
MAX_HANDSHAKE_FRAMES = 64  # a scheduler's handshake is one small message (1 frame, ~60 bytes here)
MAX_HANDSHAKE_BYTES = 2**20
_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$")
_COMPARED = ("hfx", "torch", "numpy", "scipy", "scikit-learn")  # besides Python itself


def validate(workers: int | None, scheduler: str | None) -> None:
    """UsageError for a bad --workers / --scheduler (standard library only: before the heavy imports)."""
    if workers is not None and scheduler is not None:
        raise UsageError("--workers starts a cluster on this machine and --scheduler uses another one: give one")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be in [1, {MAX_WORKERS}], got {workers}")
    if workers is not None:
        from hfx.resources import available_memory, check_worker_processes

        check_worker_processes(workers, available_memory())
    if scheduler is not None:
        match = _ADDRESS.match(scheduler.strip())
        if not match or not 1 <= int(match.group(3)) <= 65535:
            raise UsageError(f"--scheduler {scheduler!r} is not a scheduler address (tcp://HOST:PORT or HOST:PORT)")
    if (workers is not None or scheduler is not None) and not _dask_installed():
        raise UsageError(NO_DASK)


NO_DASK = "--workers and --scheduler need Dask: pip install 'hfx[cluster]'"


def _dask_installed() -> bool:
    """Whether `distributed` can be found (without importing it: standard library only)."""
    import importlib.util

    try:
        return importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):
        return False


def environment() -> dict[str, Any]:
    """What must agree between this process and a worker, and whether the worker has a CUDA device."""
    import platform
    from importlib import metadata

    import torch

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _COMPARED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"versions": versions, "cuda": bool(torch.cuda.is_available())}


def _mismatch(ours: dict[str, Any], theirs: dict[str, dict[str, Any]]) -> str | None:
    for address, env in sorted(theirs.items()):
        for name, version in ours["versions"].items():
            other = env["versions"].get(name)
            if other != version:
                return f"worker {address} runs {name} {other}, this process {version}"
    return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the worker processes
    from hfx.pool import die_with_parent

    die_with_parent(os.getppid())


def _quiet() -> None:
    """Dask logs to stderr at WARNING; hfx speaks in one line (an interrupted cluster logs its shutdown)."""
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.client", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def probe(scheduler: str | None) -> None:
    """UsageError unless a Dask scheduler answers at `scheduler` (`_probe`; nothing for None): called by the commands
    once the cheap checks are done, before the heavy imports, so that an address where nothing (or something else)
    answers costs no start-up time."""
    if scheduler is not None:
        _probe(scheduler)


def _probe(scheduler: str) -> None:
    """UsageError unless something that speaks Dask answers at a tcp:// `scheduler`.

    distributed's `Client` waits without limit for the handshake of a server that accepts the connection but does
    not speak Dask (an HTTP server, say: both sides wait for the other).  A Dask scheduler writes its handshake as
    soon as it accepts: one message in Dask's TCP framing, an 8-byte length of what follows and an 8-byte number
    of frames (native byte order, `distributed.comm.tcp`).  tls://, ws:// and wss:// run over TCP too: that
    something accepts there is checked, what it speaks is left to Dask (as is ucx://, which needs UCX).
    """
    match = _ADDRESS.match(scheduler.strip())
    assert match is not None  # validated
    scheme = match.group(1) or "tcp"
    if scheme == "ucx":
        return
    host, port = match.group(2).strip("[]"), int(match.group(3))
    head = b""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as sock:
            if scheme != "tcp":
                return
            sock.settimeout(CONNECT_TIMEOUT_S)
            while len(head) < 16:
                data = sock.recv(16 - len(head))
                if not data:
                    break
                head += data
    except TimeoutError:
        if not head:
            raise UsageError(f"--scheduler {scheduler}: not a Dask scheduler (nothing answered within "
                             f"{CONNECT_TIMEOUT_S} s)") from None
    except OSError as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                         f"({exc.strerror or type(exc).__name__})") from None
    if len(head) == 16:
        length, frames = struct.unpack("=QQ", head)
        if 1 <= frames <= MAX_HANDSHAKE_FRAMES and 8 * (frames + 1) <= length <= MAX_HANDSHAKE_BYTES:
            return
    raise UsageError(f"--scheduler {scheduler}: not a Dask scheduler (what answered there does not speak Dask's "
                     "protocol)")


def client_of(stack: contextlib.ExitStack, workers: int | None, scheduler: str | None) -> Client | None:
    """The Dask client of --workers / --scheduler (`connect`), closed with `stack`; None when neither is given."""
    if workers is None and scheduler is None:
        return None
    return stack.enter_context(connect(workers, scheduler))


@contextlib.contextmanager
def connect(workers: int | None, scheduler: str | None) -> Iterator[Client]:
    """A Dask client: of a new LocalCluster of `workers` processes, or of the scheduler at `scheduler`."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # found by `validate`, but it does not import (a broken install)
        raise UsageError(NO_DASK) from None
    _quiet()
    cluster: Any = None
    if workers is not None:
        with children_ignore_sigint():  # the workers inherit it: Ctrl-C is hfx's to handle, not theirs
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.CRITICAL)  # loopback only, any free port, no dashboard
        client = Client(cluster)
        client.run(_die_with_parent)
    else:
        assert scheduler is not None
        _probe(scheduler)
        try:
            client = Client(scheduler.strip(), timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
        except (TypeError, ValueError, ImportError, RuntimeError) as exc:
            # Dask cannot use the address as given: tls:// without TLS credentials in Dask's configuration,
            # ucx:// without UCX installed, … — the user's input and setup, not a bug of hfx
            first = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"--scheduler {scheduler}: Dask cannot connect with this address here ({first}); "
                             "a tcp:// address needs no configuration (docs/cluster.md)") from None
    try:
        if scheduler is not None:
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT_S)
            except (OSError, TimeoutError):
                raise UsageError(f"--scheduler {scheduler}: no worker joined within {WORKER_WAIT_S} s") from None
        problem = _mismatch(environment(), client.run(environment))
        if problem is not None:
            raise UsageError(f"--scheduler {scheduler}: {problem}; results would differ: install the same "
                             "versions (constraints.txt) on every worker")
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=CLOSE_TIMEOUT_S)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=CLOSE_TIMEOUT_S)


def workers_have_cuda(client: Client) -> bool:
    """Whether every worker of `client` has a CUDA device."""
    found = client.run(environment)
    return bool(found) and all(env["cuda"] for env in found.values())


def worker_memory(client: Client) -> int | None:
    """The smallest memory limit of the client's workers (bytes), None if none is set."""
    limits = [w.get("memory_limit") for w in client.scheduler_info().get("workers", {}).values()]
    known = [int(m) for m in limits if m]
    return min(known) if known else None
