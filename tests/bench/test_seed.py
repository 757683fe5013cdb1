"""bench.seed on a small dataset: deterministic, internally consistent, logs and blobs readable.

Each seed goes into its own database on the session's server (other tests share pg_dsn), made
and dropped here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest

from bench.checks import consistency_errors, table_checksums
from bench.seed import main as seed_main
from bench.seed import parse_args, run_seed
from contract.datastore import LocalDatastore
from core_runtime.artifacts import load_artifact, make_preview

NOW = 1_795_000_000_000
SMALL = ["--runs", "2000", "--tasks-per-run", "8", "--huge-run", "2000", "--log-lines", "5000",
         "--now", str(NOW), "--quiet"]


class Seeded:
    def __init__(self, dsn: str, datastore: Path, summary: dict[str, Any]) -> None:
        self.dsn, self.datastore, self.summary = dsn, datastore, summary

    def connect(self) -> Any:
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        return conn

    def query(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute(sql, args)
            rows: list[tuple[Any, ...]] = cur.fetchall()
        conn.close()
        return rows


@pytest.fixture(scope="module")
def seed_db(pg_server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[int], Seeded]]:
    admin = psycopg2.connect(pg_server_dsn)
    admin.autocommit = True
    made: list[str] = []

    def make(seed: int) -> Seeded:
        name = f"flowscope_bench_{uuid.uuid4().hex[:8]}"
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        params = psycopg2.extensions.parse_dsn(pg_server_dsn)
        params["dbname"] = name
        dsn = psycopg2.extensions.make_dsn(**params)
        ds = tmp_path_factory.mktemp("bench-ds")
        summary = run_seed(parse_args([*SMALL, "--seed", str(seed), "--dsn", dsn, "--datastore", str(ds)]))
        return Seeded(dsn, ds, summary)

    yield make
    with admin.cursor() as cur:
        for name in made:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def first(seed_db: Callable[[int], Seeded]) -> Seeded:
    return seed_db(7)


def test_same_seed_same_data_other_seed_other_data(first: Seeded, seed_db: Callable[[int], Seeded]) -> None:
    again = seed_db(7)
    other = seed_db(8)
    a, b, c = (table_checksums(s.connect()) for s in (first, again, other))
    assert a == b
    assert a["runs"] != c["runs"] and a["tasks"] != c["tasks"]
    # The datastore too: the same log chunk bytes under the same keys.
    files_a = sorted(p.relative_to(first.datastore) for p in first.datastore.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(again.datastore) for p in again.datastore.rglob("*") if p.is_file())
    assert files_a == files_b
    logs = [f for f in files_a if "/logs/" in str(f)]
    assert logs and all((first.datastore / f).read_bytes() == (again.datastore / f).read_bytes() for f in logs)


def test_counts_match_the_rows(first: Seeded) -> None:
    assert consistency_errors(first.connect()) == {
        "run task counts": 0, "step counts and spans": 0, "log line ranges": 0, "run tags": 0}
    (n_tags,), = first.query("SELECT count(*) FROM run_tags")
    (n_expected,), = first.query("SELECT count(DISTINCT (t, run_pk)) FROM runs, unnest(tags) t")
    assert n_tags == n_expected > 0
    # And independently of bench.checks: totals agree.
    (runs, n_tasks, n_done, n_failed, n_running), = first.query(
        "SELECT count(*), sum(n_tasks), sum(n_completed), sum(n_failed), sum(n_running) FROM runs")
    assert runs == 2001
    (tasks, done, failed, running), = first.query(
        "SELECT count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = "
        "'failed'), count(*) FILTER (WHERE status = 'running') FROM tasks")
    assert (n_tasks, n_done, n_failed, n_running) == (tasks, done, failed, running)
    # Sequences moved past the generated keys, so the runtime's next inserts do not collide.
    (next_run,), = first.query("SELECT nextval('runs_run_pk_seq') > (SELECT max(run_pk) FROM runs)")
    (next_seq,), = first.query("SELECT nextval('change_seq') > (SELECT max(change_seq) FROM tasks)")
    assert next_run and next_seq


def test_realistic_mix(first: Seeded) -> None:
    status = dict(first.query("SELECT status, count(*) FROM runs GROUP BY status"))
    assert 0.8 < status["completed"] / 2001 < 0.95
    assert 0.05 < status["failed"] / 2001 < 0.15
    assert status.get("running", 0) >= 1
    # Failed runs say why, and which step.
    assert first.query("SELECT count(*) FROM runs WHERE status = 'failed' AND "
                       "(status_reason IS NULL OR failed_step IS NULL)") == [(0,)]
    (reason,), = first.query("SELECT status_reason FROM runs WHERE status = 'failed' LIMIT 1")
    assert reason.startswith("step ") and " failed: " in reason
    # Zipf-like popularity: the top flow has many times the runs of the last.
    counts = [n for (n,) in first.query("SELECT count(*) FROM runs GROUP BY flow_id ORDER BY 1 DESC")]
    assert len(counts) >= 30 and counts[0] > 10 * counts[-1]
    # Retries exist, and every task's latest attempt number has its attempt row.
    assert first.query("SELECT count(*) > 0 FROM attempts WHERE attempt > 0") == [(True,)]
    assert first.query("SELECT count(*) FROM tasks t WHERE t.status <> 'pending' AND NOT EXISTS "
                       "(SELECT 1 FROM attempts a WHERE a.task_pk = t.task_pk AND a.attempt = t.attempt)") == [(0,)]


def test_dag_matches_the_tasks_steps(first: Seeded) -> None:
    rows = first.query("SELECT r.dag, array_agg(DISTINCT s.step_name) FROM runs r JOIN steps s USING (run_pk) "
                       "WHERE r.status = 'completed' GROUP BY r.run_pk, r.dag LIMIT 200")
    for dag, steps in rows:
        assert set(steps) == set(dag["steps"]), dag["file"]
        assert dag["start_step"] == "start" and dag["steps"]["end"]["next"] == []


def test_huge_run_and_its_log(first: Seeded) -> None:
    huge_pk = first.summary["huge_run_pk"]
    steps = dict(first.query("SELECT step_name, n_tasks FROM steps WHERE run_pk = %s", (huge_pk,)))
    assert steps == {"start": 1, "process": 2000, "gather": 1, "end": 1}
    (parents,), = first.query("SELECT cardinality(parent_task_ids) FROM tasks WHERE run_pk = %s "
                              "AND step_name = 'gather'", (huge_pk,))
    assert parents == 2000
    chunks = first.query("SELECT seq, first_line, n_lines, n_bytes, location FROM log_chunks "
                         "WHERE task_pk = %s AND stream = 'stdout' ORDER BY seq", (first.summary["log_task_pk"],))
    assert len(chunks) > 1
    ds = LocalDatastore(first.datastore)
    expected_line, last_ts = 1, 0
    for _seq, first_line, n_lines, n_bytes, location in chunks:
        data = ds.get(location)
        assert len(data) == n_bytes and first_line == expected_line
        lines = data.decode().split("\n")
        assert lines[-1] == "" and len(lines) - 1 == n_lines
        for offset, line in enumerate(lines[:-1]):
            ts, text = line.split("\t", 1)
            assert int(ts) >= last_ts
            last_ts = int(ts)
            assert text.startswith(f"line {first_line + offset}: ")
        expected_line += n_lines
    assert expected_line - 1 == 5000


def test_artifact_rows_point_at_real_blobs(first: Seeded) -> None:
    ds = LocalDatastore(first.datastore)
    rows = first.query("SELECT DISTINCT ON (name) name, location, preview, size FROM artifacts ORDER BY name")
    assert len(rows) >= 5
    for name, location, preview, size in rows:
        value = load_artifact(ds, location)
        assert make_preview(value) == preview, name
        assert len(ds.get(location)) == size


def test_seeding_twice_is_refused(first: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed_main([*SMALL, "--dsn", first.dsn, "--datastore", str(first.datastore)]) == 1
    err = capsys.readouterr().err
    assert "already has flows" in err and "Traceback" not in err
    assert first.query("SELECT count(*) FROM runs") == [(2001,)]


def test_bad_arguments_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        seed_main(["--tasks-per-run", "1"])
    assert exc.value.code == 2
    assert "--tasks-per-run must be at least 2" in capsys.readouterr().err


def test_plans_use_indexes_on_the_seed(first: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.plans import main as plans_main

    code = plans_main(["--dsn", first.dsn, "--repeat", "2"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "Seq Scan" not in out and "home: page 100 (keyset)" in out


def test_the_tag_check_finds_a_missing_and_a_stray_tag_row(first: Seeded) -> None:
    """bench.checks' run-tags check counts each run whose run_tags rows differ from its tags (a row
    missing, a row too many), inside a transaction that is rolled back."""
    conn = psycopg2.connect(first.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tag, created_at, run_pk FROM run_tags ORDER BY run_pk, tag LIMIT 1")
            tag, created_at, missing_pk = cur.fetchone()
            cur.execute("DELETE FROM run_tags WHERE tag = %s AND created_at = %s AND run_pk = %s",
                        (tag, created_at, missing_pk))
            cur.execute("SELECT run_pk, created_at FROM runs WHERE run_pk <> %s ORDER BY run_pk DESC LIMIT 1",
                        (missing_pk,))
            stray_pk, stray_created = cur.fetchone()
            cur.execute("INSERT INTO run_tags (tag, created_at, run_pk) VALUES ('not-a-tag-of-it', %s, %s)",
                        (stray_created, stray_pk))
        assert consistency_errors(conn)["run tags"] == 2
        assert consistency_errors(conn, first_run_pk=missing_pk + 1)["run tags"] == 1
    finally:
        conn.rollback()
        conn.close()


def test_the_summary_is_kept_where_the_benchmarks_read_it(pg_server_dsn: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """bench.seed writes its JSON summary to $FLOWSCOPE_HOME/seed.json (bench.api, bench.browser and
    bench.cache_memory read it there), the same JSON it prints."""
    admin = psycopg2.connect(pg_server_dsn)
    admin.autocommit = True
    name = f"flowscope_bench_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        params = psycopg2.extensions.parse_dsn(pg_server_dsn)
        params["dbname"] = name
        monkeypatch.setenv("FLOWSCOPE_HOME", str(tmp_path))
        assert seed_main(["--runs", "20", "--now", str(NOW), "--quiet", "--dsn",
                          psycopg2.extensions.make_dsn(**params), "--datastore", str(tmp_path / "ds")]) == 0
        kept = json.loads((tmp_path / "seed.json").read_text())
        assert kept == json.loads(capsys.readouterr().out)
        assert kept["runs"] == 20
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
