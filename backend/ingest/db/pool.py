"""The writer pool and transactions on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiopg
import psycopg2.extensions
import psycopg2.extras

Cursor = Any  # aiopg.Cursor with a RealDictCursor underneath: rows are dicts


@asynccontextmanager
async def transaction(pool: aiopg.Pool) -> AsyncIterator[Cursor]:
    async with pool.acquire() as conn, \
            conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur, cur.begin():
        yield cur


@asynccontextmanager
async def cursor(pool: aiopg.Pool) -> AsyncIterator[Cursor]:
    """Autocommit cursor, for single statements."""
    async with pool.acquire() as conn, \
            conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        yield cur


async def one(cur: Cursor, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    await cur.execute(sql, params)
    row = await cur.fetchone()
    return dict(row) if row is not None else None


async def all_rows(cur: Cursor, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    await cur.execute(sql, params)
    raw = getattr(cur, "raw", None)
    if isinstance(raw, psycopg2.extras.RealDictCursor) and raw.description is not None:
        return _plain_rows(raw)
    return [dict(r) for r in await cur.fetchall()]


def _plain_rows(raw: psycopg2.extras.RealDictCursor) -> list[dict[str, Any]]:
    """The fetched rows as plain dicts, built from tuples.

    A RealDictCursor builds each row item by item in Python (``RealDictRow.__setitem__``), which
    ``all_rows`` then copied into a dict: 16.6 ms for 1,750 rows of 4 columns, 2.6 ms this way
    (the RETURNING of a backfill batch's tasks; docs/benchmarks.md). The results are already
    client-side (aiopg's fetches do no I/O), so this is the same fetch without the row factory.
    """
    names = [d[0] for d in raw.description or ()]
    factory = raw.row_factory
    raw.row_factory = None
    try:
        rows = psycopg2.extensions.cursor.fetchall(raw)
    finally:
        raw.row_factory = factory
    return [dict(zip(names, r, strict=True)) for r in rows]
