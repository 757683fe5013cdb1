"""Running SQL on the reader pool: rows as dicts, every statement under a timeout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiopg

Row = dict[str, Any]
Params = Mapping[str, Any] | Sequence[Any] | None


class Db:
    """The reader pool plus the statement timeout (aiopg cancels the query when it expires)."""

    def __init__(self, pool: aiopg.Pool, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout

    async def all(self, sql: str, params: Params = None) -> list[Row]:
        # Plain tuples zipped with the column names: psycopg2's RealDictCursor builds each row
        # with a Python-level __setitem__ per column (then we copied it into a dict again), which
        # was a quarter of the event loop's time serving run lists under load.
        async with self.pool.acquire() as conn, conn.cursor(timeout=self.timeout) as cur:
            await cur.execute(sql, params)
            if cur.description is None:
                return []
            names = [d[0] for d in cur.description]
            rows = await cur.fetchall()
        return [dict(zip(names, r)) for r in rows]

    async def one(self, sql: str, params: Params = None) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Params = None) -> Any:
        async with self.pool.acquire() as conn, conn.cursor(timeout=self.timeout) as cur:
            await cur.execute(sql, params)
            row = await cur.fetchone()
            return None if row is None else row[0]
