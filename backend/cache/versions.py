"""Run and task JSON by row version, for run lists and task pages (``run_versions`` and
``task_versions`` at /api/-/status); with the response cache off, ``run_versions`` also holds a
run's own answer (RunDetail) under ``("detail", run_pk)`` (backend/db/runs.py get_run_detail) and a
settled run's /dag and /steps answers under ``("dag", run_pk)`` and ``("steps", run_pk)``
(backend/api/steps.py held_version: the run's and its steps rows' versions; a DAG's text is its
ETag followed by the body).

Building the JSON is most of what such a page costs Postgres: on 1M runs the home page's statement
takes 0.63 ms of Postgres CPU with the runs' JSON and 0.08 ms without it (51 rows;
docs/benchmarks.md, "Issue #19"). A page therefore selects each row's key and version and takes
the JSON from here when that version is held; only the rows missing are built, in one more
statement by primary key.

Nothing here can be stale: every write of a row gives it a new ``change_seq`` (the ``*_seq``
triggers), a version is the ``change_seq`` of every row the JSON is built from (a run: its runs
row; a task: its tasks row and its attempts), and an entry answers only for the exact version the
page's own statement read. A row whose JSON also depends on the clock (stored as ``running``: a
lost heartbeat turns it failed, with the silence in the reason) is never kept: the page's
statement builds it. One entry per key (a new version replaces the old), bounded in bytes by its
part of FLOWSCOPE_CACHE_MEMORY_MB; FLOWSCOPE_VERSION_CACHE=false turns both off (each page then
builds every row's JSON in its one statement).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from aiohttp import web

from backend.cache.lru import LruCache

ENTRY_BYTES = 260   # the (version, text) tuple, the int key and the OrderedDict's entry, beside the text
VERSION_BYTES = {int: 32, tuple: 120}   # an int change_seq; a task's (task seq, attempts' seq) pair


def _entry_size(item: tuple[Hashable, str]) -> int:
    # a str of ASCII JSON: 49 bytes of header + its length
    return len(item[1]) + 49 + ENTRY_BYTES + VERSION_BYTES.get(type(item[0]), 0)


class JsonVersions:
    """key (run_pk, ("detail" | "dag" | "steps", run_pk) or task_pk) -> (version, the JSON text), least recently used
    first out."""

    def __init__(self, name: str, max_bytes: int) -> None:
        self.enabled = max_bytes > 0   # 0: FLOWSCOPE_VERSION_CACHE=false
        self.items: LruCache[tuple[Hashable, str]] = LruCache(name, max_bytes, size_of=_entry_size)
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable) -> str | None:
        item = self.items.get(key)
        if item is not None and item[0] == version:
            self.hits += 1
            return item[1]
        self.misses += 1
        return None

    def get_many(self, keys: list[Hashable], versions: list[Hashable]) -> list[str | None]:
        """get() of each (key, version) pair, in one call: a page's rows (two calls per row were
        ~3 % of the home page's samples at 32 clients)."""
        out: list[str | None] = []
        for item, version in zip(self.items.get_many(keys), versions):
            out.append(item[1] if item is not None and item[0] == version else None)
        hits = len(out) - out.count(None)
        self.hits += hits
        self.misses += len(out) - hits
        return out

    def put(self, key: Hashable, version: Hashable, text: str) -> None:
        self.items.put(key, (version, text))

    def stats(self) -> dict[str, Any]:
        # Our own counts: the LRU counts an entry of an older version as a hit.
        total = self.hits + self.misses
        return {**self.items.stats(), "hits": self.hits, "misses": self.misses,
                "hit_rate": round(self.hits / total, 3) if total else None}


RUN_VERSIONS = web.AppKey("run_versions", JsonVersions)
TASK_VERSIONS = web.AppKey("task_versions", JsonVersions)


def versions_of(app: web.Application, key: web.AppKey[JsonVersions]) -> JsonVersions | None:
    """The cache when it is on, else None (pages then build every row's JSON in their statement)."""
    versions = app.get(key)
    return versions if versions is not None and versions.enabled else None
