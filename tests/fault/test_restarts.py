"""Restarts with real processes: the client's final state equals the database, nothing lost."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest

from contract.pg.migrate import READER_ROLE, ensure_reader_role, migrate
from tests.backend.live_helpers import new_run, new_store
from tests.fault.procs import Backend, FeedClient, wait_until


def db_tasks(dsn: str, run_pk: int) -> dict[str, str]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT step_name, task_id, status FROM tasks WHERE run_pk = %s", (run_pk,))
        return {f"{s}/{t}": status for s, t, status in cur.fetchall()}


def shown(client: FeedClient) -> dict[str, str]:
    return {k: v["status"] for k, v in client.state.items()}


def write_some(dsn: str, run: Any, n: int) -> None:
    store = new_store(dsn)
    for i in range(n):
        task = store.create_task(run, "start" if i % 2 else "end")
        store.start_attempt(task, 0)
        if i % 3:
            store.finish_attempt(task, 0, status="completed", exit_code=0)


async def test_backend_restart_clients_catch_up(pg_dsn: str, flowscope_env: dict[str, str], tmp_path: Path) -> None:
    store = new_store(pg_dsn)
    run = new_run(store, "RestartFlow")
    backend = Backend(flowscope_env, tmp_path / "backend.log")
    backend.start()
    clients = [FeedClient(backend.url, f"/api/flows/RestartFlow/runs/{run.run_id}/tasks") for _ in range(3)]
    try:
        for c in clients:
            c.start()
        await wait_until(lambda: all(c.since is not None for c in clients), 10, "subscriptions")
        await asyncio.to_thread(write_some, pg_dsn, run, 6)
        await wait_until(lambda: all(shown(c) == db_tasks(pg_dsn, run.run_pk) for c in clients), 15, "first changes")
        backend.stop()
        await asyncio.to_thread(write_some, pg_dsn, run, 9)   # while no backend runs
        backend.start()
        expected = db_tasks(pg_dsn, run.run_pk)
        assert len(expected) == 15
        await wait_until(lambda: all(shown(c) == expected for c in clients), 30, "catch-up after restart")
        assert all(c.reconnects >= 1 for c in clients)
        await asyncio.to_thread(write_some, pg_dsn, run, 3)   # and live again afterwards
        await wait_until(lambda: all(shown(c) == db_tasks(pg_dsn, run.run_pk) for c in clients), 15, "live")
    finally:
        for c in clients:
            await c.stop()
        backend.stop()


@pytest.fixture()
def private_pg() -> Iterator[tuple[str, Any]]:
    """A Postgres of this test only (the session's server must never be restarted)."""
    import pgserver

    pgdata = Path(tempfile.mkdtemp(prefix="fsflt-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    admin = psycopg2.connect(server.get_uri())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE fault")
    admin.close()
    params = psycopg2.extensions.parse_dsn(server.get_uri())
    params["dbname"] = "fault"
    dsn = psycopg2.extensions.make_dsn(**params)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    migrate(conn)
    ensure_reader_role(conn)
    conn.close()
    yield dsn, server
    server.cleanup()


def restart_postgres(server: Any) -> None:
    """pg_ctl restart -m fast: every connection is dropped, the server is back with the same options."""
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=server.pgdata, user=server.system_user, timeout=60)


async def test_postgres_restart_while_subscribed(private_pg: tuple[str, Any], flowscope_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    dsn, server = private_pg
    params = psycopg2.extensions.parse_dsn(dsn)
    params["user"] = READER_ROLE
    reader = psycopg2.extensions.make_dsn(**params)
    env = dict(flowscope_env, FLOWSCOPE_DSN=dsn, FLOWSCOPE_READER_DSN=reader,
               FLOWSCOPE_HOME=str(tmp_path / "home"), FLOWSCOPE_DATASTORE=str(tmp_path / "ds"))
    store = new_store(dsn)
    run = new_run(store, "PgRestartFlow")
    backend = Backend(env, tmp_path / "backend.log")
    backend.start()
    client = FeedClient(backend.url, f"/api/flows/PgRestartFlow/runs/{run.run_id}/tasks")
    try:
        client.start()
        await wait_until(lambda: client.since is not None, 10, "subscription")
        await asyncio.to_thread(write_some, dsn, run, 4)
        await wait_until(lambda: shown(client) == db_tasks(dsn, run.run_pk), 15, "first changes")
        await asyncio.to_thread(restart_postgres, server)
        await asyncio.to_thread(write_some, dsn, run, 8)   # right away: the listener may not be back yet
        expected = db_tasks(dsn, run.run_pk)
        assert len(expected) == 12
        await wait_until(lambda: shown(client) == expected, 40, "catch-up after the Postgres restart")
        status = backend.get("/api/-/status")
        listener = status.get("listener") or status.get("data", {}).get("listener")
        assert listener["reconnects"] >= 1 and listener["connected"], status   # it really went away
        assert "Traceback" not in backend.log.read_text()
    finally:
        await client.stop()
        backend.stop()
