"""The ``Run`` JSON of each run row version, kept for run lists (``run_versions`` at /api/-/status).

Building a run's JSON is most of what a run list page costs Postgres: on 1M runs the home page's
statement takes 0.63 ms of Postgres CPU with the JSON and 0.08 ms without it (51 rows;
docs/benchmarks.md, "Issue #19"). A list page therefore selects each row's key and version
(``run_pk``, ``change_seq``) and takes the JSON from here when that version is held; only the rows
missing are built, in one more statement by primary key.

Nothing here can be stale: every write of a runs row gives it a new ``change_seq`` (the
``runs_seq`` trigger), and an entry answers only for the exact version the page's own statement
read. A run whose stored status is ``running`` is never kept, because its JSON also depends on
the clock (a lost heartbeat turns it failed, with the silence in the reason): the list statement
builds those rows' JSON itself. One entry per run (a new version replaces the old), bounded in
bytes by its part of FLOWSCOPE_CACHE_MEMORY_MB; FLOWSCOPE_RUN_JSON_CACHE=false turns it off (each
page then builds every row's JSON in its one statement).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.cache.lru import LruCache

ENTRY_BYTES = 260   # the (seq, text) tuple, the int key and the OrderedDict's entry, beside the text


def _entry_size(item: tuple[int, str]) -> int:
    return len(item[1]) + 49 + ENTRY_BYTES   # a str of ASCII JSON: 49 bytes of header + its length


class RunVersions:
    """run_pk -> (change_seq, the run's JSON text), least recently used first out."""

    def __init__(self, max_bytes: int) -> None:
        self.enabled = max_bytes > 0   # 0: FLOWSCOPE_RUN_JSON_CACHE=false
        self.items: LruCache[tuple[int, str]] = LruCache("run_versions", max_bytes, size_of=_entry_size)
        self.hits = 0
        self.misses = 0

    def get(self, run_pk: int, seq: int) -> str | None:
        item = self.items.get(run_pk)
        if item is not None and item[0] == seq:
            self.hits += 1
            return item[1]
        self.misses += 1
        return None

    def put(self, run_pk: int, seq: int, text: str) -> None:
        self.items.put(run_pk, (seq, text))

    def stats(self) -> dict[str, Any]:
        # Our own counts: the LRU counts an entry of an older version as a hit.
        total = self.hits + self.misses
        return {**self.items.stats(), "hits": self.hits, "misses": self.misses,
                "hit_rate": round(self.hits / total, 3) if total else None}


RUN_VERSIONS = web.AppKey("run_versions", RunVersions)


def run_versions(app: web.Application) -> RunVersions | None:
    """The cache when it is on, else None (run lists then build every row's JSON in their statement)."""
    versions = app.get(RUN_VERSIONS)
    return versions if versions is not None and versions.enabled else None
