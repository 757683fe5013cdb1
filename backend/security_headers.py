"""Headers every UI response carries: the Content-Security-Policy of HTML pages, and friends.

The UI is built by Vite into files under /assets/ with no inline script or style, so its policy
can be strict: scripts, styles, fonts, frames, workers and connections only from its own origin
(``connect-src 'self'`` covers the same-origin websocket), images also as data: URLs (the
favicon), no plugins (``object-src``), no ``<base>``, forms only to itself, and
``frame-ancestors`` from FLOWSCOPE_FRAME_ANCESTORS (default ``'none'``: no other page may frame
it, so no clickjacking). Cards and plugin files set their own, stricter policies (sandboxed,
opaque origin, no network); this hook leaves a response's own policy alone.
"""

from __future__ import annotations

import base64
import hashlib

from aiohttp import web

from backend.keys import SETTINGS

UI_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "font-src 'self'; connect-src 'self'; frame-src 'self'; worker-src 'self'; "
             "manifest-src 'self'; media-src 'none'; object-src 'none'; base-uri 'none'; "
             "form-action 'self'")


def ui_policy(frame_ancestors: str, style_hashes: tuple[str, ...] = ()) -> str:
    policy = UI_POLICY
    if style_hashes:
        policy = policy.replace("style-src 'self'", "style-src 'self' " + " ".join(style_hashes))
    return f"{policy}; frame-ancestors {' '.join(frame_ancestors.split())}"   # tabs, runs of spaces: one


def style_hash(css: str) -> str:
    """The CSP source for one inline <style> element (the server-rendered pages have one)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: on every response, whatever made it (handlers, files, errors)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith("/api/"):
        # Other sites may not embed API answers as images or scripts (no-cors reads).
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    # An API answer's JSON type is read as written (parsing Content-Type is ~1 % of a list's samples).
    if response.headers.get("Content-Type", "").startswith("application/json") or \
            not (response.content_type or "").startswith("text/html"):
        return
    ancestors = request.app[SETTINGS].frame_ancestors
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = ui_policy(ancestors)
    if ancestors.strip().lower() == "'none'":   # CSP keywords are case-insensitive
        headers.setdefault("X-Frame-Options", "DENY")   # for browsers without frame-ancestors
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
