"""FLOWSCOPE_AUTH_TOKEN and FLOWSCOPE_TRUSTED_USER_HEADER (backend/auth.py), over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import WSServerHandshakeError

from backend.auth import COOKIE, session_value

TOKEN = "s3cret-token-value"


async def test_no_auth_configured_is_open(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app())
    assert (await client.get("/api/flows")).status == 200


async def test_bearer_token(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(auth_token=TOKEN))
    denied = await client.get("/api/flows")
    assert denied.status == 401 and "Bearer" in denied.headers["WWW-Authenticate"]
    assert (await denied.json())["error"]["status"] == 401
    wrong = await client.get("/api/flows", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    ok = await client.get("/api/flows", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status == 200
    # The container health check needs no token; settings never show it.
    assert (await client.get("/api/-/version")).status == 200
    shown = await (await client.get("/api/-/settings", headers={"Authorization": f"Bearer {TOKEN}"})).text()
    assert TOKEN not in shown


async def test_browser_login_sets_a_cookie_and_drops_the_token_from_the_url(
        aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(auth_token=TOKEN))
    page = await client.get("/runs", headers={"Accept": "text/html"})
    assert page.status == 401 and 'name="token"' in await page.text()
    bad = await client.get("/runs?token=wrong", headers={"Accept": "text/html"}, allow_redirects=False)
    assert bad.status == 401 and "not right" in await bad.text()
    login = await client.get(f"/runs?flow=A&token={TOKEN}", allow_redirects=False)
    assert login.status == 303 and login.headers["Location"] == "/runs?flow=A"
    cookie = login.cookies[COOKIE]
    assert cookie.value == session_value(TOKEN) and TOKEN not in cookie.value
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    # The cookie jar now carries the session: API and websocket work.
    assert (await client.get("/api/flows")).status == 200
    ws = await client.ws_connect("/api/ws")
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json())["type"] == "pong"
    await ws.close()


async def test_websocket_needs_auth(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(auth_token=TOKEN))
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/api/ws")
    assert refused.value.status == 401
    ws = await client.ws_connect("/api/ws", headers={"Authorization": f"Bearer {TOKEN}"})
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json())["type"] == "pong"
    await ws.close()


async def test_trusted_user_header(aiohttp_client: Any, make_secure_app: Any) -> None:
    client = await aiohttp_client(make_secure_app(trusted_user_header="X-Forwarded-User"))
    assert (await client.get("/api/flows")).status == 401
    assert (await client.get("/api/flows", headers={"X-Forwarded-User": "ada@example.com"})).status == 200


async def test_trusted_header_only_from_listed_proxies(aiohttp_client: Any, make_secure_app: Any) -> None:
    elsewhere = await aiohttp_client(make_secure_app(trusted_user_header="X-Forwarded-User",
                                                     trusted_proxies="10.9.8.0/24"))
    forged = await elsewhere.get("/api/flows", headers={"X-Forwarded-User": "mallory"})
    assert forged.status == 403 and "proxies" in (await forged.json())["error"]["message"]
    local = await aiohttp_client(make_secure_app(trusted_user_header="X-Forwarded-User",
                                                 trusted_proxies="127.0.0.1, ::1"))
    assert (await local.get("/api/flows", headers={"X-Forwarded-User": "ada"})).status == 200


async def test_plugin_files_load_in_sandboxed_frames_without_the_cookie(aiohttp_client: Any,
                                                                       make_secure_app: Any) -> None:
    # Sandboxed panel iframes have an opaque origin: the browser sends them no session cookie.
    client = await aiohttp_client(make_secure_app(auth_token=TOKEN))
    panel = await client.get("/-/plugins/step-durations/index.html")
    assert panel.status == 200 and "<script" in await panel.text()
    assert (await client.get("/-/plugins/step-durations/manifest.json")).status == 404
    # ... but the plugin list (run data's neighbours) and every API route still need the token
    assert (await client.get("/api/-/plugins")).status == 401
    assert (await client.get("/api/runs")).status == 401
