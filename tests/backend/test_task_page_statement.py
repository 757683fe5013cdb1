"""A task page built as JSON by Postgres in one statement (backend/db/task_json.py) answers what the
Python shape (task_shape, still used by the live feed and the one-task answer) makes of the two
plain statements (a page of tasks, then their attempts): the same JSON values, keys in the same
order, the same pages, on the session's recorded runs (real runs by core_runtime) plus a run
written here whose heartbeat was lost (statuses and reasons computed at read time), odd text,
float foreach values, a task with several attempts and one with none.

Only those runs: the session database also holds whatever tests that ran earlier wrote, some of
them runs of 100k tasks, which this test would page through two tasks at a time."""

from __future__ import annotations

import time
from typing import Any

import orjson
import psycopg2
import psycopg2.extras
import pytest

from backend.api.respond import encode
from backend.app import _loads_jsonb
from backend.cache.versions import JsonVersions
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.resources.tasks import task_shape
from contract.settings import Settings


class SyncDb:
    """backend.db's Db interface on a plain psycopg2 connection (with the backend's jsonb decoder)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def all(self, sql: str, params: Any = None, *, generic: bool = False) -> list[dict[str, Any]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    async def tuples(self, sql: str, params: Any = None, *, generic: bool = False) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows


@pytest.fixture(scope="module")
def lost_heartbeat_run(pg_dsn: str, recorded: dict[str, str]) -> None:
    now = int(time.time() * 1000)
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('TaskPageFlow', 1) ON CONFLICT DO NOTHING")
        cur.execute("INSERT INTO runs (flow_id, run_id, status, created_at, started_at, heartbeat_at) "
                    "VALUES ('TaskPageFlow', '1', 'running', %s, %s, %s) RETURNING run_pk",
                    (now - 900_000, now - 899_000, now - 600_000))
        run_pk = cur.fetchone()[0]
        odd = 'quote " nl \n esc \x1b é 日本 😀'
        for i in range(5):
            cur.execute("INSERT INTO tasks (run_pk, step_name, task_id, status, attempt, foreach_stack, created_at,"
                        " started_at, heartbeat_at) VALUES (%s, 'work', %s, %s, %s, %s, %s, %s, %s) RETURNING task_pk",
                        (run_pk, str(i), "running" if i else "pending", 1 if i == 2 else 0,
                         psycopg2.extras.Json([{"step": "start", "index": i, "value": 0.1 + i / 3}]),
                         now - 899_000, now - 898_000, now - 600_000))
            task_pk = cur.fetchone()[0]
            for attempt in range(2 if i == 2 else (0 if i == 0 else 1)):
                cur.execute("INSERT INTO attempts (task_pk, attempt, run_pk, status, started_at, exception_message) "
                            "VALUES (%s, %s, %s, %s, %s, %s)",
                            (task_pk, attempt, run_pk, "failed" if attempt == 0 and i == 2 else "running",
                             now - 898_000 + attempt, odd))


async def test_json_page_equals_python_shape(lost_heartbeat_run: None, recorded: dict[str, str],
                                             pg_reader_dsn: str, settings: Settings) -> None:
    conn = psycopg2.connect(pg_reader_dsn)
    # One snapshot for every statement: a flow still writing (started by an earlier test) must
    # not change a task between the two reads being compared.
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    psycopg2.extras.register_default_jsonb(conn, loads=_loads_jsonb)
    db = SyncDb(conn)
    live = live_params(settings)   # one clock for both: a lost heartbeat's reason has it
    versions = JsonVersions("task_versions", 64 * 1024 * 1024)
    try:
        ours = [*recorded.items(), ("TaskPageFlow", "1")]
        run_pks = [r["run_pk"] for r in await db.all(
            "SELECT run_pk FROM runs WHERE (flow_id, run_id) IN %s ORDER BY run_pk", (tuple(ours),))]
        assert len(run_pks) == len(ours)
        pages = 0
        several = False
        for run_pk in run_pks:
            for steps, statuses in (([], []), (["work", "start", "end"], []), ([], ["failed", "completed"])):
                after = None
                while True:
                    old, more = await tasks_db.list_tasks(db, live, run_pk, steps, statuses, after, 2)
                    old_attempts = await tasks_db.attempts_of(db, live, [r["task_pk"] for r in old])
                    new, new_more = await tasks_db.list_task_page(db, live, run_pk, steps, statuses, after, 2)
                    before = orjson.loads(encode([task_shape(r, old_attempts[r["task_pk"]]) for r in old]))
                    built = [orjson.loads(text) for _, text in new]
                    assert built == before, (run_pk, steps, statuses, after)
                    assert [list(t) for t in built] == [list(t) for t in before]
                    assert [pk for pk, _ in new] == [r["task_pk"] for r in old] and new_more == more
                    # The same page with task JSON held by version (backend/cache/versions.py): cold
                    # (built by primary key), then warm (from the cache; clock-dependent ones rebuilt),
                    # run_live: the statement also builds the running tasks' JSON (a run stored as running).
                    for run_live in (False, True, False, True):
                        held, held_more = await tasks_db.list_task_page(db, live, run_pk, steps, statuses, after, 2,
                                                                        versions=versions, run_live=run_live)
                        assert [orjson.loads(text) for _, text in held] == before, (run_pk, steps, statuses, after)
                        assert [pk for pk, _ in held] == [r["task_pk"] for r in old] and held_more == more
                    several |= any(len(t["attempts"]) > 1 for t in built)
                    pages += 1
                    if not more:
                        break
                    after = old[-1]["task_pk"]
        assert pages > 30 and several
        # every settled task was built once and then served from the cache; running ones never kept
        assert versions.hits > 0 and versions.items.stats()["entries"] > 0
        kept = await db.all("SELECT status FROM tasks WHERE task_pk = ANY(%s)", (versions.items.keys(),))
        assert kept and all(r["status"] != "running" for r in kept)
    finally:
        conn.close()
