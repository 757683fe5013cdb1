"""Progress lines on the terminal, in the shape Metaflow users know:

    2026-11-23 15:04:05.123 Workflow starting (run-id 12):
    2026-11-23 15:04:05.201 [12/train/345 (pid 1234)] Task is starting.
    2026-11-23 15:04:05.305 [12/train/345 (pid 1234)] epoch 1 loss=0.31
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"


class Console:
    def __init__(self, out: TextIO | None = None, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet

    def line(self, text: str) -> None:
        if self.quiet:
            return
        try:
            self.out.write(f"{_stamp()} {text}\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):
            self.quiet = True

    def error(self, text: str) -> None:
        """Printed even with --quiet (to stderr then): why the run failed."""
        if not self.quiet:
            self.line(text)
            return
        try:
            sys.stderr.write(f"{_stamp()} {text}\n")
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass

    def task(self, run_id: str, step: str, task_id: str, pid: int | None, text: str) -> None:
        who = f"{run_id}/{step}/{task_id}" + (f" (pid {pid})" if pid else "")
        self.line(f"[{who}] {text}")


class LinePrinter:
    """Splits a task's output bytes into lines for the console (the log store splits its own)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._partial = b""

    def feed(self, data: bytes) -> None:
        buf = self._partial + data
        *lines, self._partial = buf.split(b"\n")
        for raw in lines:
            self._emit(raw.rstrip(b"\r").decode("utf-8", "replace"))
        if len(self._partial) > 65536:
            self._emit(self._partial.decode("utf-8", "replace"))
            self._partial = b""

    def close(self) -> None:
        if self._partial:
            self._emit(self._partial.decode("utf-8", "replace"))
            self._partial = b""
