"""A run's answer with ``include`` (the run page in one request, backend/api/runs.py).

``GET …/runs/{run}?include=dag,steps,tasks`` is the run's own answer plus ``included``, whose members
are byte for byte the bodies of ``/dag``, ``/steps`` and ``/tasks`` (first page, default limit, no
filters) for the same state. Checked here on the whole body, byte for byte, for every subset of the
names, on completed, failed, foreach, running (before and after its heartbeat is lost), task-less
and many-task runs, with the response cache on, off, and off with the version caches off too
(each against its own separate answers); then
the 400 of an unknown name, the 404 of an unknown run, the ETag and 304, and that the ETag and the
answer change when a task is added.
"""

from __future__ import annotations

import asyncio
import time
from itertools import combinations
from typing import Any

from backend.keys import DB
from tests.backend.api_helpers import get_json
from tests.backend.live_helpers import new_run, new_store, running_task

NAMES = ("dag", "steps", "tasks")
SUBSETS = [c for n in (1, 2, 3) for c in combinations(NAMES, n)]


async def body_of(client: Any, path: str) -> bytes:
    resp = await client.get(path)
    body = await resp.read()
    assert resp.status == 200, (path, resp.status, body[:300])
    return body


async def expected(client: Any, run_path: str, names: tuple[str, ...]) -> bytes:
    """The run's answer with each named sub-resource's body spliced in as ``included``."""
    run = await body_of(client, run_path)
    assert run.startswith(b'{"data":') and run.endswith(b"}")
    parts = [b'"' + n.encode() + b'":' + await body_of(client, f"{run_path}/{n}") for n in names]
    return run[:-1] + b',"included":{' + b",".join(parts) + b"}}"


async def check_run(clients: list[Any], run_path: str) -> bytes:
    """Every subset of the names (asked in both orders) equals the separate answers, in every app
    (each against its own: that the separate answers agree across the apps is
    test_run_subresources.py's). Returns the whole bundle's body, from the last app."""
    whole = b""
    for names in SUBSETS:
        for client in clients:
            want = await expected(client, run_path, names)
            for asked in {",".join(names), ",".join(reversed(names))}:
                resp = await client.get(f"{run_path}?include={asked}")
                got = await resp.read()
                assert resp.status == 200, got
                assert got == want, f"{run_path}?include={asked}:\n got  {got[:400]!r}\n want {want[:400]!r}"
                assert resp.headers["Cache-Control"] == "no-cache"
                assert resp.headers["ETag"].startswith('"')
            whole = want
    return whole


async def apps(aiohttp_client: Any, make_app: Any, **overrides: Any) -> list[Any]:
    """Response cache on; off; off with the run and task JSON (and held answers) off too."""
    return [await aiohttp_client(make_app(**overrides)),
            await aiohttp_client(make_app(response_cache_mb=0, **overrides)),
            await aiohttp_client(make_app(response_cache_mb=0, version_cache=False, **overrides))]


async def test_included_parts_are_the_separate_answers_byte_for_byte(
        aiohttp_client: Any, make_app: Any, recorded: dict[str, str], pg_dsn: str) -> None:
    clients = await apps(aiohttp_client, make_app)
    for flow in ("LinearFlow", "FailingFlow", "ForeachFlow", "RetryCatchFlow"):
        run_path = f"/api/flows/{flow}/runs/{recorded[flow]}"
        for _ in range(2):                       # built, then (cache off) held by version
            await check_run(clients, run_path)
    failed = await get_json(clients[1], f"/api/flows/FailingFlow/runs/{recorded['FailingFlow']}", include="tasks")
    assert any(t["status"] == "failed" for t in failed["included"]["tasks"]["data"])
    foreach = await get_json(clients[1], f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}",
                             include="dag,tasks")
    assert any(s["type"] == "split-foreach" for s in foreach["included"]["dag"]["data"]["steps"])

    store = new_store(pg_dsn)
    # A run without tasks: empty task page, steps from the DAG alone.
    empty = new_run(store, "IncludedFlow")
    body = await check_run(clients, f"/api/flows/IncludedFlow/runs/{empty.run_id}")
    assert b'"tasks":{"data":[],"next":null}' in body
    # More tasks than a page (limit 50): the included page ends where /tasks' first page does,
    # with the same cursor.
    many = new_run(store, "IncludedFlow")
    for _ in range(57):
        store.create_task(many, "start")
    many_path = f"/api/flows/IncludedFlow/runs/{many.run_id}"
    await check_run(clients, many_path)
    page = (await get_json(clients[1], many_path, include="tasks"))["included"]["tasks"]
    assert len(page["data"]) == 50 and page["next"]


