"""Worker pools that stop when told: on Ctrl-C, on an error, and when their parent dies.

`worker_pool(n)` is a `ProcessPoolExecutor` whose workers

- ignore SIGINT and SIGHUP: a Ctrl-C at the terminal, or a hang-up when it closes, reaches the whole process
  group, and only the parent decides what it means (no traceback from every worker; no worker or fork server
  gone before the parent stops the pool, while its manager thread starts a replacement through that server).
  SIGTERM still ends a worker: the pool itself terminates the workers of a broken pool with it;
- die with their parent: on Linux the kernel sends them SIGKILL when the parent ends, however it ends
  (`prctl(PR_SET_PDEATHSIG)`); elsewhere a watchdog thread polls the parent's pid.

When the block raises (a KeyboardInterrupt, an error of one task), the parent cancels the pending tasks
and kills the running ones at once, instead of waiting for them (which took a minute, and deadlocked on a
second Ctrl-C): the interrupt reaches the command line in well under a second.  A second Ctrl-C during
that clean-up is ignored.  `thread_pool(n)` cancels its pending tasks the same way (threads cannot be
killed; the running ones finish).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import process as _process
from typing import Any, cast

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCHDOG_PERIOD_S = 0.5  # how often a worker without prctl looks for its parent
JOIN_TIMEOUT_S = 5.0  # how long the parent waits for a killed worker to be reaped
CANCEL_POLL_S = 0.001  # how often `stop` looks whether a pool's manager thread has cancelled the pending tasks


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process has the pid
        return True
    return True


def _watch(parent: int) -> None:  # pragma: no cover - the fallback for systems without prctl
    while _alive(parent):
        time.sleep(WATCHDOG_PERIOD_S)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """Arrange for this process to end when the process `parent` ends."""
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    if not armed:  # pragma: no cover
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="hfx-parent-watchdog").start()
    if not _alive(parent):  # it ended before the signal was armed
        os._exit(1)


def _init_worker(parent: int, initializer: Callable[..., object] | None, initargs: tuple[object, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):  # (module docstring; not SIGTERM: a broken pool terminates its workers with it)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


@contextlib.contextmanager
def _sigint_ignored(keep: bool = False) -> Iterator[None]:
    """No KeyboardInterrupt inside; `keep`: nor after (we are on the way out after a Ctrl-C: the command line
    restores the handler when it returns).  Main thread only: elsewhere signals can neither be set nor arrive."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if not keep:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Processes started inside ignore SIGINT from birth; a Ctrl-C that arrives meanwhile is deferred, not lost.

    SIGINT is blocked, then ignored, while the block runs: a child started (fork, exec) inherits the ignored
    disposition, so Python installs no KeyboardInterrupt handler in it.  A blocked signal is kept pending even
    while ignored (Linux never discards a blocked signal), so on the way out the handler is restored *before*
    SIGINT is unblocked, and a Ctrl-C pressed during a slow start (a fork server importing the theory) is
    delivered to this process then (unless another thread of this process that does not block SIGINT took it:
    threads keep their own masks).  Main thread only: elsewhere signals can neither be set nor arrive.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class LockedWakeup(_process._ThreadWakeup):  # type: ignore[misc,name-defined]  # (a private class of CPython's)
    """The pool's wake-up pipe, whose `wakeup` and `close` exclude each other (CPython's fix of gh-125451, in 3.12.8
    and 3.13.1, not in 3.11).

    At the interpreter's exit `concurrent.futures.process._python_exit` wakes every pool's manager thread without a
    lock, while a manager thread that is ending (its workers killed by `stop`) closes that pipe: a wake-up that had
    seen the pipe open then wrote to a closed descriptor, and printed an OSError traceback (EBADF) after the one line
    of a hang-up (2 in 400 crafted stops here, once in a CI run).  `clear`, which only the manager thread calls,
    stays outside the lock, as upstream: a `wakeup` blocked on a full pipe waits for it to drain the pipe.
    """

    def __init__(self) -> None:
        super().__init__()
        self._hfx_lock = threading.Lock()

    def close(self) -> None:
        with self._hfx_lock:
            super().close()

    def wakeup(self) -> None:
        with self._hfx_lock:
            super().wakeup()


