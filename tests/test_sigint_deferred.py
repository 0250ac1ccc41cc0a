"""A Ctrl-C while hfx starts its worker processes is deferred, never lost; the children ignore it from birth."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from hfx.pool import children_ignore_sigint


def test_a_ctrl_c_during_the_start_is_delivered_after_it() -> None:
    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with children_ignore_sigint():
            # pressed while the processes start (sent to the main thread: a process-directed signal may be taken
            # by another thread that does not block it, and is then ignored: the documented limit)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            reached_end = True  # the start itself is not interrupted
    assert reached_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_children_started_inside_ignore_sigint_from_birth() -> None:
    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
    with children_ignore_sigint():
        inside = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    outside = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert inside.stdout.strip() == "True" and outside.stdout.strip() == "False"


def test_without_a_ctrl_c_nothing_is_raised_and_the_mask_is_restored() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    with children_ignore_sigint():
        pass
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
