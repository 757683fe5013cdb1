"""An idle live tail asks the source one cheap statement per poll (docs/metaflow.md, "Live").

After a run has been mirrored and the artifact rows its attempts announced have arrived (or
stopped arriving), the tail must go quiet: the probe (newest metadata id, task id and run time)
every poll, the full read of the tables at most every ``FULL_POLL_S``, and nothing else but the
heartbeat and tag reads (and one page of the tag sweep) every ``mirror_liveness_interval``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg2
import pytest

from backend.mirror import tail as tail_module
from backend.mirror.mirror import Mirror
from bench.mf_source.writer import Writer
from tests.mirror.conftest import wait_for
from tests.mirror.source_harness import SourceServer, make_source

WINDOW_S = 3.0


def flowscope_count(dsn: str, table: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


async def test_an_idle_tail_sends_one_probe_per_poll(source_server: SourceServer, make_settings: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Artifact sets whose size the (unreadable) datastore cannot tell are complete after 1 s of quiet.
    monkeypatch.setattr(tail_module, "ARTIFACT_QUIET_MS", 1000)
    source = make_source(source_server, triggers=False, label="idle")
    settings = make_settings(source, mirror_poll_interval=0.2, mirror_liveness_interval=1.0)
    mirror = Mirror(settings)
    sent: list[str] = []
    all_ = mirror.source.all     # Source.one goes through all

    async def counted_all(sql: str, args: tuple[Any, ...] = ()) -> Any:
        sent.append(sql)
        return await all_(sql, args)

    monkeypatch.setattr(mirror.source, "all", counted_all)
    stop = asyncio.Event()
    task = asyncio.create_task(mirror.run(stop))
    try:
        await wait_for(lambda: mirror.status.phase == "live", 60, "the mirror to go live")
        writer = Writer(source.admin_dsn, source.names)
        await asyncio.to_thread(writer.run, "IdleFlow")
        artifacts = writer.count("artifact")
        assert artifacts > 0
        await wait_for(lambda: flowscope_count(settings.dsn, "artifacts") == artifacts, 30,
                       f"the run's {artifacts} artifact rows")
        await wait_for(lambda: not mirror.ckpt.tail.pending_artifacts, 30,
                       "the tail to stop expecting artifact rows")
        sql = mirror.source.sql
        sent.clear()
        await asyncio.sleep(WINDOW_S)
        window = list(sent)
        probes = window.count(sql.probe)
        full_reads = window.count(sql.new_metadata)
        assert probes >= 2, window
        # A full read at most every FULL_POLL_S (10 s): at most one in a 3 s window (before the fix,
        # every 0.2 s poll read every table and the attempts' artifacts: ~15 of each).
        assert full_reads <= 1 and window.count(sql.new_tasks) <= 1 and window.count(sql.new_runs) <= 1, window
        assert window.count(sql.artifacts_of_attempts) == 0, window
        liveness = {sql.run_heartbeats, sql.task_heartbeats, sql.tasks_by_name, sql.runs_after}
        others = [s for s in window if s not in liveness and s not in (sql.probe, sql.new_metadata, sql.new_tasks,
                                                                        sql.new_runs)]
        assert others == [], others
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
