"""app[TIMELINE_INDEX]: finished runs' timeline indexes (backend/db/timeline_index.py), LRU by
run, bounded in bytes.

An index is read once however many requests ask for it at the same time: the others wait for
the first (``shared``), so a run page opened by many clients costs one read and one copy.

An index grows after it is stored (row orders, zoom levels and answers are added to it as the
user zooms), so the timeline handler calls ``fit`` after each request that used one: other runs'
indexes are dropped first (least recently used), and if the run in use alone is still over the
bound it gives back its answers, levels and row orders. An index bigger than the whole bound is
not kept at all: the request that read it uses it, later requests for that run take the SQL path
(``too_big``) rather than reading it again each time.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from backend.db.timeline_index import RunIndex

Key = tuple[int, int]   # (run_pk, change_seq)
MAX_REFUSED = 1024      # runs remembered as too big to keep


class TimelineIndexCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.runs: OrderedDict[Key, RunIndex] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.too_big = 0
        self.shared = 0
        self.refused: set[Key] = set()
        self._loading: dict[Key, asyncio.Future[RunIndex | None]] = {}

    async def load(self, key: Key, read: Callable[[], Awaitable[RunIndex | None]]) -> RunIndex | None:
        """The index under ``key``, read with ``read`` if nobody has it or is reading it; None
        for a run whose index is too big to keep, or that ``read`` says has none."""
        if key in self.refused:
            return None
        waiting = self._loading.get(key)
        if waiting is not None:
            self.shared += 1
            return await asyncio.shield(waiting)
        idx = self.get(key)
        if idx is not None:
            return idx
        future: asyncio.Future[RunIndex | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            idx = await read()
            if idx is not None:
                self.put(key, idx)
            future.set_result(idx)
            return idx
        finally:
            del self._loading[key]
            if not future.done():
                future.set_result(None)   # the read failed: the waiters take the SQL path

    def get(self, key: Key) -> RunIndex | None:
        idx = self.runs.get(key)
        if idx is None:
            self.misses += 1
            return None
        self.runs.move_to_end(key)
        self.hits += 1
        return idx

    def put(self, key: Key, idx: RunIndex) -> None:
        for old in [k for k in self.runs if k[0] == key[0]]:
            del self.runs[old]     # the run's index under an older change_seq
        if idx.nbytes > self.max_bytes:
            self.too_big += 1
            if len(self.refused) >= MAX_REFUSED:
                self.refused.clear()
            self.refused.add(key)
            return
        self.runs[key] = idx
        self.fit()

    def fit(self) -> None:
        """Back under the bound: drop the least recently used runs, then trim the newest."""
        while self.bytes > self.max_bytes and len(self.runs) > 1:
            self.runs.popitem(last=False)
            self.evictions += 1
        if self.runs and self.bytes > self.max_bytes:
            key, idx = next(reversed(self.runs.items()))
            idx.trim(self.max_bytes)
            if idx.nbytes > self.max_bytes:
                del self.runs[key]
                self.evictions += 1

    @property
    def bytes(self) -> int:
        return sum(idx.nbytes for idx in self.runs.values())

    def stats(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {"entries": len(self.runs), "bytes": self.bytes, "max_bytes": self.max_bytes,
                "hits": self.hits, "misses": self.misses, "evictions": self.evictions,
                "hit_rate": round(self.hits / total, 3) if total else None,
                "too_big": self.too_big, "shared_in_flight": self.shared,
                "views": sum(len(i.views) for i in self.runs.values()),
                "levels": sum(len(i.levels) for i in self.runs.values()),
                "responses": sum(len(i.responses) for i in self.runs.values()),
                "tasks": sum(len(i.tasks) for i in self.runs.values()),
                "attempts": sum(i.n_attempts for i in self.runs.values())}
