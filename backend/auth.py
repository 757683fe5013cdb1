"""Access control for shared deployments (off by default: the backend listens on 127.0.0.1).

Two ways in, either enough when configured:

* ``FLOWSCOPE_AUTH_TOKEN``: ``Authorization: Bearer <token>`` (API clients, websockets), or the
  ``flowscope_session`` cookie. Browsers get the cookie by opening any page with ``?token=<token>``
  once (a tiny server-rendered form asks for it); the server answers with a redirect to the same
  URL without the token, so it does not linger in the address bar or history. The cookie holds an
  HMAC of the token, not the token: every replica with the same token accepts it, and changing
  the token logs everyone out.
* ``FLOWSCOPE_TRUSTED_USER_HEADER`` (e.g. X-Forwarded-User from oauth2-proxy): the proxy in front
  has authenticated the user. Only honoured from ``FLOWSCOPE_TRUSTED_PROXIES`` peers when that is
  set; otherwise anyone who can reach the port could send the header, so bind to localhost or a
  private network then.

The same middleware refuses NUL characters in paths and query strings (always, even with no
authentication configured): they would otherwise fail deep inside Postgres or open() as a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Middleware

from backend.errors import error_response
from backend.keys import SETTINGS
from backend.security_headers import style_hash, ui_policy
from contract.settings import Settings, parse_networks

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COOKIE = "flowscope_session"
COOKIE_MAX_AGE = 30 * 24 * 3600
OPEN_PATHS = frozenset({"/api/-/version"})   # container health checks
# Plugin panels load their static files inside sandboxed (opaque-origin) iframes, where the
# browser does not send the SameSite session cookie. These files are the operator's own static
# code (never run data, never manifest.json); the data reaches a panel only via postMessage
# from the signed-in host page.
PLUGIN_FILES = "/-/plugins/"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
USER = web.RequestKey("flowscope_user", str)   # who is asking: the proxy's user, or "token"


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"flowscope-session-v1", hashlib.sha256).hexdigest()


def _from_trusted_peer(request: web.Request, proxies: list[Network]) -> bool:
    if not proxies:
        return True
    try:
        peer = ipaddress.ip_address((request.remote or "").split("%")[0])
    except ValueError:
        return False   # a Unix socket peer has no address: not a listed proxy
    return any(peer in net for net in proxies)


def forwarded_by_trusted_proxy(settings: Settings) -> Callable[[web.Request], bool]:
    """For X-Forwarded-* headers: only when FLOWSCOPE_TRUSTED_PROXIES is set and the peer is one."""
    proxies = parse_networks(settings.trusted_proxies)
    return lambda request: bool(proxies) and _from_trusted_peer(request, proxies)


LOGIN_CSS = ("body{font:15px system-ui,sans-serif;max-width:24rem;margin:15vh auto;padding:0 1rem}"
             "input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}")


def _login_page(request: web.Request, message: str) -> web.Response:
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Flowscope sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{LOGIN_CSS}</style></head>
<body><h1>Flowscope</h1><p>{html.escape(message)}</p>
<form method="get" action="{html.escape(request.path)}"><label>Access token
<input type="password" name="token" autocomplete="current-password" autofocus required></label>
<input type="submit" value="Sign in"></form></body></html>"""
    policy = ui_policy(request.app[SETTINGS].frame_ancestors, (style_hash(LOGIN_CSS),))
    return web.Response(status=401, text=body, content_type="text/html",
                        headers={"Cache-Control": "no-store", "WWW-Authenticate": 'Bearer realm="flowscope"',
                                 "Content-Security-Policy": policy})


def _wants_html(request: web.Request) -> bool:
    return not request.path.startswith("/api/") and "text/html" in request.headers.get("Accept", "")


def _is_https(request: web.Request, proxies: list[Network]) -> bool:
    if request.secure:
        return True
    return bool(proxies) and _from_trusted_peer(request, proxies) and \
        request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def auth_middleware(settings: Settings,
                    first: Callable[[web.Request], web.StreamResponse | None] | None = None) -> Middleware:
    """The middleware for these settings (a no-op when neither way in is configured).

    ``first``: a check that runs before anything else and refuses a request by returning its answer
    (the app's Host check, backend/same_origin.py): one middleware layer, not two, on every request.
    """
    token = settings.auth_token or ""
    header = settings.trusted_user_header or ""
    proxies = parse_networks(settings.trusted_proxies)
    expected_cookie = session_value(token) if token else ""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if first is not None and (refused := first(request)) is not None:
            return refused
        # Postgres text and file paths cannot hold NUL: refuse it here rather than as a 500 deep
        # inside a query or open() (no route has a name with NUL in it).
        if "\x00" in request.path:
            return error_response(404, "no such resource: the path contains a NUL character")
        if "\x00" in request.query_string or any("\x00" in v for v in request.query.values()):
            return error_response(400, "query parameters cannot contain NUL characters")
        if not token and not header:
            return await handler(request)
        if request.path in OPEN_PATHS or request.path.startswith(PLUGIN_FILES):
            return await handler(request)
        if header:
            user = request.headers.get(header, "").strip()
            if user and _from_trusted_peer(request, proxies):
                request[USER] = user
                return await handler(request)
        if token:
            given = request.headers.get("Authorization", "")
            if given.lower().startswith("bearer ") and hmac.compare_digest(given[7:].strip().encode(),
                                                                           token.encode()):
                request[USER] = "token"
                return await handler(request)
            if hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), expected_cookie.encode()):
                request[USER] = "token"
                return await handler(request)
            if "token" in request.query:
                if hmac.compare_digest(request.query["token"].encode(), token.encode()):
                    rest = [(k, v) for k, v in request.query.items() if k != "token"]
                    target = request.path + ("?" + urlencode(rest) if rest else "")
                    redirect = web.Response(status=303, headers={"Location": target,
                                                                 "Cache-Control": "no-store"})
                    redirect.set_cookie(COOKIE, expected_cookie, max_age=COOKIE_MAX_AGE, httponly=True,
                                        samesite="Lax", secure=_is_https(request, proxies), path="/")
                    return redirect
                if _wants_html(request):
                    return _login_page(request, "That token is not right. Try again.")
                return error_response(401, "invalid token")
            if _wants_html(request):
                return _login_page(request, "This Flowscope needs an access token.")
            response = error_response(401, "authentication required: send 'Authorization: Bearer <token>' "
                                           "(FLOWSCOPE_AUTH_TOKEN)")
            response.headers["WWW-Authenticate"] = 'Bearer realm="flowscope"'
            return response
        return error_response(401 if not request.headers.get(header) else 403,
                              f"authentication required: this server trusts the {header} header "
                              "set by its authenticating proxy" +
                              (" (only from the configured proxies)" if proxies else ""))

    return middleware
