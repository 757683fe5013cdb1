"""RunStore against the real schema: rows, statuses, counts kept by triggers, clone for resume."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from core_runtime.artifacts import ArtifactRecord
from core_runtime.store import RunRef, RunStore, StoreError


def _one(db: Any, query: str, *args: Any) -> Any:
    with db.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()


def test_create_run_allocates_numbers_per_flow(store: RunStore) -> None:
    a1 = store.create_run("NumFlowA", user="u")
    a2 = store.create_run("NumFlowA", user="u")
    b1 = store.create_run("NumFlowB", user="u")
    assert (a1.run_id, a2.run_id, b1.run_id) == ("1", "2", "1")
    assert a1.run_pk != b1.run_pk


def test_concurrent_allocation_never_repeats(pg_dsn: str) -> None:
    import psycopg2

    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = psycopg2.connect(pg_dsn)
        st = RunStore(conn)
        for _ in range(5):
            ref = st.create_run("ConcurrentFlow", user="u")
            with lock:
                ids.append(ref.run_id)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids, key=int) == [str(n) for n in range(1, 21)]


def test_create_run_records_everything(store: RunStore, run: RunRef, db: Any) -> None:
    row = _one(db, "SELECT run_number, user_name, tags, system_tags, status, parameters, dag, "
               "started_at, heartbeat_at, source FROM runs WHERE run_pk = %s", run.run_pk)
    assert row[0] == int(run.run_id)
    assert row[1:5] == ("tester", ["t"], ["runtime:test"], "running")
    assert row[5] == {"alpha": 0.5} and row[6] == {"start": {"type": "start"}}
    assert row[7] and row[8] and row[9] == "native"
    src = _one(db, "SELECT file_name, source FROM run_sources WHERE run_pk = %s", run.run_pk)
    assert src == ("flow.py", "print('hi')\n")
    assert _one(db, "SELECT last_run_at IS NOT NULL FROM flows WHERE flow_id = %s", run.flow_id) == (True,)


def test_given_run_id_and_duplicate(store: RunStore) -> None:
    ref = store.create_run("GivenFlow", user=None, run_id="argo-x7", source_kind="metaflow")
    assert ref.run_id == "argo-x7"
    store.create_run("GivenFlow", user=None, run_id="40")
    # numeric ids keep the allocator ahead, so the next native run cannot collide
    assert store.create_run("GivenFlow", user=None).run_id == "41"
    with pytest.raises(StoreError, match="run GivenFlow/argo-x7 already exists"):
        store.create_run("GivenFlow", user=None, run_id="argo-x7")
    # the store's connection stays usable after the refused write
    assert store.create_run("GivenFlow", user=None).run_id == "42"


def test_task_lifecycle_and_counts(store: RunStore, run: RunRef, db: Any) -> None:
    t = store.create_task(run, "start")
    assert t.task_id == str(t.task_pk)
    assert _one(db, "SELECT status, attempt FROM tasks WHERE task_pk = %s", t.task_pk) == ("pending", 0)
    store.start_attempt(t, 0)
    assert _one(db, "SELECT n_tasks, n_running FROM runs WHERE run_pk = %s", run.run_pk) == (1, 1)
    store.finish_attempt(t, 0, status="failed", exit_code=1, exception_type="ValueError",
                         exception_message="bad alpha", traceback="Traceback ...", final=False)
    row = _one(db, "SELECT status, status_reason FROM tasks WHERE task_pk = %s", t.task_pk)
    assert row[0] == "running" and "ValueError: bad alpha" in row[1]
    store.start_attempt(t, 1)
    store.finish_attempt(t, 1, status="completed", exit_code=0, final=True)
    task = _one(db, "SELECT status, attempt, started_at <= finished_at FROM tasks WHERE task_pk = %s",
                t.task_pk)
    assert task == ("completed", 1, True)
    attempts = _one(db, "SELECT array_agg(status ORDER BY attempt), array_agg(exit_code ORDER BY attempt) "
                    "FROM attempts WHERE task_pk = %s", t.task_pk)
    assert attempts == (["failed", "completed"], [1, 0])
    exc = _one(db, "SELECT exception_type, exception_message, traceback FROM attempts "
               "WHERE task_pk = %s AND attempt = 0", t.task_pk)
    assert exc == ("ValueError", "bad alpha", "Traceback ...")
    assert _one(db, "SELECT n_tasks, n_running, n_completed FROM steps WHERE run_pk = %s AND "
                "step_name = 'start'", run.run_pk) == (1, 0, 1)


def test_failed_task_reason_from_signal(store: RunStore, run: RunRef, db: Any) -> None:
    t = store.create_task(run, "train")
    store.start_attempt(t, 0)
    store.finish_attempt(t, 0, status="failed", exit_code=-9, final=True)
    reason = _one(db, "SELECT status_reason FROM tasks WHERE task_pk = %s", t.task_pk)[0]
    assert reason == f"step train (task {t.task_id}, attempt 0) failed: killed by signal 9"


def test_foreach_fields_and_finish_run(store: RunStore, run: RunRef, db: Any) -> None:
    stack = [{"step": "start", "var": "items", "num_splits": 3, "index": 2, "value": "'c'"}]
    t = store.create_task(run, "each", foreach_index=2, foreach_value="'c'", foreach_stack=stack,
                          parent_task_ids=["start/1"])
    row = _one(db, "SELECT foreach_index, foreach_value, foreach_stack, parent_task_ids FROM tasks "
               "WHERE task_pk = %s", t.task_pk)
    assert row == (2, "'c'", stack, ["start/1"])
    store.finish_run(run, "failed", "step each failed: KeyError: 'x'", failed_step="each")
    assert _one(db, "SELECT status, status_reason, failed_step, finished_at >= started_at FROM runs "
                "WHERE run_pk = %s", run.run_pk) == ("failed", "step each failed: KeyError: 'x'", "each", True)
    with pytest.raises(StoreError, match="unknown status"):
        store.finish_run(run, "exploded", None)


def test_heartbeat_touches_run_and_running_tasks(store: RunStore, run: RunRef, db: Any) -> None:
    running = store.create_task(run, "a")
    pending = store.create_task(run, "b")
    store.start_attempt(running, 0)
    with db.cursor() as cur:
        cur.execute("UPDATE runs SET heartbeat_at = 1 WHERE run_pk = %s", (run.run_pk,))
        cur.execute("UPDATE tasks SET heartbeat_at = 1 WHERE run_pk = %s", (run.run_pk,))
        cur.execute("UPDATE attempts SET heartbeat_at = 1 WHERE run_pk = %s", (run.run_pk,))
    store.heartbeat(run, [running.task_pk, pending.task_pk])
    assert _one(db, "SELECT heartbeat_at > 1 FROM runs WHERE run_pk = %s", run.run_pk) == (True,)
    assert _one(db, "SELECT heartbeat_at > 1 FROM tasks WHERE task_pk = %s", running.task_pk) == (True,)
    assert _one(db, "SELECT heartbeat_at > 1 FROM attempts WHERE task_pk = %s", running.task_pk) == (True,)
    assert _one(db, "SELECT heartbeat_at FROM tasks WHERE task_pk = %s", pending.task_pk) == (1,)


def _records() -> list[ArtifactRecord]:
    return [ArtifactRecord("x", "a" * 40, "int", 5, "pickle-v4", "F/data/aa/" + "a" * 40, "1"),
            ArtifactRecord("name", "b" * 40, "str", 9, "pickle-v4", "F/data/bb/" + "b" * 40, "'n'")]


def test_artifacts_metadata_logs_cards(store: RunStore, run: RunRef, db: Any) -> None:
    t = store.create_task(run, "start")
    store.start_attempt(t, 0)
    store.record_artifacts(t, 0, _records())
    store.record_artifacts(t, 0, [ArtifactRecord("x", "c" * 40, "int", 5, "pickle-v4", "loc", "2")])
    rows = _one(db, "SELECT array_agg(name ORDER BY name), array_agg(preview ORDER BY name) FROM artifacts "
                "WHERE task_pk = %s", t.task_pk)
    assert rows == (["name", "x"], ["'n'", "2"])
    store.record_metadata(t, 0, [("attempt", "0", "attempt"), ("resources", '{"cpu": 2}', "resources")])
    store.record_metadata(t, None, [("origin", "x", "origin")])
    assert _one(db, "SELECT count(*), count(attempt) FROM metadata WHERE task_pk = %s", t.task_pk) == (3, 2)
    store.record_log_chunk(t, 0, "stdout", 0, 1, 3, 42, 1000, 1002, "F/1/start/1/logs/0.stdout.000000")
    assert _one(db, "SELECT first_line, n_lines, location FROM log_chunks WHERE task_pk = %s", t.task_pk) == \
        (1, 3, "F/1/start/1/logs/0.stdout.000000")
    store.record_card(t, 0, "default", "default", "F/c.000001.html", 100, final=False)
    store.record_card(t, 0, "default", "default", "F/c.html", 120)
    store.record_card(t, 0, "default", "default", "F/c.html", 130)   # a final card never changes again
    assert _one(db, "SELECT size, final FROM cards WHERE task_pk = %s", t.task_pk) == (120, True)


def test_clone_task_copies_records(store: RunStore, run: RunRef, db: Any) -> None:
    origin = store.create_task(run, "train", foreach_index=1, parent_task_ids=["start/5"])
    store.start_attempt(origin, 0)
    store.record_artifacts(origin, 0, _records())
    store.record_metadata(origin, 0, [("attempt", "0", "attempt")])
    store.record_log_chunk(origin, 0, "stdout", 0, 1, 2, 10, 1, 2, "loc0")
    store.record_card(origin, 0, "default", "default", "card-loc", 10)
    store.finish_attempt(origin, 0, status="completed", exit_code=0, final=True)
    store.finish_run(run, "failed", "later step failed")

    resumed = store.create_run(run.flow_id, user="u", origin_run_id=run.run_id)
    clone = store.clone_task(resumed, origin.task_pk)
    assert clone.task_id == origin.task_id and clone.step_name == "train"
    row = _one(db, "SELECT status, cloned_from, foreach_index, parent_task_ids FROM tasks WHERE task_pk = %s",
               clone.task_pk)
    assert row == ("completed", f"{run.flow_id}/{run.run_id}/train/{origin.task_id}", 1, ["start/5"])
    for table in ("attempts", "artifacts", "metadata", "log_chunks", "cards"):
        counts = _one(db, f"SELECT count(*) FILTER (WHERE task_pk = %s), count(*) FILTER (WHERE task_pk = %s "
                      f"AND run_pk = %s) FROM {table}", origin.task_pk, clone.task_pk, resumed.run_pk)
        assert counts[0] == counts[1] > 0, table
    assert _one(db, "SELECT n_completed FROM runs WHERE run_pk = %s", resumed.run_pk) == (1,)
    with pytest.raises(StoreError, match="origin task #999999999 does not exist"):
        store.clone_task(resumed, 999999999)


def test_statement_count_per_task(pg_dsn: str, run: RunRef) -> None:
    """The hot path of a foreach task is a handful of round trips (speed target vs Metaflow)."""
    import logging

    import psycopg2
    from psycopg2.extras import LoggingConnection

    executed: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            executed.append(record.getMessage())

    logger = logging.getLogger("flowscope.test.sql")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Collect())
    conn = psycopg2.connect(pg_dsn, connection_factory=LoggingConnection)
    conn.initialize(logger)
    store = RunStore(conn)
    executed.clear()  # the session SET at construction is not per task
    t = store.create_task(run, "each")
    store.start_attempt(t, 0)
    store.record_artifacts(t, 0, _records())
    store.record_metadata(t, 0, [("attempt", "0", "attempt")])
    store.finish_attempt(t, 0, status="completed", exit_code=0, final=True)
    conn.close()
    assert len(executed) == 5


def test_commits_do_not_wait_for_disk_unless_asked(pg_dsn: str) -> None:
    import psycopg2

    for wait, expected in ((False, "off"), (True, "on")):
        conn = psycopg2.connect(pg_dsn)
        RunStore(conn, wait_for_disk=wait)
        with conn.cursor() as cur:
            cur.execute("SHOW synchronous_commit")
            assert cur.fetchone() == (expected,)
        conn.close()
