"""How common each tag is, from the planner's statistics, to choose how a tag-filtered run list is read.

run_tags (migration 0008) makes a rare tag's runs a short range scan, newest first. A common tag is
better read the other way (runs_created newest first, keeping the runs that have it: 100 / 40 % =
250 rows), and with several tags or another selective filter the rarest tag must drive: driving by
a tag on 40 % of 1M runs while looking for a second one on 0.3 % read 190 ms of runs on fs-scale.
ANALYZE keeps, per element of runs.tags, the fraction of runs that carry it (pg_stats); tags it does
not list are rarer than every one it lists. Read once per process and refreshed every few minutes.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from backend.db.query import Db

TAG_FREQUENCIES = """
SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs
FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'runs' AND attname = 'tags'
"""
REFRESH_S = 300.0
# At or above this fraction of runs a tag is read through runs_created, not run_tags.
COMMON = 0.05


class TagStats:
    def __init__(self) -> None:
        self.freqs: dict[str, float] = {}
        self.loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, db: Db) -> dict[str, float]:
        if time.monotonic() - self.loaded_at < REFRESH_S:
            return self.freqs
        async with self._lock:
            if time.monotonic() - self.loaded_at >= REFRESH_S:
                row = await db.one(TAG_FREQUENCIES)
                elems, freqs = (row["elems"] or [], row["freqs"] or []) if row else ([], [])
                # most_common_elem_freqs ends with three summary numbers after one per element.
                self.freqs = {e: float(f) for e, f in zip(elems, freqs[:len(elems)])}
                self.loaded_at = time.monotonic()
        return self.freqs


_by_db: weakref.WeakKeyDictionary[Db, TagStats] = weakref.WeakKeyDictionary()


async def tag_frequencies(db: Db) -> dict[str, float]:
    """Fraction of runs carrying each common tag (absent: rare), for this process's pool."""
    stats = _by_db.get(db)
    if stats is None:
        stats = _by_db[db] = TagStats()
    return await stats.get(db)


def driving_tag(tags: list[str], freqs: dict[str, float]) -> str | None:
    """The tag whose run_tags range to read, or None when even the rarest given tag is common."""
    if not tags:
        return None
    rarest = min(tags, key=lambda t: freqs.get(t, 0.0))
    return None if freqs.get(rarest, 0.0) >= COMMON else rarest
