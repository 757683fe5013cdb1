"""The hub's shared fetches: many subscribers of one resource, single-task feeds, limited feeds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backend.resources import tasks as tasks_resource
from tests.backend.live_helpers import new_run, new_store, next_event


async def _status(api: TestClient[Any, Any]) -> dict[str, Any]:
    return (await (await api.get("/api/-/status")).json())["data"]["websockets"]


async def _subscribe(api: TestClient[Any, Any], resource: str, since: int | None = None) -> Any:
    ws = await api.ws_connect("/api/ws")
    msg: dict[str, Any] = {"type": "subscribe", "id": "s", "resource": resource}
    if since is not None:
        msg["since"] = since
    await ws.send_json(msg)
    ack = await ws.receive_json(timeout=10)
    assert ack["type"] == "subscribed", ack
    return ws


async def _collect(ws: Any, want: int) -> list[dict[str, Any]]:
    return [await next_event(ws, timeout=15) for _ in range(want)]


async def test_subscribers_of_one_resource_share_each_fetch(api: TestClient[Any, Any], pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    resource = f"/api/flows/LiveFlow/runs/{run.run_id}/tasks"
    sockets = [await _subscribe(api, resource) for _ in range(40)]
    before = await _status(api)
    created = []
    for _ in range(3):
        created.append(store.create_task(run, "start").task_id)
        await asyncio.sleep(0.3)   # one batch each
    for ws in sockets:
        got = await _collect(ws, 3)
        assert [e["data"]["task_id"] for e in got] == created
        assert [e["type"] for e in got] == ["insert"] * 3 and all(e["id"] == "s" for e in got)
        assert sorted(e["seq"] for e in got) == [e["seq"] for e in got]
        await ws.close()
    after = await _status(api)
    flushes = after["flushes"] - before["flushes"]
    fetches = after["fetches"] - before["fetches"]
    assert after["events_sent"] - before["events_sent"] >= 120
    # one fetch per batch for all 40 subscribers (plus none for the status requests)
    assert 1 <= fetches <= flushes, (fetches, flushes)


async def test_late_resync_and_live_subscribers_each_get_every_change_once(
        api: TestClient[Any, Any], pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    resource = f"/api/flows/LiveFlow/runs/{run.run_id}/tasks"
    live = await _subscribe(api, resource)
    t1 = store.create_task(run, "start")
    first = await next_event(live)
    assert first["data"]["task_id"] == t1.task_id
    # A second client resyncs from the start while changes keep coming: it and the live client
    # share later fetches even though they started from different positions.
    late = await _subscribe(api, resource, since=0)
    t2 = store.create_task(run, "start")
    store.start_attempt(t1, 0)
    want = {t1.task_id: "running", t2.task_id: "pending"}
    for ws in (live, late):
        final: dict[str, str] = {}
        seen: list[tuple[str, int]] = []
        while final != want:
            event = await next_event(ws)
            final[event["data"]["task_id"]] = event["data"]["status"]
            seen.append((event["data"]["task_id"], event["seq"]))
        # A write may reach the feed as more than one change (a task row and its attempt row):
        # drain what else comes, then check that nothing came twice or out of order.
        while True:
            try:
                event = await next_event(ws, timeout=0.5)
            except (AssertionError, TimeoutError):
                break
            final[event["data"]["task_id"]] = event["data"]["status"]
            seen.append((event["data"]["task_id"], event["seq"]))
        assert final == want
        seqs = [seq for _, seq in seen]
        assert seqs == sorted(seqs) and len(set(seen)) == len(seen), seen
        await ws.close()


async def test_single_task_feed_reads_only_its_task(api: TestClient[Any, Any], pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    mine, other = store.create_task(run, "start"), store.create_task(run, "start")
    path = f"/api/flows/LiveFlow/runs/{run.run_id}/steps/start/tasks/{mine.task_id}"
    ws = await _subscribe(api, path)
    resync = await _subscribe(api, path, since=0)
    store.start_attempt(other, 0)
    store.start_attempt(mine, 0)
    store.finish_attempt(other, 0, status="failed", exit_code=1)
    store.finish_attempt(mine, 0, status="completed", exit_code=0)
    got = [e["data"] for e in await _collect(ws, 1)]
    while got[-1]["status"] != "completed":
        got.append((await next_event(ws))["data"])
    assert {d["task_id"] for d in got} == {mine.task_id}
    resynced = [(await next_event(resync))["data"]]
    while resynced[-1]["status"] != "completed":
        resynced.append((await next_event(resync))["data"])
    assert {d["task_id"] for d in resynced} == {mine.task_id}
    for sock in (ws, resync):
        await sock.close()


async def test_a_limited_feed_continues_past_its_limit(api: TestClient[Any, Any], pg_dsn: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks_resource, "TASKS_LIMIT", 3)
    store = new_store(pg_dsn)
    run = new_run(store)
    resource = f"/api/flows/LiveFlow/runs/{run.run_id}/tasks"
    ws = await _subscribe(api, resource)
    tasks = [store.create_task(run, "start") for _ in range(10)]
    # attempt rows written after all task rows: their seqs are above every task row's
    for task in tasks[:4]:
        store.start_attempt(task, 0)
    want = {t.task_id: ("running" if i < 4 else "pending") for i, t in enumerate(tasks)}
    final: dict[str, str] = {}
    seqs: list[int] = []
    while final != want:
        event = await next_event(ws, timeout=15)
        final[event["data"]["task_id"]] = event["data"]["status"]
        seqs.append(event["seq"])
    assert seqs == sorted(seqs)
    # the same through a resync from 0, 3 rows per query
    again = await _subscribe(api, resource, since=0)
    final = {}
    while final != want:
        event = await next_event(again, timeout=15)
        final[event["data"]["task_id"]] = event["data"]["status"]
    for sock in (ws, again):
        await sock.close()
