"""The terminal side of the command line: output that works in any locale, and `--json` on stdout.

Tables and messages hold mathematics (≥, Σ, ‖θ‖); a terminal whose encoding lacks a character (`LANG=C`
with Python's UTF-8 mode off, `PYTHONIOENCODING=ascii`, a Latin-1 pipe) gets it as `\\u2265` instead of
a crash.  JSON on stdout is escaped to ASCII in that case, so it stays valid JSON with the same content.

A standard stream that is closed (`hfx list >&-`, `2>&-`, `<&-`) is opened on /dev/null first: its file
descriptor would otherwise be the next file hfx opens (a lock, an output file) and receive what a worker
process prints, and Python's `sys.stdout` would be None (a crash in anything that writes to it).
"""

from __future__ import annotations

import contextlib
import os
import sys
import unicodedata
from typing import TextIO

from hfx.encoding import json_text


def _open_closed_streams() -> None:
    """Put /dev/null on a closed descriptor 0, 1 or 2, and give Python a stream for it (module docstring)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
        if getattr(sys, name, None) is None:
            with contextlib.suppress(OSError, ValueError):
                setattr(sys, name, open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False))


def make_streams_safe() -> None:
    """Let stdout and stderr write every character, escaping what their encoding lacks; closed streams write to
    /dev/null (module docstring)."""
    _open_closed_streams()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            with contextlib.suppress(ValueError, OSError, AttributeError, TypeError):
                reconfigure(errors="backslashreplace")


# embeddings, overrides, isolates and the directional marks
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def visible(text: object) -> str:
    """`text` with control characters (ESC, CR, BEL, …: Unicode's Cc) and bidirectional overrides escaped as
    ``\\x1b``, ``\\u202e``: a name the user typed (an --out folder, a file) or an error's text, printed on a
    terminal, must neither move the cursor, recolour, erase the line nor reorder what follows."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) == "Cc" or ch in _BIDI:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def encodes(stream: TextIO, text: str) -> bool:
    """Whether `stream` can write `text` as it is."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeError, LookupError):
        return False
    return True


def print_json(obj: object) -> None:
    """One JSON document (hfx.encoding) on stdout, ASCII-escaped where the terminal needs it."""
    text = json_text(obj)
    if not encodes(sys.stdout, text):
        text = json_text(obj, ascii_only=True)
    sys.stdout.write(text)
    sys.stdout.flush()
