"""The response cache: encoded JSON answers of the GET API, kept while the change feed says
nothing changed (docs/api.md, "Response cache").

Two kinds of keys:

* ``("g", generation, path)``: any cacheable answer, under the live hub's ``generation`` read
  *before* the handler ran. Postgres sends NOTIFY at commit and the hub bumps the generation for
  every notification (and when its listener connects or is lost), so an answer built from queries
  that started while the generation was g shows every write whose notification arrived before
  them, and is replaced as soon as a later one arrives. Entries are also dropped after
  ``FLOWSCOPE_RESPONSE_CACHE_MAX_AGE`` seconds: some answers change with the clock alone (a
  running run becomes "heartbeat lost" without any write; a Metaflow task's log is read from its
  datastore, not from a table with a trigger), and a notification lost without the listener
  noticing costs at most that long.
* ``("r", run_pk, change_seq, path)``: answers about a settled run (finished, no running task,
  heartbeat not lost): these only change with a write to the run, which moves its change_seq.
  Handlers check this key right after their run lookup (``cached_for_run``), so a busy archive
  that bumps the generation many times a second does not make finished runs' pages recompute.
  These entries do not depend on notifications at all (the key is checked against a fresh query),
  so they are used even when the generation-keyed cache is bypassed.

The generation-keyed cache is bypassed while the hub is not listening, and always with
FLOWSCOPE_LIVE_DSN: then reads come from a replica that may lag behind the primary whose
notifications we receive, and an answer built from the replica just after a notification would be
cached as current while missing that write.

Authentication runs before this middleware (it is the innermost one), so a cached answer is
only ever sent to a request that passed it; answers do not depend on who asks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from backend.api.respond import BUILT, Encoded
from backend.cache.lru import LruCache

if TYPE_CHECKING:
    from backend.live.hub import Hub

# Response header saying how the answer was made: hit (generation key), run-hit (the settled
# run's key), coalesced (waited for an identical request already running), miss, or bypass.
CACHE_HEADER = "X-Flowscope-Cache"


@dataclass(slots=True)
class Entry:
    encoded: Encoded
    stored_at: float


def _size(entry: Entry) -> int:
    return len(entry.encoded.body) + 200   # the key, the entry and the LRU's bookkeeping


class ResponseCache:
    """Bounded LRU of encoded answers plus the counters shown at /api/-/status."""

    def __init__(self, max_bytes: int, max_age_s: float, *, disabled_reason: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.entries: LruCache[Entry] = LruCache("responses", max_bytes, size_of=_size)
        self.max_age_s = max_age_s
        self.disabled_reason = disabled_reason if max_bytes > 0 else "FLOWSCOPE_RESPONSE_CACHE_MB=0"
        self.hub: Hub | None = None
        self.clock = clock
        self.hits = 0
        self.run_hits = 0
        self.coalesced = 0
        self.misses = 0
        self.expired = 0
        self.bypassed = 0
        self._inflight: dict[Hashable, asyncio.Future[Encoded | None]] = {}

    @property
    def enabled(self) -> bool:
        return self.entries.max_bytes > 0

    def generation(self) -> int | None:
        """The hub's generation, or None when answers must not be cached under it."""
        hub = self.hub
        if self.disabled_reason is not None or hub is None or not hub.listening:
            return None
        return hub.generation

    def fresh(self, key: Hashable) -> Encoded | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if self.clock() - entry.stored_at > self.max_age_s:
            self.entries.discard(key)
            self.expired += 1
            return None
        return entry.encoded

    def settled(self, key: Hashable) -> Encoded | None:
        entry = self.entries.get(key)
        return None if entry is None else entry.encoded

    def put(self, key: Hashable, encoded: Encoded) -> None:
        self.entries.put(key, Entry(encoded, self.clock()))

    def stats(self) -> dict[str, Any]:
        hub = self.hub
        lru = self.entries
        served = self.hits + self.run_hits + self.coalesced
        return {"entries": len(lru), "bytes": lru.bytes, "max_bytes": lru.max_bytes,
                "evictions": lru.evictions, "hits": served, "misses": self.misses,
                "hit_rate": round(served / (served + self.misses), 3) if served + self.misses else None,
                "served": {"hit": self.hits, "run_hit": self.run_hits, "coalesced": self.coalesced,
                           "miss": self.misses, "bypass": self.bypassed},
                "expired": self.expired, "max_age_s": self.max_age_s, "in_flight": len(self._inflight),
                "generation": hub.generation if hub is not None else None,
                "listening": bool(hub is not None and hub.listening),
                "bypass_reason": self._bypass_reason()}

    def _bypass_reason(self) -> str | None:
        if self.disabled_reason is not None:
            return self.disabled_reason
        if self.hub is None or not self.hub.listening:
            return "the change listener is not connected"
        return None


