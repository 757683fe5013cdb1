"""Prepared statements on the reader pool (backend/db/query.py): the same answers as plain SQL, a
statement Postgres cannot prepare runs plain, a reset or replaced connection re-prepares, and the
statement timeout still cancels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiopg
import psycopg2
import pytest

from backend.db.query import READER_PLAN_OPTIONS, Db, to_positional
from backend.db.reader_pool import create_reader_pool
from backend.keys import DB
from contract.settings import Settings
from tests.backend.conftest import AiohttpClient


def test_placeholders_become_positional() -> None:
    stmt = to_positional("SELECT %(a)s, %(b)s, %(a)s, 'x%%y' WHERE z LIKE %(b)s", True)
    assert stmt is not None
    assert stmt.text == "SELECT $1, $2, $1, 'x%y' WHERE z LIKE $2" and stmt.names == ("a", "b")
    seq = to_positional("SELECT %s + %s", False)
    assert seq is not None and seq.text == "SELECT $1 + $2" and seq.count == 2
    # without params psycopg2 leaves % alone, so must we
    bare = to_positional("SELECT 'a%%b'", None)
    assert bare is not None and bare.text == "SELECT 'a%%b'"
    assert to_positional("SELECT %(a)s, %s", True) is None          # mixed styles
    assert to_positional("SELECT 1 % 2", True) is None               # a stray %
    assert to_positional("SET work_mem = '1MB'", None) is None         # not preparable
    assert to_positional("SELECT 1; SELECT 2", None) is None           # two statements


def _list_urls(recorded: dict[str, str]) -> list[str]:
    """Every run-list case of tests/backend/test_api_runs.py (filters, orders, groups)."""
    orders = ["created", "created:asc", "finished", "-finished", "duration:asc", "duration:desc"]
    return [
        "/api/runs", "/api/runs?limit=1000", "/api/runs?status=failed", "/api/runs?status=completed",
        "/api/runs?status=failed,completed&limit=1000", "/api/runs?status=running",
        "/api/runs?flow=LinearFlow", "/api/flows/LinearFlow/runs", "/api/runs?user=tester",
        "/api/runs?user=nobody", "/api/runs?tag=nightly&tag=team-a", "/api/runs?tag=nightly",
        "/api/runs?any_tag=nightly,team-a", "/api/runs?q=linear", "/api/runs?q=zz_no_match_zz",
        "/api/runs?q=50%25_x", "/api/runs?system_tag=user:tester&limit=1000",
        "/api/runs?created_after=0&flow=LinearFlow", "/api/runs?created_before=99999999999999&flow=LinearFlow",
        "/api/runs?group_by=flow&group_limit=1&limit=2", "/api/runs?group_by=user&status=failed",
        f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}",
        # a run and its sub-resources: lookups by key, run with generic plans (generic=True)
        *[f"/api/flows/{flow}/runs/{recorded[flow]}{sub}" for flow in ("ForeachFlow", "FailingFlow")
          for sub in ("", "/dag", "/steps", "/tasks", "/tasks?limit=2", "/tasks?status=failed")],
        *[f"/api/runs?limit=2&order={o}" for o in orders],
    ]


async def _body(client: Any, url: str) -> bytes:
    resp = await client.get(url)
    assert resp.status == 200, (url, await resp.text())
    return bytes(await resp.read())


async def test_prepared_and_plain_answers_are_byte_equal(aiohttp_client: AiohttpClient, app_settings: Settings,
                                                         recorded: dict[str, str]) -> None:
    from backend.app import create_app
    # A running run reads as failed once its heartbeat is older than the timeout: with a timeout this
    # short every running run is past it from the first read, so none crosses it between the two
    # reads compared (CI failed when one did: "running" then "failed").
    client = await aiohttp_client(create_app(app_settings.replace(response_cache_mb=0, heartbeat_timeout=0.001)))
    db: Db = client.server.app[DB]  # type: ignore[attr-defined]
    assert db.prepare
    urls = _list_urls(recorded)
    # the cursor pages too: follow each order's first page to its second
    for url in list(urls):
        if "limit=2&order=" in url:
            body = await client.get(url)
            nxt = (await body.json())["next"]
            if nxt:
                urls.append(f"{url}&cursor={nxt}")
    prepared = {url: await _body(client, url) for url in urls}
    # they ran as prepared statements: the pool's connections hold them, and so does the server
    assert sum(len(m) for m in db._prepared.values()) >= 10
    names = {r["name"] for r in await db.all("SELECT name FROM pg_prepared_statements")}
    assert any(n.startswith("fs_") for n in names)
    db.prepare = False
    for url in urls:
        assert await _body(client, url) == prepared[url], url
    assert any(b'"data" : [' not in v and b'"pathspec"' in v for v in prepared.values())


@pytest.fixture(params=["aiopg", "reader_pool"])
async def one_conn_db(pg_reader_dsn: str, request: pytest.FixtureRequest) -> AsyncIterator[Db]:
    """A Db over a pool of one reader connection, as the app opens them: aiopg's pool, and the
    app's (backend/db/reader_pool.py)."""
    options = f"-c statement_timeout=5000 {READER_PLAN_OPTIONS}"
    if request.param == "reader_pool":
        pool = await create_reader_pool(pg_reader_dsn, minsize=1, maxsize=1, timeout=5.0, options=options)
        yield Db(pool, 5.0)
        pool.close()
        await pool.wait_closed()
        return
    async with aiopg.create_pool(pg_reader_dsn, minsize=1, maxsize=1, timeout=5.0, options=options) as pool:
        yield Db(pool, 5.0)


