"""The backfill's bulk path writes the rows the row-by-row replay writes, table by table.

One generated source (plus rows only the replay can convert, rows of a task the source lacks,
an artifact without a sha, artifacts outside a datastore root) is backfilled twice: with
``mirror_backfill_bulk`` off (every row replayed) and on, into two Flowscope databases. Every
row of every table the mirror writes must be equal — surrogate keys replaced by the natural keys
they stand for, change_seq aside — metadata in the same order per task (the latest value of a
field is what readers take), and the same rows reported skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.extras
import pytest

from backend.mirror import mirror as mirror_module
from backend.mirror.bulk import Bulk, write
from contract.settings import Settings
from tests.mirror.conftest import backfill
from tests.mirror.source_harness import SourceServer, admin, generated_source

RUNS = 400
TABLES = ("flows", "runs", "steps", "tasks", "attempts", "metadata", "artifacts", "mirror_runs")
IGNORED = {"change_seq", "change_xid", "id"}


def _add_odd_rows(admin_dsn: str) -> dict[str, Any]:
    """Rows off the generator's happy path, on the newest runs (the first batches) and the oldest."""
    with admin(admin_dsn) as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT t.flow_id, t.run_number, t.step_name, t.task_id, t.ts_epoch FROM tasks_v3 t "
                    "JOIN runs_v3 r USING (flow_id, run_number) WHERE t.step_name = 'start' "
                    "ORDER BY r.ts_epoch DESC LIMIT 3")
        newest = cur.fetchall()
        cur.execute("SELECT t.flow_id, t.run_number, t.step_name, t.task_id, t.ts_epoch FROM tasks_v3 t "
                    "JOIN runs_v3 r USING (flow_id, run_number) WHERE t.step_name = 'start' "
                    "ORDER BY r.ts_epoch LIMIT 3")
        oldest = cur.fetchall()
        md = ("INSERT INTO metadata_v3 (flow_id, run_number, step_name, task_id, field_name, value, type, "
              "ts_epoch, tags) VALUES (%s, %s, %s, %s, %s, %s, 'x', %s, %s)")
        art = ("INSERT INTO artifact_v3 (flow_id, run_number, step_name, task_id, name, location, ds_type, sha, "
               "content_type, attempt_id, ts_epoch) VALUES (%s, %s, %s, %s, %s, %s, 'local', %s, %s, %s, %s)")
        for t in (*newest, *oldest):
            k = (t["flow_id"], t["run_number"], t["step_name"], t["task_id"])
            ts = int(t["ts_epoch"]) + 5
            # tags only Python converts: a number in them, a huge attempt id; an object (read as [])
            cur.execute(md, (*k, "odd-number-tag", "a", ts, '[1, "attempt_id:0"]'))
            cur.execute(md, (*k, "odd-object-tags", "c", ts, '{"x": 1}'))
            cur.execute(md, (*k, "odd-one-tag", "e", ts, '["just-a-tag"]'))
            cur.execute(md, (*k, "odd-two-tags", "f", ts, '["attempt_id:0", "attempt_id:1"]'))
            cur.execute(md, (*k, "odd-second-attempt-tag", "d", ts, '["attempt_id:x", "attempt_id:0", "z"]'))
            # one tag, not a plain ASCII number: a non-ASCII digit (Python reads it as 3), none at all
            cur.execute(md, (*k, "odd-unicode-digit", "g", ts, '["attempt_id:\u0663"]'))
            cur.execute(md, (*k, "odd-empty-attempt", "h", ts, '["attempt_id:"]'))
            # characters beyond ASCII (and beyond the BMP) in the rows that travel as packed arrays
            cur.execute(md, (*k, "odd-unicode-value", "h\u00e9llo \u2713 \U0001d11e", ts, '["attempt_id:0"]'))
            cur.execute(art, (*k, "na\u00efve_\u2713", ":root:/nonexistent/metaflow-datastore/.metaflow", "ef56",
                              None, 0, ts))
            # fields the replay folds, with clean tags the source reads their attempt from (not sent
            # to Python): a second attempt, then the first's end by its second tag (not the task's
            # latest attempt), then one with no tags (the task's latest attempt)
            cur.execute(md, (*k, "attempt", "1", ts, '["retry", "attempt_id:1"]'))
            cur.execute(md, (*k, "attempt_ok", "False", ts, '["retry", "attempt_id:0", "attempt_id:1"]'))
            cur.execute(md, (*k, "attempt_ok", "True", ts, None))
            # the latest foreach path of the task, written after everything else of it
            cur.execute(md, (*k, "foreach-execution-path", "start:0", ts + 1, '["attempt_id:0"]'))
            # a task the tasks table lacks (its rows are skipped and reported)
            cur.execute(md, (k[0], k[1], k[2], 900_000_000 + int(k[3]), "ds-root", "/x", ts, None))
            cur.execute(art, (k[0], k[1], k[2], 900_000_000 + int(k[3]), "lost", ":root:/nowhere", "ab12",
                              None, 0, ts))
            # outside a datastore root, with no content type; and a (second) attempt with a blank sha
            cur.execute(art, (*k, "remote", "s3://bucket/some/key", "cd34", None, 0, ts))
            cur.execute(art, (*k, "blank-sha", ":root:/nonexistent/metaflow-datastore/.metaflow", "  ", "x", 1, ts))
        # Two source tasks naming one Flowscope task (a task_name equal to a sibling's numeric id),
        # in a batch whose artifacts go the bulk way (the middle of the source), each with an
        # artifact of the same name: the replay keeps the row it applies first; the bulk INSERT
        # refuses the batch (with ON CONFLICT DO NOTHING it kept the other row), which is then
        # applied run by run the replay's way.
        cur.execute("SELECT t.flow_id, t.run_number, t.run_id, t.step_name, t.task_id, t.ts_epoch FROM tasks_v3 t "
                    "JOIN runs_v3 r USING (flow_id, run_number) WHERE t.step_name = 'start' AND t.task_name IS NULL "
                    "ORDER BY r.ts_epoch DESC OFFSET %s LIMIT 1", (RUNS // 2,))
        mid = cur.fetchone()
        twin = 950_000_000 + int(mid["task_id"])
        cur.execute("INSERT INTO tasks_v3 (flow_id, run_number, run_id, step_name, task_id, task_name, ts_epoch) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)", (mid["flow_id"], mid["run_number"], mid["run_id"],
                                                            mid["step_name"], twin, str(mid["task_id"]),
                                                            int(mid["ts_epoch"]) + 7))
        for tid, sha, dt in ((mid["task_id"], "aa01", 8), (twin, "aa02", 9)):
            cur.execute(art, (mid["flow_id"], mid["run_number"], mid["step_name"], tid, "twin-artifact",
                              ":root:/nonexistent/metaflow-datastore/.metaflow", sha, None, 0, int(mid["ts_epoch"]) + dt))
        # An attempt number Flowscope's integer column refuses: the batch is refused, applied again
        # run by run, and this run is skipped (both ways alike).
        t = oldest[-1]
        cur.execute(md, (t["flow_id"], t["run_number"], t["step_name"], t["task_id"], "odd-huge-attempt", "b",
                         int(t["ts_epoch"]) + 5, '["attempt_id:12345678901"]'))
        cur.execute("SELECT count(*) AS n FROM metadata_v3")
        return {"tasks": len(newest) + len(oldest), "metadata": cur.fetchone()["n"]}


def _rows(dsn: str) -> dict[str, Any]:
    """Every table's rows with run_pk/task_pk as natural keys; metadata as ordered lists per task."""
    conn = psycopg2.connect(dsn)
    out: dict[str, Any] = {}
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT run_pk, flow_id, run_id FROM runs")
            runs = {r["run_pk"]: (r["flow_id"], r["run_id"]) for r in cur.fetchall()}
            cur.execute("SELECT task_pk, run_pk, step_name, task_id FROM tasks")
            tasks = {r["task_pk"]: (*runs[r["run_pk"]], r["step_name"], r["task_id"]) for r in cur.fetchall()}

            def natural(row: dict[str, Any]) -> tuple[Any, ...]:
                if "task_pk" in row:
                    row["task_pk"] = tasks[row["task_pk"]]
                if "run_pk" in row:
                    row["run_pk"] = runs[row["run_pk"]]
                return tuple(sorted((k, repr(v)) for k, v in row.items() if k not in IGNORED))

            for table in TABLES:
                cur.execute(f"SELECT * FROM {table} ORDER BY {'id' if table == 'metadata' else '1'}")
                rows = [natural(dict(r)) for r in cur.fetchall()]
                out[table] = Counter(rows)
                if table == "metadata":
                    per_task: dict[Any, list[Any]] = {}
                    for r in rows:
                        per_task.setdefault(dict(r)["task_pk"], []).append(r)
                    out["metadata order"] = per_task
    finally:
        conn.close()
    return out


def _skips(caplog: pytest.LogCaptureFixture) -> tuple[list[str], int]:
    """The rows reported skipped, and how many batches Flowscope refused (then applied run by run)."""
    got = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped source "))
    refused = sum("was refused by Flowscope's database" in r.getMessage() for r in caplog.records)
    caplog.clear()
    return got, refused


async def test_bulk_backfill_writes_the_rows_the_replay_writes(
        source_server: SourceServer, make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.WARNING, logger="backend.mirror")
    written = Counter[str]()

    async def spy(m: Any, cur: Any, bulk: Bulk, tasks: Any, applied: Any) -> None:
        for what, ids in (("metadata", (bulk.metadata or {}).get("i")), ("artifacts", (bulk.artifacts or {}).get("t"))):
            written[what] += len(ids.strip("{}").split(",")) if ids else 0
        await write(m, cur, bulk, tasks, applied)

    monkeypatch.setattr(mirror_module, "write_bulk", spy)
    source = generated_source(source_server, RUNS, label="bulk")
    odd = _add_odd_rows(source.admin_dsn)
    plain = await backfill(make_settings(source, mirror_backfill_bulk=False))
    plain_skips, plain_refused = _skips(caplog)
    assert written["artifacts"] == 0 and written["metadata"] == 0   # the setting off: no bulk path
    bulk = await backfill(make_settings(source, mirror_backfill_bulk=True))
    bulk_skips, bulk_refused = _skips(caplog)
    before, after = _rows(plain.writer_dsn), _rows(bulk.writer_dsn)
    # The bulk path carried most rows. Artifacts of the batches read before the first one was
    # replayed (3 of 8 here, with 2 writers) go the replay's way: their datastore root is not yet
    # known unreadable.
    assert written["metadata"] > 0.9 * sum(before["metadata"].values())
    assert written["artifacts"] > 0.5 * sum(before["artifacts"].values())
    assert sum(before["runs"].values()) == RUNS - 1      # the run with the huge attempt number
    assert sum(before["metadata"].values()) > 10 * RUNS
    for table in (*TABLES, "metadata order"):
        assert before[table] == after[table], f"{table} differs"
    # Odd rows are there: kept (converted), or skipped and reported the same way.
    names = Counter(dict(r)["field_name"] for r in after["metadata"].elements())
    assert names["'odd-number-tag'"] == names["'odd-object-tags'"] == names["'odd-one-tag'"] == odd["tasks"] - 1
    assert names["'odd-huge-attempt'"] == 0
    assert names["'odd-unicode-digit'"] == names["'odd-empty-attempt'"] == odd["tasks"] - 1
    values = Counter(dict(r)["value"] for r in after["metadata"].elements())
    assert values[repr("h\u00e9llo \u2713 \U0001d11e")] == odd["tasks"] - 1
    # Only the batch with the huge attempt number was refused by the replay; the bulk path refused
    # that one and the one with the twin tasks' colliding artifacts, and took no other row it cannot
    # convert (a refused batch is applied again run by run, which hides the rest).
    assert plain_refused == 1 and bulk_refused == 2
    arts = Counter(dict(r)["name"] for r in after["artifacts"].elements())
    assert arts["'twin-artifact'"] == 1      # one of the twins' rows, the same both ways (compared above)
    assert arts["'remote'"] == odd["tasks"] - 1 and arts["'blank-sha'"] == 0 and arts["'lost'"] == 0
    assert arts[repr("na\u00efve_\u2713")] == odd["tasks"] - 1
    # per odd task: its metadata and artifacts of the missing task, the blank sha; and the refused run
    assert plain.status.skipped == bulk.status.skipped == 3 * (odd["tasks"] - 1) + 1
    # (a refused batch's first try logs some of them once more, before its runs are applied one by one)
    assert set(plain_skips) == set(bulk_skips) and len(set(plain_skips)) == 3 * odd["tasks"]
    # Attempts left without datastore facts (/api/-/status): each mirrored one counted at least
    # once, never more often than the replay counts them (a refused batch's first try counts too).
    root = "/nonexistent/metaflow-datastore/.metaflow"
    conn = psycopg2.connect(bulk.writer_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(DISTINCT (task_pk, attempt)) FROM artifacts WHERE location LIKE %s",
                        (root + "/%",))
            attempts = cur.fetchone()[0]
    finally:
        conn.close()
    assert attempts > 5 * RUNS
    assert attempts <= bulk.enricher.unreadable[root] <= plain.enricher.unreadable[root]
