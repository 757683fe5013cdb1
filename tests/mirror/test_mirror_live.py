"""The live tail: a real metaflow run, written to the source while the mirror follows it.

With Metaflow UI's notify triggers (LISTEN wakes the mirror) and without them (polling only):
the run shows up while it runs, its heartbeat moves, a tag added from the Client arrives, and
when it ends every source row is in Flowscope exactly once.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from tests.ingest.mf_harness import client_read
from tests.mirror.conftest import live_mirror, wait_for
from tests.mirror.history import MIRROR_FLOWS
from tests.mirror.source_harness import SourceDb, SourceServer, V3Service, make_source, metaflow_env

pytestmark = pytest.mark.compat


def counts(dsn: str) -> dict[str, int]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            out = {}
            for t in ("runs", "tasks", "metadata", "artifacts"):
                cur.execute(f"SELECT count(*) FROM {t}")
                out[t] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def source_counts(src: SourceDb) -> dict[str, int]:
    pairs = (("runs", "runs_v3"), ("tasks", "tasks_v3"), ("metadata", "metadata_v3"), ("artifacts", "artifact_v3"))
    return {mine: src.rows(f"SELECT count(*) AS n FROM {theirs}")[0]["n"] for mine, theirs in pairs}


@pytest.mark.parametrize("triggers", [True, False], ids=["notify-triggers", "polling"])
async def test_live_run_heartbeats_tags_and_completion(triggers: bool, source_server: SourceServer,
                                                       make_settings: Any, api_for: Any, tmp_path: Path) -> None:
    source = make_source(source_server, triggers=triggers, label="live")
    service = V3Service(source, tmp_path / "service.log")
    settings = make_settings(source, mirror_poll_interval_listening=30.0 if triggers else 5.0)
    api = await api_for(settings)
    env = metaflow_env(service, tmp_path, {"SLOW_FLOW_SECONDS": "25"})
    proc = None
    try:
        async with live_mirror(settings) as mirror:
            await wait_for(lambda: mirror.status.phase == "live", 60, "the mirror to go live")
            assert mirror.status.listening is triggers
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(MIRROR_FLOWS / "slow_flow.py"), "--no-pylint", "run", "--run-id-file",
                str(tmp_path / "rid"), cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL)

            async def running_run() -> Any:
                body = await (await api.get("/api/flows/SlowFlow/runs")).json()
                rows = body.get("data") or []
                return rows[0] if rows and rows[0]["status"] == "running" else None

            run = await wait_for(running_run, 90, "the run, running")
            rid = run["run_id"]
            base = f"/api/flows/SlowFlow/runs/{rid}"

            async def waiting() -> Any:
                tasks = (await (await api.get(base + "/steps/wait/tasks")).json()).get("data") or []
                return tasks[0] if tasks and tasks[0]["status"] == "running" else None

            first = await wait_for(waiting, 90, "the wait task, running")
            # The service moves heartbeats at most every 10 s; the mirror reads them by key.
            beat0 = (await (await api.get(base)).json())["data"]["heartbeat_at"]

            async def moved() -> bool:
                data = (await (await api.get(base)).json())["data"]
                return bool(data["heartbeat_at"] > beat0)

            await wait_for(moved, 40, "the run's heartbeat to move")
            await asyncio.to_thread(client_read, f"Run('SlowFlow/{rid}').add_tag('watched')\nprint('[]')",
                                    env, tmp_path)

            async def tagged() -> bool:
                return "watched" in (await (await api.get(base)).json())["data"]["tags"]

            await wait_for(tagged, 30, "the tag added from the Client")
            # The run list by tag reads run_tags, which the mirror's tag update keeps in step.
            by_tag = (await (await api.get("/api/runs", params={"tag": "watched"})).json())["data"]
            assert [r["run_id"] for r in by_tag] == [rid]
            assert await asyncio.wait_for(proc.wait(), 120) == 0

            async def completed() -> bool:
                return bool((await (await api.get(base)).json())["data"]["status"] == "completed")

            await wait_for(completed, 60, "the run to complete")
            want = source_counts(source)
            await wait_for(lambda: counts(settings.dsn) == want, 30, f"every source row ({want})")
            assert first["attempts"][0]["status"] == "running"
            detail = (await (await api.get("/api/-/status")).json())["data"]["mirrors"][0]
            assert detail["state"] in ("live", "lagging") and detail["name"] == settings.mirror_name
            assert detail["listening"] is triggers
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        service.stop()