LIST = "SELECT n, n * %(k)s AS m, 'a%%' AS lit FROM generate_series(1, %(n)s) AS n ORDER BY n"


async def test_untyped_parameter_falls_back_to_plain(one_conn_db: Db) -> None:
    db = one_conn_db
    # "$1 IS NULL": Postgres cannot infer $1's type, so PREPARE fails (42P18); plain SQL works
    assert await db.scalar("SELECT %(x)s IS NULL", {"x": None}) is True
    assert await db.scalar("SELECT %(x)s IS NULL", {"x": 3}) is False
    assert db._texts[("SELECT %(x)s IS NULL", True)] is None
    # and a preparable one on the same connection is prepared, with %% as a literal %
    assert await db.all(LIST, {"k": 10, "n": 2}) == [{"n": 1, "m": 10, "lit": "a%"}, {"n": 2, "m": 20, "lit": "a%"}]
    assert [list(m) for m in db._prepared.values()] == [[(LIST, True)]]


async def test_reset_connection_reprepares(one_conn_db: Db) -> None:
    db = one_conn_db
    assert len(await db.all(LIST, {"k": 1, "n": 3})) == 3
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM pg_prepared_statements")
        assert (await cur.fetchone())[0] == 1
        await cur.execute("DISCARD ALL")          # what a pooler's reset does: the name map is now stale
    assert len(await db.all(LIST, {"k": 1, "n": 4})) == 4
    # a connection the pool closes is replaced; the new one starts without names
    async with db.pool.acquire() as conn:
        first = conn
        conn.close()
    assert len(await db.all(LIST, {"k": 1, "n": 5})) == 5
    async with db.pool.acquire() as conn:
        assert conn is not first
        assert list(db._prepared[conn]) == [(LIST, True)]


async def test_bounded_per_connection(one_conn_db: Db) -> None:
    db = one_conn_db
    db.max_prepared = 3
    for i in range(6):
        assert await db.scalar(f"SELECT %(v)s::int + {i}", {"v": 1}) == 1 + i
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM pg_prepared_statements")
        assert (await cur.fetchone())[0] == 3
        assert len(db._prepared[conn]) == 3
        await cur.execute("DISCARD ALL")
    # the least recently used one is evicted although the reset already dropped it, and the
    # remembered ones are prepared again
    for i in (6, 4, 5):
        assert await db.scalar(f"SELECT %(v)s::int + {i}", {"v": 1}) == 1 + i
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM pg_prepared_statements")
        assert (await cur.fetchone())[0] == 3


