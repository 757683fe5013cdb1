"""Tags changed on a long-finished run reach Flowscope through the tag sweep (backend/mirror/tag_sweep.py).

Neither a serial column nor the notify triggers reveal a tag mutation, and the liveness reads only
follow runs that are alive or finished within the hour; the sweep walks every source run by
primary key. Here the hour is shortened to nothing, so only the sweep can find the change.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg2
import pytest

from backend.mirror import tail as tail_module
from bench.mf_source.writer import Writer
from tests.mirror.conftest import live_mirror, wait_for
from tests.mirror.source_harness import SourceServer, admin, make_source


def flowscope_tags(dsn: str, flow: str) -> dict[str, list[str]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT run_id, tags FROM runs WHERE flow_id = %s", (flow,))
            return {r[0]: sorted(r[1] or []) for r in cur.fetchall()}
    finally:
        conn.close()


async def test_a_tag_added_to_an_old_run_arrives(source_server: SourceServer, make_settings: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tail_module, "RECENT_FINISH_MS", 0)     # every finished run counts as old
    source = make_source(source_server, triggers=False, label="sweep")
    writer = Writer(source.admin_dsn, source.names)
    numbers = [await asyncio.to_thread(writer.run, "SweptFlow", tags=["v1"]) for _ in range(5)]
    # Two runs per sweep step: the five runs take three steps, so the pass wraps around.
    settings = make_settings(source, mirror_poll_interval=0.2, mirror_liveness_interval=0.3,
                             mirror_tag_sweep_runs=2)
    async with live_mirror(settings) as mirror:
        await wait_for(lambda: mirror.status.phase == "live", 60, "the mirror to go live")
        await wait_for(lambda: len(flowscope_tags(settings.dsn, "SweptFlow")) == 5, 30, "the five runs")
        before = flowscope_tags(settings.dsn, "SweptFlow")
        assert all(tags == ["v1"] for tags in before.values()), before
        with admin(source.admin_dsn) as conn, conn.cursor() as cur:   # as the service's PATCH of tags does
            cur.execute("UPDATE runs_v3 SET tags = %s::jsonb WHERE flow_id = 'SweptFlow' AND run_number = %s",
                        (json.dumps(["v1", "late"]), numbers[1]))
        run_id = str(numbers[1])

        def arrived() -> bool:
            return flowscope_tags(settings.dsn, "SweptFlow").get(run_id) == ["late", "v1"]

        await wait_for(arrived, 30, "the tag added to the finished run")
        others = {k: v for k, v in flowscope_tags(settings.dsn, "SweptFlow").items() if k != run_id}
        assert all(tags == ["v1"] for tags in others.values()), others
