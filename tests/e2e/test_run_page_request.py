"""A run deep link paints from one API request: the run with its DAG included (frontend/src/early.ts
starts ``…/runs/{run}?include=dag``; the run page's useRun takes it and seeds the DAG's query), and
neither the DAG nor the run is asked again for the first paint. Live updates and later refetches
still use the separate routes: a task added while the page is open appears, and the DAG is then
re-asked at ``/dag``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import OWN_FLOWS, api_get, finish_flow


def run_requests(page: Any, flow: str) -> list[tuple[str, str]]:
    """Every request the page makes for a run of ``flow`` or its DAG, steps or task list (not the
    timeline, triage or others), and every websocket message it receives, in order."""
    seen: list[tuple[str, str]] = []
    own = re.compile(rf"/api/flows/{flow}/runs/[^/?]+(/dag|/steps|/tasks)?(\?|$)")
    page.on("request", lambda r: own.search(r.url) and seen.append(("request", r.url)))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: seen.append(("ws", f if isinstance(f, str) else ""))))
    return seen


def requests_of(seen: list[tuple[str, str]]) -> list[str]:
    return [url.split("/api/", 1)[1] for kind, url in seen if kind == "request"]


def test_a_finished_run_deep_link_is_one_request(page: Any, server: str, recorded: dict[str, str]) -> None:
    run_id = recorded["ForeachFlow"]
    tasks = api_get(server, f"/api/flows/ForeachFlow/runs/{run_id}/tasks")["data"]
    steps = [s["step_name"] for s in api_get(server, f"/api/flows/ForeachFlow/runs/{run_id}/steps")["data"]]
    seen = run_requests(page, "ForeachFlow")
    page.goto(f"/ForeachFlow/{run_id}")
    # The timeline shows every task (one bar per attempt)...
    page.wait_for_function(f"() => Number(document.querySelector('[data-testid=timeline]')?.dataset.bars) >= {len(tasks)}")
    # ...and the DAG tab every step, with their statuses, from the answer already there.
    page.locator('[role=tab][data-tab="dag"]').click()
    for step in steps:
        page.locator(f'[data-testid=dag] [data-step="{step}"][data-status="completed"]').wait_for()
    page.get_by_test_id("run-header").locator('.badge[data-status="completed"]').wait_for()
    page.wait_for_timeout(1500)                  # nothing else asks later either (a finished run)
    assert requests_of(seen) == [f"flows/ForeachFlow/runs/{run_id}?include=dag"]


def test_a_running_run_deep_link_then_a_live_task(page: Any, server: str, flowscope_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    id_file = tmp_path / "live.id"
    proc = subprocess.Popen([sys.executable, str(OWN_FLOWS / "live_flow.py"), "run", "--run-id-file", str(id_file)],
                            env=flowscope_env, cwd=str(OWN_FLOWS), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (id_file.exists() and id_file.read_text().strip()):
            assert time.monotonic() < deadline, "the flow never wrote its run id"
            time.sleep(0.1)
        run_id = id_file.read_text().strip()
        # Open it while its start step runs (it sleeps 2 s), before the work step has a task.
        while not api_get(server, f"/api/flows/LiveFlow/runs/{run_id}/tasks")["data"]:
            assert time.monotonic() < deadline, "the live run never got its first task"
            time.sleep(0.1)
        seen = run_requests(page, "LiveFlow")
        page.goto(f"/LiveFlow/{run_id}?tab=dag")
        page.locator('[data-testid=dag] [data-step="start"]').wait_for()
        page.locator('[data-testid=dag] [data-step="work"]').wait_for()
        # Until the first live event (after which the page may re-ask the DAG), the page asked for
        # its run, DAG, steps and tasks once: the run with the DAG included.
        first_event = next((i for i, (kind, text) in enumerate(seen)
                            if kind == "ws" and json.loads(text or "{}").get("type") in ("insert", "update")), len(seen))
        assert requests_of(seen[:first_event]) == [f"flows/LiveFlow/runs/{run_id}?include=dag"], seen
        # A task added afterwards appears: the work step runs (the DAG re-asked at /dag), and its
        # bar is on the timeline.
        page.locator('[data-testid=dag] [data-step="work"]:not([data-status="pending"])').wait_for(timeout=30_000)
        dag_url = f"flows/LiveFlow/runs/{run_id}/dag"
        deadline = time.monotonic() + 30           # (the page may have opened after work started)
        while dag_url not in (later := requests_of(seen[first_event:])) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert dag_url in later, later
        assert not any("include=" in url for url in later), later
        page.locator('[role=tab][data-tab="timeline"]').click()
        page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]')?.dataset.bars) >= 2",
                               timeout=30_000)
    finally:
        finish_flow(proc)
