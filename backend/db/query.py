"""Running SQL on the reader pool: rows as dicts, every statement under a timeout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiopg
from psycopg2.extras import RealDictCursor

Row = dict[str, Any]
Params = Mapping[str, Any] | Sequence[Any] | None


class Db:
    """The reader pool plus the statement timeout (aiopg cancels the query when it expires)."""

    def __init__(self, pool: aiopg.Pool, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout

    async def all(self, sql: str, params: Params = None) -> list[Row]:
        async with self.pool.acquire() as conn, \
                conn.cursor(cursor_factory=RealDictCursor, timeout=self.timeout) as cur:
            await cur.execute(sql, params)
            return [dict(r) for r in await cur.fetchall()]

    async def one(self, sql: str, params: Params = None) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Params = None) -> Any:
        async with self.pool.acquire() as conn, conn.cursor(timeout=self.timeout) as cur:
            await cur.execute(sql, params)
            row = await cur.fetchone()
            return None if row is None else row[0]
