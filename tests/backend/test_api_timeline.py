"""Timeline level of detail: one lane per task when they fit, aggregated lanes at 100,000 tasks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from backend.api.timeline import merge_coded, merge_segments
from backend.db import timeline as timeline_db
from backend.db import timeline_index
from backend.db.liveness import live_params
from backend.keys import DB, SETTINGS
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


async def test_huge_run_is_aggregated(api: Any, huge_run: str) -> None:
    # How fast: bench/browser.py and bench/api.py (docs/benchmarks.md), not a timed test.
    url = f"/api/flows/HugeFlow/runs/{huge_run}/timeline"
    data = (await get_json(api, url, width=1000, rows=500))["data"]
    assert data["total_rows"] == N_TASKS and data["tasks_per_lane"] == 200 and len(data["lanes"]) == 500
    first = data["lanes"][0]
    assert first["task"] is None and first["segments"]
    seg_start, seg_end, status, count, mix = first["segments"][0]
    assert seg_start >= data["start"] and seg_end <= data["end"] and count >= 1
    # Lane 0 holds task 0, which failed: failed dominates its first bucket, and the mix tells
    # the UI it is 1 failed among the completed ones (drawn as a thin mark, not a red block).
    assert status == "failed" and mix["failed"] == 1 and sum(mix.values()) == count
    assert all(sum(seg[4].values()) == seg[3] for lane in data["lanes"] for seg in lane["segments"])
    # A finished run's zoom levels are powers of two; a pan within a level clips cached segments.
    level = data["bucket_ms"]
    assert level == 2 ** round(math.log2(level)) and level <= (data["end"] - data["start"]) / 2000
    w0, w1 = data["start"] + 123_457, data["start"] + 323_457
    pan = (await get_json(api, url, width=1000, rows=500, start=w0, end=w1))["data"]
    segs = [seg for lane in pan["lanes"] for seg in lane["segments"]]
    assert segs and all(w0 <= seg[0] <= seg[1] <= w1 for seg in segs)
    # lane k (tasks 200k..200k+199) runs 1,000,000 + 2,000k + [0, 6990]: lanes ~61-161 are inside
    assert pan["lanes"][0]["segments"] == [] and pan["lanes"][100]["segments"] and not pan["lanes"][170]["segments"]
    # Zoomed in to a window of rows, one lane per task again.
    zoom = (await get_json(api, url, row_start=5000, span=50, rows=50))["data"]
    assert zoom["tasks_per_lane"] == 1 and zoom["lanes"][0]["task"]["task_id"] == "h5000"
    assert zoom["lanes"][0]["row"] == 5000


async def test_index_matches_sql(api: Any, huge_run: str) -> None:
    """The in-memory index of a finished run answers exactly what the SQL path answers."""
    db = api.server.app[DB]
    run = {"run_pk": await db.scalar("SELECT run_pk FROM runs WHERE flow_id = 'HugeFlow' AND run_id = %s",
                                     (huge_run,)), "status": "completed", "finished_at": 1, "change_seq": 0}
    lv = live_params(api.server.app[SETTINGS])
    index = await timeline_index.load(db, run)
    assert index is not None and index.first == 1_000_000 and index.last == 1_000_000 + (N_TASKS - 1) * 10 + 5000
    assert index.details is None                      # read with the first lane per task, not before
    assert await timeline_index.load_details(db, run, index) and index.details is not None
    order = ["start"]
    for sort, statuses in (("start", []), ("duration", ["failed"])):
        view = timeline_index.view(index, order, sort, "step", statuses, [])
        groups = await timeline_db.group_rows(db, lv, run["run_pk"], order, sort, "step", statuses, [])
        assert [(g["step_name"], g["row_start"], g["row_count"]) for g in groups] == view.groups
        total = view.groups[0][2]
        for w0, w1, r0, r1 in ((index.first, index.last, 0, total), (1_200_000, 1_300_000, 0, total // 3)):
            bucket = (w1 - w0) / 800
            sql = await timeline_db.lane_segments(db, lv, run["run_pk"], order, sort, "step", statuses, [],
                                                  r0, r1, 7, w0, w1, bucket)
            fast = timeline_index.bucket_counts(view, r0, r1, 7, w0, w1, bucket)
            assert merge_segments(sql, bucket, w0) == merge_coded(fast, bucket, w0)
        sql_lanes = await timeline_db.task_lanes(db, lv, run["run_pk"], order, sort, "step", statuses, [], 0, 20)
        assert sql_lanes == timeline_index.task_lanes(index, view, 0, 20)
    # Row orders are bounded per run; an evicted one is rebuilt identically on demand.
    first = timeline_index.view(index, order, "start", "step", [], [])
    groups = list(first.groups)
    for sort in ("end", "duration"):
        for statuses in ([], ["failed"], ["completed"]):
            timeline_index.view(index, order, sort, "flat", statuses, [])
    assert len(index.views) <= timeline_index.MAX_VIEWS
    assert timeline_index.view(index, order, "start", "step", [], []).groups == groups


async def test_task_details_read_later_must_match_the_index(api: Any, huge_run: str) -> None:
    """A task's id, foreach value and iteration are read with the first lane per task; if the run's
    tasks no longer match the index then, the details are not kept (the SQL path answers)."""
    db = api.server.app[DB]
    run = {"run_pk": await db.scalar("SELECT run_pk FROM runs WHERE flow_id = 'HugeFlow' AND run_id = %s",
                                     (huge_run,)), "status": "completed", "finished_at": 1, "change_seq": 0}
    index = await timeline_index.load(db, run)
    assert index is not None
    index.tasks.append((-1, "start", "completed", 1, 2, 1))     # a task the database does not have
    assert not await timeline_index.load_details(db, run, index) and index.details is None
    index.tasks.pop()
    assert await timeline_index.load_details(db, run, index)
    assert index.details is not None and [len(c) for c in index.details] == [len(index.tasks)] * 3 == [N_TASKS] * 3


async def test_timeline_bad_params(api: Any, recorded: dict[str, str]) -> None:
    url = f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/timeline"
    assert "width" in (await get_json(api, url, 400, width=0))["error"]["message"]
    assert "end" in (await get_json(api, url, 400, start=10, end=5))["error"]["message"]
    assert "sort" in (await get_json(api, url, 400, sort="color"))["error"]["message"]


def _hosts_run(pg_dsn: str) -> str:
    """A finished run whose tasks ran on two hosts (a retry moved one), and one with no host recorded."""
    store = new_store(pg_dsn)
    run = new_run(store, "HostsFlow")
    placements = [("w2", [("w1", 0), ("w2", 1)]), ("w1", [("w1", 0)]), ("w1", [("w1", 0)]), (None, [])]
    for i, (_, attempts) in enumerate(placements):
        task = store.create_task(run, "work", foreach_index=i)
        for host, attempt in attempts:
            store.start_attempt(task, attempt)
            store.record_metadata(task, attempt, [("host", host, "executor")])
            store.finish_attempt(task, attempt, status="completed" if attempt == len(attempts) - 1 else "failed",
                                 exit_code=0, reason="node lost: test" if attempt < len(attempts) - 1 else None,
                                 final=attempt == len(attempts) - 1)
        if not attempts:
            store.start_attempt(task, 0)
            store.finish_attempt(task, 0, status="completed", exit_code=0)
    store.finish_run(run, "completed", "done")
    return run.run_id


async def test_group_by_host_uses_each_tasks_latest_attempt(api: Any, pg_dsn: str, recorded: dict[str, str]) -> None:
    import socket

    run_id = _hosts_run(pg_dsn)
    data = (await get_json(api, f"/api/flows/HostsFlow/runs/{run_id}/timeline", group="host"))["data"]
    assert [(g["host"], g["row_start"], g["row_count"]) for g in data["groups"]] == [
        ("w1", 0, 2), ("w2", 2, 1), (None, 3, 1)]
    assert all(g["step_name"] is None for g in data["groups"])
    assert [lane["task"]["host"] for lane in data["lanes"]] == ["w1", "w1", "w2", None]
    moved = data["lanes"][2]
    assert [b[3] for b in moved["bars"]] == [0, 1]      # both attempts stay on the task's row
    # The SQL path (used while a run is running) orders and groups the same way as the index.
    db = api.server.app[DB]
    run_pk = await db.scalar("SELECT run_pk FROM runs WHERE flow_id = 'HostsFlow' AND run_id = %s", (run_id,))
    lv = live_params(api.server.app[SETTINGS])
    groups = await timeline_db.group_rows(db, lv, run_pk, ["work"], "start", "host", [], [])
    assert [(g["host"], g["row_start"], g["row_count"]) for g in groups] == [("w1", 0, 2), ("w2", 2, 1), (None, 3, 1)]
    lanes = await timeline_db.task_lanes(db, lv, run_pk, ["work"], "start", "host", [], [], 0, 4)
    assert [r["host"] for r in lanes] == ["w1", "w1", "w2", "w2", None]
    local = (await get_json(api, f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/timeline",
                            group="host"))["data"]
    assert [(g["host"], g["row_count"]) for g in local["groups"]] == [(socket.gethostname(), 8)]
