"""Same-origin defences over real HTTP: the Host allow-list (DNS rebinding), the websocket's
Origin check, the ingest service refusing what a web page can send, and the pages' CSP."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import WSServerHandshakeError

from backend.ingest.app import create_ingest_app
from backend.same_origin import default_hosts, hostname
from contract.settings import Settings

REBOUND = {"Host": "attacker.example:8083"}


@pytest.mark.parametrize("host", ["127.0.0.1:8083", "localhost", "LOCALHOST.:8083", "[::1]:8083", "10.1.2.3",
                                  "app.localhost:5173", "flowscope.internal", ""])
async def test_hosts_that_are_answered(aiohttp_client: Any, make_secure_app: Any, host: str) -> None:
    client = await aiohttp_client(make_secure_app(allowed_hosts="flowscope.internal"))
    resp = await client.get("/api/flows", headers={"Host": host} if host else {"Host": ""})
    assert resp.status == 200, await resp.text()


@pytest.mark.parametrize("path", ["/api/flows", "/", "/SomeFlow/1", "/api/-/version", "/-/plugins/sdk/flowscope-plugin.js"])
async def test_a_rebinding_host_gets_421_everywhere(aiohttp_client: Any, make_secure_app: Any, path: str) -> None:
    client = await aiohttp_client(make_secure_app())
    resp = await client.get(path, headers=REBOUND)
    assert resp.status == 421
    body = await resp.json()
    assert "FLOWSCOPE_ALLOWED_HOSTS" in body["error"]["message"] and "attacker.example" in body["error"]["message"]


async def test_a_rebinding_host_gets_no_login_page_either(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(auth_token="t0ken"))
    resp = await client.get("/", headers={**REBOUND, "Accept": "text/html"})
    assert resp.status == 421


async def test_any_host_when_configured(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(allowed_hosts="*"))
    assert (await client.get("/api/flows", headers=REBOUND)).status == 200


async def test_websocket_checks_host_and_origin(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(allowed_origins="http://localhost:5173"))
    own = f"http://127.0.0.1:{client.port}"
    for headers in ({}, {"Origin": own}, {"Origin": "http://localhost:5173"}):
        ws = await client.ws_connect("/api/ws", headers=headers)
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=10))["type"] == "pong"
        await ws.close()
    for headers, status in (({"Origin": "https://evil.example"}, 403), ({"Origin": "null"}, 403),
                            ({"Origin": f"http://127.0.0.1:{client.port + 1}"}, 403),   # another port
                            ({**REBOUND, "Origin": "http://attacker.example:8083"}, 421)):
        with pytest.raises(WSServerHandshakeError) as err:
            await client.ws_connect("/api/ws", headers=headers)
        assert err.value.status == status, headers


async def test_a_trusted_proxy_forwards_the_host(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(trusted_proxies="127.0.0.1/32", allowed_hosts="flowscope.example.com"))
    headers = {"X-Forwarded-Host": "flowscope.example.com", "Origin": "https://flowscope.example.com"}
    ws = await client.ws_connect("/api/ws", headers=headers)
    await ws.close()
    assert (await client.get("/api/flows", headers={"X-Forwarded-Host": "attacker.example"})).status == 421


@pytest.fixture()
async def ingest_client(aiohttp_client: Any, settings: Settings) -> Any:
    return await aiohttp_client(create_ingest_app(settings))


def _flows(db: Any, name: str) -> int:
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM flows WHERE flow_id = %s", (name,))
        return int(cur.fetchone()[0])


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("headers,status", [
    ({**FORM, "Origin": "https://evil.example"}, 403),                 # an HTML form on another site
    ({"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"}, 403),   # fetch no-cors
    ({"Origin": "https://evil.example"}, 403),                         # fetch of a Blob: no Content-Type
    ({"Origin": "null"}, 403),                                         # a sandboxed frame, a file:// page
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Content-Type": "text/plain"}, 415),                             # whatever sent it
    (FORM, 415),
    ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
    ({"Content-Type": "application/json", "Host": "attacker.example:8084"}, 421),   # DNS rebinding
])
async def test_ingest_refuses_what_a_web_page_can_send(ingest_client: Any, db: Any, headers: dict[str, str],
                                                       status: int) -> None:
    resp = await ingest_client.post("/flows/CsrfFlow", data=b'{"flow_id": "CsrfFlow"}', headers=headers)
    assert resp.status == status, await resp.text()
    assert "message" in await resp.json()
    assert _flows(db, "CsrfFlow") == 0


async def test_ingest_accepts_what_the_metaflow_client_sends(ingest_client: Any, db: Any) -> None:
    # requests' json=: application/json; its heartbeats: a bare "{}" with no Content-Type.
    ok = await ingest_client.post("/flows/MfFlow", json={"flow_id": "MfFlow"},
                                  headers={"User-Agent": "python-requests/2.32.3"})
    assert ok.status == 200 and _flows(db, "MfFlow") == 1
    run = await (await ingest_client.post("/flows/MfFlow/run", json={"user_name": "tester", "tags": [],
                                                                     "system_tags": []})).json()
    bare = await ingest_client.post(f"/flows/MfFlow/runs/{run['run_number']}/heartbeat", data=b"{}",
                                    skip_auto_headers=["Content-Type"])
    assert bare.status == 200, await bare.text()


def test_host_names() -> None:
    assert hostname("[::1]:8083") == "::1" and hostname("Example.COM.:80") == "example.com"
    assert default_hosts(["127.0.0.1"]) == frozenset() and default_hosts(["flowscope.internal"]) == {"flowscope.internal"}
    assert default_hosts(["0.0.0.0"])   # the machine's own names
