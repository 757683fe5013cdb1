"""Tags changed from the client (``run.replace_tag``) reach the UI's API and its live feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from flow_runs import run_flow

from contract.settings import Settings
from tests.backend.conftest import FIXTURE_FLOWS
from tests.backend.live_helpers import next_event


async def test_client_tag_change_is_live_in_the_api(api: TestClient[Any, Any], settings: Settings,
                                                    flowscope_env: dict[str, str], tmp_path: Path) -> None:
    from core_runtime import client

    run_id = run_flow(flowscope_env, FIXTURE_FLOWS / "linear_flow.py", tmp_path, tags=("draft",))
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "runs", "resource": "/api/flows/LinearFlow/runs"})
    await ws.send_json({"type": "ping"})
    assert (await next_event(ws, match=lambda m: m["type"] == "pong"))["type"] == "pong"
    client.configure(settings)
    try:
        run = client.Run(f"LinearFlow/{run_id}", _namespace_check=False)
        run.replace_tag("draft", "reviewed")
        run.add_tags(["published", "q4"])
        assert {"reviewed", "published", "q4"} <= run.user_tags and "draft" not in run.tags
    finally:
        client.configure(None)
    event = await next_event(ws, timeout=30, match=lambda m: m["data"].get("run_id") == run_id
                             and "q4" in m["data"]["tags"])
    assert event["type"] == "update"
    assert sorted(event["data"]["tags"]) == ["published", "q4", "reviewed"]
    resp = await api.get(f"/api/flows/LinearFlow/runs/{run_id}")
    body = (await resp.json())["data"]
    assert resp.status == 200 and sorted(body["tags"]) == ["published", "q4", "reviewed"]
    assert "user:tester" in body["system_tags"]
    # The run list by tag reads run_tags (kept by triggers on runs): it follows the change too.
    for tag, listed in (("reviewed", True), ("q4", True), ("draft", False)):
        page = (await (await api.get("/api/runs", params={"tag": tag, "flow": "LinearFlow"})).json())["data"]
        assert (run_id in [r["run_id"] for r in page]) is listed, tag
    await ws.close()
