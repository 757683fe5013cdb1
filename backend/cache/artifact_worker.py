"""Rendering artifact values without unpickling in the server process.

Each render runs ``render_child.py`` in a fresh, isolated Python process with an address-space
cap, fed the blob on stdin and killed after ``timeout``. A fresh process per value costs ~50 ms,
but the result is cached by sha (blobs are content-addressed, so a rendering never goes stale),
and a hostile or huge pickle can never leave a wedged worker behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from backend.cache.lru import LruCache
from backend.cache.sizes import deep_size
from backend.errors import ApiError

CHILD = Path(__file__).with_name("render_child.py")
MAX_CHARS = 200_000


def rendered_size(result: dict[str, Any]) -> int:
    """A rendering as cached: its text (up to MAX_CHARS) and its JSON value, if any."""
    return deep_size(result)


class ArtifactRenderer:
    def __init__(self, *, timeout: float, memory_mb: int, workers: int, cache: LruCache[Any]) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.cache = cache
        self._slots = asyncio.Semaphore(workers)
        self.workers = workers
        self.running = 0
        self.renders = 0
        self.timeouts = 0
        self._procs: set[asyncio.subprocess.Process] = set()

    async def render(self, sha: str, data: bytes, label: str) -> dict[str, Any]:
        cached = self.cache.get(sha)
        if cached is not None:
            return dict(cached)
        async with self._slots:
            result = await self._run(data, label)
        self.cache.put(sha, result)
        return dict(result)

    async def _run(self, data: bytes, label: str) -> dict[str, Any]:
        env = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", str(CHILD), str(self.memory_mb), str(MAX_CHARS),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env)
        self._procs.add(proc)
        self.running += 1
        try:
            out, err = await asyncio.wait_for(proc.communicate(data), self.timeout)
        except TimeoutError:
            self.timeouts += 1
            raise ApiError(504, f"rendering {label} took longer than {self.timeout:g} s; the worker "
                                "was stopped (download the raw value instead)") from None
        finally:
            self.running -= 1
            self._procs.discard(proc)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        self.renders += 1
        try:
            result: dict[str, Any] = json.loads(out)
        except ValueError:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
            result = {"error": f"the rendering worker failed: {tail[0][:500]}"}
        return result

    async def close(self) -> None:
        for proc in list(self._procs):
            if proc.returncode is None:
                proc.kill()

    def stats(self) -> dict[str, Any]:
        return {"workers": self.workers, "running": self.running, "renders": self.renders,
                "timeouts": self.timeouts, "timeout_s": self.timeout, "memory_mb": self.memory_mb}