class WorkerPool(ProcessPoolExecutor):
    """A `ProcessPoolExecutor` that `stop` can tear down while its manager thread is busy.

    With `max_tasks_per_child` the pool's manager thread replaces a worker that ends after its task
    (`_adjust_process_count`, which it runs holding the pool's `_shutdown_lock`).  `shutdown(wait=False)` empties
    the pool (its process table and queues become None) without that lock, so a replacement started as the pool is
    stopped raised a TypeError in the manager thread, whose traceback came after the one line of a Ctrl-C or a
    hang-up (CPython 3.11; gh-119592, gh-132969).  Once `stop` has decided (under that lock), no worker is
    replaced: the manager thread never reaches the emptied pool, and no fresh worker picks up a task nobody
    waits for.  Its wake-up pipe is a `LockedWakeup`.
    """

    _stopping = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Before the manager thread starts (on the first task): the wake-up pipe it and the call queue share.
        unlocked, self._executor_manager_thread_wakeup = self._executor_manager_thread_wakeup, LockedWakeup()
        self._call_queue.thread_wakeup = self._executor_manager_thread_wakeup  # type: ignore[attr-defined]
        unlocked.close()

    def _adjust_process_count(self) -> None:
        if not self._stopping:
            super()._adjust_process_count()


def stop(pool: WorkerPool, interrupted: bool = False) -> None:
    """Cancel the pending tasks of `pool` and kill its workers now; after a Ctrl-C (`interrupted`), a second
    Ctrl-C stays ignored.

    In an order that leaves the pool's manager thread nothing to raise (CPython 3.11's concurrent.futures.process):

    - under the pool's lock, which that thread holds while it replaces a worker: no more replacements
      (`WorkerPool`), and the workers to kill, one it has just started included;
    - `shutdown` wakes the thread to drop the cancelled tasks *before* the kills make it fail the others (it sees
      a wake-up before a dead worker): failing a task that the body had cancelled (`Executor.map` does on an
      error) raised InvalidStateError;
    - with every worker dead, this process closes its end of the results' pipe: a thread whose last workers ended
      on their own after their task (and were not replaced) has tasks left in the call queue and no worker to wait
      for; it reads the end of the pipe and fails them, instead of waiting for ever (and Python's exit with it).
      It sees the end of the pipe before a wake-up, so the pipe is closed once it has dropped the cancelled tasks
      (it then clears `_cancel_pending_futures`), or has ended.
    """
    with _sigint_ignored(keep=interrupted):
        with pool._shutdown_lock:
            pool._stopping = True
            processes = list((pool._processes or {}).values())
            results = pool._result_queue
            manager = cast("threading.Thread | None", pool._executor_manager_thread)  # (typeshed: a _ThreadWakeup)
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(JOIN_TIMEOUT_S)
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while (manager is not None and manager.is_alive() and pool._cancel_pending_futures
               and time.monotonic() < deadline):
            manager.join(CANCEL_POLL_S)
        if results is not None:
            with contextlib.suppress(OSError):
                results._writer.close()  # type: ignore[attr-defined]  # (multiprocessing.SimpleQueue's)


@contextlib.contextmanager
def hangup_blocked() -> Iterator[None]:
    """SIGHUP blocked while the block runs: a helper process started inside (the resource tracker, a fork server
    and every worker it forks) keeps it blocked for good, so that a hang-up sent to the process group (the
    terminal closes, `kill -HUP -- -PGID`) does not kill it; this process decides.  A blocked signal stays blocked
    across fork and exec; in this process it is delivered when the block ends (a SIGHUP then is not lost).
    Main thread only: elsewhere the block runs as it is."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (if it is not running) with SIGHUP blocked, for good.

    The tracker, a process of its own that every pool and the fork server share, ignores SIGINT and SIGTERM but
    not SIGHUP: a hang-up sent to the process group killed it, and this process relaunched it and printed its
    KeyError tracebacks on the way out of the pool (the tracker unblocks only SIGINT and SIGTERM).
    """
    from multiprocessing import resource_tracker

    with hangup_blocked():
        resource_tracker.ensure_running()


@contextlib.contextmanager
def worker_pool(
    max_workers: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[object, ...] = (),
    mp_context: multiprocessing.context.BaseContext | None = None,
    max_tasks_per_child: int | None = None,
) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers ignore SIGINT and die with this process (module docstring).

    `mp_context` and `max_tasks_per_child` are passed on (a fresh worker per task needs a context other
    than fork, e.g. the fork server of `hfx.theorems`).
    """
    start_resource_tracker()
    pool = WorkerPool(max_workers=max_workers, initializer=_init_worker,
                       initargs=(os.getpid(), initializer, initargs), mp_context=mp_context,
                       max_tasks_per_child=max_tasks_per_child)
    try:
        yield pool
    except BaseException as exc:
        stop(pool, interrupted=isinstance(exc, KeyboardInterrupt))
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def thread_pool(max_workers: int) -> Iterator[Executor]:
    """A thread pool that cancels its pending tasks when the block raises (module docstring)."""
    pool = ThreadPoolExecutor(max_workers=max_workers)
    try:
        yield pool
    except BaseException as exc:
        with _sigint_ignored(keep=isinstance(exc, KeyboardInterrupt)):
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
