"""`hfx.pool.stop` tears a pool down at any moment of its manager thread: no traceback, no hang.

CPython 3.11's manager thread raised when `stop` came at the wrong moment, and printed its traceback after the
one line of a Ctrl-C or a hang-up (seen once in CI, in test_hostile_cli4): a TypeError when `shutdown` had
emptied the pool while the thread replaced a worker that ended after its task (`max_tasks_per_child`); an
InvalidStateError when the workers were killed before the thread had dropped the tasks the body cancelled.
The rounds below stop a pool at those two moments, many times, and after each one look for what went wrong
there: a manager thread that waits for ever for workers that are gone (Python's exit then waits for it too), or
a fresh worker, started by that thread as the pool stopped, that the kills missed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import hfx

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server of hfx's pools")

HANG_S = 20  # a pool's manager thread that has not ended this long after `stop` is hung (a shared 2-core machine)

ROUNDS = r"""
import multiprocessing, os, sys, time
from concurrent.futures import FIRST_COMPLETED, wait
from hfx.pool import worker_pool

class Stop(Exception):
    pass

context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(["hfx.pool"])

def fail(why):
    print(why, file=sys.stderr, flush=True)
    os._exit(1)  # (Python's exit would wait for a hung manager thread)

for n, (workers, busy) in enumerate([(1, False), (2, False), (2, True)] * int(sys.argv[1])):
    try:
        with worker_pool(workers, mp_context=context, max_tasks_per_child=1) as pool:
            if busy:  # workers in their tasks, the rest cancelled by the body (as Executor.map does on an error)
                futures = [pool.submit(time.sleep, 0.2) for _ in range(12)]
                while not any(f.running() for f in futures):
                    time.sleep(0.01)
                time.sleep(0.1)
                for f in futures:
                    f.cancel()
            else:  # a worker has sent its result and ends: the manager thread is about to replace it
                futures = [pool.submit(abs, -i) for i in range(12)]
                wait(futures, return_when=FIRST_COMPLETED)
            manager = pool._executor_manager_thread
            raise Stop
    except Stop:
        pass
    manager.join(float(sys.argv[2]))
    if manager.is_alive():
        fail(f"round {n}: the pool's manager thread still waits for its workers")
    if multiprocessing.active_children():
        fail(f"round {n}: workers left: {multiprocessing.active_children()}")
"""


def test_stopping_a_pool_while_its_manager_thread_is_busy_prints_nothing_and_ends() -> None:
    here = str(Path(hfx.__file__).parents[1])  # the hfx under test, in the rounds' process and its workers
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", ROUNDS, "6", str(HANG_S)], stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=5 * HANG_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # (a worker left over holds stderr open)
        _, err = proc.communicate()
        raise AssertionError(f"hung: {err}") from None
    assert proc.returncode == 0, err
    assert err == "", err


def test_the_wake_up_pipe_is_not_closed_under_a_wake_up_that_is_writing() -> None:
    """At the interpreter's exit CPython wakes every pool's manager thread without a lock, while a manager thread
    whose workers `stop` killed closes that pipe: a wake-up that had seen it open wrote to a closed descriptor
    (an OSError traceback after a hang-up's one line, once in a CI run).  Here a wake-up is held inside its write:
    `close` must wait for it (with CPython 3.11's own pipe it closes at once and the write fails)."""
    import threading

    from hfx.pool import LockedWakeup, WorkerPool

    wake = LockedWakeup()
    writing, release = threading.Event(), threading.Event()
    send = wake._writer.send_bytes

    def held_send(data: bytes) -> None:
        writing.set()
        release.wait(HANG_S)
        send(data)

    wake._writer.send_bytes = held_send
    errors: list[BaseException] = []

    def wakeup() -> None:
        try:
            wake.wakeup()
        except BaseException as exc:  # (what the exit's wake-up printed)
            errors.append(exc)

    waker = threading.Thread(target=wakeup)
    waker.start()
    assert writing.wait(HANG_S)
    closer = threading.Thread(target=wake.close)
    closer.start()
    closer.join(0.3)
    closed_during_write = not closer.is_alive()
    release.set()
    waker.join(HANG_S)
    closer.join(HANG_S)
    assert not closed_during_write and errors == [] and wake._closed, errors
    wake.wakeup()  # a wake-up after the close does nothing

    pool = WorkerPool(max_workers=1)  # the pool's manager thread and its call queue share the locked pipe
    try:
        assert isinstance(pool._executor_manager_thread_wakeup, LockedWakeup)
        assert pool._call_queue.thread_wakeup is pool._executor_manager_thread_wakeup
        assert pool.submit(abs, -3).result(timeout=HANG_S) == 3
    finally:
        pool.shutdown(wait=True)
