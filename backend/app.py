"""The application factory: routes, middleware, and the resources that live as long as the app.

No I/O at import time. Everything that opens something (the reader pool, the datastore threads,
the artifact worker, the LISTEN task) is a cleanup_ctx generator, so a failing start-up or a
shutdown releases exactly what was opened.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiopg
import orjson
import psycopg2.extras
from aiohttp import web

from backend.cache.artifact_worker import rendered_size
from backend.cache.budget import CacheBudget
from backend.cache.lru import LruCache
from backend.cache.responses import RESPONSE_CACHE, ResponseCache, response_cache_middleware
from backend.cache.run_rows import RUN_ROWS, RunRows
from backend.cache.sizes import deep_size
from backend.cache.timeline_index import TimelineIndexCache
from backend.cache.versions import RUN_VERSIONS, TASK_VERSIONS, JsonVersions
from backend.db.query import READER_PLAN_OPTIONS, Db
from backend.db.reader_pool import create_reader_pool
from backend.errors import error_middleware
from backend.keys import (
    ARTIFACT_VALUES,
    BLOBS,
    CACHE_BUDGET,
    DAG_CACHE,
    DATASTORE_MEMORY,
    DB,
    FAILURE_SIGNATURES,
    HUB,
    LOG_CHUNKS,
    METAFLOW_READER,
    PLUGINS,
    RENDERER,
    SAME_ORIGIN,
    SETTINGS,
    STARTED_AT,
    TIMELINE_INDEX,
    TRIAGE,
)
from backend.routes import Route
from backend.shutdown import CLEANUP_DEADLINE_S, POOL_GRACE_S, bounded_cleanup, close_pool
from backend.sources import install_sources
from backend.sources.dags import dag_size
from backend.sources.metaflow_reader import new_reader
from backend.sources.native_logs import chunk_size
from contract.pg.connect import DatabaseError, redact_dsn, resolve_dsns
from contract.settings import Settings, load_settings

log = logging.getLogger("flowscope.backend")


def all_routes() -> list[Route]:
    from backend.api import (
        artifacts,
        autocomplete,
        cards,
        compare,
        critical_path,
        digest,
        durations,
        explain,
        flows,
        log_diff,
        logs,
        meta,
        metadata,
        plugins,
        runs,
        search,
        steps,
        summary,
        tasks,
        timeline,
    )
    from backend.live import ws

    routes: list[Route] = []
    for module in (flows, runs, steps, tasks, artifacts, metadata, cards, logs, timeline, search,
                   autocomplete, compare, meta, plugins, ws,
                   digest, explain, critical_path, durations, log_diff, summary):
        routes.extend(module.ROUTES)
    return routes


# 19 or more digits in a row may be an integer orjson would turn into a float (json.loads keeps it).
_LONG_NUMBER = re.compile(r"\d{19}")


def _loads_jsonb(text: str) -> Any:
    """jsonb columns (run parameters, foreach stacks) decoded with orjson where it is exact."""
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


async def _on_connect(conn: aiopg.Connection) -> None:
    # Decoding jsonb with the standard library was 8% of the event loop serving run lists.
    psycopg2.extras.register_default_jsonb(conn.raw, loads=_loads_jsonb)


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    reader = resolve_dsns(settings).reader
    timeout = settings.query_timeout
    try:
        # Every connection opened now, not on demand: a burst of requests to a fresh process (8
        # clients) waited for new connections (home c8 p95 12-13 ms against 4.5-5.4 warm,
        # docs/benchmarks.md "Issue #19"); each idle one holds 2.3-2.4 MiB of private Postgres memory.
        pool = await create_reader_pool(
            reader, minsize=settings.pool_size, maxsize=settings.pool_size, timeout=timeout,
            on_connect=_on_connect,
            # The server enforces the timeout too, so a cancelled client never leaves a query running;
            # prepared statements are planned for each execution's values (backend/db/query.py).
            options=f"-c statement_timeout={int(timeout * 1000)} {READER_PLAN_OPTIONS}")
    except Exception as exc:  # noqa: BLE001 - any connect failure becomes one clear line
        first = (str(exc).strip().splitlines() or ["connection failed"])[0]
        raise DatabaseError(f"cannot connect to Postgres (reader) at {redact_dsn(reader)}: {first}") from None
    app[DB] = Db(pool, timeout)
    yield
    await close_pool(pool, grace=POOL_GRACE_S)


async def _datastore(app: web.Application) -> AsyncIterator[None]:
    from backend.cache.blobs import BlobReader
    from backend.cache.disk import DiskCache
    from contract.datastore import DatastoreError, open_datastore

    s = app[SETTINGS]
    disk = None
    if (s.cache_dir or "") != "off":
        where = s.cache_dir or str(Path(s.home) / "cache")
        try:
            disk = DiskCache(where, s.cache_disk_mb * 1024 * 1024)
        except OSError as exc:   # reported as such, not as "cannot listen"
            setting = f"FLOWSCOPE_CACHE_DIR={s.cache_dir}" if s.cache_dir else f"FLOWSCOPE_HOME={s.home}"
            raise DatastoreError(f"cannot create the on-disk cache at {where} ({setting}): "
                                 f"{exc.strerror or exc}; set FLOWSCOPE_CACHE_DIR to a writable "
                                 "directory, or to off") from None
    blobs = BlobReader(open_datastore(s), timeout=s.datastore_timeout,
                       threads=s.datastore_threads, memory=app[DATASTORE_MEMORY], disk=disk)
    app[BLOBS] = blobs
    yield
    blobs.close()


async def _artifact_worker(app: web.Application) -> AsyncIterator[None]:
    from backend.cache.artifact_worker import ArtifactRenderer

    s = app[SETTINGS]
    renderer = ArtifactRenderer(
        timeout=s.artifact_timeout, memory_mb=s.artifact_memory_mb, workers=s.artifact_workers,
        cache=app[ARTIFACT_VALUES], mode=s.artifact_sandbox, uid=s.artifact_sandbox_uid or None)
    sandbox = await renderer.start()
    if sandbox.error or sandbox.possible:
        log.warning("artifact sandbox: %s", sandbox.refusal() or
                    f"incomplete ({sandbox.error or ', '.join(sandbox.possible)} still possible); "
                    "FLOWSCOPE_ARTIFACT_SANDBOX=permissive renders anyway")
    app[RENDERER] = renderer
    yield
    await renderer.close()


def response_cache(settings: Settings, max_bytes: int) -> ResponseCache:
    live_dsn = settings.live_dsn
    # A running run turns "heartbeat lost" with no write at all: answers may lag that by at most
    # a tenth of the timeout (2 s of the default 60 s), however long the configured age.
    max_age = min(settings.response_cache_max_age,
                  settings.heartbeat_timeout / 10)
    return ResponseCache(
        max_bytes, max_age,
        disabled_reason="FLOWSCOPE_LIVE_DSN is set: reads may come from a replica that lags behind "
                        "the notifications" if live_dsn else None)


async def _follow_hub(app: web.Application) -> None:
    """Give the response cache the live hub (made by a cleanup context, which runs first)."""
    if HUB in app:
        app[RESPONSE_CACHE].hub = app[HUB]


def cacheable_paths(routes: list[Route]) -> frozenset[str]:
    """JSON GET routes answered from the database (not /api/-/*: status must be live)."""
    return frozenset(r.path for r in routes
                     if r.returns in ("object", "list") and r.tag != "meta"
                     and r.path.startswith("/api/") and not r.path.startswith("/api/-/"))


def install_caches(app: web.Application, settings: Settings) -> None:
    """Every in-memory cache, each bounded by its part of FLOWSCOPE_CACHE_MEMORY_MB."""
    budget = app[CACHE_BUDGET] = CacheBudget(settings)
    app[RESPONSE_CACHE] = response_cache(settings, budget.responses)
    app[RUN_ROWS] = RunRows(budget.bytes_for("run_rows"))
    on = settings.version_cache
    app[RUN_VERSIONS] = JsonVersions("run_versions", budget.bytes_for("run_versions") if on else 0)
    app[TASK_VERSIONS] = JsonVersions("task_versions", budget.bytes_for("task_versions") if on else 0)
    app[DAG_CACHE] = LruCache("dag", budget.bytes_for("dag"), size_of=dag_size)
    app[LOG_CHUNKS] = LruCache("log_chunks", budget.bytes_for("log_chunks"), size_of=chunk_size)
    app[DATASTORE_MEMORY] = LruCache("datastore", budget.bytes_for("datastore_memory"))
    app[ARTIFACT_VALUES] = LruCache("artifact_values", budget.bytes_for("artifact_values"), size_of=rendered_size)
    app[TIMELINE_INDEX] = TimelineIndexCache(budget.bytes_for("timeline_index"))
    app[TRIAGE] = LruCache("triage", budget.bytes_for("triage"), size_of=deep_size)
    # Entries are put with their size (key strings + value): see backend/resources/digest.py.
    app[FAILURE_SIGNATURES] = LruCache("failure_signatures", budget.bytes_for("failure_signatures"))
    app[METAFLOW_READER] = new_reader(settings, budget)


async def _close_metaflow_reader(app: web.Application) -> None:
    app[METAFLOW_READER].close()


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings if settings is not None else load_settings()
    from backend.auth import auth_middleware, forwarded_by_trusted_proxy
    from backend.same_origin import SameOrigin, host_check
    from backend.security_headers import add_headers

    routes = all_routes()
    same_origin = SameOrigin.build(settings.allowed_hosts, [settings.host], settings.allowed_origins,
                                   forwarded_by_trusted_proxy(settings))
    # Order matters: errors wrap everything; a foreign Host is refused before anything else (not
    # even a login page for a DNS-rebinding name: the Host check runs first in the authentication
    # middleware); authentication runs before the response cache, so a cached answer only ever
    # goes to a request that passed it.
    app = web.Application(middlewares=[error_middleware, auth_middleware(settings, first=host_check(same_origin))],
                          client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[SAME_ORIGIN] = same_origin
    app.on_response_prepare.append(add_headers)
    app[STARTED_AT] = time.time()
    install_caches(app, settings)
    if app[RESPONSE_CACHE].enabled:
        # Innermost. Not installed when the cache is off (FLOWSCOPE_RESPONSE_CACHE_MB=0: its size
        # never changes while the app runs): every request would pass through it for nothing.
        app.middlewares.append(response_cache_middleware(cacheable_paths(routes)))
    install_sources(app)
    app.on_cleanup.append(_close_metaflow_reader)
    app.cleanup_ctx.extend([_database, _datastore, _artifact_worker])
    from backend.live.setup import install_live

    install_live(app)
    app.on_startup.append(_follow_hub)
    from backend.plugins.registry import PluginRegistry

    app[PLUGINS] = PluginRegistry.from_settings(settings)
    for route in routes:
        app.router.add_get(route.path, route.handler, allow_head=route.returns != "websocket")
    from backend.static import serve_ui

    app.router.add_get("/{tail:.*}", serve_ui)
    # Last: every cleanup context registered above (live, plugins, ...) gets a teardown deadline.
    app.cleanup_ctx[:] = [bounded_cleanup(ctx, CLEANUP_DEADLINE_S) for ctx in app.cleanup_ctx]
    return app
