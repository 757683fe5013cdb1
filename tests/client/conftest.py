"""Client test fixtures: the client pointed at the session database, and a recorder that writes
runs through the real writer (RunStore, datastore, LogWriter) the way the runtime does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from client_recorder import Recorder

from contract.datastore import open_datastore
from contract.settings import Settings
from core_runtime import client
from core_runtime.store import RunStore


@pytest.fixture()
def client_settings(settings: Settings) -> Iterator[Settings]:
    client.configure(settings)
    client.default_namespace()
    yield settings
    client.default_namespace()


@pytest.fixture()
def recorder(pg_dsn: str, settings: Settings) -> Iterator[Recorder]:
    conn = psycopg2.connect(pg_dsn)
    yield Recorder(RunStore(conn), open_datastore(settings))
    conn.close()


@pytest.fixture()
def flow_name() -> str:
    """A flow name no other test uses (the session database is shared)."""
    return f"ClientFlow{uuid.uuid4().hex[:8]}"
