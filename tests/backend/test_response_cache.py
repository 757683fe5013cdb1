"""The response cache (backend/cache/responses.py): answers follow the change feed and the clock.

Real runs, a real Postgres and its real notifications: nothing here is mocked. Each test makes
its own app, so its cache starts empty.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from flow_runs import run_flow

from backend.api.respond import Encoded
from backend.cache.responses import CACHE_HEADER, ResponseCache
from tests.backend.conftest import FIXTURE_FLOWS
from tests.backend.live_helpers import new_run, new_store, running_task

# Long enough that only a notification can replace an entry during these tests.
NO_EXPIRY = {"response_cache_max_age": 600.0, "heartbeat_timeout": 6000.0}


async def status(client: TestClient[Any, Any]) -> dict[str, Any]:
    resp = await client.get("/api/-/status")
    assert resp.status == 200
    cache: dict[str, Any] = (await resp.json())["data"]["caches"]["responses"]
    return cache


async def listening(client: TestClient[Any, Any]) -> dict[str, Any]:
    """The cache's state once the change listener is connected (the cache is bypassed before)."""
    for _ in range(100):
        state = await status(client)
        if state["listening"]:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"the listener did not connect: {state}")


async def until_generation_passes(client: TestClient[Any, Any], generation: int) -> None:
    for _ in range(100):
        if (await status(client))["generation"] > generation:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no notification arrived after generation {generation}")


async def fetch(client: TestClient[Any, Any], path: str, **params: Any) -> tuple[str, Any]:
    """(how the answer was made, the JSON body)."""
    resp = await client.get(path, params=params)
    assert resp.status == 200, await resp.text()
    return resp.headers[CACHE_HEADER], await resp.json()


async def test_run_list_follows_a_real_run(aiohttp_client: Any, make_app: Any, flowscope_env: dict[str, str],
                                           recorded: dict[str, str], tmp_path: Any) -> None:
    client = await aiohttp_client(make_app(**NO_EXPIRY))
    await listening(client)
    how, before = await fetch(client, "/api/runs", flow="LinearFlow")
    assert how == "miss"
    how, again = await fetch(client, "/api/runs", flow="LinearFlow")
    assert how == "hit" and again == before
    new_id = await asyncio.to_thread(run_flow, flowscope_env, FIXTURE_FLOWS / "linear_flow.py", tmp_path)
    for _ in range(50):   # the run's last notification may still be on its way
        how, after = await fetch(client, "/api/runs", flow="LinearFlow")
        if after["data"][0]["run_id"] == new_id:
            break
        await asyncio.sleep(0.1)
    assert after["data"][0]["run_id"] == new_id and after["data"][0]["status"] == "completed"
    assert how == "miss"
    assert {r["run_id"] for r in before["data"]} < {r["run_id"] for r in after["data"]}


async def test_lost_heartbeat_shows_without_any_write(aiohttp_client: Any, make_app: Any, pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run, _ = running_task(store, "CacheStaleFlow")
    # A 1 s heartbeat timeout caps cached answers at 0.1 s, whatever the configured age.
    client = await aiohttp_client(make_app(heartbeat_timeout=1.0, response_cache_max_age=600.0))
    assert (await listening(client))["max_age_s"] == 0.1
    url = f"/api/flows/CacheStaleFlow/runs/{run.run_id}"
    how, fresh = await fetch(client, url)
    assert how == "miss" and fresh["data"]["status"] == "running"
    how, again = await fetch(client, url)
    assert how == "hit" and again == fresh
    generation = (await status(client))["generation"]
    await asyncio.sleep(1.6)
    how, stale = await fetch(client, url)
    assert (await status(client))["generation"] == generation, "something was written meanwhile"
    assert how == "miss"
    assert stale["data"]["status"] == "failed" and stale["data"]["status_reason"].startswith("heartbeat lost")
    how, failed = await fetch(client, "/api/runs", flow="CacheStaleFlow", status="failed")
    assert [r["run_id"] for r in failed["data"]] == [run.run_id]


async def test_settled_run_survives_unrelated_writes(aiohttp_client: Any, make_app: Any, pg_dsn: str,
                                                     recorded: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(**NO_EXPIRY))
    await listening(client)
    url = f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}"
    answers = {}
    for path in ("", "/dag", "/steps", "/tasks"):
        how, answers[path] = await fetch(client, url + path)
        assert how == "miss"
    generation = (await status(client))["generation"]
    store = new_store(pg_dsn)
    new_run(store, "CacheBusyArchiveFlow")   # a write elsewhere: a new generation
    await until_generation_passes(client, generation)
    for path in ("", "/dag", "/steps", "/tasks"):
        how, body = await fetch(client, url + path)
        assert how == "run-hit" and body == answers[path]
        how, _ = await fetch(client, url + path)
        assert how == "hit"
    # A running run's answers are never kept under its change_seq.
    running = new_run(store, "CacheRunningFlow")
    running_url = f"/api/flows/CacheRunningFlow/runs/{running.run_id}/tasks"
    for _ in range(50):
        resp = await client.get(running_url)
        if resp.status == 200:
            break
        await asyncio.sleep(0.05)
    assert (await fetch(client, running_url))[0] in ("miss", "hit")
    generation = (await status(client))["generation"]
    new_run(store, "CacheBusyArchiveFlow")
    await until_generation_passes(client, generation)
    assert (await fetch(client, running_url))[0] == "miss"
    served = (await status(client))["served"]
    assert served["run_hit"] == 4 and served["hit"] >= 4


