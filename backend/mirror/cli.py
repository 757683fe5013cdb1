"""``flowscope mirror --source DSN``: the mirror as its own process, with a progress bar."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from typing import TextIO

from backend.mirror.mirror import Mirror
from backend.mirror.status import MirrorStatus, describe
from contract.settings import Settings


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class ProgressLine:
    """Backfill progress on one redrawn line (a line every 10 s when not a terminal); then state changes."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last = 0.0
        self._label = ""
        self._open_line = False

    def __call__(self, st: MirrorStatus) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if st.phase == "backfilling":
            if now - self._last < (0.5 if self.tty else 10.0):
                return
            self._last = now
            frac = st.percent() / 100
            eta = st.eta_s()
            rate = st.runs_per_s()
            line = (f"mirror {st.name}: backfilling {frac * 100:5.1f}% |{'#' * int(frac * 30):<30}| "
                    f"{st.runs_done:,}/{st.total_runs:,} runs  {st.rows:,} rows  "
                    f"{f'{rate:,.0f} runs/s' if rate else '… runs/s'}  ETA {_clock(eta) if eta is not None else '…'}")
            self.stream.write(("\r" + line + " ") if self.tty else line + "\n")
            self._open_line = self.tty
            self.stream.flush()
            return
        label = describe(st.phase, st.detail(), int(time.time() * 1000))["label"]
        if label.split(" ")[0] != self._label.split(" ")[0]:
            if self._open_line:
                self.stream.write("\n")
                self._open_line = False
            self.stream.write(f"mirror {st.name}: {label}\n")
            self.stream.flush()
            self._label = label


def run_mirror(settings: Settings, source: str | None, *, backfill_only: bool, quiet: bool) -> int:
    """Migrate Flowscope's schema, then mirror until Ctrl-C / SIGTERM (or the backfill is done)."""
    from backend.mirror.source import check_source_dsn
    from contract.pg import connect_writer

    check_source_dsn(source or settings.mirror_source or "")   # before starting anything
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    connect_writer(settings).close()      # the schema (mirror_state, mirror_runs) and the reader role
    mirror = Mirror(settings, source)
    mirror.on_progress = ProgressLine(sys.stderr, quiet)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await mirror.run(stop, backfill_only=backfill_only)

    code = asyncio.run(main())
    if code == 0 and backfill_only:
        st = mirror.status
        sys.stderr.write(f"\nmirror {st.name}: backfill done, {st.runs_done:,} runs, {st.rows:,} rows\n")
    return code
