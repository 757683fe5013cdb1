"""/api/-/plugins and the plugin file server: errors listed, files sandboxed, no path out of a folder."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.plugins.plugin_helpers import panel_manifest, write_plugin


async def raw_get(client: Any, path: str) -> tuple[int, str]:
    """A GET whose path goes to the server exactly as written (clients normalize '..' away)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    # The server's own Host: any other name is refused with 421 before the path is looked at.
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {client.host}:{client.port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = (await reader.read()).decode("utf-8", "replace")
    writer.close()
    await writer.wait_closed()
    return int(raw.split(" ", 2)[1]), raw


async def test_list_reports_bad_plugins_with_their_error(aiohttp_client: Any, tmp_path: Path,
                                                        make_plugin_app: Callable[..., web.Application]) -> None:
    root = tmp_path / "plugins"
    write_plugin(root, "good", panel_manifest("good"))
    write_plugin(root, "bad", panel_manifest("bad", height=-5))
    client = await aiohttp_client(make_plugin_app(plugin_dirs=str(root)))
    resp = await client.get("/api/-/plugins")
    assert resp.status == 200
    body = await resp.json()
    by_id = {p["id"]: p for p in body["data"]}
    assert body["allow_same_origin"] is False
    assert by_id["good"]["entry_url"] == "/-/plugins/good/index.html" and by_id["good"]["error"] is None
    assert by_id["bad"]["error"] == "height: -5 is less than the minimum of 20"
    assert "manifest" not in by_id["bad"]
    assert by_id["step-durations"]["source"] == "builtin"


async def test_files_are_served_sandboxed(aiohttp_client: Any, tmp_path: Path,
                                          make_plugin_app: Callable[..., web.Application]) -> None:
    root = tmp_path / "plugins"
    write_plugin(root, "good", panel_manifest("good"), {"index.html": "<p>hi</p>", "js/app.js": "1;"})
    client = await aiohttp_client(make_plugin_app(plugin_dirs=str(root)))
    resp = await client.get("/-/plugins/good/index.html")
    assert resp.status == 200 and await resp.text() == "<p>hi</p>"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    csp = resp.headers["Content-Security-Policy"]
    assert "sandbox allow-scripts" in csp and "allow-same-origin" not in csp and "connect-src 'none'" in csp
    js = await client.get("/-/plugins/good/js/app.js")
    assert js.status == 200 and "javascript" in js.headers["Content-Type"]
    sdk = await client.get("/-/plugins/sdk/flowscope-plugin.js")
    assert sdk.status == 200 and "window.flowscope" in await sdk.text()

    allowed = await aiohttp_client(make_plugin_app(plugin_dirs=str(root), plugins_allow_same_origin=True))
    resp = await allowed.get("/-/plugins/good/index.html")
    assert resp.headers["Content-Security-Policy"].endswith("sandbox allow-scripts allow-same-origin")


async def test_traversal_and_unusable_plugins_get_404(aiohttp_client: Any, tmp_path: Path,
                                                     make_plugin_app: Callable[..., web.Application]) -> None:
    root = tmp_path / "plugins"
    folder = write_plugin(root, "good", panel_manifest("good"))
    write_plugin(root, "off", panel_manifest("off"))
    write_plugin(root, "bad", panel_manifest("bad", slots=["x"]))
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", folder / "link.txt")
    os.symlink(tmp_path, folder / "up")
    # A built UI, so a path normalized out of /-/plugins/ meets the static server's own 404s.
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<html>APP</html>")
    client = await aiohttp_client(make_plugin_app(plugin_dirs=str(root), plugins_disabled="off",
                                                  static_dir=str(static)))
    attempts = [
        "/-/plugins/good/../../secret.txt",
        "/-/plugins/good/%2e%2e/%2e%2e/secret.txt",
        "/-/plugins/good/..%2f..%2fsecret.txt",
        "/-/plugins/good/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/-/plugins/good//etc/passwd",
        "/-/plugins/good/link.txt",
        "/-/plugins/good/up/secret.txt",
        "/-/plugins/good/nope.js",
        "/-/plugins/good/manifest.json",
        "/-/plugins/good/" + "x" * 5000,
        "/-/plugins/good/" + "a/" * 3000 + "b",
        "/-/plugins/sdk/../good/index.html/../../../secret.txt",
        "/-/plugins/off/index.html",
        "/-/plugins/bad/index.html",
        "/-/plugins/unknown/index.html",
        "/-/plugins/step-durations/../../backend/app.py",
        "/-/plugins/step-durations/%2e%2e/%2e%2e/backend/app.py",
    ]
    for path in attempts:
        status, text = await raw_get(client, path)
        assert "top secret" not in text and "create_app" not in text, path
        assert status == 404, (path, status, text[:300])
