"""Service-level behaviour: errors, methods, meta routes, OpenAPI coverage, the UI, search, autocomplete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from backend.app import all_routes
from tests.backend.api_helpers import get_json


async def test_methods_and_unknown_routes(api: Any) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        resp = await api.request(method, "/api/runs")
        body = await resp.json()
        assert resp.status == 405 and body["error"]["status"] == 405 and "read-only" in body["error"]["message"]
        assert resp.headers["Allow"] == "GET, HEAD"
    resp = await api.request("POST", "/api/nowhere")
    assert resp.status == 405
    body = await get_json(api, "/api/nowhere", 404)
    assert "/api/nowhere" in body["error"]["message"]
    head = await api.head("/api/runs")
    assert head.status == 200


async def test_meta_routes(api: Any) -> None:
    status = (await get_json(api, "/api/-/status"))["data"]
    assert status["pool"]["max"] >= 1 and status["listener"]["channel"] == "flowscope_changes"
    assert {"dag", "datastore_memory", "artifact_values", "responses", "run_rows", "log_chunks",
            "metaflow"} <= set(status["caches"])
    assert "hit_rate" in status["caches"]["dag"] and "max_bytes" in status["caches"]["log_chunks"]
    assert set(status["caches"]["metaflow"]) == {"logs", "blobs", "card_lists"}
    settings = (await get_json(api, "/api/-/settings"))["data"]
    assert "FLOWSCOPE_PORT" in settings and "FLOWSCOPE_HEARTBEAT_TIMEOUT" in settings
    dsn = settings["FLOWSCOPE_DSN"]
    assert dsn is None or "password=" not in dsn or "password=***" in dsn
    version = (await get_json(api, "/api/-/version"))["data"]
    assert version["version"]
    # What the UI derives its heartbeat re-ask threshold from (frontend/src/live/heartbeatRecheck.ts).
    assert version["heartbeat_timeout_s"] == settings["FLOWSCOPE_HEARTBEAT_TIMEOUT"]


async def test_openapi_covers_every_route(api: Any) -> None:
    doc = await (await api.get("/api/openapi.json")).json()
    documented = set(doc["paths"])
    registered = {re.sub(r"{(\w+):[^}]*}", r"{\1}", r.path) for r in all_routes()}
    assert documented == registered
    for path, item in doc["paths"].items():
        names = {p["name"] for p in item["get"]["parameters"] if p["in"] == "path"}
        assert names == set(re.findall(r"{(\w+)}", path)), path
    # and every registered API route of the running app is in the table
    app_paths = {r.resource.canonical for r in api.app.router.routes()
                 if r.resource is not None and r.resource.canonical.startswith("/api/")}
    assert app_paths <= registered


def _short(path: str) -> str:
    """The abbreviations docs/api.md's route table uses."""
    return path.replace("/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}", "…/tasks/{task}") \
        .replace("/api/flows/{flow}/runs/{run}/", "…/runs/{run}/")


def test_docs_list_every_route() -> None:
    """docs/api.md's route table has a row for every registered route, and no row for a route
    that does not exist (the first cell of each row, each `path` in it; not a substring search)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    section = text.split("\n## Routes\n", 1)[1].split("\n## ", 1)[0]
    documented = {path for row in re.findall(r"^\| (`[^|]+`) \|", section, re.MULTILINE)
                  for path in re.findall(r"`([^`]+)`", row)}
    registered = {_short(route.path) for route in all_routes()}
    assert registered - documented == set(), "routes missing from docs/api.md's route table"
    assert documented - registered == set(), "docs/api.md lists routes that do not exist"


async def test_ui_static_and_deep_links(aiohttp_client: Any, make_app: Any, tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<html>APP</html>")
    (static / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("nope")
    client = await aiohttp_client(make_app(static_dir=str(static)))
    assert "APP" in await (await client.get("/")).text()
    deep = await client.get("/TrainFlow/12/train/345")
    assert deep.status == 200 and "APP" in await deep.text()
    js = await client.get("/assets/app.js")
    assert js.status == 200 and "immutable" in js.headers["Cache-Control"]
    assert (await client.get("/assets/missing.js")).status == 404
    escape = await client.get("/../secret.txt")
    assert "nope" not in await escape.text()
    escape2 = await client.get("/assets/%2e%2e/%2e%2e/secret.txt")
    assert "nope" not in await escape2.text()


async def test_ui_not_built_page(api: Any) -> None:
    resp = await api.get("/")
    assert resp.status == 200 and "has not been built" in await resp.text()


async def _search(api: Any, url: str, **params: Any) -> list[dict[str, Any]]:
    resp = await api.get(url, params=params)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in (await resp.text()).splitlines()]


async def test_search(api: Any, recorded: dict[str, str]) -> None:
    url = f"/api/flows/ReportFlow/runs/{recorded['ReportFlow']}/search"
    lines = await _search(api, url, q="needle-7")
    matches = [m for m in lines if m["type"] == "match"]
    # needle-7, needle-70..79, needle-700.. (i % 500): lines whose text contains "needle-7"
    assert matches and all("needle-7" in m["text"] for m in matches)
    assert matches[0]["task"].startswith("ReportFlow/") and matches[0]["stream"] == "stdout"
    assert lines[-1]["type"] == "done" and lines[-1]["matches"] == len(matches)
    regex = await _search(api, url, q=r"needle-4\d\d$", regex="true")
    assert all(re.search(r"needle-4\d\d$", m["text"]) for m in regex if m["type"] == "match")
    assert len([m for m in regex if m["type"] == "match"]) == 500
    capped = await _search(api, url, q="line", limit=10)
    assert len([m for m in capped if m["type"] == "match"]) == 10 and capped[-1]["truncated"] is True
    stderr = await _search(api, url, q="to stderr", stream="stderr")
    assert stderr[0]["stream"] == "stderr"
    assert "regular expression" in (await get_json(api, url, 400, q="(", regex="true"))["error"]["message"]
    assert "'q'" in (await get_json(api, url, 400))["error"]["message"]


async def test_autocomplete(api: Any, recorded: dict[str, str]) -> None:
    assert (await get_json(api, "/api/autocomplete/flows", q="Lin"))["data"][0] == "LinearFlow"
    runs = (await get_json(api, "/api/autocomplete/runs", q=recorded["LinearFlow"], flow="LinearFlow"))["data"]
    assert f"LinearFlow/{recorded['LinearFlow']}" in runs
    assert "square" in (await get_json(api, "/api/autocomplete/steps", q="sq", flow="ForeachFlow"))["data"]
    assert "nightly" in (await get_json(api, "/api/autocomplete/tags", q="nig"))["data"]
    assert (await get_json(api, "/api/autocomplete/users", q="tes"))["data"] == ["tester"]
    await get_json(api, "/api/autocomplete/colors", 404)