async def test_etag_and_304_from_the_cache(aiohttp_client: Any, make_app: Any, recorded: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(**NO_EXPIRY))
    await listening(client)
    url = f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}/dag"
    first = await client.get(url)
    etag = first.headers["ETag"]
    assert first.headers[CACHE_HEADER] == "miss" and "immutable" in first.headers["Cache-Control"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers[CACHE_HEADER] == "hit" and again.headers["ETag"] == etag
    other = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status == 200 and other.headers["ETag"] == etag and await other.json() == await first.json()


async def test_authentication_comes_first(aiohttp_client: Any, make_app: Any, recorded: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(auth_token="cache-secret", **NO_EXPIRY))
    await listening_with_token(client)
    auth = {"Authorization": "Bearer cache-secret"}
    ok = await client.get("/api/runs", headers=auth)
    assert ok.status == 200 and ok.headers[CACHE_HEADER] == "miss"
    ok = await client.get("/api/runs", headers=auth)
    assert ok.status == 200 and ok.headers[CACHE_HEADER] == "hit"
    refused = await client.get("/api/runs")
    assert refused.status == 401 and CACHE_HEADER not in refused.headers
    assert "data" not in await refused.json()


async def listening_with_token(client: TestClient[Any, Any]) -> None:
    for _ in range(100):
        resp = await client.get("/api/-/status", headers={"Authorization": "Bearer cache-secret"})
        if (await resp.json())["data"]["caches"]["responses"]["listening"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the listener did not connect")


async def test_identical_requests_share_one_computation(aiohttp_client: Any, make_app: Any,
                                                        recorded: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(**NO_EXPIRY))
    await listening(client)

    async def one() -> tuple[str, Any]:
        return await fetch(client, "/api/runs", group_by="flow", status="completed")

    answers = await asyncio.gather(*(one() for _ in range(8)))
    hows = sorted(how for how, _ in answers)
    assert hows.count("miss") == 1 and set(hows) <= {"miss", "coalesced", "hit"}
    assert all(body == answers[0][1] for _, body in answers)
    state = await status(client)
    assert state["misses"] == 1 and state["hits"] == 7 and state["entries"] == 1 and state["bytes"] > 0


async def test_bypassed_with_a_live_dsn(aiohttp_client: Any, make_app: Any, pg_dsn: str,
                                        recorded: dict[str, str]) -> None:
    # Reads may then come from a replica behind the notifications: only settled runs are cached
    # (their key is checked against the row just read).
    client = await aiohttp_client(make_app(live_dsn=pg_dsn, **NO_EXPIRY))
    await listening(client)
    assert (await fetch(client, "/api/runs"))[0] == "bypass"
    assert (await fetch(client, "/api/runs"))[0] == "bypass"
    url = f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}/tasks"
    assert (await fetch(client, url))[0] == "bypass"
    assert (await fetch(client, url))[0] == "run-hit"
    state = await status(client)
    assert "FLOWSCOPE_LIVE_DSN" in state["bypass_reason"] and state["served"]["bypass"] == 3
    assert state["served"]["run_hit"] == 1


async def test_off_and_bounded(aiohttp_client: Any, make_app: Any, recorded: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(response_cache_mb=0))
    resp = await client.get("/api/runs")
    assert resp.status == 200 and CACHE_HEADER not in resp.headers
    assert (await status(client))["bypass_reason"] == "FLOWSCOPE_RESPONSE_CACHE_MB=0"
    # The bound: the least recently used answers go first, and the state says so.
    cache = ResponseCache(10_000, 60.0)
    for i in range(30):
        cache.put(("g", 1, (f"/api/runs?i={i}",)), Encoded(b"x" * 800, None))
    state = cache.stats()
    assert state["bytes"] <= 10_000 and state["evictions"] == 30 - state["entries"] > 0
    assert cache.fresh(("g", 1, ("/api/runs?i=0",))) is None
    assert cache.fresh(("g", 1, ("/api/runs?i=29",))) is not None


async def test_a_run_page_reads_its_run_once(aiohttp_client: Any, make_app: Any, pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run = new_run(store, "CacheRunPageFlow")   # running: its answers are not kept by change_seq
    client = await aiohttp_client(make_app(**NO_EXPIRY))
    await listening(client)
    url = f"/api/flows/CacheRunPageFlow/runs/{run.run_id}"
    answers = await asyncio.gather(*(fetch(client, url + p) for p in ("/dag", "/steps", "/tasks", "/timeline")))
    assert [how for how, _ in answers] == ["miss"] * 4
    resp = await client.get("/api/-/status")
    rows = (await resp.json())["data"]["caches"]["run_rows"]
    assert rows["misses"] == 1 and rows["hits"] + rows["shared_in_flight"] == 3 and rows["entries"] == 1
    assert rows["max_bytes"] > 0 and rows["evictions"] == 0
    generation = (await status(client))["generation"]
    store.heartbeat(run)   # a write to the run: a new generation, a new lookup
    await until_generation_passes(client, generation)
    how, dag = await fetch(client, url + "/dag")
    assert how == "miss" and dag["data"]["steps"][0]["step_name"] == "start"
    rows = (await (await client.get("/api/-/status")).json())["data"]["caches"]["run_rows"]
    assert rows["misses"] == 2


async def test_query_parameters_are_keyed_as_pairs(aiohttp_client: Any, make_app: Any,
                                                   recorded: dict[str, str]) -> None:
    client = await aiohttp_client(make_app(**NO_EXPIRY))
    await listening(client)
    # An unknown parameter named "flow=LinearFlow" (ignored: every run) must not answer for
    # flow="LinearFlow=x" (no such flow: no runs), though both read "flow=LinearFlow=x" as text.
    everything = await client.get("/api/runs?flow%3DLinearFlow=x")
    assert everything.status == 200 and len((await everything.json())["data"]) > 1
    none = await client.get("/api/runs?flow=LinearFlow%3Dx")
    assert none.headers[CACHE_HEADER] == "miss" and (await none.json())["data"] == []
