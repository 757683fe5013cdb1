"""Websocket live updates: events after writes, resync with since, several backends, slow clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import sys
import time
from typing import Any

from aiohttp.test_utils import TestClient

from contract.datastore import log_chunk_key, open_datastore
from tests.backend.conftest import FIXTURE_FLOWS
from tests.backend.live_helpers import drain, new_run, new_store, next_event


async def test_event_after_runtime_write(api: TestClient[Any, Any], pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "t",
                        "resource": f"/api/flows/LiveFlow/runs/{run.run_id}/tasks"})
    await ws.send_json({"type": "ping"})
    assert (await next_event(ws))["type"] == "pong"
    task = store.create_task(run, "start")
    event = await next_event(ws)
    assert event["type"] == "insert" and event["id"] == "t"
    assert event["data"]["pathspec"] == f"LiveFlow/{run.run_id}/start/{task.task_id}"
    assert event["data"]["status"] == "pending" and isinstance(event["seq"], int)
    store.start_attempt(task, 0)
    event = await next_event(ws)
    assert event["type"] == "update" and event["data"]["status"] == "running"
    assert event["data"]["attempts"][0]["status"] == "running"
    await ws.close()


async def test_runs_list_follows_a_real_flow(api: TestClient[Any, Any], flowscope_env: dict[str, str],
                                             tmp_path: Any) -> None:
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "runs", "resource": "/api/flows/LinearFlow/runs"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(FIXTURE_FLOWS / "linear_flow.py"), "run", env=flowscope_env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    first = await next_event(ws, timeout=60)
    assert first["data"]["flow_id"] == "LinearFlow"
    # A fast run can start and finish within one batch: its first event is then already final.
    done = first if first["data"]["status"] == "completed" else await next_event(
        ws, timeout=60, match=lambda m: m["data"]["status"] == "completed"
        and m["data"]["run_id"] == first["data"]["run_id"])
    assert done["data"]["task_counts"]["completed"] == 3
    await proc.wait()
    await ws.close()


async def test_log_lines_stream(api: TestClient[Any, Any], pg_dsn: str, app_settings: Any) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    ws = await api.ws_connect("/api/ws")
    path = f"/api/flows/LiveFlow/runs/{run.run_id}/steps/start/tasks/{task.task_id}/logs/stdout"
    await ws.send_json({"type": "subscribe", "id": "log", "resource": path})
    await asyncio.sleep(0.2)
    ds = open_datastore(app_settings)
    key = log_chunk_key("LiveFlow", run.run_id, "start", task.task_id, 0, "stdout", 0)
    ds.put(key, b"1000\thello\n1001\tworld\n")
    store.record_log_chunk(task, 0, "stdout", 0, 1, 2, 22, 1000, 1001, key)
    first = await next_event(ws)
    second = await next_event(ws)
    assert [first["data"], second["data"]] == [{"line": 1, "ts": 1000, "text": "hello"},
                                               {"line": 2, "ts": 1001, "text": "world"}]
    await ws.close()


async def test_log_tail_page_says_where_to_follow_from(api: TestClient[Any, Any], pg_dsn: str,
                                                      app_settings: Any) -> None:
    """A line written between the tail page and the subscription reaches the follower, and no
    line of the page is sent again: the page's seq is the subscription's since."""
    store = new_store(pg_dsn)
    run = new_run(store)
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    ds = open_datastore(app_settings)
    path = f"/api/flows/LiveFlow/runs/{run.run_id}/steps/start/tasks/{task.task_id}/logs/stdout"

    def chunk(seq: int, first: int, texts: list[str]) -> None:
        body = "".join(f"{1000 + first + i}\t{t}\n" for i, t in enumerate(texts)).encode()
        key = log_chunk_key("LiveFlow", run.run_id, "start", task.task_id, 0, "stdout", seq)
        ds.put(key, body)
        store.record_log_chunk(task, 0, "stdout", seq, first, len(texts), len(body), 1000 + first,
                               1000 + first + len(texts) - 1, key)

    empty = await (await api.get(path, params={"tail": "10"})).json()
    assert empty["total_lines"] == 0 and empty["seq"] == 0
    chunk(0, 1, ["one", "two"])
    # another URL than the empty page's: the response cache forgets that one when the change
    # feed's notice arrives, which may be after this request
    page = await (await api.get(path, params={"tail": "20"})).json()
    assert [ln["text"] for ln in page["data"]] == ["one", "two"] and page["seq"] > 0
    chunk(1, 3, ["three"])                      # after the page, before the subscription
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "log", "resource": path, "since": page["seq"]})
    got = [m["data"] for m in await drain(ws) if m.get("id") == "log" and m["type"] == "insert"]
    assert got == [{"line": 3, "ts": 1003, "text": "three"}]
    await ws.close()
    # A page that is not the tail names no seq.
    ranged = await (await api.get(path, params={"from_line": "1"})).json()
    assert ranged["seq"] is None and ranged["total_lines"] == 3


async def test_resync_with_since_gets_exactly_what_was_missed(api: TestClient[Any, Any], pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    resource = f"/api/flows/LiveFlow/runs/{run.run_id}/tasks"
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "a", "resource": resource})
    await asyncio.sleep(0.2)
    t1 = store.create_task(run, "start")
    seen = await next_event(ws)
    assert seen["data"]["task_id"] == t1.task_id
    await ws.close()
    # While disconnected: one new task, one update of it, and a second new task.
    t2 = store.create_task(run, "start")
    store.start_attempt(t2, 0)
    t3 = store.create_task(run, "end")
    ws2 = await api.ws_connect("/api/ws")
    await ws2.send_json({"type": "subscribe", "id": "a", "resource": resource, "since": seen["seq"]})
    missed = await drain(ws2)
    got = [(m["data"]["task_id"], m["data"]["status"]) for m in missed]
    assert got == [(t2.task_id, "running"), (t3.task_id, "pending")]
    assert all(m["seq"] > seen["seq"] for m in missed)
    store.finish_attempt(t2, 0, status="completed", exit_code=0)
    live = await next_event(ws2)
    assert live["data"]["task_id"] == t2.task_id and live["data"]["status"] == "completed"
    await ws2.close()


async def test_two_backends_on_one_database(aiohttp_client: Any, make_app: Any, pg_dsn: str,
                                            recorded: dict[str, str]) -> None:
    one = await aiohttp_client(make_app())
    two = await aiohttp_client(make_app())
    store = new_store(pg_dsn)
    run = new_run(store)
    sockets = [await c.ws_connect("/api/ws") for c in (one, two)]
    for ws in sockets:
        await ws.send_json({"type": "subscribe", "id": "r", "resource": f"/api/flows/LiveFlow/runs/{run.run_id}"})
    await asyncio.sleep(0.3)
    store.finish_run(run, "completed", "all steps completed")
    for ws in sockets:
        event = await next_event(ws, match=lambda m: m["data"]["status"] == "completed")
        assert event["data"]["pathspec"] == f"LiveFlow/{run.run_id}"
        await ws.close()


def _raw_ws_subscribe(port: int, resource: str) -> socket.socket:
    """A websocket client that subscribes and then never reads (a stalled browser tab)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response
    payload = json.dumps({"type": "subscribe", "id": "s", "resource": resource, "since": 0}).encode()
    mask = os.urandom(4)
    header = bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(payload)) + mask
    sock.sendall(header + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return sock


async def test_stalled_client_does_not_slow_another(aiohttp_client: Any, make_app: Any, pg_dsn: str,
                                                    app_settings: Any) -> None:
    store = new_store(pg_dsn)
    run = new_run(store)
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    ds = open_datastore(app_settings)
    line = "x" * 200
    for seq in range(4):   # 4 chunks x 5,000 lines of 200 bytes: ~4 MB of events for the stalled one
        body = "".join(f"{1000 + i}\t{line}\n" for i in range(5000)).encode()
        key = log_chunk_key("LiveFlow", run.run_id, "start", task.task_id, 0, "stdout", seq)
        ds.put(key, body)
        store.record_log_chunk(task, 0, "stdout", seq, 1 + seq * 5000, 5000, len(body), 1000, 5999, key)
    client = await aiohttp_client(make_app(ws_queue_size=2000))
    log_path = f"/api/flows/LiveFlow/runs/{run.run_id}/steps/start/tasks/{task.task_id}/logs/stdout"
    stalled = await asyncio.get_running_loop().run_in_executor(
        None, _raw_ws_subscribe, client.port, log_path)
    try:
        healthy = await client.ws_connect("/api/ws")
        await healthy.send_json({"type": "subscribe", "id": "r", "resource": f"/api/flows/LiveFlow/runs/{run.run_id}"})
        await asyncio.sleep(1.0)
        started = time.monotonic()
        store.finish_run(run, "completed", "done")
        event = await next_event(healthy, timeout=5)
        assert event["data"]["status"] == "completed"
        assert time.monotonic() - started < 2.0
        status = await (await client.get("/api/-/status")).json()
        assert status["data"]["websockets"]["dropped_slow_clients"] == 1
        await healthy.close()
    finally:
        stalled.close()


async def test_subscribe_errors(api: TestClient[Any, Any]) -> None:
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "x", "resource": "/api/nothing/here"})
    err = await next_event(ws)
    assert err["type"] == "error" and err["id"] == "x" and "cannot subscribe" in err["message"]
    await ws.send_json({"type": "subscribe", "id": "y", "resource": "/api/flows/NoFlow/runs/1/tasks"})
    err = await next_event(ws)
    assert err["type"] == "error" and "not found" in err["message"]
    await ws.send_str("not json")
    assert (await next_event(ws))["type"] == "error"
    await ws.close()
