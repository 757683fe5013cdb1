"""Nothing is lost when transactions commit out of seq order (migration 0004, live/horizon.py).

Writer A takes a change_seq and stays open; writer B takes a higher seq and commits; the
backend reads; then A commits. A cursor at B's seq would skip A's row forever. These tests
prove the row arrives live, and after a reconnect with the ``since`` a client learned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from backend.app import create_app
from contract.settings import Settings
from tests.backend.live_helpers import drain, new_run, new_store, next_event


@pytest.fixture()
def app(settings: Settings, tmp_path: Path) -> Any:
    (tmp_path / "static").mkdir()
    return create_app(settings.replace(cache_dir=str(tmp_path / "cache"),
                                       static_dir=str(tmp_path / "static")))


@pytest.fixture()
def two_tasks(pg_dsn: str) -> Iterator[tuple[Any, int, int]]:
    store = new_store(pg_dsn)
    run = new_run(store, "RaceFlow")
    t1, t2 = store.create_task(run, "start"), store.create_task(run, "start")
    yield run, t1.task_pk, t2.task_pk


def _open_write(dsn: str, task_pk: int, value: int) -> tuple[Any, int]:
    """Update a task in a transaction left open; returns (connection, the seq it took)."""
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("UPDATE tasks SET heartbeat_at = %s WHERE task_pk = %s RETURNING change_seq", (value, task_pk))
    return conn, cur.fetchone()[0]


def _horizon(dsn: str) -> int:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT horizon FROM change_horizon()")
        return int(cur.fetchone()[0])


def test_horizon_stays_below_an_open_transaction(pg_dsn: str, pg_reader_dsn: str,
                                                 two_tasks: tuple[Any, int, int]) -> None:
    _, t1, t2 = two_tasks
    a, seq_a = _open_write(pg_dsn, t1, 1)
    b, seq_b = _open_write(pg_dsn, t2, 2)
    b.commit()
    assert seq_b > seq_a
    assert _horizon(pg_reader_dsn) < seq_a   # the reader role may call it; A's row is not safe yet
    a.commit()
    assert _horizon(pg_reader_dsn) >= seq_b
    rolled, seq_r = _open_write(pg_dsn, t1, 3)
    assert _horizon(pg_reader_dsn) < seq_r
    rolled.rollback()                          # an aborted writer releases the horizon too
    assert _horizon(pg_reader_dsn) >= seq_r
    for conn in (a, b, rolled):
        conn.close()


def _task_events(messages: list[dict[str, Any]], value: int) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("data", {}).get("heartbeat_at") == value]


async def test_out_of_order_commits_arrive_live_and_after_resync(
        aiohttp_client: Any, app: Any, pg_dsn: str, two_tasks: tuple[Any, int, int]) -> None:
    run, t1, t2 = two_tasks
    client = await aiohttp_client(app)
    resource = f"/api/flows/RaceFlow/runs/{run.run_id}/tasks"
    live = await client.ws_connect("/api/ws")
    await live.send_json({"type": "subscribe", "id": "live", "resource": resource})
    resync = await client.ws_connect("/api/ws")
    await resync.send_json({"type": "subscribe", "id": "r", "resource": resource})
    await asyncio.sleep(0.3)

    a, seq_a = _open_write(pg_dsn, t1, 101)
    b, seq_b = _open_write(pg_dsn, t2, 202)
    b.commit()                                  # notifies; the backend reads while A is open
    early_live = await drain(live, quiet=1.0)
    early_resync = await drain(resync, quiet=0.2)
    # Nothing at or above A's seq may be sent yet: a client holding B's seq would skip A.
    assert all(m["seq"] < seq_a for m in early_live + early_resync if "seq" in m), (early_live, seq_a)
    since = max([m["seq"] for m in early_resync if "seq" in m], default=0)
    await resync.close()                        # this client goes away before A commits

    await asyncio.to_thread(a.commit)
    got = list(early_live)
    while not (_task_events(got, 101) and _task_events(got, 202)):
        got.append(await next_event(live, timeout=15))
    got += await drain(live, quiet=0.5)   # and no duplicates after them
    assert [m["seq"] for m in _task_events(got, 101)] == [seq_a]
    assert [m["seq"] for m in _task_events(got, 202)] == [seq_b]

    again = await client.ws_connect("/api/ws")
    subscribe: dict[str, Any] = {"type": "subscribe", "id": "r", "resource": resource}
    if since:
        subscribe["since"] = since
    else:   # it saw no event: resume from its subscription's position, as the frontend does
        subscribe["since"] = 0
    await again.send_json(subscribe)
    replay: list[dict[str, Any]] = []
    while not (_task_events(replay, 101) and _task_events(replay, 202)):
        replay.append(await next_event(again, timeout=15))
    assert _task_events(replay, 101) and _task_events(replay, 202), replay
    for conn in (a, b):
        conn.close()
    await live.close()
    await again.close()


async def test_event_seq_is_a_safe_since(aiohttp_client: Any, app: Any, pg_dsn: str,
                                         two_tasks: tuple[Any, int, int]) -> None:
    """A client that received B's event and reconnects with its seq still gets A's row."""
    run, t1, t2 = two_tasks
    client = await aiohttp_client(app)
    resource = f"/api/flows/RaceFlow/runs/{run.run_id}/tasks"
    ws = await client.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "s", "resource": resource})
    await asyncio.sleep(0.3)
    a, seq_a = _open_write(pg_dsn, t1, 303)
    b, seq_b = _open_write(pg_dsn, t2, 404)
    b.commit()
    await asyncio.sleep(0.8)
    await asyncio.to_thread(a.commit)
    order: list[dict[str, Any]] = []
    while not order or order[-1]["data"].get("heartbeat_at") != 404:
        order.append(await next_event(ws, match=lambda m: m.get("data", {}).get("heartbeat_at") in (303, 404)))
    seen = order[-1]
    assert [m["data"]["heartbeat_at"] for m in order] == [303, 404]   # A first: seq order kept
    await ws.close()
    # Both are committed now; B's seq is the largest the client saw.
    ws2 = await client.ws_connect("/api/ws")
    await ws2.send_json({"type": "subscribe", "id": "s", "resource": resource, "since": seen["seq"]})
    rest = await drain(ws2, quiet=0.8)
    # Nothing after B's seq changed: the replay is empty, and A was not skipped above.
    assert seq_a < seq_b and not _task_events(rest, 404) and not _task_events(rest, 303)
    for conn in (a, b):
        conn.close()
    await ws2.close()