async def test_timeout_still_cancels(pg_reader_dsn: str) -> None:
    async with aiopg.create_pool(pg_reader_dsn, minsize=1, maxsize=1, timeout=5.0,
                                 options=f"-c statement_timeout=300 {READER_PLAN_OPTIONS}") as pool:
        db = Db(pool, 5.0)
        # the server's statement_timeout (aiopg turns the server's cancel into CancelledError)
        with pytest.raises(asyncio.CancelledError):
            await db.scalar("SELECT pg_sleep(%(s)s)", {"s": 3})
        assert db._prepared and all(m for m in db._prepared.values())  # it was prepared, then cancelled
        assert await db.scalar("SELECT %(v)s::int", {"v": 7}) == 7
    async with aiopg.create_pool(pg_reader_dsn, minsize=1, maxsize=1, timeout=5.0,
                                 options=f"-c statement_timeout=5000 {READER_PLAN_OPTIONS}") as pool:
        quick = Db(pool, 0.3)
        assert await quick.scalar("SELECT pg_sleep(%(s)s) IS NULL", {"s": 0}) is False
        started = asyncio.get_running_loop().time()
        with pytest.raises(asyncio.TimeoutError):                      # the client's timeout (aiopg)
            await quick.scalar("SELECT pg_sleep(%(s)s) IS NULL", {"s": 3})
        assert asyncio.get_running_loop().time() - started < 2
        assert await quick.scalar("SELECT %(v)s::int", {"v": 8}) == 8


async def test_values_typed_differently_run_plain(one_conn_db: Db) -> None:
    """Postgres infers $2 as bigint in "(10 - $1) / $2": a float there would be rounded, where the
    plain literal 4.0 is numeric (the timeline's bucket width once came out wrong this way)."""
    db = one_conn_db
    sql = "SELECT (10 - %(a)s) / %(b)s AS q"
    assert await db.scalar(sql, {"a": 0, "b": 4}) == 2               # ints: the prepared statement
    assert db._checks[(sql, True)] and db._texts[(sql, True)] is not None
    assert await db.scalar(sql, {"a": 0, "b": 4.0}) == Decimal("2.5")  # a float: plain, as before
    assert await db.scalar(sql, {"a": 0, "b": 4}) == 2
    # an int where Postgres inferred text: plain SQL rejects it, and so must we
    with pytest.raises(psycopg2.errors.UndefinedFunction):
        await db.scalar("SELECT count(*) FROM pg_class WHERE relname = %(n)s", {"n": 5})
    assert await db.scalar("SELECT count(*) FROM pg_class WHERE relname = %(n)s", {"n": "pg_class"}) == 1
    # an int beyond bigint where Postgres inferred bigint: plain, where it compares as numeric (the
    # fuzzer's created_after=2.6e35 was a 500 "bigint out of range" as a typed parameter)
    big = "SELECT count(*) FROM pg_class WHERE oid::bigint >= %(n)s"
    assert await db.scalar(big, {"n": 10}) > 0
    assert await db.scalar(big, {"n": 259876303319598612909686320009180086272}) == 0
    assert await db.scalar(big, {"n": -(2 ** 63) - 1}) > 0


class _TransactionPoolerDb(Db):
    """Each statement lands on a session that has never seen the PREPARE (as behind PgBouncer in
    transaction mode): simulated by deallocating everything right after preparing."""

    async def _prepared_name(self, conn: Any, cur: Any, key: Any, stmt: Any) -> tuple[str, str] | None:
        prepared = await super()._prepared_name(conn, cur, key, stmt)
        await self._send(conn, cur, "DEALLOCATE ALL")
        return prepared


async def test_statements_vanishing_every_time_turn_preparing_off(one_conn_db: Db) -> None:
    db = _TransactionPoolerDb(one_conn_db.pool, 5.0)
    assert await db.all(LIST, {"k": 3, "n": 2}) == [{"n": 1, "m": 3, "lit": "a%"}, {"n": 2, "m": 6, "lit": "a%"}]
    assert db.prepare is False
    assert await db.scalar("SELECT %(v)s::int", {"v": 9}) == 9


MODE = "SELECT current_setting('plan_cache_mode') AS mode, %(v)s::int AS v"
PLANS = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %(s)s"


