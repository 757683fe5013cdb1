"""Every route refuses writes (405), and no path trick reaches a file it should not (404)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from backend.app import all_routes
from tests.backend.live_helpers import new_run, new_store
from tests.security.rawhttp import raw_get

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SAMPLE = {"flow": "F", "run": "1", "step": "start", "task": "1", "name": "x", "card_id": "c",
          "stream": "stdout", "kind": "flows", "id": "p", "path": "index.html"}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: SAMPLE[m.group(1)], path)


@pytest.fixture()
async def server(aiohttp_client: Any, make_secure_app: Any) -> Any:
    return await aiohttp_client(make_secure_app())


async def test_every_route_refuses_every_write_method(server: Any) -> None:
    paths = [_concrete(r.path) for r in all_routes()] + ["/", "/index.html", "/some/deep/link"]
    assert len(paths) > 25
    for path in paths:
        for method in WRITE_METHODS:
            resp = await server.request(method, path, data=b"{}")
            assert resp.status == 405, (method, path, resp.status)
            assert (await resp.json())["error"]["status"] == 405


@pytest.fixture()
def task_ref(pg_dsn: str) -> tuple[str, str, str]:
    store = new_store(pg_dsn)
    run = new_run(store, "TraversalFlow")
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    return "TraversalFlow", run.run_id, task.task_id


TRICKS = ["..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fsecret.txt", "..%5c..%5csecret.txt",
          "....//....//secret.txt", "%252e%252e%252fsecret.txt"]
NUL = "..%00.txt"   # refused by backend/auth.py's guard (Postgres and open() cannot take it)


async def test_path_traversal_is_404(server: Any, task_ref: tuple[str, str, str]) -> None:
    host, port = server.host, server.port
    flow, run, task = task_ref
    base = f"/api/flows/{flow}/runs/{run}/steps/start/tasks/{task}"
    targets = []
    for trick in TRICKS:
        targets += [f"/{trick}", f"/assets/{trick}", f"{base}/artifacts/{trick}",
                    f"{base}/artifacts/{trick}/download", f"{base}/cards/{trick}",
                    f"{base}/logs/stdout/{trick}", f"/-/plugins/{trick}/x.js",
                    f"/api/flows/{trick}/runs/{run}"]
    targets += [f"{base}/artifacts/{NUL}", f"{base}/cards/{NUL}", f"/-/plugins/{NUL}/x.js", f"/{NUL}",
                f"/assets/{NUL}", f"/api/flows/{NUL}"]
    targets += ["/../secret.txt", "/assets/../../secret.txt", "/../../../../etc/passwd",
                f"{base}/artifacts/../../../../secret.txt"]
    plugins = (await (await server.get("/api/-/plugins")).json())
    listed = plugins.get("data", plugins.get("items", plugins)) if isinstance(plugins, dict) else plugins
    ids = [p["id"] for p in listed]
    assert ids, plugins
    for pid in ids[:2]:
        targets += [f"/-/plugins/{pid}/..%2f..%2fbackend%2fapp.py", f"/-/plugins/{pid}/../../backend/app.py",
                    f"/-/plugins/{pid}/%2e%2e/%2e%2e/pyproject.toml"]
    for target in targets:
        status, body = await raw_get(host, port, target)
        assert b"do not serve me" not in body and b"root:" not in body and b"create_app" not in body, target
        last = unquote(unquote(target)).replace("\\", "/").rsplit("/", 1)[-1]
        if target.startswith(("/api/", "/-/plugins/")) or "." in last.strip("."):
            assert status == 404, (target, status, body[:200])
        else:   # an extension-less deep link is the UI's index page (routed client-side)
            assert status in (200, 404), (target, status)
            assert status == 404 or b'<div id=root>' in body, target


async def test_nul_in_query_is_a_clear_400(server: Any) -> None:
    status, body = await raw_get(server.host, server.port, "/api/runs?status=%00")
    assert status == 400 and b"NUL" in body
