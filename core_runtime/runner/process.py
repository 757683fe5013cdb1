"""One ``python flow.py ...`` subprocess of the Runner API: its output copied to two log files
(and, when asked, to this process's stdout), waited on synchronously or from asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from typing import IO

TERMINATION_GRACE = 5.0     # seconds between SIGTERM (the run ends as failed) and SIGKILL


class CommandProcess:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, show_output: bool) -> None:
        self.command = argv
        self.timeout = False
        self._dir = tempfile.mkdtemp(prefix="flowscope-runner-")
        self.log_files = {s: os.path.join(self._dir, f"{s}.log") for s in ("stdout", "stderr")}
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.process.stdout is not None and self.process.stderr is not None
        self._copiers = [
            threading.Thread(target=_copy, args=(self.process.stdout, self.log_files["stdout"],
                                                 sys.stdout if show_output else None), daemon=True),
            threading.Thread(target=_copy, args=(self.process.stderr, self.log_files["stderr"],
                                                 sys.stderr if show_output else None), daemon=True),
        ]
        for t in self._copiers:
            t.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def read_log(self, stream: str) -> str:
        try:
            with open(self.log_files[stream], encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def sync_wait(self) -> int:
        code = self.process.wait()
        for t in self._copiers:
            t.join()
        return code

    async def wait(self, timeout: float | None = None, stream: str | None = None) -> None:
        """Wait for the end (printing ``stream`` meanwhile); past ``timeout`` seconds, kill it."""
        async def until_done() -> None:
            if stream is not None:
                async for _pos, line in self.stream_log(stream):
                    print(line, flush=True)
            else:
                await asyncio.to_thread(self.sync_wait)

        try:
            await asyncio.wait_for(until_done(), timeout)
        except TimeoutError:
            self.timeout = True
            self.kill()
            print(f"Timeout: the process (PID {self.pid}; command: '{' '.join(self.command)}') did "
                  f"not complete within {timeout} seconds.", flush=True)

    async def stream_log(self, stream: str, position: int | None = None) -> AsyncIterator[tuple[int, str]]:
        """(byte position after the line, line) for each line of ``stream``, following the file
        until the process has ended and everything it wrote was read."""
        path = self.log_files[stream]
        offset = position or 0          # where ``pending`` starts in the file
        pending = b""
        while True:
            done = self.process.poll() is not None and not any(t.is_alive() for t in self._copiers)
            data = await asyncio.to_thread(_read_from, path, offset + len(pending))
            if data:
                *lines, pending = (pending + data).split(b"\n")
                for raw in lines:
                    offset += len(raw) + 1
                    yield offset, raw.decode("utf-8", "replace")
                continue
            if done:
                if pending:
                    offset += len(pending)
                    yield offset, pending.decode("utf-8", "replace")
                return
            await asyncio.sleep(0.1)

    def kill(self, grace: float = TERMINATION_GRACE) -> None:
        """SIGTERM (the flow's scheduler stops its tasks and records the run as failed), then SIGKILL."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self.process.wait()

    def cleanup(self) -> None:
        """Remove the log files (a still-running process is left alone)."""
        if self.process.poll() is None:
            return
        for t in self._copiers:
            t.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)


def _read_from(path: str, position: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(position)
            return fh.read()
    except FileNotFoundError:
        return b""


def _copy(pipe: IO[bytes], path: str, echo: IO[str] | None) -> None:
    with open(path, "wb") as out:
        for line in iter(pipe.readline, b""):
            out.write(line)
            out.flush()
            if echo is not None:
                with contextlib.suppress(ValueError, OSError):
                    echo.write(line.decode("utf-8", "replace"))
                    echo.flush()
    pipe.close()
