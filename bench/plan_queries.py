"""The query shapes the UI needs, as SQL with named parameters, and how to find their arguments.

These mirror what the backend's list and detail endpoints ask for (keyset pagination, narrow
columns, newest first); ``bench.plans`` EXPLAINs each on a seeded database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.catalogue import HUGE_FLOW

RUN_COLS = ("run_pk, flow_id, run_id, run_number, user_name, tags, status, status_reason, created_at, "
            "started_at, finished_at, heartbeat_at, duration_ms, n_tasks, n_running, n_completed, n_failed")
TASK_COLS = ("task_pk, step_name, task_id, status, status_reason, attempt, foreach_index, created_at, "
             "started_at, finished_at, heartbeat_at, duration_ms")
NEWEST = "ORDER BY created_at DESC, run_pk DESC LIMIT 100"
TAGGED_COLS = ", ".join(f"r.{c.strip()}" for c in RUN_COLS.split(","))
BY_TAG = "FROM run_tags rt JOIN runs r ON r.run_pk = rt.run_pk"
TAG_NEWEST = "ORDER BY rt.created_at DESC, rt.run_pk DESC LIMIT 100"


@dataclass(frozen=True)
class Shape:
    name: str
    sql: str


SHAPES: list[Shape] = [
    Shape("home: newest first", f"SELECT {RUN_COLS} FROM runs {NEWEST}"),
    Shape("home: page 100 (keyset)",
          f"SELECT {RUN_COLS} FROM runs WHERE (created_at, run_pk) < (%(home_c)s, %(home_pk)s) {NEWEST}"),
    Shape("status = failed", f"SELECT {RUN_COLS} FROM runs WHERE status = 'failed' {NEWEST}"),
    Shape("status = running", f"SELECT {RUN_COLS} FROM runs WHERE status = 'running' {NEWEST}"),
    Shape("flow (most popular)", f"SELECT {RUN_COLS} FROM runs WHERE flow_id = %(flow_big)s {NEWEST}"),
    Shape("flow (rarest)", f"SELECT {RUN_COLS} FROM runs WHERE flow_id = %(flow_small)s {NEWEST}"),
    Shape("flow: page 100 (keyset)",
          f"SELECT {RUN_COLS} FROM runs WHERE flow_id = %(flow_big)s "
          f"AND (created_at, run_pk) < (%(flow_c)s, %(flow_pk)s) {NEWEST}"),
    Shape("flow + status = failed",
          f"SELECT {RUN_COLS} FROM runs WHERE flow_id = %(flow_big)s AND status = 'failed' {NEWEST}"),
    Shape("user", f"SELECT {RUN_COLS} FROM runs WHERE user_name = %(user)s {NEWEST}"),
    # Tags as the API reads them (backend/db/tag_stats.py): a common tag through runs_created, a
    # rarer one through its run_tags range newest first, and of several tags the rarest drives.
    Shape("tag (most common)", f"SELECT {RUN_COLS} FROM runs WHERE tags @> ARRAY[%(tag_big)s] {NEWEST}"),
    Shape("tag (median)", f"SELECT {TAGGED_COLS} {BY_TAG} WHERE rt.tag = %(tag_mid)s {TAG_NEWEST}"),
    Shape("tag (rarest)", f"SELECT {TAGGED_COLS} {BY_TAG} WHERE rt.tag = %(tag_small)s {TAG_NEWEST}"),
    Shape("two tags", f"SELECT {TAGGED_COLS} {BY_TAG} WHERE rt.tag = %(tag_mid)s "
                      f"AND r.tags @> ARRAY[%(tag_big)s] {TAG_NEWEST}"),
    Shape("time range (one week)",
          f"SELECT {RUN_COLS} FROM runs WHERE created_at >= %(t0)s AND created_at < %(t1)s {NEWEST}"),
    Shape("order by finished",
          f"SELECT {RUN_COLS} FROM runs ORDER BY finished_at DESC NULLS LAST, run_pk DESC LIMIT 100"),
    Shape("order by duration",
          f"SELECT {RUN_COLS} FROM runs ORDER BY duration_ms DESC NULLS LAST, run_pk DESC LIMIT 100"),
    Shape("run by pathspec", "SELECT * FROM runs WHERE flow_id = %(huge_flow)s AND run_id = %(huge_id)s"),
    Shape("liveness sweep",
          "SELECT run_pk, heartbeat_at FROM runs WHERE status = 'running' AND heartbeat_at < %(stale)s"),
    Shape("huge run: per-step counts",
          "SELECT step_name, n_tasks, n_running, n_completed, n_failed, started_at, finished_at "
          "FROM steps WHERE run_pk = %(huge)s"),
    Shape("huge run: tasks page 1",
          f"SELECT {TASK_COLS} FROM tasks WHERE run_pk = %(huge)s ORDER BY task_pk LIMIT 100"),
    Shape("huge run: tasks page 100 (keyset)",
          f"SELECT {TASK_COLS} FROM tasks WHERE run_pk = %(huge)s AND task_pk > %(task_after)s "
          "ORDER BY task_pk LIMIT 100"),
    Shape("huge run: step tasks page",
          f"SELECT {TASK_COLS} FROM tasks WHERE run_pk = %(huge)s AND step_name = 'process' "
          "ORDER BY task_pk LIMIT 100"),
    Shape("huge run: tasks by status",
          f"SELECT {TASK_COLS} FROM tasks WHERE run_pk = %(huge)s AND status = 'completed' "
          "ORDER BY task_pk LIMIT 100"),
    Shape("huge run: timeline window",
          "SELECT task_pk, step_name, status, started_at, finished_at FROM tasks WHERE run_pk = %(huge)s "
          "AND started_at >= %(w0)s AND started_at < %(w1)s ORDER BY started_at, task_pk LIMIT 2000"),
    Shape("huge run: changes since",
          "SELECT task_pk, status, change_seq FROM tasks WHERE run_pk = %(huge)s AND change_seq > %(since)s "
          "ORDER BY change_seq LIMIT 1000"),
    Shape("log: chunk of line 900,000",
          "SELECT seq, first_line, n_lines, location FROM log_chunks WHERE task_pk = %(log_task)s "
          "AND attempt = 0 AND stream = 'stdout' AND first_line <= %(line)s ORDER BY first_line DESC LIMIT 1"),
    Shape("log: tail chunks",
          "SELECT seq, first_line, n_lines, location FROM log_chunks WHERE task_pk = %(log_task)s "
          "AND attempt = 0 AND stream = 'stdout' ORDER BY seq DESC LIMIT 3"),
]

# Arguments, looked up once before timing (these lookups are not measured).
_SETUP = {
    "home": "SELECT created_at, run_pk FROM runs ORDER BY created_at DESC, run_pk DESC OFFSET 9900 LIMIT 1",
    "flows": "SELECT flow_id FROM flows WHERE flow_id <> %(hf)s ORDER BY last_run_number DESC",
    "user": "SELECT user_name FROM runs ORDER BY created_at DESC LIMIT 1",
    "range": "SELECT max(created_at) FROM runs",
    "huge": "SELECT run_pk, run_id FROM runs WHERE flow_id = %(hf)s ORDER BY created_at DESC LIMIT 1",
}


def find_arguments(cur: Any) -> dict[str, Any]:
    """Arguments for SHAPES from the seeded data; raises LookupError when it is not seeded."""
    a: dict[str, Any] = {"huge_flow": HUGE_FLOW, "line": 900_000}
    cur.execute(_SETUP["flows"], {"hf": HUGE_FLOW})
    flows = [r[0] for r in cur.fetchall()]
    cur.execute(_SETUP["huge"], {"hf": HUGE_FLOW})
    huge = cur.fetchone()
    if len(flows) < 2 or huge is None:
        raise LookupError("no seeded data: run `python -m bench.seed --huge-run N` first")
    a["flow_big"], a["flow_small"] = flows[0], flows[-1]
    a["huge"], a["huge_id"] = huge
    cur.execute(_SETUP["home"])
    a["home_c"], a["home_pk"] = cur.fetchone() or (0, 0)
    cur.execute("SELECT created_at, run_pk FROM runs WHERE flow_id = %s "
                "ORDER BY created_at DESC, run_pk DESC OFFSET 9900 LIMIT 1", (a["flow_big"],))
    a["flow_c"], a["flow_pk"] = cur.fetchone() or (0, 0)
    cur.execute(_SETUP["user"])
    a["user"] = cur.fetchone()[0]
    # Tag popularity from a sample of recent runs (exact counts would scan the table).
    cur.execute("SELECT t, count(*) FROM (SELECT unnest(tags) t FROM runs ORDER BY created_at DESC "
                "LIMIT 20000) x GROUP BY t ORDER BY count(*) DESC, t")
    tags = [r[0] for r in cur.fetchall()]
    a["tag_big"], a["tag_mid"], a["tag_small"] = tags[0], tags[len(tags) // 2], tags[-1]
    cur.execute(_SETUP["range"])
    newest = cur.fetchone()[0]
    a["t1"] = newest - 90 * 86_400_000
    a["t0"] = a["t1"] - 7 * 86_400_000
    a["stale"] = newest - 60_000
    cur.execute("SELECT task_pk FROM tasks WHERE run_pk = %s ORDER BY task_pk OFFSET 9900 LIMIT 1", (a["huge"],))
    a["task_after"] = (cur.fetchone() or (0,))[0]
    cur.execute("SELECT min(started_at), max(finished_at) FROM steps WHERE run_pk = %s", (a["huge"],))
    s0, s1 = cur.fetchone()
    mid = (s0 + s1) // 2
    a["w0"], a["w1"] = mid, mid + (s1 - s0) // 100      # 1% of the run's span
    cur.execute("SELECT max(change_seq) FROM tasks WHERE run_pk = %s", (a["huge"],))
    a["since"] = (cur.fetchone()[0] or 0) - 500
    cur.execute("SELECT task_pk FROM log_chunks WHERE run_pk = %s GROUP BY task_pk "
                "ORDER BY max(first_line) DESC LIMIT 1", (a["huge"],))
    row = cur.fetchone()
    a["log_task"] = row[0] if row else 0
    return a
