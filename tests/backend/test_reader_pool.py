"""The reader pool (backend/db/reader_pool.py): aiopg's pool with a fast path when a connection is
free, on a real Postgres. What must hold: a free connection is handed out and taken back without
any Task or waiting; whoever waits is served (in order) when one comes back; a closed connection is
replaced; close() still waits for connections in use; a statement timeout still cancels."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator

import psycopg2.errors
import pytest

from backend.db.query import READER_PLAN_OPTIONS, Db
from backend.db.reader_pool import ReaderPool, create_reader_pool


async def _pool(dsn: str, size: int, statement_timeout_ms: int = 5000) -> ReaderPool:
    return await create_reader_pool(dsn, minsize=size, maxsize=size, timeout=5.0,
                                    options=f"-c statement_timeout={statement_timeout_ms} {READER_PLAN_OPTIONS}")


@pytest.fixture()
async def pool2(pg_reader_dsn: str) -> AsyncIterator[ReaderPool]:
    pool = await _pool(pg_reader_dsn, 2)
    yield pool
    pool.close()
    await pool.wait_closed()


async def test_a_free_connection_is_taken_and_given_back_without_a_task(pool2: ReaderPool) -> None:
    pool = pool2
    assert (pool.size, pool.freesize) == (2, 2)
    tasks = len(asyncio.all_tasks())
    first = await pool.acquire()
    second = await pool.acquire()
    assert first is not second and (pool.size, pool.freesize) == (2, 0)
    # aiopg's release starts a wake-up Task per connection given back, and the caller awaits it
    # (one more pass of the event loop); the fast path's is done already, and no Task was started
    for conn in (first, second):
        back = pool.release(conn)
        assert back.done() and not isinstance(back, asyncio.Task)
        await back
    assert len(asyncio.all_tasks()) == tasks
    assert (pool.size, pool.freesize) == (2, 2)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT 41 + 1")
        assert await cur.fetchone() == (42,)


async def test_waiters_are_served_in_order_when_connections_come_back(pg_reader_dsn: str) -> None:
    pool = await _pool(pg_reader_dsn, 1)
    try:
        held = await pool.acquire()
        got: list[int] = []

        async def wait_for_it(i: int) -> None:
            conn = await pool.acquire()
            got.append(i)
            await asyncio.sleep(0)
            await pool.release(conn)

        waiters = []
        for i in range(5):
            waiters.append(asyncio.create_task(wait_for_it(i)))
            await asyncio.sleep(0.01)
        # a newcomer does not take a connection before those already waiting
        assert got == []
        await pool.release(held)
        await asyncio.wait_for(asyncio.gather(*waiters), 10)
        assert got == [0, 1, 2, 3, 4]
        assert (pool.size, pool.freesize) == (1, 1)
    finally:
        pool.close()
        await pool.wait_closed()


async def test_a_closed_connection_is_replaced(pool2: ReaderPool) -> None:
    pool = pool2
    conn = await pool.acquire()
    conn.close()                       # what aiopg does to a connection whose statement was cancelled
    await pool.release(conn)
    for _ in range(100):               # reopened in the background
        if pool.size == 2:
            break
        await asyncio.sleep(0.05)
    assert (pool.size, pool.freesize) == (2, 2)
    seen = [await pool.acquire(), await pool.acquire()]
    assert conn not in seen and not any(c.closed for c in seen)
    for c in seen:
        await pool.release(c)


async def test_close_waits_for_a_connection_in_use(pool2: ReaderPool) -> None:
    pool = pool2
    conn = await pool.acquire()
    pool.close()
    closing = asyncio.create_task(pool.wait_closed())
    await asyncio.sleep(0.1)
    assert not closing.done()          # still in use
    await pool.release(conn)
    await asyncio.wait_for(closing, 5)
    assert conn.closed


async def test_timeouts_still_cancel_and_the_pool_recovers(pg_reader_dsn: str) -> None:
    pool = await _pool(pg_reader_dsn, 1, statement_timeout_ms=300)
    try:
        db = Db(pool, 5.0)
        with pytest.raises(asyncio.CancelledError):   # the server's statement_timeout
            await db.scalar("SELECT pg_sleep(%(s)s)", {"s": 3})
        assert await db.scalar("SELECT %(v)s::int", {"v": 7}) == 7
        quick = Db(pool, 0.1)
        with pytest.raises(asyncio.TimeoutError):     # the client's timeout closes the connection
            await quick.scalar("SELECT pg_sleep(%(s)s) IS NULL", {"s": 0.25})
        assert await db.scalar("SELECT %(v)s::int", {"v": 8}) == 8
        assert pool.size == 1
    finally:
        pool.close()
        await pool.wait_closed()


async def test_a_cancelled_statement_closes_its_connection_and_an_error_leaves_it_usable(pg_reader_dsn: str) -> None:
    """Db runs statements on psycopg2 cursors of the pooled connections (no aiopg Cursor: query.py's _send):
    a request cancelled mid-statement still closes its connection (so nothing reads a stale answer
    from it, and the pool's release finds no statement in progress to warn about) and the pool
    opens another; a statement that fails leaves its connection ready for the next one; a finished
    statement's timeout does not touch its connection later."""
    pool = await _pool(pg_reader_dsn, 1)
    try:
        db = Db(pool, 5.0)
        assert await db.scalar("SELECT %(v)s::int", {"v": 1}) == 1
        first = next(iter(pool._free))
        slow = asyncio.create_task(db.scalar("SELECT pg_sleep(%(s)s) IS NULL", {"s": 3}))
        await asyncio.sleep(0.3)
        assert first in pool._used
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
        assert first.closed
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
        assert await db.scalar("SELECT %(v)s::int", {"v": 2}) == 2      # on a new connection
        second = next(iter(pool._free))
        assert second is not first and pool.size == 1
        with pytest.raises(psycopg2.errors.DivisionByZero):
            await db.scalar("SELECT 1 / %(z)s::int", {"z": 0})
        assert not second.closed and second._waiter is None
        assert await db.tuples("SELECT %(v)s::int, 'x'", {"v": 3}) == [(3, "x")]
        assert next(iter(pool._free)) is second
        quick = Db(pool, 0.2)
        assert await quick.scalar("SELECT %(v)s::int", {"v": 4}) == 4
        await asyncio.sleep(0.4)          # past the finished statement's timeout: nothing happens
        assert not second.closed and await db.scalar("SELECT %(v)s::int", {"v": 5}) == 5
    finally:
        pool.close()
        await pool.wait_closed()
