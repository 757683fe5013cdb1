"""The ``caches`` and ``cache_budget`` parts of /api/-/status: every in-memory cache with its
bound, size and hit/miss counts, and how the one budget is split between them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.cache.responses import RESPONSE_CACHE
from backend.cache.run_rows import RUN_ROWS
from backend.cache.versions import RUN_VERSIONS, TASK_VERSIONS
from backend.keys import (
    ARTIFACT_VALUES,
    BLOBS,
    CACHE_BUDGET,
    DAG_CACHE,
    DATASTORE_MEMORY,
    FAILURE_SIGNATURES,
    LOG_CHUNKS,
    METAFLOW_READER,
    TIMELINE_INDEX,
    TRIAGE,
)
from backend.metaflow_store.roots import s3_client_stats


def caches(app: web.Application) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dag": app[DAG_CACHE].stats(),
        "responses": app[RESPONSE_CACHE].stats(),
        "run_rows": app[RUN_ROWS].stats(),
        "run_versions": {**app[RUN_VERSIONS].stats(), "enabled": app[RUN_VERSIONS].enabled},
        "task_versions": {**app[TASK_VERSIONS].stats(), "enabled": app[TASK_VERSIONS].enabled},
        "log_chunks": app[LOG_CHUNKS].stats(),
        "datastore_memory": app[DATASTORE_MEMORY].stats(),
        "artifact_values": app[ARTIFACT_VALUES].stats(),
        "timeline_index": app[TIMELINE_INDEX].stats(),
        "triage": app[TRIAGE].stats(),
        "failure_signatures": app[FAILURE_SIGNATURES].stats(),
        "metaflow": app[METAFLOW_READER].stats(),
    }
    disk = app[BLOBS].disk if BLOBS in app else None
    if disk is not None:
        out["datastore_disk"] = disk.stats()   # on disk: FLOWSCOPE_CACHE_DISK_MB, not the budget
    out["s3_clients"] = s3_client_stats()      # a count bounded by MAX_S3_CLIENTS, not the budget
    return out


# Shown under caches but bounded otherwise than by the memory budget.
OUTSIDE_BUDGET = ("datastore_disk", "s3_clients")


def budget(app: web.Application, shown: dict[str, Any]) -> dict[str, Any]:
    """The split of FLOWSCOPE_CACHE_MEMORY_MB, with each cache's bytes from ``shown`` (caches())."""
    flat = {name: stats for name, stats in shown.items() if name not in ("metaflow", *OUTSIDE_BUDGET)}
    flat.update({f"metaflow_{name}": stats for name, stats in shown["metaflow"].items()})
    return app[CACHE_BUDGET].stats({name: int(stats["bytes"]) for name, stats in flat.items()})
