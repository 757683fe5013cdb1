"""Objects shared through the application, each under a typed web.AppKey."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from backend.db.query import Db
from contract.settings import Settings

if TYPE_CHECKING:
    from backend.cache.artifact_worker import ArtifactRenderer
    from backend.cache.blobs import BlobReader
    from backend.cache.budget import CacheBudget
    from backend.cache.lru import LruCache
    from backend.cache.timeline_index import TimelineIndexCache
    from backend.live.hub import Hub
    from backend.live.listener import Listener
    from backend.plugins.registry import PluginRegistry
    from backend.same_origin import SameOrigin
    from backend.sources.base import RunSource
    from backend.sources.metaflow_reader import MetaflowReader

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Db)
BLOBS: web.AppKey[BlobReader] = web.AppKey("blobs")
# Every in-memory cache is bounded by its part of one budget (backend/cache/budget.py) and shown
# at /api/-/status (backend/cache/status.py).
CACHE_BUDGET: web.AppKey[CacheBudget] = web.AppKey("cache_budget")
DAG_CACHE: web.AppKey[LruCache[Any]] = web.AppKey("dag_cache")
# Datastore objects of native runs, read through BLOBS (its memory level).
DATASTORE_MEMORY: web.AppKey[LruCache[bytes]] = web.AppKey("datastore_memory")
# Rendered artifact values by sha (the renderer's cache).
ARTIFACT_VALUES: web.AppKey[LruCache[Any]] = web.AppKey("artifact_values")
TIMELINE_INDEX: web.AppKey[TimelineIndexCache] = web.AppKey("timeline_index")
RENDERER: web.AppKey[ArtifactRenderer] = web.AppKey("artifact_renderer")
HUB: web.AppKey[Hub] = web.AppKey("hub")
LISTENER: web.AppKey[Listener] = web.AppKey("listener")
STARTED_AT = web.AppKey("started_at", float)
PLUGINS: web.AppKey[PluginRegistry] = web.AppKey("plugins")
SAME_ORIGIN: web.AppKey[SameOrigin] = web.AppKey("same_origin")
# Log chunks split into records (backend/sources/native_logs.py); one datastore per app, so keyed by location.
LOG_CHUNKS: web.AppKey[LruCache[Any]] = web.AppKey("log_chunks")
METAFLOW_READER: web.AppKey[MetaflowReader] = web.AppKey("metaflow_reader")
# Settled runs' failure digests, critical paths and step durations, by (kind, run_pk, change_seq).
TRIAGE: web.AppKey[LruCache[Any]] = web.AppKey("triage")
# Failure rows' normalised messages, innermost user frames and signatures, by their text
# (backend/resources/digest.py memoized(): one error repeats its message thousands of times).
FAILURE_SIGNATURES: web.AppKey[LruCache[Any]] = web.AppKey("failure_signatures")
# The readers of runs' contents, by runs.source (backend/sources/).
SOURCES: web.AppKey[dict[str, RunSource]] = web.AppKey("sources")
# Polls Metaflow's datastore for new log lines of watched tasks (backend/live/metaflow_logs.py).
METAFLOW_LOG_POLLER: web.AppKey[Any] = web.AppKey("metaflow_log_poller")
# Polls Metaflow's card store for live cards of watched tasks (backend/live/metaflow_cards.py).
METAFLOW_CARD_POLLER: web.AppKey[Any] = web.AppKey("metaflow_card_poller")
