"""Where tasks ran: the timeline grouped by host, and the node (and notices) in the task view.

The run is written through RunStore exactly as the runtime's Ray executor writes one (placement
metadata per attempt, a retried task that moved after "node lost"), so the browser test does not
need a Ray cluster; tests/runtime/test_ray_executor.py checks that real Ray runs write these rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from conftest import api_get

LOST = "node lost: Ray node node-a (5d1c0a9e1f2b) died while the task ran"
NOTICE = ("@kubernetes: no distributed executor is configured (FLOWSCOPE_RAY_ADDRESS is unset), so this "
          "task ran on this machine; its request (cpu=2, memory=4096 MB) was recorded, not enforced.")


def _placement(host: str, attempt: int) -> list[tuple[str, str, str, int]]:
    node = {"node-a": "5d1c0a9e1f2b7c", "node-b": "9f00b1c2d3e4a5"}[host]
    return [("executor", "ray", "executor", attempt), ("host", host, "executor", attempt),
            ("node-id", node, "executor", attempt),
            ("node-resources", json.dumps({"CPU": 1.0, "memory": 268435456.0}), "executor", attempt)]


@pytest.fixture(scope="module")
def hosts_run(pg_dsn: str, server: str) -> str:
    from core_runtime.store import RunStore

    store = RunStore(psycopg2.connect(pg_dsn))
    steps = {"start": ["work"], "work": ["end"], "end": []}
    dag = {"start_step": "start", "end_step": "end", "graph_structure": list(steps),
           "steps": {s: {"name": s, "type": "end" if s == "end" else "linear", "next": n, "line": 1, "doc": "",
                         "decorators": []} for s, n in steps.items()}}
    run = store.create_run("HostsFlow", user="tester", dag=dag, file_name="hosts.py", source="")
    plan = [("start", ["node-a"]), ("work", ["node-a"]), ("work", ["node-a"]), ("work", ["node-b"]),
            ("work", ["node-a", "node-b"]), ("end", ["node-b"])]
    for i, (step, hosts) in enumerate(plan):
        task = store.create_task(run, step, foreach_index=i if step == "work" else None)
        if step == "start":
            store.record_metadata(task, None, [("remote-compute", NOTICE, "notice")])
        for attempt, host in enumerate(hosts):
            store.start_attempt(task, attempt)
            store.record_metadata(task, attempt, _placement(host, attempt))
            last = attempt == len(hosts) - 1
            store.finish_attempt(task, attempt, status="completed" if last else "failed",
                                 exit_code=0 if last else None, reason=None if last else LOST, final=last)
    store.finish_run(run, "completed", "all steps completed")
    store.conn.close()
    return run.run_id


def _bars(page: Any, n: int) -> None:
    page.wait_for_function(f"() => Number(document.querySelector('[data-testid=timeline]')?.dataset.bars) >= {n}")


def test_timeline_grouped_by_host_and_the_node_in_the_task_view(page: Any, server: str, hosts_run: str,
                                                                 tmp_path: Path) -> None:
    page.goto(f"/HostsFlow/{hosts_run}")
    _bars(page, 7)
    assert page.get_by_test_id("timeline").get_attribute("data-rows") == "9"    # 3 step headers + 6 lanes
    page.get_by_role("button", name="by host").click()
    page.wait_for_url(re.compile(r"tgroup=host"))
    # node-a: start and two work tasks; node-b: the moved task (latest attempt there), one more, end.
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.rows === '8'")
    assert page.get_by_role("button", name="by host").get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(tmp_path / "timeline-by-host.png"))
    page.reload()     # the grouping is in the URL
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.rows === '8'")

    moved = next(t for t in api_get(server, f"/api/flows/HostsFlow/runs/{hosts_run}/steps/work/tasks")["data"]
             if len(t["attempts"]) == 2)
    page.goto(f"/HostsFlow/{hosts_run}/work/{moved['task_id']}")
    info = page.get_by_test_id("task-info")
    page.get_by_test_id("task-node").wait_for()
    assert "node-b · ray 9f00b1c2d3e4" in page.get_by_test_id("task-node").inner_text()
    assert "CPU 1 · memory 256 MB" in page.get_by_test_id("task-node").inner_text()
    info.locator("[data-attempt='0']").click()
    page.wait_for_function("() => document.querySelector('[data-testid=task-node]')?.innerText.includes('node-a')")
    assert LOST in info.inner_text()
    page.screenshot(path=str(tmp_path / "task-node-lost.png"))

    start = api_get(server, f"/api/flows/HostsFlow/runs/{hosts_run}/steps/start/tasks")["data"][0]
    page.goto(f"/HostsFlow/{hosts_run}/start/{start['task_id']}")
    page.get_by_test_id("task-notices").wait_for()
    assert NOTICE in page.get_by_test_id("task-notices").inner_text()
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=str(tmp_path / "task-notice-dark.png"))
    page.goto(f"/HostsFlow/{hosts_run}?tgroup=host")
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.rows === '8'")
    page.screenshot(path=str(tmp_path / "timeline-by-host-dark.png"))
