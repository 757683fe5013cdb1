"""A one-line progress bar on stderr: share done, rows/s and time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    def __init__(self, total: float, label: str, stream: TextIO | None = None, every: float = 0.5) -> None:
        self.total = max(total, 1e-9)
        self.label = label
        self.stream = stream or sys.stderr
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self.done = 0.0
        self.rows = 0

    def update(self, done: float, rows: int) -> None:
        self.done, self.rows = done, self.rows + rows
        now = time.monotonic()
        if now - self._last >= self.every or done >= self.total:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-6)
        frac = min(self.done / self.total, 1.0)
        eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.label} {frac * 100:5.1f}% |{bar:<30}| {self.rows:,} rows "
                          f"{self.rows / elapsed:,.0f} rows/s  elapsed {_clock(elapsed)}  ETA {_clock(eta)} ")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()
