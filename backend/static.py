"""The built UI at /: files from the static dir, deep links fall back to index.html."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from backend.errors import not_found
from backend.keys import SETTINGS
from backend.security_headers import style_hash, ui_policy

DEFAULT_STATIC = Path(__file__).with_name("static")
# A missing file with one of these suffixes is a 404, not the app (a stale asset link).
ASSET_SUFFIXES = frozenset({"js", "css", "map", "png", "svg", "ico", "woff", "woff2", "json", "txt", "jpg"})

NOT_BUILT_CSS = "body { font-family: sans-serif; max-width: 40em; margin: 3em auto }"
NOT_BUILT = f"""<!doctype html><html><head><meta charset="utf-8"><title>Flowscope</title>
<style>{NOT_BUILT_CSS}</style></head>
<body>
<h1>Flowscope</h1>
<p>The API is running, but the web UI has not been built yet.</p>
<p>Build it with <code>make frontend</code> (or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>),
which writes <code>backend/static/</code>, then reload this page.</p>
<p>Meanwhile: <a href="/api/runs">/api/runs</a> · <a href="/api/-/status">/api/-/status</a> ·
<a href="/api/openapi.json">/api/openapi.json</a></p></body></html>"""


def static_dir(request: web.Request) -> Path:
    configured = request.app[SETTINGS].static_dir
    return Path(configured).resolve() if configured else DEFAULT_STATIC.resolve()


async def serve_ui(request: web.Request) -> web.StreamResponse:
    tail = request.match_info.get("tail", "")
    if request.path.startswith("/api/") or request.path == "/api":
        raise not_found(f"no such API resource: {request.path} (see /api/openapi.json)")
    root = static_dir(request)
    index = root / "index.html"
    if not index.is_file():
        policy = ui_policy(request.app[SETTINGS].frame_ancestors, (style_hash(NOT_BUILT_CSS),))
        return web.Response(text=NOT_BUILT, content_type="text/html", status=200,
                            headers={"Content-Security-Policy": policy})
    if tail:
        candidate = (root / tail).resolve()
        # Never serve anything outside the static dir (../../etc/passwd, symlinks out).
        if candidate.is_relative_to(root) and candidate.is_file():
            immutable = "/assets/" in f"/{tail}"
            headers = {"Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"}
            return web.FileResponse(candidate, headers=headers)
        if tail.rsplit(".", 1)[-1].lower() in ASSET_SUFFIXES:
            raise not_found(f"no such file: /{tail}")
    # A deep link (/TrainFlow/12/train/345): the app routes it client-side.
    return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
