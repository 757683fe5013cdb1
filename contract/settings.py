"""Every FLOWSCOPE_* setting, declared once: its name, type, default, help text and check.

``Settings`` is a frozen dataclass: each field is one setting (environment variable
``FLOWSCOPE_<NAME>``), typed, so ``settings.pool_size`` is an ``int`` wherever it is read.
``load_settings()`` reads the environment exactly once, at the start of a command, parses each
value by its field's type and validates every value (environment and overrides alike); nothing
else in the code base reads ``os.environ`` for configuration. ``/api/-/settings`` and
docs/configuration.md list the same fields (a test checks the page).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


Check = Callable[[Any], None]


def _positive(value: float) -> None:
    if value <= 0:
        raise ValueError(f"expected a positive number, got {value!r}")


def _not_negative(value: float) -> None:
    if value < 0:
        raise ValueError(f"expected 0 or a positive number, got {value!r}")


def _port(value: int) -> None:
    if not 1 <= value <= 65535:
        raise ValueError(f"expected a TCP port, 1 to 65535, got {value!r}")


def parse_networks(text: str | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses or CIDRs separated by commas or spaces (FLOWSCOPE_TRUSTED_PROXIES)."""
    out = []
    for part in (text or "").replace(",", " ").split():
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"{part!r} is not an address or CIDR") from exc
    return out


def parse_origins(text: str | None) -> frozenset[str]:
    """Origins like https://host:port separated by commas or spaces (FLOWSCOPE_ALLOWED_ORIGINS)."""
    out = set()
    for part in (text or "").replace(",", " ").split():
        url = urlsplit(part.strip())
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"{part!r} is not an origin like https://host:port")
        out.add(f"{url.scheme}://{url.netloc.lower()}")
    return frozenset(out)


def _origins(value: str | None) -> None:
    parse_origins(value)


# CSP 3's ancestor-source (https://www.w3.org/TR/CSP3/#directive-frame-ancestors): 'self', a scheme
# (https:) or a host source ([scheme://]host[:port][/path], host '*' or '*.'-prefixed). Only http
# and https: an ancestor is a page, and a page under any other scheme (javascript:, data:, blob:,
# file:) has no origin to match; nonces, hashes and 'unsafe-…' mean nothing for frame-ancestors.
_ANCESTOR_SCHEME = re.compile(r"^https?:$", re.IGNORECASE)
_ANCESTOR_HOST = re.compile(
    r"^(?:https?://)?"                                    # scheme-part "://"
    r"(?:\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"   # host-part
    r"(?::(?:[0-9]{1,5}|\*))?"                             # port-part
    r"(?:/[A-Za-z0-9._~!$&'()*+=:@%/-]*)?$",               # path-part (no ';' or ',')
    re.IGNORECASE)


def _csp_sources(value: str) -> None:
    """A frame-ancestors source list: 'none' alone, or 'self', schemes and host sources."""
    tokens = value.split()
    breaks = [c for c in value if not c.isprintable() and c not in " \t"]
    if breaks:   # split() would pass it, and it would end up inside the header
        raise ValueError(f"sources are separated by spaces; the value holds {breaks[0]!r}")
    if not tokens:
        raise ValueError("expected CSP sources separated by spaces ('self', https:, "
                         "https://portal.example.com) or 'none', got nothing")
    if any(t.lower() == "'none'" for t in tokens) and len(tokens) > 1:
        raise ValueError("'none' cannot be combined with other sources")
    for token in tokens:
        if token.lower() in ("none", "self"):   # a host named so, to a browser: surely a slip
            raise ValueError(f"{token!r} is a host name to a browser; the keyword is written '{token}'")
        if token.lower() in ("'none'", "'self'") or _ANCESTOR_SCHEME.match(token) \
                or _ANCESTOR_HOST.match(token):
            continue
        raise ValueError(f"{token!r} is not a frame-ancestors source: expected 'self', 'none', http: "
                         "or https:, or a host like https://*.example.com:443")


def _networks(value: str | None) -> None:
    parse_networks(value)   # fail at start-up on a typo, not on the first request


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


def _identifier(value: str) -> None:
    if not _IDENT.match(value):
        raise ValueError(f"{value!r} is not a plain SQL identifier (letters, digits, _; at most 63)")


def _one_of(*allowed: str) -> Check:
    def check(value: str) -> None:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
    return check


def setting(default: Any, help: str, *, secret: bool = False, check: Check | None = None) -> Any:
    """One declared setting: a dataclass field with its help text, secrecy and check."""
    return field(default=default, metadata={"help": help, "secret": secret, "check": check})


