"""The terminal side of the command line: output that works in any locale, and `--json` on stdout.

Tables and messages hold mathematics (≥, Σ, ‖θ‖); a terminal whose encoding lacks a character (`LANG=C`
with Python's UTF-8 mode off, `PYTHONIOENCODING=ascii`, a Latin-1 pipe) gets it as `\\u2265` instead of
a crash.  JSON on stdout is escaped to ASCII in that case, so it stays valid JSON with the same content.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

from hfx.encoding import json_text


def make_streams_safe() -> None:
    """Let stdout and stderr write every character, escaping what their encoding lacks."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            with contextlib.suppress(ValueError, OSError, AttributeError, TypeError):
                reconfigure(errors="backslashreplace")


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
