"""The fork server of the verification workers (`hfx.theorems`), in a module light enough to start it early.

`hfx verify` starts it before it imports the theory itself, so that the server's preload (importing theory and
building every derivation, seconds) runs while this process imports SymPy and starts the measurements.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from multiprocessing import forkserver

from hfx.errors import debug_enabled
from hfx.pool import hangup_blocked, start_resource_tracker

HASH_SEED = "0"  # PYTHONHASHSEED of the verification processes


def fork_server() -> multiprocessing.context.BaseContext:
    """The fork-server context, its server started with a fixed hash seed and theory preloaded."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["hfx._theory_preload"])
    previous = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = HASH_SEED
    # the server ignores SIGINT from its preload's first line on, and every worker it forks from birth: only this
    # process decides what a Ctrl-C means (hfx.pool).  SIGINT is not ignored here while the server starts
    # (seconds: it imports the theory), so a Ctrl-C then interrupts hfx at once
    # the server's stderr is silenced (HFX_DEBUG=1 keeps it): when the pool is stopped by a Ctrl-C, a worker
    # forked at that moment finds the pool's semaphores gone and would print a traceback on the way out;
    # a task's own error still reaches this process through its future
    saved_stderr = None if debug_enabled() else os.dup(2)
    if saved_stderr is not None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    try:
        start_resource_tracker()  # (the server's own: ignoring a hang-up of the process group, hfx.pool)
        with hangup_blocked():  # the server and every worker it forks outlive a hang-up of the process group
            forkserver.ensure_running()  # started once per process, inheriting this environment
    finally:
        if saved_stderr is not None:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
        if previous is None:
            del os.environ["PYTHONHASHSEED"]
        else:
            os.environ["PYTHONHASHSEED"] = previous
    return context