def _default_home() -> str:
    return str(Path.home() / ".flowscope")


@dataclass(frozen=True)
class Settings:
    # -- shared: where the data is ----------------------------------------------------------
    home: str = field(default_factory=_default_home, metadata={
        "help": "Directory for the embedded Postgres data and the local datastore "
                "(default: ~/.flowscope); also each flow's latest `run` id (`latest_run/<Flow>`), "
                "what a bare `resume` resumes.", "secret": False, "check": None})
    dsn: str | None = setting(
        None, "Postgres DSN of the writer role. Unset: start an embedded Postgres (pgserver) under "
              "FLOWSCOPE_HOME.", secret=True)
    reader_dsn: str | None = setting(
        None, "Postgres DSN of the SELECT-only role used by the UI backend. Unset with the embedded "
              "Postgres: the role flowscope_reader is created and used.", secret=True)
    datastore: str | None = setting(
        None, "Where artifacts, logs and cards go: a local directory (default: "
              "FLOWSCOPE_HOME/datastore) or s3://bucket/prefix.")
    s3_endpoint_url: str | None = setting(None, "Endpoint of an S3-compatible server (MinIO, moto).")
    datatools_s3root: str | None = setting(
        None, "S3 prefix of metaflow.S3(run=self) in flows (Metaflow's DATATOOLS_S3ROOT; objects go under "
              "<prefix>/<flow>/<run id>). Unset: METAFLOW_DATATOOLS_S3ROOT, else FLOWSCOPE_DATASTORE/data "
              "when the datastore is on S3.")
    user: str | None = setting(None, "User name recorded on runs (default: METAFLOW_USER, else the "
                                     "login name).")
    heartbeat_interval: float = setting(
        5.0, "Seconds between heartbeats of runs and running tasks.", check=_positive)
    heartbeat_timeout: float = setting(
        60.0, "A running run or task whose last heartbeat is older than this many seconds is "
              "reported as failed (heartbeat lost).", check=_positive)
    log_flush_interval: float = setting(
        1.0, "Seconds between log chunk flushes of a running task.", check=_positive)
    spin_dir: str | None = setting(
        None, "Directory under which `spin --persist` keeps its results (in .flowscope_spin); "
              "default: the current directory.")
    spin_persist: bool = setting(
        False, "Default of spin's --persist / --no-persist.")
    env_dir: str | None = setting(
        None, "Where the environments of @pypi/@conda steps are built and kept, one per distinct "
              "package set (default: FLOWSCOPE_HOME/envs).")
    card_modules: str | None = setting(
        None, "Comma-separated Python modules defining custom card types (MetaflowCard subclasses, "
              "or a CARDS list), imported when a run starts. A module that fails to import is "
              "reported and skipped.")
    retry_delays: bool = setting(
        False, "Wait @retry's minutes_between_retries before a retry. Off by default: Metaflow's "
               "local runtime retries at once (schedulers apply the delay).")
    ray_address: str | None = setting(
        None, "Address of a Ray cluster (its head's host:port, or 'auto' on a node of the cluster). Set: "
              "steps with @kubernetes/@batch run there, and `run --with ray` runs every step there. "
              "Unset: everything runs on this machine.")

    # -- the UI backend -----------------------------------------------------------------------
    host: str = setting("127.0.0.1", "Address the UI backend listens on (flowscope serve --host).")
    port: int = setting(8083, "Port the UI backend listens on (flowscope serve --port).", check=_port)
    pool_size: int = setting(10, "Connections in the backend's reader pool, all opened when it starts.", check=_positive)
    workers: int = setting(
        1, "UI backend processes sharing the port (flowscope serve --workers; SO_REUSEPORT, Linux): "
           "each has its own reader pool, LISTEN connection and caches (FLOWSCOPE_CACHE_MEMORY_MB is "
           "per process). Past the number of cores it only adds memory (docs/deploy.md).",
        check=_positive)
    uvloop: bool = setting(
        True, "Run the UI backend's event loop on uvloop (libuv) instead of asyncio's own loop; false: "
              "asyncio's. /api/-/status shows which one a process runs (process.event_loop).")
    query_timeout: float = setting(
        15.0, "Seconds a single backend database query may take before it is cancelled (504).",
        check=_positive)
    datastore_timeout: float = setting(
        10.0, "Seconds a datastore read (log chunk, card, artifact blob) may take before the request "
              "fails with 504.", check=_positive)
    datastore_threads: int = setting(
        8, "Threads doing blocking datastore reads for the backend.", check=_positive)
    cache_memory_mb: int = setting(
        512, "Memory budget of all the backend's in-memory caches together, in MiB: the response cache "
             "takes FLOWSCOPE_RESPONSE_CACHE_MB of it, the others (timeline indexes, datastore objects, "
             "parsed log chunks, artifact values, Metaflow logs and blobs, DAGs, run rows) share the "
             "rest by fixed parts; /api/-/status shows each cache's bound and size.",
        check=_positive)
    cache_dir: str | None = setting(
        None, "Directory of the on-disk cache of immutable datastore objects (default: "
              "FLOWSCOPE_HOME/cache). Set to 'off' to disable.")
    cache_disk_mb: int = setting(512, "Size bound of the on-disk cache, in MiB.", check=_positive)
    artifact_max_bytes: int = setting(
        64 * 1024 * 1024, "Largest artifact (serialized bytes) the backend renders; bigger ones are "
                          "download-only.", check=_positive)
    artifact_timeout: float = setting(
        20.0, "Seconds the worker process may take to unpickle and render an artifact.", check=_positive)
    artifact_memory_mb: int = setting(
        1024, "Address-space cap (MiB) of the worker process that unpickles artifacts.", check=_positive)
    artifact_workers: int = setting(
        2, "How many artifact-rendering worker processes may run at once.", check=_positive)
    artifact_sandbox: str = setting(
        "strict", "Unpickling artifacts that the safe decoder cannot read: 'strict' only if the start-up "
                  "probe found the sandbox complete, 'permissive' with whatever layers this host allows, "
                  "'off' never. See docs/security.md.", check=_one_of("strict", "permissive", "off"))
    artifact_sandbox_uid: int = setting(
        64123, "Uid (and gid) the unpickling process drops to when the backend runs as root; it should "
               "own no files. 0: keep root's uid (namespaces, Landlock and seccomp still apply).",
        check=_not_negative)
    ws_queue_size: int = setting(
        1000, "Events a websocket client may have waiting; a client that falls further behind is "
              "disconnected with close code 4008.", check=_positive)
    ws_batch_ms: int = setting(
        75, "At most one live-update pass per this many milliseconds: a change after a quiet spell "
            "is sent at once, a busy run's changes are gathered into the next pass.", check=_positive)
    search_max_results: int = setting(
        1000, "Most matches one run-wide log search returns.", check=_positive)
    search_max_bytes: int = setting(
        512 * 1024 * 1024, "Most log bytes one run-wide log search reads before it stops (truncated).",
        check=_positive)
    search_timeout: float = setting(60.0, "Seconds one run-wide log search may run.", check=_positive)
    static_dir: str | None = setting(
        None, "Directory of the built UI served at / (default: backend/static, built by Vite).")
    auth_token: str | None = setting(
        None, "If set, the UI and API require this token: 'Authorization: Bearer <token>', or a "
              "session cookie that opening any page with ?token=<token> sets. See docs/deploy.md.",
        secret=True)
    trusted_user_header: str | None = setting(
        None, "Header carrying the user authenticated by a reverse proxy (e.g. X-Forwarded-User from "
              "oauth2-proxy); requests without it are refused. See docs/deploy.md.")
    trusted_proxies: str | None = setting(
        None, "Addresses or CIDRs (comma-separated) allowed to send FLOWSCOPE_TRUSTED_USER_HEADER and "
              "X-Forwarded-Proto; unset: any peer (bind to a private address then).", check=_networks)
    live_dsn: str | None = setting(
        None, "Postgres DSN (SELECT-only role) for the live feed's LISTEN and change queries; set it to "
              "the primary when FLOWSCOPE_READER_DSN points at a read replica. Default: the reader DSN.",
        secret=True)
    response_cache_mb: int = setting(
        64, "Part of FLOWSCOPE_CACHE_MEMORY_MB for the backend's cache of JSON API answers (kept until "
            "the change feed reports a write), in MiB, at most half of it; 0 turns it off. See "
            "docs/api.md, Response cache.",
        check=_not_negative)
    response_cache_max_age: float = setting(
        2.0, "Seconds a cached API answer may be served without any write being reported (answers "
             "about settled runs excepted): the bound on staleness from the clock alone, e.g. a run "
             "whose heartbeat is lost.", check=_positive)
    version_cache: bool = setting(
        True, "Keep run and task JSON by row version for run lists and task pages (parts of "
              "FLOWSCOPE_CACHE_MEMORY_MB; a write gives the row a new version, so nothing served is "
              "stale). Off: every page builds every row's JSON in Postgres. See docs/api.md, Caches.")
    allowed_hosts: str | None = setting(
        None, "Host names (comma-separated) the UI, API, websocket and ingest answer to, besides IP "
              "addresses, localhost and the name they listen on (all of this machine's names when "
              "listening on 0.0.0.0); other Host headers get 421 (DNS rebinding). '*': any (only behind "
              "a proxy that checks Host). See docs/security.md.")
    allowed_origins: str | None = setting(
        None, "Origins (comma-separated, like https://host:port) allowed besides the UI's own: for the "
              "websocket, and for browser requests to the ingest service (which accepts none by default).",
        check=_origins)
    frame_ancestors: str = setting(
        "'none'", "CSP frame-ancestors of the UI's pages: which sites may frame the UI ('none': none, "
                  "against clickjacking; e.g. 'self' https://portal.example.com). Sources separated by "
                  "spaces: 'self', http: or https:, hosts ([scheme://]host[:port][/path], '*.' or '*' "
                  "wildcards, port '*'), or 'none' alone; anything else stops the start.",
        check=_csp_sources)
    live_poll_ms: int = setting(
        0, "If > 0, the live feed also re-checks every subscription this often (milliseconds): a "
           "fallback where LISTEN/NOTIFY cannot reach the backend (e.g. a transaction-mode pooler).",
        check=_not_negative)
    metaflow_log_poll_ms: int = setting(
        1000, "How often (milliseconds) the live feed looks for new log lines of watched running tasks "
              "of Metaflow-recorded runs (remote Metaflow tasks upload their logs to its datastore "
              "every few seconds, with no database event).", check=_positive)
    metaflow_card_poll_ms: int = setting(
        1000, "How often (milliseconds) the live feed looks for new runtime card data of watched running "
              "tasks of Metaflow-recorded runs (Metaflow writes it to its datastore, with no database event).",
        check=_positive)

    # -- the Metaflow ingest service ------------------------------------------------------------
    ingest_port: int = setting(
        8084, "Port of the Metaflow ingest service (the metadata-service API that the metaflow client "
              "writes to: METAFLOW_SERVICE_URL).", check=_port)
    ingest_host: str = setting("127.0.0.1", "Address the Metaflow ingest service listens on.")
    ingest_token: str | None = setting(
        None, "If set, the ingest service requires this token in the x-api-key header "
              "(METAFLOW_SERVICE_AUTH_KEY) or as 'Authorization: Bearer'.", secret=True)
    ingest_heartbeat_interval: int = setting(
        10, "Seconds between heartbeats that the ingest service asks metaflow clients for.",
        check=_positive)

    # -- the mirror of an existing metaflow-service database (backend/mirror) -----------------
    mirror_source: str | None = setting(
        None, "Postgres DSN of an existing metaflow-service database to mirror, read-only (a role with "
              "SELECT only). Set, `flowscope serve` runs the mirror; `flowscope mirror` runs it alone. "
              "See docs/metaflow.md, Beside an existing metadata service.", secret=True)
    mirror_name: str = setting(
        "metaflow", "Name of the mirrored source in Flowscope's database (its checkpoint and state) and "
                    "at /api/-/status.", check=_identifier)
    mirror_schema: str = setting(
        "public", "Schema of the metaflow-service tables (the service's DB_SCHEMA_NAME).", check=_identifier)
    mirror_table_flows: str = setting(
        "flows_v3", "Name of the source's flows table (the service's DB_TABLE_NAME_FLOWS).", check=_identifier)
    mirror_table_runs: str = setting(
        "runs_v3", "Name of the source's runs table (DB_TABLE_NAME_RUNS).", check=_identifier)
    mirror_table_steps: str = setting(
        "steps_v3", "Name of the source's steps table (DB_TABLE_NAME_STEPS).", check=_identifier)
    mirror_table_tasks: str = setting(
        "tasks_v3", "Name of the source's tasks table (DB_TABLE_NAME_TASKS).", check=_identifier)
    mirror_table_metadata: str = setting(
        "metadata_v3", "Name of the source's metadata table (DB_TABLE_NAME_METADATA).", check=_identifier)
    mirror_table_artifact: str = setting(
        "artifact_v3", "Name of the source's artifact table (DB_TABLE_NAME_ARTIFACT).", check=_identifier)
    mirror_listen: str = setting(
        "auto", "Wake the live tail with LISTEN on the source's 'notify' channel: auto (when Metaflow UI's "
                "notify_ui_* triggers exist), on, or off (poll only).", check=_one_of("auto", "on", "off"))
    mirror_poll_interval: float = setting(
        0.5, "Seconds between polls of the source for new rows when no trigger wakes the mirror.",
        check=_positive)
    mirror_poll_interval_listening: float = setting(
        5.0, "Seconds between safety polls of the source while its notifications wake the mirror.",
        check=_positive)
    mirror_liveness_interval: float = setting(
        5.0, "Seconds between reads of the heartbeats and tags of the mirrored runs and tasks still "
             "running (and the tags of runs finished within the hour).", check=_positive)
    mirror_tag_sweep_runs: int = setting(
        2000, "Runs whose tags the mirror re-reads each liveness interval, walking the whole source by "
              "primary key, so tag changes on runs of any age arrive (no notification reveals them); "
              "0 turns the sweep off.", check=_not_negative)
    mirror_batch_runs: int = setting(
        200, "Runs the backfill copies per transaction (and per checkpoint); fewer when they have many "
             "tasks.", check=_positive)
    mirror_backfill_writers: int = setting(
        2, "Batches the backfill writes into Flowscope's database at once, each on its own connection "
           "(the next batches are read from the source meanwhile); 1 writes them one after another.",
        check=_positive)
    mirror_backfill_bulk: bool = setting(
        True, "The backfill copies metadata and artifact rows set-wise (SQL joins them to the tasks) "
              "instead of replaying each one; off replays every row (the live tail always does).")
    mirror_lookback: float = setting(
        60.0, "Seconds of source clock the poll for new runs looks back (run rows are found by ts_epoch, "
              "which the service sets before its INSERT commits; several service replicas may disagree).",
        check=_positive)
    mirror_datastore_threads: int = setting(
        8, "Threads reading Metaflow's datastore (data.json, the DAG, parameters) while mirroring.",
        check=_positive)

    # -- plugins --------------------------------------------------------------------------------
    plugin_dirs: str | None = setting(
        None, "Extra directories of plugins, separated by ':' (each subfolder with a manifest.json is "
              "a plugin); the built-in plugins/ folder is always searched.")
    plugins_disabled: str | None = setting(
        None, "Comma-separated plugin ids to turn off (listed as disabled, files not served).")
    plugins_allow_same_origin: bool = setting(
        False, "Let panel iframes run with the UI's origin (allow-same-origin). Off: panels are opaque "
               "and cannot read the UI's DOM, cookies or API directly.")

    def __post_init__(self) -> None:
        for f in fields(self):
            check = f.metadata.get("check")
            value = getattr(self, f.name)
            if check is not None and value is not None:
                try:
                    check(value)
                except ValueError as exc:
                    raise SettingsError(f"{env_name(f.name)}={value!r}: {exc}") from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (validated like the rest)."""
        return replace(self, **changes)

    def as_public_dict(self) -> dict[str, Any]:
        """Values for display, by environment variable: secrets redacted."""
        return {env_name(f.name): ("***" if f.metadata["secret"] and getattr(self, f.name)
                                   else getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Declared:
    """What docs and /api/-/settings show about one setting."""
    name: str
    env: str
    type: str
    default: Any
    help: str
    secret: bool


def env_name(name: str) -> str:
    return "FLOWSCOPE_" + name.upper()


def _types() -> dict[str, Any]:
    return get_type_hints(Settings)


def _scalar(hint: Any) -> type:
    """int for ``int`` and ``int | None``; the type a raw string is parsed into."""
    args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    found = args[0] if args else hint
    assert isinstance(found, type), hint
    return found


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


_PARSERS: dict[type, Callable[[str], Any]] = {str: str, int: int, float: float, bool: parse_bool}


def declared() -> list[Declared]:
    hints = _types()
    defaults = Settings()
    return [Declared(f.name, env_name(f.name), _scalar(hints[f.name]).__name__,
                     None if f.name == "home" else getattr(defaults, f.name),
                     f.metadata["help"], f.metadata["secret"]) for f in fields(Settings)]


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Every setting from the environment (or ``environ``), then ``overrides`` (None ignored)."""
    env = os.environ if environ is None else environ
    hints = _types()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(env_name(f.name))
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = _PARSERS[_scalar(hints[f.name])](raw)
        except ValueError as exc:
            raise SettingsError(f"{env_name(f.name)}={raw!r}: {exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - {f.name for f in fields(Settings)}
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return Settings(**values)
