"""Run lookups shared by the requests of one generation.

A run page asks for the run, its DAG, its steps and its tasks at once, and every one of those
handlers starts by reading the same run row: on a busy database (where the answers themselves
keep being recomputed) that lookup was a third of the event loop's time, most of it in the
send() of the query. Under the same rule as the response cache (backend/cache/responses.py) a
row read while the generation was g is current until it changes, for at most the cache's
max age, so the requests of one page share one lookup, and identical lookups already under way
are awaited rather than repeated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

from aiohttp import web

from backend.api.lookup import run_row
from backend.cache.lru import LruCache
from backend.cache.responses import RESPONSE_CACHE, ResponseCache
from backend.cache.sizes import deep_size
from backend.db.query import Row

ENTRY_BYTES = 200   # the key tuple, the (row, stored_at) pair and the LRU's bookkeeping


def _entry_size(item: tuple[Row, float]) -> int:
    return deep_size(item[0]) + ENTRY_BYTES   # a run row is ~3.5 KB (24 columns, tags, parameters)


class RunRows:
    """A bounded LRU of (generation, flow, run) -> (row, stored_at), with its state."""

    def __init__(self, max_bytes: int) -> None:
        self.rows: LruCache[tuple[Row, float]] = LruCache("run_rows", max_bytes, size_of=_entry_size)
        self.hits = 0
        self.shared = 0
        self.misses = 0
        self._inflight: dict[Hashable, asyncio.Future[Row | None]] = {}

    async def lookup(self, request: web.Request, cache: ResponseCache) -> Row:
        generation = cache.generation()
        if generation is None:
            return await run_row(request)
        key = (generation, request.match_info["flow"], request.match_info["run"])
        item = self.rows.get(key)
        if item is not None and cache.clock() - item[1] <= cache.max_age_s:
            self.hits += 1
            return dict(item[0])
        waiting = self._inflight.get(key)
        if waiting is not None:
            row = await asyncio.shield(waiting)
            if row is not None:
                self.shared += 1
                return dict(row)
            return await run_row(request)   # the first lookup failed (e.g. 404): say so ourselves
        future: asyncio.Future[Row | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        self.misses += 1
        try:
            row = await run_row(request)
            self.rows.put(key, (row, cache.clock()))
            future.set_result(row)
            return dict(row)
        finally:
            del self._inflight[key]
            if not future.done():
                future.set_result(None)

    def stats(self) -> dict[str, Any]:
        # Our own counts: the LRU's would count every lookup that then waited for another as a miss.
        served = self.hits + self.shared
        return {**self.rows.stats(), "hits": self.hits, "shared_in_flight": self.shared,
                "misses": self.misses,
                "hit_rate": round(served / (served + self.misses), 3) if served + self.misses else None}


RUN_ROWS = web.AppKey("run_rows", RunRows)


async def shared_run_row(request: web.Request) -> Row:
    """The run of the path (404 if there is none), shared with requests of the same generation."""
    cache = request.app.get(RESPONSE_CACHE)
    rows = request.app.get(RUN_ROWS)
    if cache is None or rows is None or not cache.enabled:
        return await run_row(request)
    return await rows.lookup(request, cache)


def sharing_run_rows(request: web.Request) -> bool:
    """Whether run lookups are shared (the response cache is on). A run's DAG, steps and tasks then
    look their run up here (one lookup for the whole run page, often none) and check the response
    cache before their own statements; with it off, each reads its run with its own rows in one
    statement instead (backend/api/steps.py, backend/api/tasks.py)."""
    cache = request.app.get(RESPONSE_CACHE)
    return cache is not None and cache.enabled and request.app.get(RUN_ROWS) is not None
