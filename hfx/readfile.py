"""Reading a small file that hfx wrote — a manifest, a store header, a chunk, a lock — from a folder the user
named: whatever sits at that name is the user's (docs/design.md, "Output folders").

`read_small(path, limit)` returns the bytes of a *regular* file of at most `limit` bytes.  Anything else is
refused without blocking and without reading without end: a FIFO (opening one for reading waits for a writer,
for ever), a character device such as /dev/zero or /dev/urandom (endless), a socket, a folder, or a file larger
than `limit`.  The caller treats the refusal as it treats a file that does not parse (`OSError`, `ValueError`):
a manifest of that kind is not hfx's, a chunk is computed again.  Standard library only.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRegular(OSError):
    """What sits at the path is not a regular file (a FIFO, a device, a socket, a folder)."""


def open_regular(path: str | os.PathLike[str]) -> int:
    """A file descriptor of `path` opened for reading, if it is a regular file (symbolic links followed); the
    open never blocks (O_NONBLOCK: a FIFO without a writer).  NotRegular or another OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_small(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file `path` (module docstring); ValueError when it holds more than `limit`."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{Path(path).name} is larger than {limit} bytes")
    return data


def read_small_text(path: str | os.PathLike[str], limit: int) -> str:
    """`read_small` decoded as UTF-8 (UnicodeDecodeError, a ValueError, when it is not)."""
    return read_small(path, limit).decode("utf-8")
