"""``flowscope mirror`` killed with SIGKILL during the backfill resumes from its checkpoint:
afterwards Flowscope holds every source row exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg2

from tests.mirror.source_harness import REPO, SourceServer, fresh_flowscope, generated_source

RUNS = 1500


def q(dsn: str, sql: str) -> Any:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "backend.cli", "mirror", "--backfill-only"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def runs_done(dsn: str) -> int:
    ckpt = q(dsn, "SELECT checkpoint FROM mirror_state WHERE source = 'metaflow'")
    return int((ckpt or {}).get("runs_done", 0)) if isinstance(ckpt, dict) else 0


def test_kill_9_during_backfill_resumes_without_duplicates(source_server: SourceServer, pg_server_dsn: str,
                                                           tmp_path: Path) -> None:
    source = generated_source(source_server, RUNS, label="resume")
    writer, reader = fresh_flowscope(pg_server_dsn, "resume")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    env.update(PYTHONPATH=str(REPO), FLOWSCOPE_DSN=writer, FLOWSCOPE_READER_DSN=reader,
               FLOWSCOPE_HOME=str(tmp_path / "home"), FLOWSCOPE_MIRROR_SOURCE=source.reader_dsn,
               FLOWSCOPE_MIRROR_BATCH_RUNS="20")
    log = tmp_path / "mirror.log"
    kills = 0
    for stop_at in (RUNS // 5, RUNS // 2):      # killed twice, at two points
        proc = start(env, log)
        deadline = time.monotonic() + 300
        while runs_done(writer) < stop_at:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the backfill made no progress"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        done = runs_done(writer)
        assert stop_at <= done < RUNS
        # Exactly the runs the checkpoint covers are in Flowscope: nothing after it was committed.
        assert q(writer, "SELECT count(*) FROM mirror_runs") == done
    proc = start(env, log)
    assert proc.wait(timeout=600) == 0, log.read_text()[-3000:]
    assert kills == 2
    pairs = {"runs": "runs_v3", "tasks": "tasks_v3", "metadata": "metadata_v3", "artifacts": "artifact_v3"}
    got = {mine: q(writer, f"SELECT count(*) FROM {mine}") for mine in pairs}
    want = {mine: source.rows(f"SELECT count(*) AS n FROM {theirs}")[0]["n"] for mine, theirs in pairs.items()}
    assert got == want
    assert q(writer, "SELECT count(*) FROM mirror_runs") == RUNS
    # The same metadata rows, not just as many: per task, field and value.
    digest = ("SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT {task} || ':' || field_name || ':' || value "
              "|| ':' || {ts} AS x FROM {table}) d")
    mine = q(writer, digest.format(task="(SELECT r.flow_id || '/' || r.run_id || '/' || t.step_name || '/' || "
                                   "t.task_id FROM tasks t JOIN runs r USING (run_pk) WHERE t.task_pk = m.task_pk)",
                                   ts="created_at", table="metadata m"))
    theirs = source.rows(digest.format(
        task="(m.flow_id || '/' || COALESCE(m.run_id, m.run_number::text) || '/' || m.step_name || '/' || "
             "COALESCE(m.task_name, m.task_id::text))", ts="ts_epoch", table="metadata_v3 m"))[0]["md5"]
    assert mine == theirs
    state = q(writer, "SELECT detail FROM mirror_state WHERE source = 'metaflow'")
    assert json.dumps(state)
    assert "Traceback" not in log.read_text()
