"""Every statement the mirror runs on the source uses an index of the service's schema.

EXPLAINed on a large generated source (bench.mf_source.generate), at the newest schema version
and at the oldest one the mirror accepts: no sequential scan of a source table, and the index
named in backend/mirror/source_sql.py's table where one is named.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from backend.ingest.state.fold import FOLD_FIELDS
from backend.mirror.source_sql import SUPPORTED_VERSIONS, Names, SourceSql
from tests.mirror.source_harness import SourceServer, admin, generated_source

RUNS = 12_000
# Read once when a backfill starts, whole by design (every flow; the number of runs for the
# progress bar): the planner may scan them. Everything else runs per batch or per poll.
ONCE = {"flows_page", "count_runs"}
TABLES = {"flows_v3", "runs_v3", "steps_v3", "tasks_v3", "metadata_v3", "artifact_v3"}


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.fixture(scope="module", params=[SUPPORTED_VERSIONS[-1], SUPPORTED_VERSIONS[0]],
                ids=["newest", "oldest-supported"])
def large_source(request: pytest.FixtureRequest, source_server: SourceServer) -> Any:
    return generated_source(source_server, RUNS, label="plans", version=request.param)


def _params(src: Any) -> dict[str, tuple[Any, ...]]:
    """Arguments like the mirror's: a page of 50 runs, their tasks, the horizon, a lookback."""
    runs = src.rows("SELECT flow_id, run_number, run_id FROM runs_v3 ORDER BY ts_epoch DESC LIMIT 50")
    tasks = src.rows("SELECT t.flow_id, t.run_number, t.step_name, t.task_id, t.task_name FROM tasks_v3 t "
                     "ORDER BY t.task_id DESC LIMIT 200")
    named = [t for t in tasks if t["task_name"]] or tasks
    top = src.rows("SELECT max(id) AS m FROM metadata_v3")[0]["m"]
    top_task = src.rows("SELECT max(task_id) AS m FROM tasks_v3")[0]["m"]
    now = int(time.time() * 1000)
    f, n = [r["flow_id"] for r in runs], [r["run_number"] for r in runs]
    tk = ([t["flow_id"] for t in tasks], [t["run_number"] for t in tasks], [t["step_name"] for t in tasks],
          [t["task_id"] for t in tasks])
    return {
        "probe": (), "horizon_metadata": (), "horizon_tasks": (), "count_runs": (now,),
        "flows_page": ("", 1000),
        "runs_page": (now, now - 86_400_000, "", 0, 200), "new_runs": (now - 60_000, 2000),
        "runs_by_key": (f, n), "run_by_id": (runs[0]["flow_id"], "argo-x"), "steps_of_runs": (f, n),
        "task_counts": (f, n, top_task), "tasks_of_runs": (f, n, top_task, 0, 10001),
        "new_tasks": (top_task - 1000, 2000), "tasks_by_id": ([t["task_id"] for t in tasks],),
        "tasks_by_name": ([t["flow_id"] for t in named], [t["run_number"] for t in named],
                          [t["step_name"] for t in named], [t["task_name"] or "x" for t in named]),
        "metadata_of_runs": (f, n, top), "metadata_of_tasks": (*tk, top), "new_metadata": (top - 1000, 4000),
        "metadata_by_id": (list(range(top - 500, top)),), "artifacts_of_runs": (f, n), "artifacts_of_tasks": tk,
        "artifacts_of_attempts": (*tk, [0] * len(tasks)), "run_heartbeats": (f, n),
        "task_heartbeats": ([t["task_id"] for t in tasks],),
        "runs_after": (runs[0]["flow_id"], runs[0]["run_number"], 2000),
        "metadata_batch": (f, n, top, list(FOLD_FIELDS)),
        "artifacts_batch": (f, n, ["/nonexistent/metaflow-datastore/.metaflow"], f[:3], n[:3]),
    }


def test_every_source_statement_uses_an_index(large_source: Any) -> None:
    sql = SourceSql(Names())
    statements = {k: v for k, v in vars(sql).items() if isinstance(v, str)}
    params = _params(large_source)
    assert set(statements) == set(params), "a statement without EXPLAIN arguments in this test"
    assert large_source.rows("SELECT count(*) AS n FROM metadata_v3")[0]["n"] > 400_000
    conn = psycopg2.connect(large_source.admin_dsn)
    checked = {}
    try:
        with conn.cursor() as cur:
            for name, text in statements.items():
                cur.execute("EXPLAIN (FORMAT JSON) " + text, params[name])
                plan = cur.fetchone()[0][0]["Plan"]
                nodes = list(_nodes(plan))
                seq = [n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan"
                       and n.get("Relation Name") in TABLES]
                if name in ONCE:
                    continue
                assert seq == [], f"{name}: sequential scan of {seq}:\n{json.dumps(plan)[:2000]}"
                used = {n.get("Index Name") for n in nodes if "Index" in n["Node Type"]}
                assert used - {None}, f"{name}: no index used:\n{json.dumps(plan)[:2000]}"
                checked[name] = sorted(i for i in used if i)
    finally:
        conn.close()
    assert len(checked) == len(statements) - len(ONCE)
    # The polls that run every cycle, with the indexes they must use.
    assert "metadata_v3_pkey" in checked["new_metadata"] and "metadata_v3_pkey" in checked["metadata_by_id"]
    assert "tasks_v3_pkey" in checked["new_tasks"] and "tasks_v3_pkey" in checked["task_heartbeats"]
    assert "runs_v3_pkey" in checked["run_heartbeats"] and "runs_v3_pkey" in checked["runs_after"]
    assert any(i.startswith("runs_v3_idx_") for i in checked["new_runs"]), checked["new_runs"]
    with admin(large_source.admin_dsn) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs_v3")
        assert cur.fetchone()[0] == RUNS
