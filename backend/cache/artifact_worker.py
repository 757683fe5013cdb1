"""Rendering artifact values: the safe decoder in the server, everything else in the sandbox.

A plain value (numbers, strings, containers, dates, Metaflow's internal artifacts) is decoded by
backend/sandbox/safe_pickle.py, which runs no code from the pickle, in a thread of the server.
Anything else is unpickled by a fresh, confined child process per value (backend/sandbox/): ~0.1 s
each, but results are cached by sha (blobs are content-addressed, so a rendering never goes stale)
and a hostile or huge pickle never leaves a wedged worker behind.
"""

from __future__ import annotations

import asyncio
from typing import Any

from backend.cache.lru import LruCache
from backend.cache.sizes import deep_size
from backend.errors import ApiError
from backend.sandbox.probe import SandboxState, probe
from backend.sandbox.render import render
from backend.sandbox.runner import kill_group, run_child
from backend.sandbox.safe_pickle import RestrictedValueError, restricted_loads

MAX_CHARS = 200_000
# Bigger pickles go to the sandbox even if they are plain: decoding in the server costs its memory.
SAFE_DECODE_MAX_BYTES = 2 * 1024 * 1024
SCRATCH_MB = 64


def _safe_render(data: bytes) -> dict[str, Any] | None:
    try:
        value = restricted_loads(data)
    except RestrictedValueError:
        return None
    return dict(render(value, MAX_CHARS), decoder="safe")


def rendered_size(result: dict[str, Any]) -> int:
    """A rendering as cached: its text (up to MAX_CHARS) and its JSON value, if any."""
    return deep_size(result)


class ArtifactRenderer:
    def __init__(self, *, timeout: float, memory_mb: int, workers: int, cache: LruCache[Any],
                 mode: str = "strict", uid: int | None = None, scratch_root: str | None = None) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.cache = cache
        self._slots = asyncio.Semaphore(workers)
        self.workers = workers
        self.scratch_root = scratch_root
        self.policy: dict[str, Any] = {
            "memory_mb": memory_mb, "cpu_s": int(timeout) + 1, "scratch_mb": SCRATCH_MB, "uid": uid,
            "nproc": 16 * workers + 16, "max_chars": MAX_CHARS}
        self.sandbox = SandboxState(mode)
        self.running = 0
        self.renders = 0
        self.safe_decodes = 0
        self.timeouts = 0
        self.refused = 0
        self._procs: set[asyncio.subprocess.Process] = set()

    async def start(self) -> SandboxState:
        """Probe the sandbox (once, at start-up)."""
        self.sandbox = await probe(self.policy, self.sandbox.mode, max(self.timeout, 10.0), self.scratch_root)
        return self.sandbox

    async def render(self, sha: str, data: bytes, label: str) -> dict[str, Any]:
        cached = self.cache.get(sha)
        if cached is not None:
            return dict(cached)
        result = None
        if len(data) <= SAFE_DECODE_MAX_BYTES:
            result = await asyncio.get_running_loop().run_in_executor(None, _safe_render, data)
        if result is not None:
            self.safe_decodes += 1
        else:
            refusal = self.sandbox.refusal()
            if refusal is not None:
                self.refused += 1
                return {"error": refusal}
            async with self._slots:
                result = await self._run(data, label)
        self.cache.put(sha, result)
        return dict(result)

    async def _run(self, data: bytes, label: str) -> dict[str, Any]:
        config = dict(self.policy, layers=list(self.sandbox.layers), required=list(self.sandbox.layers))
        self.running += 1
        try:
            outcome = await run_child(config, data, self.timeout, MAX_CHARS * 8 + 65536, self.scratch_root,
                                      self._procs)
        finally:
            self.running -= 1
        if outcome.timed_out:
            self.timeouts += 1
            raise ApiError(504, f"rendering {label} took longer than {self.timeout:g} s; the worker "
                                "was stopped (download the raw value instead)")
        self.renders += 1
        result = outcome.result
        if result is None:
            return {"error": outcome.error or "the rendering worker failed"}
        if result.get("sandbox_failed"):   # a layer that worked at start-up failed: never cached
            raise ApiError(503, str(result.get("error")))
        if "error" in result:
            return {"error": str(result["error"])[:2000]}
        return {"type": str(result.get("type")), "text": str(result.get("text"))[:MAX_CHARS],
                "truncated": bool(result.get("truncated")), "json": result.get("json"), "decoder": "sandbox"}

    async def close(self) -> None:
        for proc in list(self._procs):
            if proc.returncode is None:
                kill_group(proc)

    def stats(self) -> dict[str, Any]:
        return {"workers": self.workers, "running": self.running, "renders": self.renders,
                "safe_decodes": self.safe_decodes, "timeouts": self.timeouts, "refused": self.refused,
                "timeout_s": self.timeout, "memory_mb": self.memory_mb, "sandbox": self.sandbox.stats()}
