"""app[TIMELINE_INDEX]: finished runs' timeline indexes (backend/db/timeline_index.py), LRU by
run, bounded in bytes.

An index grows after it is stored (row orders, zoom levels and answers are added to it as the
user zooms), so the timeline handler calls ``fit`` after each request that used one: other runs'
indexes are dropped first (least recently used), and if the run in use alone is still over the
bound it gives back its answers, levels and row orders. An index bigger than the whole bound is
not kept at all (the SQL path answers that run's requests).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from backend.db.timeline_index import RunIndex

Key = tuple[int, int]   # (run_pk, change_seq)


class TimelineIndexCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.runs: OrderedDict[Key, RunIndex] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.too_big = 0

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
                "too_big": self.too_big,
                "views": sum(len(i.views) for i in self.runs.values()),
                "levels": sum(len(i.levels) for i in self.runs.values()),
                "responses": sum(len(i.responses) for i in self.runs.values()),
                "tasks": sum(len(i.tasks) for i in self.runs.values()),
                "attempts": sum(i.n_attempts for i in self.runs.values())}
