"""One memory budget for every in-memory cache of the backend (FLOWSCOPE_CACHE_MEMORY_MB).

The response cache takes FLOWSCOPE_RESPONSE_CACHE_MB of the budget first (at most half of it;
0 turns it off and leaves the whole budget to the others). It has its own setting because it is
the one cache an operator turns off on its own (to measure the uncached path, or to rule out
staleness), but it is memory like the rest and counts against the same total. What is left is
split between the other caches by the shares declared below, so the bounds of all caches add
up to the budget, never more. Each cache is bounded in bytes (estimates of the Python objects it
keeps, checked against tracemalloc in tests/backend/test_cache_budget.py) and shows its bound,
size and hit/miss counts at /api/-/status under ``caches``; ``cache_budget`` there shows the
split.

The disk cache (FLOWSCOPE_CACHE_DIR, FLOWSCOPE_CACHE_DISK_MB) is not memory and has its own bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.settings import Settings

MIB = 1024 * 1024
RESPONSES = "responses"
MAX_RESPONSE_PART = 0.5     # of the budget


@dataclass(frozen=True, slots=True)
class Share:
    name: str       # the cache's key under /api/-/status "caches"
    part: float     # of the budget left after the response cache
    holds: str


# Sized for the default budget (512 MiB, 64 of them for responses): run and task JSON by version is
# ~1 KB a row (9 MiB each: the newest ~9,000 runs, ~9,000 tasks); the timeline index of a
# finished 100,000-task run with a few row orders is ~150 MiB (docs/benchmarks.md), raw datastore
# objects and parsed log chunks serve log pages, and Metaflow runs need their own log and blob caches.
SHARES: tuple[Share, ...] = (
    Share("timeline_index", 0.37, "finished runs' tasks and attempt spans, row orders, zoom levels"),
    Share("datastore_memory", 0.15, "datastore objects of native runs: log chunks, card HTML, artifact blobs"),
    Share("log_chunks", 0.12, "native log chunks split into lines, each parsed the first time a page needs it"),
    Share("artifact_values", 0.07, "rendered artifact values, by sha"),
    Share("metaflow_logs", 0.08, "Metaflow runs' log files of finished attempts, as lines"),
    Share("metaflow_blobs", 0.08, "Metaflow runs' artifact blobs and card HTML"),
    Share("dag", 0.03, "runs' DAGs, by run"),
    Share("run_rows", 0.02, "run rows shared by the requests of one change generation"),
    Share("run_versions", 0.02, "run lists' run JSON by row version (FLOWSCOPE_VERSION_CACHE)"),
    Share("task_versions", 0.02, "task pages' task JSON by row version (FLOWSCOPE_VERSION_CACHE)"),
    Share("metaflow_card_lists", 0.01, "Metaflow tasks' card listings"),
    Share("triage", 0.02, "settled runs' failure digests, critical paths and step durations"),
    Share("failure_signatures", 0.01, "failures' normalised messages, user frames and signatures, by their text"),
)


class CacheBudget:
    """The byte bound of each cache, from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.total = settings.cache_memory_mb * MIB
        self.responses = min(settings.response_cache_mb * MIB, int(self.total * MAX_RESPONSE_PART))
        rest = self.total - self.responses
        self.bounds: dict[str, int] = {RESPONSES: self.responses}
        for share in SHARES:
            self.bounds[share.name] = int(rest * share.part)

    def bytes_for(self, name: str) -> int:
        return self.bounds[name]

    def stats(self, sizes: dict[str, int]) -> dict[str, Any]:
        """The split, and how much of each bound is used (``sizes``: bytes held, by cache)."""
        return {"memory_bytes": self.total,
                "used_bytes": sum(sizes.values()),
                "caches": {name: {"max_bytes": bound, "bytes": sizes.get(name, 0)}
                           for name, bound in self.bounds.items()}}