async def test_a_running_run_and_its_lost_heartbeat(aiohttp_client: Any, make_app: Any, pg_dsn: str) -> None:
    clients = await apps(aiohttp_client, make_app, heartbeat_timeout=1.5)
    run, _ = running_task(new_store(pg_dsn), "IncludedFlow")
    run_path = f"/api/flows/IncludedFlow/runs/{run.run_id}"
    for _ in range(2):
        body = await check_run(clients, run_path)
    data = await get_json(clients[1], run_path, include="dag,steps,tasks")
    assert data["data"]["status"] == "running"
    assert [t["status"] for t in data["included"]["tasks"]["data"]] == ["running"]
    await asyncio.sleep(2.0)                     # the heartbeat is lost: failed, computed at read time
    lost = await check_run(clients, run_path)
    assert lost != body and b"(no signal for over " in lost
    data = await get_json(clients[1], run_path, include="dag,steps,tasks")
    assert data["data"]["status"] == "failed"
    assert data["included"]["dag"]["data"]["steps"][0]["status"] == "failed"
    assert [t["status"] for t in data["included"]["tasks"]["data"]] == ["failed"]


async def test_bad_include_unknown_run_etag_and_a_new_task(aiohttp_client: Any, make_app: Any,
                                                          pg_dsn: str) -> None:
    on, off, plain = await apps(aiohttp_client, make_app)
    store = new_store(pg_dsn)
    run = new_run(store, "IncludedFlow")
    store.create_task(run, "start")
    run_path = f"/api/flows/IncludedFlow/runs/{run.run_id}"
    for client in (on, off, plain):
        for query in ("include=bogus", "include=dag,bogus", "include=dag&include=timeline"):
            resp = await client.get(f"{run_path}?{query}")
            body = await resp.json()
            assert resp.status == 400, body
            bad = query.rsplit("=", 1)[1].split(",")[-1]
            assert f"'include': '{bad}' is not one of dag, steps, tasks" in body["error"]["message"]
        resp = await client.get("/api/flows/IncludedFlow/runs/no-such-run?include=dag,steps,tasks")
        assert resp.status == 404 and "run IncludedFlow/no-such-run not found" in (await resp.json())["error"]["message"]
        # With the source text too: the run's answer with source, plus the parts.
        with_source = await body_of(client, f"{run_path}?source=true")
        dag = await body_of(client, f"{run_path}/dag")
        assert await body_of(client, f"{run_path}?source=true&include=dag") == \
            with_source[:-1] + b',"included":{"dag":' + dag + b"}}"
        # No include (or an empty one): the run's answer as before, no ETag.
        resp = await client.get(f"{run_path}?include=")
        assert resp.status == 200 and "ETag" not in resp.headers and "included" not in await resp.json()

    async def etag_of(client: Any) -> tuple[str, bytes]:
        resp = await client.get(f"{run_path}?include=dag,steps,tasks")
        assert resp.status == 200
        return resp.headers["ETag"], await resp.read()

    before = {id(c): await etag_of(c) for c in (on, off, plain)}
    for client in (on, off, plain):
        etag = before[id(client)][0]
        resp = await client.get(f"{run_path}?include=dag,steps,tasks", headers={"If-None-Match": etag})
        assert resp.status == 304 and resp.headers["ETag"] == etag and await resp.read() == b""
    store.create_task(run, "end")
    for client in (on, off, plain):
        # The response cache (on) drops the answer when the write's notification arrives.
        deadline = time.monotonic() + 10
        while (now := await etag_of(client))[0] == before[id(client)][0] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert now[0] != before[id(client)][0], "the ETag did not change when a task was added"
        assert [t["step_name"] for t in (await get_json(client, run_path, include="tasks"))["included"]["tasks"]["data"]] \
            == ["start", "end"]
        resp = await client.get(f"{run_path}?include=dag,steps,tasks", headers={"If-None-Match": before[id(client)][0]})
        assert resp.status == 200 and await resp.read() == now[1]


async def test_a_settled_run_page_in_two_statements(aiohttp_client: Any, make_app: Any,
                                                    recorded: dict[str, str]) -> None:
    """With the response cache off, a settled run's page (the run held by version, its DAG and steps
    answers held by version) costs two statements in one request: the run with its steps' rows,
    then the task page; the four separate requests cost four."""
    off = await aiohttp_client(make_app(response_cache_mb=0))
    db = off.app[DB]
    run_path = f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}"
    statements: list[str] = []

    def counting(real: Any) -> Any:
        def counted(*a: Any, **kw: Any) -> Any:
            statements.append(a[0])
            return real(*a, **kw)
        return counted

    for name in ("all", "tuples", "one", "scalar"):
        setattr(db, name, counting(getattr(db, name)))
    for _ in range(2):                           # the second time, what is held by version is used
        statements.clear()
        await body_of(off, f"{run_path}?include=dag,steps,tasks")
    assert len(statements) == 2, statements
    statements.clear()
    for sub in ("", "/dag", "/steps", "/tasks"):
        await body_of(off, run_path + sub)
    assert len(statements) == 4, statements