async def test_generic_statements_switch_the_session_and_back(one_conn_db: Db) -> None:
    """``generic=True`` runs its statement under force_generic_plan, set in the same round trip;
    the next statement not marked generic is back under the pool's force_custom_plan, also when
    the generic one failed or was cancelled."""
    db = one_conn_db
    assert (await db.one(MODE, {"v": 1})) == {"mode": "force_custom_plan", "v": 1}
    assert (await db.one(MODE, {"v": 2}, generic=True)) == {"mode": "force_generic_plan", "v": 2}
    assert (await db.one(MODE, {"v": 3}, generic=True)) == {"mode": "force_generic_plan", "v": 3}
    assert (await db.one(MODE, {"v": 4})) == {"mode": "force_custom_plan", "v": 4}
    # the generic executions were planned once, the custom ones each time
    plans = await db.one(PLANS, {"s": "%current_setting('plan_cache_mode')%"})
    assert plans == {"generic_plans": 2, "custom_plans": 2}
    # a generic statement that fails: its SET is rolled back with it, the next custom one is custom
    with pytest.raises(psycopg2.errors.DivisionByZero):
        await db.one("SELECT 1 / %(v)s::int AS x", {"v": 0}, generic=True)
    assert (await db.one(MODE, {"v": 5})) == {"mode": "force_custom_plan", "v": 5}
    assert (await db.one(MODE, {"v": 6}, generic=True))["mode"] == "force_generic_plan"
    # a custom statement that fails right after: the RESET went with it; the next one still resets
    with pytest.raises(psycopg2.errors.DivisionByZero):
        await db.one("SELECT 1 / %(v)s::int AS x", {"v": 0})
    assert (await db.one(MODE, {"v": 7})) == {"mode": "force_custom_plan", "v": 7}


async def test_a_cancelled_generic_statement_leaves_custom_plans(pg_reader_dsn: str) -> None:
    async with aiopg.create_pool(pg_reader_dsn, minsize=1, maxsize=1, timeout=5.0,
                                 options=f"-c statement_timeout=5000 {READER_PLAN_OPTIONS}") as pool:
        quick = Db(pool, 0.3)
        assert (await quick.one(MODE, {"v": 1}, generic=True))["mode"] == "force_generic_plan"
        assert (await quick.one(MODE, {"v": 1}))["mode"] == "force_custom_plan"
        with pytest.raises(asyncio.TimeoutError):                      # the client's timeout (aiopg)
            await quick.one("SELECT pg_sleep(%(s)s) IS NULL AS x", {"s": 3}, generic=True)
        assert (await quick.one(MODE, {"v": 2}))["mode"] == "force_custom_plan"


async def test_connections_are_handed_out_first_come_first_served(one_conn_db: Db) -> None:
    """Statements arriving faster than the pool's connection serves them run in their order of
    arrival. (aiopg's pool alone hands a released connection to whoever asks first: a newcomer takes
    it before the waiter woken for it, which then waits again at the back; here one lost 133-193 places in five runs.)"""
    db = one_conn_db
    done: list[int] = []

    async def one(i: int) -> None:
        await db.all("SELECT %(i)s::int AS i", {"i": i})
        done.append(i)

    arrivals = []
    for i in range(200):
        arrivals.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)      # one arrival per turn of the event loop
    await asyncio.gather(*arrivals)
    assert done == list(range(200)), f"an answer lost {max(p - i for p, i in enumerate(done))} places"


async def test_the_reader_pool_is_open_before_the_first_request(aiohttp_client: AiohttpClient,
                                                                 app_settings: Settings) -> None:
    """Every connection of the reader pool is opened when the app starts: a burst of requests to a
    fresh process does not wait for new connections (FLOWSCOPE_POOL_SIZE)."""
    from backend.app import create_app
    client = await aiohttp_client(create_app(app_settings.replace(pool_size=4)))
    db: Db = client.server.app[DB]  # type: ignore[attr-defined]
    assert (db.pool.size, db.pool.freesize, db.pool.maxsize) == (4, 4, 4)
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = current_user "
                          "AND application_name = (SELECT application_name FROM pg_stat_activity "
                          "WHERE pid = pg_backend_pid())")
        assert (await cur.fetchone())[0] >= 4
