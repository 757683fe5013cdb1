"""Logs are readable while a task runs; heartbeats; SIGTERM and SIGKILL of the runtime."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from tests.runtime.conftest import FLOWS, run_row, task_rows

FLOW = FLOWS / "slow_print_flow.py"


def _start(env: dict[str, str], tmp_path: Any, seconds: float, **extra: str) -> tuple[subprocess.Popen, Any]:
    id_file = tmp_path / "run-id"
    proc = subprocess.Popen([sys.executable, str(FLOW), "run", "--seconds", str(seconds),
                             "--run-id-file", str(id_file)],
                            env={**env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, id_file


def _wait_for(cond: Any, timeout: float = 30) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _work_task(db: Any, id_file: Any) -> dict[str, Any]:
    def find() -> Any:
        if not id_file.exists():
            return None
        run = run_row(db, "SlowPrintFlow", id_file.read_text())
        tasks = [t for t in task_rows(db, run["run_pk"], "work") if t["status"] == "running"]
        return tasks[0] if tasks else None
    return _wait_for(find)


def test_logs_are_readable_while_the_task_runs(flowscope_env, db, settings, tmp_path):
    from contract.datastore import open_datastore
    from contract.logs_format import read_log_lines

    proc, id_file = _start(flowscope_env, tmp_path, 6)
    try:
        task = _work_task(db, id_file)

        def lines() -> Any:
            with db.cursor() as cur:
                cur.execute("SELECT * FROM log_chunks WHERE task_pk = %s AND stream = 'stdout' "
                            "ORDER BY seq", (task["task_pk"],))
                cols = [c.name for c in cur.description]
                chunks = [dict(zip(cols, r)) for r in cur.fetchall()]
            got = read_log_lines(open_datastore(settings), chunks)
            return got if len(got) >= 3 else None

        got = _wait_for(lines, timeout=10)
        assert proc.poll() is None                      # still running
        with db.cursor() as cur:
            cur.execute("SELECT status FROM tasks WHERE task_pk = %s", (task["task_pk"],))
            assert cur.fetchone()[0] == "running"
        assert [text for _n, _ts, text in got[:3]] == ["tick 1", "tick 2", "tick 3"]
        assert got[1][1] - got[0][1] >= 150             # stamped when printed, ~0.2 s apart
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_sigterm_marks_the_run_failed(flowscope_env, db, tmp_path):
    proc, id_file = _start(flowscope_env, tmp_path, 60)
    task = _work_task(db, id_file)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    run = run_row(db, "SlowPrintFlow", id_file.read_text())
    assert run["status"] == "failed" and run["status_reason"] == "interrupted by SIGTERM"
    with db.cursor() as cur:
        cur.execute("SELECT status FROM tasks WHERE task_pk = %s", (task["task_pk"],))
        assert cur.fetchone()[0] == "failed"


def test_sigkilled_runtime_leaves_a_stale_heartbeat(flowscope_env, db, tmp_path):
    env = {"FLOWSCOPE_HEARTBEAT_INTERVAL": "0.3"}
    proc, id_file = _start(flowscope_env, tmp_path, 60, **env)
    task = _work_task(db, id_file)

    def heartbeats() -> tuple[int, int]:
        run = run_row(db, "SlowPrintFlow", id_file.read_text())
        with db.cursor() as cur:
            cur.execute("SELECT heartbeat_at FROM tasks WHERE task_pk = %s", (task["task_pk"],))
            return run["heartbeat_at"], cur.fetchone()[0]

    first = heartbeats()
    _wait_for(lambda: heartbeats()[0] > first[0] and (heartbeats()[1] or 0) > (first[1] or 0), 10)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(0.3)                                     # a write in flight may still land
    after_kill = heartbeats()
    time.sleep(1.5)                                     # five heartbeat intervals
    assert heartbeats() == after_kill                  # nothing advances any more
    run = run_row(db, "SlowPrintFlow", id_file.read_text())
    assert run["status"] == "running"                  # readers judge it by heartbeat age
    assert int(time.time() * 1000) - run["heartbeat_at"] >= 1500
