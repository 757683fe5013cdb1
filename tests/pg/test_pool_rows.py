"""``all_rows`` (backend/ingest/db/pool.py) builds its dicts from plain tuples instead of the
RealDictCursor's rows: the same rows, keys, values and types as before, and the cursor is left as
it was (its next row is a RealDictRow again). ``bulk.int_array``: the literal Postgres reads back
as the list it was made of, NULLs included.
"""

from __future__ import annotations

from typing import Any

import aiopg
import psycopg2
import psycopg2.extras
import pytest

from backend.ingest.db.pool import all_rows, transaction
from backend.mirror.bulk import int_array

# jsonb, NULLs, text, bigint, a repeated column name (the last wins, as in a RealDictRow)
QUERY = ("SELECT g AS n, CASE WHEN g %% 2 = 0 THEN NULL ELSE 'x' || g END AS t, "
         "jsonb_build_array('attempt_id:' || g, g) AS tags, 10000000000 + g AS big, 1 AS n2, 2 AS n2 "
         "FROM generate_series(1, %s) g ORDER BY g")


async def test_all_rows_are_the_real_dict_cursors_rows(pg_dsn: str) -> None:
    pool = await aiopg.create_pool(pg_dsn, minsize=1, maxsize=1)
    try:
        async with transaction(pool) as cur:
            got = await all_rows(cur, QUERY, (5,))
            # the same statement the RealDictCursor's way (what all_rows returned before)
            await cur.execute(QUERY, (5,))
            before: list[Any] = [dict(r) for r in await cur.fetchall()]
            assert got == before and len(got) == 5
            assert [list(r) for r in got] == [list(r) for r in before]       # the keys in column order
            assert all(type(r) is dict for r in got)
            assert got[0] == {"n": 1, "t": "x1", "tags": ["attempt_id:1", 1], "big": 10000000001, "n2": 2}
            assert got[1]["t"] is None
            assert await all_rows(cur, QUERY, (0,)) == []
            # the cursor's row factory is back: its next fetch gives RealDictRows
            await cur.execute(QUERY, (1,))
            row = await cur.fetchone()
            assert isinstance(row, psycopg2.extras.RealDictRow) and row["n"] == 1
            # a statement without a result set is refused as before
            with pytest.raises(psycopg2.ProgrammingError):
                await all_rows(cur, "SET LOCAL work_mem = '4MB'")
    finally:
        pool.close()
        await pool.wait_closed()


def test_int_array_reads_back(pg_dsn: str) -> None:
    values = [1, None, -5, 0, 9_223_372_036_854_775_807]
    conn = psycopg2.connect(pg_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT %s::bigint[], %s::bigint[]", (int_array(values), int_array([])))
            assert cur.fetchone() == (values, [])
    finally:
        conn.close()
