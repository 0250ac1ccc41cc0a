"""One-line progress on stderr: redrawn in place on a terminal, a single line at the end otherwise.

With the time the work `started` (`time.monotonic()`), the line carries the elapsed time and an estimate
of the time left, extrapolated linearly from the items done: ETA = elapsed · (total − done) / done.
"""

from __future__ import annotations

import sys
import time


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


def report(done: int, total: int, label: str, started: float | None = None) -> None:
    """Report `done` of `total` items of `label` (e.g. "derivations"), timed from `started` if given."""
    text = f"  {label} {done}/{total}{timing(done, total, started)}"
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r{text}\033[K", end=end, file=sys.stderr, flush=True)
    elif done == total:
        print(text, file=sys.stderr, flush=True)
