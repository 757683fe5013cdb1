"""The writer pool and transactions on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiopg
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
    return [dict(r) for r in await cur.fetchall()]
