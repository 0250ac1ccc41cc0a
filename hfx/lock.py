"""The lock of an output folder: one hfx run writes into a folder at a time.

`DIR/.hfx.lock` is held with `flock` (exclusive, non-blocking) by the run writing DIR (`hfx.output`), and
holds its pid, to name it.  The kernel drops the lock when the process ends, however it ends (a SIGKILL,
a power cut), so a lock is never stale; the file is removed on release.  A lock file that is not a regular
file (a symbolic link planted there) is never followed, never truncated: the folder is refused.  POSIX only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path

from hfx.errors import UsageError

LOCK_NAME = ".hfx.lock"


def _in_use(value: str, lock: Path) -> UsageError:
    return UsageError(f"--out {value!r} is in use by another hfx run{lock_holder(lock)}; "
                      "wait for it to end or choose another --out")


def _not_a_lock(value: str) -> UsageError:
    return UsageError(f"--out {value!r}: {LOCK_NAME} there is not a lock file; remove it")


def lock_holder(lock: Path) -> str:
    """' (pid N)' from a lock file, or '' when it cannot be read."""
    with contextlib.suppress(OSError, ValueError):
        return f" (pid {int(lock.read_text(encoding='ascii').strip())})"
    return ""


def _held(lock: Path) -> bool:
    """Whether another process holds `lock` (a regular file; anything else is not a lock)."""
    try:
        if not stat.S_ISREG(os.lstat(lock).st_mode):
            return False
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def check_ancestors_unlocked(value: str, path: Path) -> None:
    """UsageError if a folder above `path` is being written by another hfx run (a sweep writes its points there,
    a verify its experiments/): a run inside it would be overwritten, or leave it foreign files."""
    try:
        parents = Path(os.path.abspath(path)).parents
    except (OSError, ValueError):
        return
    for parent in parents:
        lock = parent / LOCK_NAME
        if _held(lock):
            raise UsageError(f"--out {value!r} is inside {str(parent)!r}, which another hfx run is writing"
                             f"{lock_holder(lock)}; wait for it to end or choose another --out")


def check_unlocked(value: str, path: Path) -> None:
    """UsageError if another hfx run holds the folder's lock (the writer takes it for real, later)."""
    lock = path / LOCK_NAME
    try:
        if not stat.S_ISREG(os.lstat(lock).st_mode):
            raise _not_a_lock(value)
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return  # no lock file: free (or unreadable: the writer will say)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise _in_use(value, lock) from None
    finally:
        os.close(fd)  # closing drops the probe's lock


def acquire(root: Path) -> int:
    """Hold `root/.hfx.lock` (flock, exclusive); UsageError naming the holder if another run holds it."""
    path = root / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR):  # not ours to use: never followed, never truncated
                raise _not_a_lock(str(root)) from None
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise _in_use(str(root), path) from None
            raise
        try:  # the holder before us may have removed the file after we opened it: lock the file that is there
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def release(root: Path, fd: int) -> None:
    """Remove the lock file, then drop the lock (in this order: see `acquire`)."""
    with contextlib.suppress(OSError):
        (root / LOCK_NAME).unlink()
    os.close(fd)
