"""Status you can trust: a run whose heartbeat stops is reported failed, with the reason."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.backend.api_helpers import get_json
from tests.backend.conftest import OWN_FLOWS
from tests.backend.live_helpers import new_store, running_task


async def test_stale_heartbeat_is_failed_with_reason(aiohttp_client: Any, make_app: Any, pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run, _ = running_task(store, "StaleFlow")
    client = await aiohttp_client(make_app(heartbeat_timeout=1.0))
    fresh = (await get_json(client, f"/api/flows/StaleFlow/runs/{run.run_id}"))["data"]
    assert fresh["status"] == "running" and fresh["task_counts"]["running"] == 1
    await asyncio.sleep(1.6)
    stale = (await get_json(client, f"/api/flows/StaleFlow/runs/{run.run_id}"))["data"]
    assert stale["status"] == "failed"
    assert stale["status_reason"].startswith("heartbeat lost at ") and "(no signal for over 1 s)" in stale["status_reason"]
    assert stale["task_counts"]["running"] == 0 and stale["task_counts"]["failed"] == 1
    # The reason names the timeout, not the growing silence: a later read says the same.
    await asyncio.sleep(1.1)
    again = (await get_json(client, f"/api/flows/StaleFlow/runs/{run.run_id}"))["data"]
    assert again["status_reason"] == stale["status_reason"]
    # Filters agree with the displayed status.
    failed = await get_json(client, "/api/runs", status="failed", flow="StaleFlow")
    assert f"StaleFlow/{run.run_id}" in {r["pathspec"] for r in failed["data"]}
    running = await get_json(client, "/api/runs", status="running", flow="StaleFlow")
    assert f"StaleFlow/{run.run_id}" not in {r["pathspec"] for r in running["data"]}
    tasks = (await get_json(client, f"/api/flows/StaleFlow/runs/{run.run_id}/tasks", status="failed"))["data"]
    assert tasks[0]["status"] == "failed" and tasks[0]["attempts"][0]["status"] == "failed"
    dag = (await get_json(client, f"/api/flows/StaleFlow/runs/{run.run_id}/dag"))["data"]
    assert dag["steps"][0]["status"] == "failed"


async def test_sigkilled_flow_turns_failed(aiohttp_client: Any, make_app: Any, flowscope_env: dict[str, str],
                                           tmp_path: Path) -> None:
    env = {**flowscope_env, "FLOWSCOPE_HEARTBEAT_INTERVAL": "0.5"}
    id_file = tmp_path / "run.id"
    proc = subprocess.Popen(  # noqa: ASYNC220 - start only; the loop keeps running
[sys.executable, str(OWN_FLOWS / "slow_flow.py"), "run", "--run-id-file", str(id_file)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    client = await aiohttp_client(make_app(heartbeat_timeout=3.0))
    try:
        for _ in range(100):
            if id_file.exists() and id_file.read_text().strip():
                break
            await asyncio.sleep(0.2)
        run_id = id_file.read_text().strip()
        url = f"/api/flows/SlowFlow/runs/{run_id}"
        for _ in range(100):
            run = (await get_json(client, url))["data"]
            if run["task_counts"]["running"]:
                break
            await asyncio.sleep(0.2)
        assert run["status"] == "running"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)   # the runtime and its task processes, no chance to clean up
        proc.wait()
    killed_at = time.monotonic()
    while True:
        run = (await get_json(client, url))["data"]
        if run["status"] == "failed":
            break
        assert time.monotonic() - killed_at < 3.0 + 2.0, "run still reported running after the threshold"
        await asyncio.sleep(0.2)
    assert run["status_reason"].startswith("heartbeat lost at ")


async def test_stale_task_ends_at_its_last_heartbeat_on_the_timeline(aiohttp_client: Any, make_app: Any,
                                                                     pg_dsn: str) -> None:
    """A task killed without a word (no finish recorded, heartbeat stopped) ends where its last
    heartbeat was: its bar and the run's span stop there instead of reaching every later read's
    "now" (a run killed last week would otherwise be drawn a week long, its other tasks squashed)."""
    store = new_store(pg_dsn)
    run, first_task = running_task(store, "StaleSpanFlow")
    second = store.create_task(run, "start")
    store.start_attempt(second, 0)
    store.heartbeat(run, [first_task.task_pk, second.task_pk])
    client = await aiohttp_client(make_app(heartbeat_timeout=1.0))
    url = f"/api/flows/StaleSpanFlow/runs/{run.run_id}/timeline"
    live = (await get_json(client, url, width=400))["data"]
    assert live["lanes"][0]["bars"][0][1] is None and live["lanes"][0]["bars"][0][2] == "running"
    await asyncio.sleep(1.6)
    tasks = (await get_json(client, f"/api/flows/StaleSpanFlow/runs/{run.run_id}/tasks"))["data"]
    assert {t["status"] for t in tasks} == {"failed"}
    assert {t["finished_at"] for t in tasks} == {None}   # as Metaflow's client: no finish recorded
    last_sign = max(t["heartbeat_at"] for t in tasks)
    first = (await get_json(client, url, width=400))["data"]
    ends = {lane["task"]["task_id"]: lane["bars"][0][1] for lane in first["lanes"]}
    assert ends == {t["task_id"]: t["heartbeat_at"] for t in tasks}
    assert {lane["bars"][0][2] for lane in first["lanes"]} == {"failed"}
    assert first["end"] == last_sign
    await asyncio.sleep(1.1)
    later = (await get_json(client, url, width=400))["data"]
    assert later["end"] == last_sign
    assert {lane["task"]["task_id"]: lane["bars"][0][1] for lane in later["lanes"]} == ends
    # The aggregated path (both tasks in one lane of buckets) ends there too.
    agg = (await get_json(client, url, width=400, rows=1))["data"]
    assert agg["tasks_per_lane"] == 2 and agg["end"] == last_sign
    assert max(s[1] for s in agg["lanes"][0]["segments"]) <= last_sign


async def test_stale_task_ran_until_its_last_heartbeat(aiohttp_client: Any, make_app: Any, pg_dsn: str) -> None:
    """The task page's "queued / running" of a task killed without a word: its running time ends at
    its last heartbeat (finished_at stays null, as Metaflow's client reports), and a later read
    gives the same figure instead of counting on to "now"."""
    store = new_store(pg_dsn)
    run, task = running_task(store, "StaleTimingFlow")
    client = await aiohttp_client(make_app(heartbeat_timeout=1.0))
    url = f"/api/flows/StaleTimingFlow/runs/{run.run_id}/steps/start/tasks/{task.task_id}"
    running = (await get_json(client, url + "/status"))["data"]
    assert running["status"] == "running" and running["timing"]["running_ms"] is None   # the UI counts to now
    await asyncio.sleep(1.6)
    row = (await get_json(client, url))["data"]
    assert row["status"] == "failed" and row["finished_at"] is None
    lost = (await get_json(client, url + "/status"))["data"]
    assert lost["rule"] == "heartbeat_lost"
    assert lost["timing"]["finished_at"] is None
    assert lost["timing"]["running_ms"] == row["heartbeat_at"] - row["started_at"]
    await asyncio.sleep(1.1)
    again = (await get_json(client, url + "/status"))["data"]
    assert again["timing"]["running_ms"] == lost["timing"]["running_ms"]


async def test_stale_task_on_the_critical_path_stops_at_its_last_heartbeat(aiohttp_client: Any, make_app: Any,
                                                                           pg_dsn: str) -> None:
    """Triage's "where the time went" of a run killed without a word: the killed task ran, and the
    run lasted, until the last heartbeat, not until each later read (it said 18 minutes for a
    run killed after 80 s, and counted on)."""
    store = new_store(pg_dsn)
    run, task = running_task(store, "StalePathFlow")
    client = await aiohttp_client(make_app(heartbeat_timeout=1.0))
    await asyncio.sleep(1.6)
    row = (await get_json(client, f"/api/flows/StalePathFlow/runs/{run.run_id}/steps/start/tasks/{task.task_id}"))["data"]
    run_row = (await get_json(client, f"/api/flows/StalePathFlow/runs/{run.run_id}"))["data"]
    assert row["status"] == "failed" and run_row["status"] == "failed" and run_row["finished_at"] is None
    url = f"/api/flows/StalePathFlow/runs/{run.run_id}/critical-path"
    first = (await get_json(client, url))["data"]
    (on_path,) = first["tasks"]
    assert on_path["duration_ms"] == row["heartbeat_at"] - row["started_at"]
    assert first["wall_ms"] == run_row["heartbeat_at"] - run_row["started_at"]
    await asyncio.sleep(1.1)
    later = (await get_json(client, url))["data"]
    assert later["tasks"][0]["duration_ms"] == on_path["duration_ms"] and later["wall_ms"] == first["wall_ms"]


def test_lost_heartbeat_words_name_the_timeout() -> None:
    from contract.liveness import lost_reason
    at = 1796479392000      # 2026-12-05 14:03:12 UTC
    assert lost_reason(at, 60.0) == "heartbeat lost at 2026-12-05 14:03:12 UTC (no signal for over 60 s)"
    assert lost_reason(at, 1.5) == "heartbeat lost at 2026-12-05 14:03:12 UTC (no signal for over 1.5 s)"
    assert lost_reason(at, 300.0) == "heartbeat lost at 2026-12-05 14:03:12 UTC (no signal for over 5 min)"
    assert lost_reason(at, 150.0) == "heartbeat lost at 2026-12-05 14:03:12 UTC (no signal for over 150 s)"
