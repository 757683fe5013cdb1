"""Every JSON answer of the API matches the schema its route declares in /api/openapi.json.

Real runs (linear, foreach, failing, retry+catch, a card report) are walked through every GET
route with real path values — runs, steps, tasks, attempts, artifacts, cards, logs, the DAG, the
timeline at both levels of detail, compare, search, the triage resources (failure digest, status
explanations, critical path, durations, log diff, summary) — and each body is validated against the
document's own schema (jsonschema, Draft 2020-12, with $refs resolved in the document). Live
events are validated against the schema that LiveFeeds names for their feed.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient
from live_helpers import drain

from backend.app import all_routes

pytestmark = pytest.mark.asyncio


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    resolver_doc = {**schema, "components": doc["components"]}
    cls = jsonschema.validators.validator_for(resolver_doc, default=jsonschema.Draft202012Validator)
    return cls(resolver_doc)


def _check(doc: dict[str, Any], path: str, body: Any) -> None:
    op = doc["paths"][path]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    errors = sorted(_validator(doc, schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{path}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])


async def _get(api: TestClient[Any, Any], url: str) -> Any:
    resp = await api.get(url)
    assert resp.status == 200, (url, resp.status, await resp.text())
    return await resp.json()


async def test_every_route_declares_a_stable_operation_and_a_schema(api: TestClient[Any, Any]) -> None:
    doc = await _get(api, "/api/openapi.json")
    again = await _get(api, "/api/openapi.json")
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == len(all_routes())
    assert ids == [op["operationId"] for item in again["paths"].values() for op in item.values()]
    for path, item in doc["paths"].items():
        ok = item["get"]["responses"].get("200")
        if ok is None:
            continue   # the websocket (101)
        for media, content in ok["content"].items():
            if media == "application/json" and path != "/api/openapi.json":
                assert "$ref" in json.dumps(content["schema"]), f"{path} has no response schema"


async def test_real_answers_match_their_schemas(api: TestClient[Any, Any], recorded: dict[str, str]) -> None:
    doc = await _get(api, "/api/openapi.json")
    checked: set[str] = set()

    async def check(template: str, url: str) -> Any:
        body = await _get(api, url)
        _check(doc, template, body)
        checked.add(template)
        return body

    R = "/api/flows/{flow}/runs/{run}"
    T = R + "/steps/{step}/tasks/{task}"
    await check("/api/flows", "/api/flows")
    await check("/api/runs", "/api/runs?limit=5")
    await check("/api/runs", "/api/runs?group_by=flow")
    await check("/api/-/status", "/api/-/status")
    await check("/api/-/settings", "/api/-/settings")
    await check("/api/-/version", "/api/-/version")
    await check("/api/-/plugins", "/api/-/plugins")
    await check("/api/autocomplete/{kind}", "/api/autocomplete/flows?q=")
    for flow, run in recorded.items():
        base = f"/api/flows/{flow}/runs/{run}"
        await check("/api/flows/{flow}", f"/api/flows/{flow}")
        await check("/api/flows/{flow}/runs", f"/api/flows/{flow}/runs")
        await check(R, base + "?source=true")
        await check(R, base + "?include=dag,steps,tasks")
        await check(R + "/dag", base + "/dag")
        steps = (await check(R + "/steps", base + "/steps"))["data"]
        await check(R + "/steps/{step}", f"{base}/steps/{steps[0]['step_name']}")
        await check(R + "/timeline", base + "/timeline")
        await check(R + "/timeline", base + "/timeline?rows=1&width=50")
        for triage in ("/failures", "/status", "/critical-path", "/durations", "/summary"):
            await check(R + triage, base + triage)
        tasks = (await check(R + "/tasks", base + "/tasks"))["data"]
        await check(R + "/steps/{step}/tasks", f"{base}/steps/{steps[0]['step_name']}/tasks")
        for task in tasks:
            t = f"{base}/steps/{task['step_name']}/tasks/{task['task_id']}"
            await check(T, t)
            await check(T + "/attempts", t + "/attempts")
            await check(T + "/metadata", t + "/metadata")
            await check(T + "/logs/{stream}", t + "/logs/stdout")
            await check(T + "/logs/{stream}", t + "/logs/stderr?tail=5")
            for artifact in (await check(T + "/artifacts", t + "/artifacts"))["data"][:3]:
                await check(T + "/artifacts/{name}", f"{t}/artifacts/{artifact['name']}")
            for card in (await check(T + "/cards", t + "/cards"))["data"]:
                await check(T + "/cards/{card_id}/data", f"{t}/cards/{card['card_id']}/data")
            await check(T + "/status", t + "/status")
    await check("/api/compare", f"/api/compare?a=LinearFlow/{recorded['LinearFlow']}"
                                f"&b=FailingFlow/{recorded['FailingFlow']}")
    await check("/api/compare/logs", f"/api/compare/logs?a=LinearFlow/{recorded['LinearFlow']}"
                                     f"&b=FailingFlow/{recorded['FailingFlow']}")
    json_routes = {path for path, item in doc["paths"].items()
                   if "application/json" in item["get"]["responses"].get("200", {}).get("content", {})}
    assert json_routes - checked == {"/api/openapi.json"}


async def test_search_lines_match_their_schema(api: TestClient[Any, Any], recorded: dict[str, str]) -> None:
    doc = await _get(api, "/api/openapi.json")
    path = "/api/flows/{flow}/runs/{run}/search"
    line_schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/x-ndjson"]["x-line-schema"]
    resp = await api.get(f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}/search?q=a")
    lines = [json.loads(x) for x in (await resp.text()).splitlines()]
    assert lines and lines[-1]["type"] == "done"
    validator = _validator(doc, line_schema)
    for line in lines:
        validator.validate(line)


async def test_live_events_match_their_feed_schema(api: TestClient[Any, Any], recorded: dict[str, str]) -> None:
    doc = await _get(api, "/api/openapi.json")
    feeds = doc["components"]["schemas"]["LiveFeeds"]["properties"]
    run = f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}"
    task = (await _get(api, run + "/tasks?limit=1"))["data"][0]
    t = f"{run}/steps/{task['step_name']}/tasks/{task['task_id']}"
    ws = await api.ws_connect("/api/ws")
    for sub_id, resource in enumerate(["/api/flows", "/api/runs", run, run + "/dag", run + "/tasks",
                                       t + "/artifacts", t + "/cards", t + "/logs/stdout"]):
        await ws.send_json({"type": "subscribe", "id": sub_id, "resource": resource, "since": 0})
    messages = await drain(ws, quiet=2.0)
    errors = [m for m in messages if m["type"] == "error"]
    assert not errors, errors
    seen: set[str] = set()
    for msg in messages:
        if msg["type"] in ("insert", "update"):
            path = next(p for p, item in doc["paths"].items() if item["get"].get("x-live-feed") and
                        _matches(p, msg["resource"].split("?")[0]))
            feed = doc["paths"][path]["get"]["x-live-feed"]
            _validator(doc, feeds[feed]).validate(msg["data"])
            seen.add(feed)
    assert {"flows", "runs", "run", "steps", "tasks", "artifacts"} <= seen, seen
    await ws.close()


def _matches(template: str, path: str) -> bool:
    import re

    return re.fullmatch(re.sub(r"{\w+}", "[^/]+", template), path) is not None


async def test_status_with_mirrors_matches_its_schema(api: TestClient[Any, Any], pg_dsn: str) -> None:
    """The mirrors part of /api/-/status is typed (MirrorState): a mirror that published its full
    state, and one whose row holds only a checkpoint (detail '{}'), both answer every field."""
    import psycopg2

    from backend.mirror.status import MirrorStatus, now_ms

    full = MirrorStatus(name="a-source", source="postgresql://reader@db/metaflow", phase="live",
                        schema_version=30, listening=True, triggers=["notify_ui_runs"], caught_up_at=now_ms())
    full.datastore_unreadable["s3://bucket/prefix"] = 2
    full.last_skipped.append("artifact_v3 row 7: no task")
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO mirror_state (source, phase, detail, updated_at) VALUES (%s, %s, %s, %s), "
                        "(%s, %s, DEFAULT, %s)",
                        ("test-mirror-full", "live", json.dumps(full.detail()), now_ms(),
                         "test-mirror-checkpoint-only", "backfilling", now_ms()))
        doc = await _get(api, "/api/openapi.json")
        body = await _get(api, "/api/-/status")
        _check(doc, "/api/-/status", body)
        mirrors = {m["name"]: m for m in body["data"]["mirrors"]}
        assert mirrors["test-mirror-full"]["state"] == "live"
        assert mirrors["test-mirror-full"]["datastore_unreadable"] == {"s3://bucket/prefix": 2}
        bare = mirrors["test-mirror-checkpoint-only"]
        assert bare["label"].startswith("backfilling ") and bare["backfill"]["runs_total"] == 0 and bare["triggers"] == []
        # A mirror state the schema does not allow fails the check (it is not an open object).
        with pytest.raises(AssertionError, match="mirrors/0"):
            _check(doc, "/api/-/status", {**body, "data": {**body["data"], "mirrors": [{**bare, "lag_ms": "soon"}]}})
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM mirror_state WHERE source LIKE 'test-mirror-%%'")
        conn.close()
