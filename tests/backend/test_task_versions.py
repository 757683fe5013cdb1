"""Task pages with task JSON held by version (backend/cache/versions.py): a write to a task's row
or to one of its attempts shows on the next page at once; the cache answers only unchanged tasks."""

from __future__ import annotations

from typing import Any

import psycopg2

from backend.cache.versions import TASK_VERSIONS
from tests.backend.api_helpers import get_json


async def test_a_write_to_a_task_or_its_attempt_shows_at_once(aiohttp_client: Any, make_app: Any,
                                                                recorded: dict[str, str], pg_dsn: str) -> None:
    api = await aiohttp_client(make_app(response_cache_mb=0))
    versions = api.app[TASK_VERSIONS]
    path = f"/api/flows/RetryCatchFlow/runs/{recorded['RetryCatchFlow']}/tasks"
    first = (await get_json(api, path, limit=100))["data"]
    assert first and all(t["status"] != "running" for t in first)
    built = versions.misses
    assert (await get_json(api, path, limit=100))["data"] == first
    assert versions.hits >= len(first) and versions.misses == built        # the second page: all held
    task = first[-1]
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_pk FROM tasks t JOIN runs r USING (run_pk) WHERE r.flow_id = 'RetryCatchFlow' "
                    "AND r.run_id = %s AND t.step_name = %s AND t.task_id = %s",
                    (recorded["RetryCatchFlow"], task["step_name"], task["task_id"]))
        task_pk = cur.fetchone()[0]
        old_message = task["attempts"][0]["exception_message"]
        # an attempt's write alone (the task row untouched) is a new version of the task's JSON
        cur.execute("UPDATE attempts SET exception_message = 'rewritten' WHERE task_pk = %s AND attempt = 0", (task_pk,))
    try:
        after = {t["task_id"]: t for t in (await get_json(api, path, limit=100))["data"]}
        assert after[task["task_id"]]["attempts"][0]["exception_message"] == "rewritten"
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
            cur.execute("UPDATE tasks SET foreach_value = 'relabelled' WHERE task_pk = %s", (task_pk,))
        after = {t["task_id"]: t for t in (await get_json(api, path, limit=100))["data"]}
        assert after[task["task_id"]]["foreach_value"] == "relabelled"
        assert after[task["task_id"]]["seq"] > task["seq"]
    finally:
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
            cur.execute("UPDATE attempts SET exception_message = %s WHERE task_pk = %s AND attempt = 0",
                        (old_message, task_pk))
            cur.execute("UPDATE tasks SET foreach_value = %s WHERE task_pk = %s", (task["foreach_value"], task_pk))
