"""Backend settings, declared into core_runtime's registry (one list, shown at /api/-/settings).

Importing this module only adds declarations; values are read once by load_settings().
"""

from __future__ import annotations

import backend.ingest.settings  # declares the ingest_* settings, served by `flowscope serve` too
import backend.plugins.settings  # noqa: F401  (declares plugin_dirs, plugins_disabled, ...)
from core_runtime.settings import REGISTRY, Setting, Settings, declare, load_settings

__all__ = ["REGISTRY", "Settings", "backend_settings"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected 0 or a positive integer, got {text!r}")
    return value


def _address_list(text: str) -> str:
    from backend.auth import parse_proxies

    parse_proxies(text)   # fail at start-up on a typo, not on the first request
    return text


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


declare(
    Setting("host", "127.0.0.1", str, "Address the UI backend listens on (flowscope serve --host)."),
    Setting("port", 8083, _positive_int, "Port the UI backend listens on (flowscope serve --port)."),
    Setting("pool_size", 10, _positive_int, "Maximum connections in the backend's reader pool."),
    Setting("query_timeout", 15.0, _positive_float,
            "Seconds a single backend database query may take before it is cancelled (504)."),
    Setting("datastore_timeout", 10.0, _positive_float,
            "Seconds a datastore read (log chunk, card, artifact blob) may take before the request "
            "fails with 504."),
    Setting("datastore_threads", 8, _positive_int,
            "Threads doing blocking datastore reads for the backend."),
    Setting("cache_memory_mb", 128, _positive_int,
            "Size bound of the in-memory cache of immutable things (log chunks, cards, DAGs, "
            "artifact values), in MiB."),
    Setting("cache_dir", None, str,
            "Directory of the on-disk cache of immutable datastore objects (default: "
            "FLOWSCOPE_HOME/cache). Set to 'off' to disable."),
    Setting("cache_disk_mb", 512, _positive_int, "Size bound of the on-disk cache, in MiB."),
    Setting("artifact_max_bytes", 64 * 1024 * 1024, _positive_int,
            "Largest artifact (serialized bytes) the backend renders; bigger ones are download-only."),
    Setting("artifact_timeout", 20.0, _positive_float,
            "Seconds the worker process may take to unpickle and render an artifact."),
    Setting("artifact_memory_mb", 1024, _positive_int,
            "Address-space cap (MiB) of the worker process that unpickles artifacts."),
    Setting("artifact_workers", 2, _positive_int,
            "How many artifact-rendering worker processes may run at once."),
    Setting("ws_queue_size", 1000, _positive_int,
            "Events a websocket client may have waiting; a client that falls further behind is "
            "disconnected with close code 4008."),
    Setting("ws_batch_ms", 75, _positive_int,
            "At most one live-update pass per this many milliseconds: a change after a quiet spell "
            "is sent at once, a busy run's changes are gathered into the next pass."),
    Setting("search_max_results", 1000, _positive_int,
            "Most matches one run-wide log search returns."),
    Setting("search_max_bytes", 512 * 1024 * 1024, _positive_int,
            "Most log bytes one run-wide log search reads before it stops (truncated)."),
    Setting("search_timeout", 60.0, _positive_float, "Seconds one run-wide log search may run."),
    Setting("static_dir", None, str,
            "Directory of the built UI served at / (default: backend/static, built by Vite)."),
    Setting("auth_token", None, str,
            "If set, the UI and API require this token: 'Authorization: Bearer <token>', or a "
            "session cookie that opening any page with ?token=<token> sets. See docs/deploy.md.",
            secret=True),
    Setting("trusted_user_header", None, str,
            "Header carrying the user authenticated by a reverse proxy (e.g. X-Forwarded-User from "
            "oauth2-proxy); requests without it are refused. See docs/deploy.md."),
    Setting("trusted_proxies", None, _address_list,
            "Addresses or CIDRs (comma-separated) allowed to send FLOWSCOPE_TRUSTED_USER_HEADER and "
            "X-Forwarded-Proto; unset: any peer (bind to a private address then)."),
    Setting("live_dsn", None, str,
            "Postgres DSN (SELECT-only role) for the live feed's LISTEN and change queries; set it to "
            "the primary when FLOWSCOPE_READER_DSN points at a read replica. Default: the reader DSN.",
            secret=True),
    Setting("response_cache_mb", 64, _non_negative_int,
            "Size bound of the backend's cache of JSON API answers (kept until the change feed "
            "reports a write), in MiB; 0 turns it off. See docs/api.md, Response cache."),
    Setting("response_cache_max_age", 2.0, _positive_float,
            "Seconds a cached API answer may be served without any write being reported (answers "
            "about settled runs excepted): the bound on staleness from the clock alone, e.g. a run "
            "whose heartbeat is lost."),
    Setting("live_poll_ms", 0, _non_negative_int,
            "If > 0, the live feed also re-checks every subscription this often (milliseconds): a "
            "fallback where LISTEN/NOTIFY cannot reach the backend (e.g. a transaction-mode pooler)."),
)

BACKEND_SETTINGS = ("host", "port", "pool_size", "query_timeout", "datastore_timeout",
                    "datastore_threads", "cache_memory_mb", "cache_dir", "cache_disk_mb",
                    "artifact_max_bytes", "artifact_timeout", "artifact_memory_mb",
                    "artifact_workers", "ws_queue_size", "ws_batch_ms", "search_max_results",
                    "search_max_bytes", "search_timeout", "static_dir",
                    "ingest_port", "ingest_host", "ingest_token", "ingest_heartbeat_interval",
                    "plugin_dirs", "plugins_disabled", "plugins_allow_same_origin",
                    "auth_token", "trusted_user_header", "trusted_proxies", "live_dsn", "live_poll_ms",
                    "response_cache_mb", "response_cache_max_age")


def backend_settings(base: Settings | None = None, **overrides: object) -> Settings:
    """Settings with every backend default filled in.

    Settings objects made before this module was imported (e.g. by a test harness) lack the
    backend keys; this adds their defaults without reading the environment again.
    """
    if base is None:
        return load_settings(None, **overrides)
    missing = {name: REGISTRY[name].default for name in BACKEND_SETTINGS
               if not _has(base, name)}
    return base.replace(**missing, **{k: v for k, v in overrides.items() if v is not None})


def _has(settings: Settings, name: str) -> bool:
    try:
        getattr(settings, name)
    except AttributeError:
        return False
    return True
