"""Where the client reads from by default: one process-wide Source, made lazily.

Metaflow's client is configured globally (``metadata()``, ``namespace()``); this mirrors it with
``configure(settings)`` (Flowscope's Postgres) and ``inspect_spin(root)`` (results kept by
``spin --persist``). Without either, settings come from the environment (``load_settings()``).
Objects remember the source they were read from (client/source.py), so switching the default
later does not change where an existing object reads.
"""

from __future__ import annotations

import threading
from typing import Any

from contract.datastore import Datastore
from contract.settings import Settings, load_settings
from core_runtime.client.source import PgSource, Source

_lock = threading.RLock()
_settings: Settings | None = None
_source: Source | None = None


def configure(settings: Settings | None) -> None:
    """Read from the database and datastore these settings name (None: from the environment)."""
    global _settings
    with _lock:
        _settings = settings
        use_source(None)


def current_settings() -> Settings:
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def use_source(source: Source | None) -> None:
    """Make ``source`` the default for objects made from now on (None: Postgres per the settings)."""
    global _source
    with _lock:
        if _source is not None and _source is not source:
            _source.close()
        _source = source


def current_source() -> Source:
    global _source
    with _lock:
        if _source is None:
            _source = PgSource(current_settings())
        return _source


def source_for(metadata: str | None) -> Source:
    """The source a Metaflow-style metadata string names: ``spin@DIR`` or None (the default)."""
    if metadata is None:
        return current_source()
    kind, at, where = metadata.partition("@")
    if kind == "spin" and at:
        from core_runtime.client.spin_source import SpinSource

        return SpinSource(where)
    if kind == "flowscope":
        return current_source()
    from core_runtime.client.errors import FlowscopeClientError

    raise FlowscopeClientError(f"unknown metadata {metadata!r}: expected 'spin@<directory>' "
                               "or 'flowscope@…'")


def query(sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    """One read query on the default source."""
    return current_source().query(sql, args)


def datastore() -> Datastore:
    return current_source().datastore()


# ---- Metaflow's metadata() / get_metadata() / default_metadata() --------------------------------
# Metaflow names a metadata provider ("local@/path", "service@https://..."); here it is the
# Postgres database the runtime records into ("flowscope@<DSN, password hidden>"), or what
# spin --persist kept ("spin@<directory>", see inspect_spin).

def get_metadata() -> str:
    """``flowscope@<DSN>`` (or ``spin@<dir>``) of what the client reads by default."""
    return current_source().describe()


def metadata(ms: str) -> str:
    """Read from another database: ``metadata("postgresql://reader@db/flowscope")``,
    ``metadata("flowscope@<DSN>")``, or spin's results: ``metadata("spin@<dir>")``.
    Returns the new ``get_metadata()``."""
    import psycopg2
    import psycopg2.extensions

    from core_runtime.exception import MetaflowException

    kind, at, rest = ms.partition("@")
    if kind == "spin" and at:
        use_source(source_for(ms))
        return get_metadata()
    dsn = rest if at and kind == "flowscope" else ms
    if kind in ("local", "service") or not dsn.strip():
        raise MetaflowException(
            f"metadata({ms!r}): this client reads Flowscope's Postgres database; pass its DSN "
            f"(\"postgresql://user@host/db\"). Metaflow's own local or service metadata is read "
            f"with pip metaflow, or shown in Flowscope through its ingest service.")
    try:
        psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        raise MetaflowException(f"metadata({ms!r}): not a Postgres DSN") from None
    configure(current_settings().replace(reader_dsn=dsn, dsn=None))
    return get_metadata()


def default_metadata() -> str:
    """Back to the database the settings name (FLOWSCOPE_READER_DSN / FLOWSCOPE_DSN / embedded)."""
    configure(None)
    return get_metadata()
