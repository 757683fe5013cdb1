"""A running task of a local Metaflow run has no log to show until it ends (Metaflow writes a local
task's log files when its process exits; docs/metaflow.md, Limits). Its stdout panel said only
"Waiting for stdout…", for minutes, while the task printed a line a second: it now says why."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import api_get
from mf_runs import metaflow_env

pytestmark = pytest.mark.compat

FLOW = Path(__file__).resolve().parent / "flows" / "mf_quiet_log_flow.py"


def test_a_running_local_metaflow_tasks_empty_log_says_why(page: Any, server: str, ingest_url: str,
                                                          tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, str(FLOW), "--no-pylint", "run", "--run-id-file", str(tmp_path / "run-id")],
                            cwd=tmp_path, env=metaflow_env(ingest_url, tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        task = None
        while task is None:
            assert time.monotonic() < deadline, "the wait step never started"
            time.sleep(1)
            if (tmp_path / "run-id").exists():
                run = (tmp_path / "run-id").read_text().strip()
                rows = api_get(server, f"/api/flows/QuietLogFlow/runs/{run}/tasks?step=wait")["data"]
                task = next((t for t in rows if t["status"] == "running"), None)
        page.goto(f"/QuietLogFlow/{run}/wait/{task['task_id']}")
        empty = page.get_by_test_id("log-empty")
        empty.get_by_text("Waiting for stdout").wait_for()
        empty.get_by_text("writes a task's log when the task ends").wait_for()
        assert api_get(server, f"/api/flows/QuietLogFlow/runs/{run}/steps/wait/tasks/{task['task_id']}")["data"]["status"] == "running"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
