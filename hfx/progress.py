"""One-line progress on stderr: redrawn in place on a terminal, a single line at the end otherwise.

With the time the work `started` (`time.monotonic()`, one clock for every process of the machine), the line
carries the elapsed time and an estimate of the time left, extrapolated linearly from the items done:
ETA = elapsed · (total − done) / done.

Work that runs at once in several processes (`hfx verify`: the derivations in their pool, the measurements in
a process of their own) reports through one `Board`: `routed(sink)` sends this process's `report` and `say`
to a sink (a queue to the process that shows them), and the board shows every unfinished piece of work on one
line, ``  verified derivations 30/47, about 8s left · experiment steps 1200/190600, 3s elapsed``, each
finished one as its own line, and messages (`say`) above the progress line.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

# ("progress", label, done, total, started) or ("line", text)
Event = tuple[object, ...]
_SINK: list[Callable[[Event], None]] = []  # where report/say go instead of stderr (innermost last)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def timing(done: int, total: int, started: float | None, now: float | None = None) -> str:
    """', 12s elapsed, about 40s left' (empty without a start time, or before the first item is done)."""
    if started is None:
        return ""
    elapsed = (time.monotonic() if now is None else now) - started
    if done >= total:
        return f" in {_duration(elapsed)}"
    if done <= 0:
        return f", {_duration(elapsed)} elapsed"
    return f", {_duration(elapsed)} elapsed, about {_duration(elapsed * (total - done) / done)} left"


def line(label: str, done: int, total: int, started: float | None) -> str:
    """'derivations 30/47, 12s elapsed, about 8s left' (without the indent)."""
    return f"{label} {done}/{total}{timing(done, total, started)}"


def report(done: int, total: int, label: str, started: float | None = None) -> None:
    """Report `done` of `total` items of `label` (e.g. "derivations"), timed from `started` if given."""
    if _SINK:
        _SINK[-1](("progress", label, done, total, started))
        return
    text = f"  {line(label, done, total, started)}"
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r{text}\033[K", end=end, file=sys.stderr, flush=True)
    elif done == total:
        print(text, file=sys.stderr, flush=True)


def say(text: str) -> None:
    """One message line on stderr (through the sink when routed)."""
    if _SINK:
        _SINK[-1](("line", text))
    else:
        print(text, file=sys.stderr, flush=True)


def route(sink: Callable[[Event], None]) -> None:
    """From now on, for the life of this process (a worker's), `report` and `say` go to `sink`."""
    _SINK.append(sink)


@contextlib.contextmanager
def routed(sink: Callable[[Event], None]) -> Iterator[None]:
    """While open, `report` and `say` of this process go to `sink`."""
    _SINK.append(sink)
    try:
        yield
    finally:
        _SINK.remove(sink)


def _key(label: str) -> str:
    return label.split(" (", 1)[0]  # "verified derivations (landscape.x)" and its final form are one piece


class Board:
    """The progress of several pieces of work at once on one line of `stream` (module docstring); thread-safe."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.live: dict[str, tuple[str, int, int, float | None]] = {}  # key → label, done, total, started
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if event[0] == "line":
                self._above(str(event[1]))
                return
            _, label, done, total, started = event
            assert isinstance(label, str) and isinstance(done, int) and isinstance(total, int)
            key = _key(label)
            if done >= total:
                self.live.pop(key, None)
                self._above(f"  {line(key, done, total, started)}")  # type: ignore[arg-type]
            else:
                self.live[key] = (label, done, total, started)  # type: ignore[assignment]
                self._draw()

    def show(self, text: str, stream: TextIO | None = None) -> None:
        """Print `text` (to `stream`, stdout by default) above the progress line."""
        with self._lock:
            if self.tty:
                print("\r\033[K", end="", file=self.stream, flush=True)
            print(text, file=stream or sys.stdout, flush=True)
            self._draw()

    def _above(self, text: str) -> None:
        if self.tty:
            print(f"\r\033[K{text}", file=self.stream)
            self._draw()
        else:
            print(text, file=self.stream, flush=True)

    def _draw(self) -> None:
        if not self.tty:
            return
        parts = [line(label, done, total, started) for label, done, total, started in self.live.values()]
        width = shutil.get_terminal_size((100, 24)).columns - 1
        text = ("  " + " · ".join(parts))[:width] if parts else ""
        print(f"\r{text}\033[K", end="", file=self.stream, flush=True)
