"""bench.api's raw-SQL side (bench/api_cases.py ``DirectDb``, one psycopg2 connection) reads as the
backend's Db does: the backend/db functions its cases call work on it and give the same answer."""

from __future__ import annotations

from typing import Any

from backend.db import steps as steps_db
from backend.db.liveness import live_params
from backend.keys import DB
from bench.api_cases import DirectDb


async def test_direct_db_reads_the_run_and_its_steps_as_the_backend(
        aiohttp_client: Any, make_app: Any, app_settings: Any, recorded: dict[str, str], pg_dsn: str) -> None:
    client = await aiohttp_client(make_app())
    direct = DirectDb(pg_dsn)
    live = live_params(app_settings)
    try:
        for flow, run_id in recorded.items():
            got = await steps_db.run_and_steps(direct, live, flow, run_id)     # type: ignore[arg-type]
            assert got is not None and got == await steps_db.run_and_steps(client.app[DB], live, flow, run_id)
            assert got[1], flow                                                 # its steps' rows too
        assert await steps_db.run_and_steps(direct, live, "LinearFlow", "no-such-run") is None  # type: ignore[arg-type]
        assert direct.elapsed > 0                                               # the SQL was timed
    finally:
        direct.conn.close()