RESPONSE_CACHE = web.AppKey("response_cache", ResponseCache)
# The normalized path + query of a cacheable request, and the settled run's key once known.
CACHE_PATH = web.RequestKey("flowscope_cache_path", tuple)
RUN_KEY = web.RequestKey("flowscope_run_key", tuple)
CACHE_STATE = web.RequestKey("flowscope_cache_state", str)


def settled_run(run: dict[str, Any]) -> bool:
    """Finished, with no task still running and a heartbeat that cannot be lost any more."""
    return (run.get("status") in ("completed", "failed") and not run.get("stale")
            and not run.get("n_running") and run.get("finished_at") is not None)


def cached_for_run(request: web.Request, run: dict[str, Any]) -> web.Response | None:
    """For a settled run: the answer cached under the run's own change_seq, if there is one.

    Call right after looking the run up; on a miss the middleware stores the handler's answer
    under that key too.
    """
    path = request.get(CACHE_PATH)
    cache = request.app.get(RESPONSE_CACHE)
    if path is None or cache is None or not settled_run(run):
        return None
    key = ("r", run["run_pk"], run["change_seq"], path)
    request[RUN_KEY] = key
    encoded = cache.settled(key)
    if encoded is None:
        return None
    cache.run_hits += 1
    request[BUILT] = encoded
    request[CACHE_STATE] = "run-hit"
    return encoded.response(request)


def _normalized(request: web.Request) -> tuple[Any, ...]:
    """Path plus query with parameters in name order (repeated ones keep their order).

    Pairs stay pairs: joined as "k=v" strings, ?a%3Db=c and ?a=b%3Dc would share a key.
    """
    if not request.query_string:
        return (request.path,)
    return (request.path, *sorted(request.query.items(), key=itemgetter(0)))


def response_cache_middleware(cacheable: frozenset[str]) -> Middleware:
    """Answers GETs of the routes in ``cacheable`` (route paths) from the cache when it can."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        cache = request.app.get(RESPONSE_CACHE)
        resource = request.match_info.route.resource
        if (cache is None or not cache.enabled or request.method not in ("GET", "HEAD")
                or resource is None or resource.canonical not in cacheable):
            return await handler(request)
        path = request[CACHE_PATH] = _normalized(request)
        generation = cache.generation()
        if generation is None:
            return await _run(request, handler, cache, None, "bypass")
        key = ("g", generation, path)
        encoded = cache.fresh(key)
        if encoded is not None:
            cache.hits += 1
            return _marked(encoded.response(request), "hit")
        waiting = cache._inflight.get(key)
        if waiting is not None:
            # An identical request is being answered under this generation: its answer is as
            # current as ours would be. 32 clients opening the same page cost one query.
            encoded = await asyncio.shield(waiting)
            if encoded is not None:
                cache.coalesced += 1
                return _marked(encoded.response(request), "coalesced")
            return await _run(request, handler, cache, None, "miss")
        future: asyncio.Future[Encoded | None] = asyncio.get_running_loop().create_future()
        cache._inflight[key] = future
        try:
            return await _run(request, handler, cache, key, "miss", future)
        finally:
            del cache._inflight[key]
            if not future.done():
                future.set_result(None)

    return middleware


async def _run(request: web.Request, handler: Handler, cache: ResponseCache, key: Hashable | None,
               state: str, future: asyncio.Future[Encoded | None] | None = None) -> web.StreamResponse:
    response = await handler(request)
    encoded = request.get(BUILT)
    state = request.get(CACHE_STATE, state)
    if encoded is not None and response.status in (200, 304):
        if key is not None:
            cache.put(key, encoded)
        run_key = request.get(RUN_KEY)
        if run_key is not None and state != "run-hit":
            cache.put(run_key, encoded)
        if future is not None:
            future.set_result(encoded)
    if state == "miss":
        cache.misses += 1
    elif state == "bypass":
        cache.bypassed += 1
    return _marked(response, state)


def _marked(response: web.StreamResponse, state: str) -> web.StreamResponse:
    if not response.prepared:
        response.headers[CACHE_HEADER] = state
    return response
