"""Timeline level of detail: one lane per task when they fit, aggregated lanes at 100,000 tasks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from tests.backend.api_helpers import get_json
from tests.backend.live_helpers import new_run, new_store

N_TASKS = 100_000


@pytest.fixture(scope="module")
def huge_run(pg_dsn: str) -> Iterator[str]:
    """A run with 100,000 finished tasks (bulk SQL: triggers off, as a seed tool would do)."""
    store = new_store(pg_dsn)
    run = new_run(store, "HugeFlow")
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("""
            INSERT INTO tasks (run_pk, step_name, task_id, status, attempt, created_at, started_at,
                               finished_at, foreach_index)
            SELECT %(run)s, 'start', 'h' || i, CASE WHEN i %% 1000 = 0 THEN 'failed' ELSE 'completed' END,
                   0, 1000000 + i * 10, 1000000 + i * 10, 1000000 + i * 10 + 5000, i
            FROM generate_series(0, %(n)s - 1) i""", {"run": run.run_pk, "n": N_TASKS})
        cur.execute("""
            INSERT INTO attempts (task_pk, attempt, run_pk, status, started_at, finished_at)
            SELECT task_pk, 0, run_pk, status, started_at, finished_at FROM tasks WHERE run_pk = %s""",
                    (run.run_pk,))
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("ANALYZE tasks; ANALYZE attempts")
    store.finish_run(run, "completed", "done")
    conn.close()
    yield run.run_id


async def test_small_run_one_lane_per_task(api: Any, recorded: dict[str, str]) -> None:
    body = await get_json(api, f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/timeline",
                          width=800, rows=100)
    data = body["data"]
    assert data["total_rows"] == 8 and data["tasks_per_lane"] == 1 and len(data["lanes"]) == 8
    assert [g["step_name"] for g in data["groups"]] == ["start", "square", "gather", "end"]
    assert [g["row_count"] for g in data["groups"]] == [1, 5, 1, 1]
    lane = data["lanes"][1]
    assert lane["task"]["step_name"] == "square" and lane["task"]["pathspec"].startswith("ForeachFlow/")
    start, end, status, attempt = lane["bars"][0]
    assert end >= start and status == "completed" and attempt == 0
    flat = (await get_json(api, f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/timeline",
                           group="flat", step="square"))["data"]
    assert flat["total_rows"] == 5 and flat["groups"][0]["step_name"] is None


async def test_huge_run_is_aggregated_fast(api: Any, huge_run: str) -> None:
    url = f"/api/flows/HugeFlow/runs/{huge_run}/timeline"
    started = time.monotonic()
    data = (await get_json(api, url, width=1000, rows=500))["data"]
    elapsed = time.monotonic() - started
    assert data["total_rows"] == N_TASKS and data["tasks_per_lane"] == 200 and len(data["lanes"]) == 500
    print(f"timeline of {N_TASKS} tasks: {elapsed:.3f} s")
    assert elapsed < 5.0, f"timeline of {N_TASKS} tasks took {elapsed:.2f} s"
    first = data["lanes"][0]
    assert first["task"] is None and first["segments"]
    seg_start, seg_end, status, count = first["segments"][0]
    assert seg_start >= data["start"] and seg_end <= data["end"] and count >= 1
    # Lane 0 holds task 0, which failed: failed dominates its first bucket.
    assert status == "failed"
    # Zoomed in to a window of rows, one lane per task again.
    zoom = (await get_json(api, url, row_start=5000, span=50, rows=50))["data"]
    assert zoom["tasks_per_lane"] == 1 and zoom["lanes"][0]["task"]["task_id"] == "h5000"
    assert zoom["lanes"][0]["row"] == 5000


async def test_timeline_bad_params(api: Any, recorded: dict[str, str]) -> None:
    url = f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/timeline"
    assert "width" in (await get_json(api, url, 400, width=0))["error"]["message"]
    assert "end" in (await get_json(api, url, 400, start=10, end=5))["error"]["message"]
    assert "sort" in (await get_json(api, url, 400, sort="color"))["error"]["message"]
