"""Calls that run a user's code, each in a process of its own that is killed, not joined, once it has answered.

`hfx check FILE.py` runs FILE's top level and builders; nothing of it may run in hfx's own process, where it
could end hfx silently (``os._exit(0)``: exit 0 and no line), kill it, move its working folder, close its
streams, or leave a thread, an ``atexit`` hook or a child process that holds hfx at its exit.  `run_all` runs
each call in a fresh fork of a multiprocessing context (the verification fork server of `hfx.verify_server`):

- the child starts a process group of its own, ignores SIGINT and SIGHUP (this process decides what a Ctrl-C
  means) and dies with this process (`hfx.pool.die_with_parent`); it works in this process's working folder;
- it sends back its call's value (or the exception it raised) through a pipe and then leaves at once
  (``os._exit``: no thread of the user's joined, no ``atexit`` hook run); this process kills its process group
  all the same (SIGKILL: what the user's code started and left behind goes with it) and reaps it;
- a child that ends without an answer (``os._exit`` in the user's code, a signal, a closed pipe) is `Ended`;
- a Ctrl-C or an error here kills every child at once.

`Output(fd)` in a call's arguments gives the child a duplicate of this process's descriptor `fd` (its standard
output or error: a fork server's child otherwise inherits the server's own).
"""

from __future__ import annotations

import contextlib
import multiprocessing.context
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from multiprocessing import connection, reduction
from typing import Any, cast

from hfx.errors import UsageError, debug_enabled
from hfx.pool import die_with_parent

REAP_TIMEOUT_S = 5.0  # how long a killed child is waited for


class Ended(RuntimeError):
    """A child that ended without answering; `code` is its exit code (negative: the signal that ended it)."""

    def __init__(self, index: int, code: int | None) -> None:
        how = "closed its answer's pipe" if code is None else (
            f"was killed by {_signal_name(-code)}" if code < 0 else f"exited with code {code}")
        super().__init__(f"the process of call {index} {how} before it answered")
        self.index, self.code, self.how = index, code, how


class Output:
    """A descriptor of this process, duplicated into the child when the call's arguments are pickled."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _received, (reduction.DupFd(self.fd),)


def _received(dup: Any) -> int:
    return int(dup.detach())


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _child(answer: connection.Connection, parent: int, folder: str, call: Callable[..., Any],
           args: tuple[Any, ...]) -> None:
    """In the child: a group of its own, then the call; its value (or exception) sent back, then gone at once."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    die_with_parent(parent)
    try:
        os.chdir(folder)
        message: tuple[str, Any] = ("value", call(*args))
    except UsageError as exc:  # the user's input: its one line
        message = ("raised", UsageError(str(exc)))
    except BaseException as exc:  # anything else is hfx's error, sent as text: its class may not unpickle here
        message = ("raised", _internal(exc))
    try:
        try:
            answer.send(message)
        except Exception as exc:  # an answer that does not pickle (a user's __reduce__, a recursion)
            answer.send(("raised", _internal(exc)))
        answer.close()
    finally:
        os._exit(0)


def _internal(exc: BaseException) -> RuntimeError:
    if debug_enabled():
        traceback.print_exception(exc)
    return RuntimeError(f"{type(exc).__name__} in a checking process: {exc}")


def _kill(process: multiprocessing.process.BaseProcess) -> None:
    if process.pid is not None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)  # the child and what it started in its group
    with contextlib.suppress(OSError, ValueError, AttributeError):
        process.kill()
    with contextlib.suppress(OSError, ValueError, AssertionError):
        process.join(REAP_TIMEOUT_S)


def run_all(context: multiprocessing.context.BaseContext, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
            jobs: int) -> list[Any]:
    """The values of `calls` (function, arguments), each run in a child of `context` (one whose children ignore
    SIGINT from birth, as the verification fork server's do), at most `jobs` at once, in their order.  The first
    exception a call raised is raised here (the others' children killed); a child that ends without answering
    raises `Ended`."""
    pending = list(enumerate(calls))
    running: dict[connection.Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
    values: dict[int, Any] = {}
    folder = os.getcwd()
    for stream in (sys.stdout, sys.stderr):  # what this process printed comes before what the children print
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                index, (call, args) = pending.pop(0)
                reader, writer = context.Pipe(duplex=False)
                try:
                    process = context.Process(  # type: ignore[attr-defined]  # (every concrete context has it)
                        target=_child, args=(writer, os.getpid(), folder, call, args), name=f"hfx-user-{index}")
                    running[reader] = (index, process)
                    process.start()  # (a fork server's children ignore SIGINT from birth: `hfx._theory_preload`)
                finally:
                    writer.close()
            # a child's answer, or its end: a process the user's code forked keeps the pipe open after the child died
            sentinels = {process.sentinel: reader for reader, (_, process) in running.items()}
            for ready in connection.wait([*running, *sentinels]):
                reader = sentinels[ready] if isinstance(ready, int) else cast("connection.Connection", ready)
                if reader not in running:
                    continue  # (its answer and its end came together)
                index, process = running.pop(reader)
                try:
                    if ready in sentinels and not reader.poll(0):
                        raise EOFError  # it ended without answering
                    kind, value = reader.recv()
                except (EOFError, OSError):
                    process.join(REAP_TIMEOUT_S)
                    raise Ended(index, process.exitcode) from None
                finally:
                    reader.close()
                    _kill(process)
                if kind == "raised":
                    raise value
                values[index] = value
    finally:
        for reader, (_, process) in running.items():
            _kill(process)
            reader.close()
    return [values[i] for i in range(len(calls))]
