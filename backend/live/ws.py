"""/api/ws: the websocket protocol of docs/api.md (subscribe/unsubscribe/ping)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from backend.api.respond import dumps
from backend.errors import ApiError
from backend.keys import DB, HUB, SAME_ORIGIN, SETTINGS
from backend.live.hub import Client, Hub, Subscription
from backend.live.targets import parse_resource, resolve
from backend.routes import Route

MAX_SUBSCRIPTIONS = 200


async def _sender(client: Client) -> None:
    while True:
        message = await client.queue.get()
        if message is None:
            return
        await client.ws.send_str(message)
        client.sent += 1


def _error(client: Client, sub_id: Any, message: str) -> None:
    client.offer(dumps({"type": "error", "id": sub_id, "message": message}))


async def _subscribe(request: web.Request, hub: Hub, client: Client, msg: dict[str, Any]) -> None:
    sub_id, resource, since = msg.get("id"), msg.get("resource"), msg.get("since")
    if not isinstance(sub_id, (str, int)) or not isinstance(resource, str):
        _error(client, sub_id, "subscribe needs an 'id' (string) and a 'resource' (an API path)")
        return
    if since is not None and (not isinstance(since, int) or since < 0):
        _error(client, sub_id, "'since' must be a non-negative integer (a seq from an earlier event)")
        return
    if len(client.subs) >= MAX_SUBSCRIPTIONS and str(sub_id) not in client.subs:
        _error(client, sub_id, f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
        return
    try:
        target = parse_resource(resource)
        await resolve(target, request.app[DB], request.app[SETTINGS])
        # Without since: start at the horizon, below which nothing can still appear.
        start = since if since is not None else await hub.horizons.sample()
    except ApiError as exc:
        _error(client, sub_id, exc.message)
        return
    sub = Subscription(str(sub_id), resource, target, start, int(time.time() * 1000))
    hub.subscribe(client, sub)
    client.offer(dumps({"type": "subscribed", "id": sub.id, "resource": resource, "seq": start}))
    if since is not None:
        await hub.deliver(client, sub)   # resync: everything after `since`, then live


async def websocket(request: web.Request) -> web.WebSocketResponse:
    # No permessage-deflate: events are small JSON, compressing 1,000 sockets' worth costs CPU the
    # server needs under load, and aiohttp 3.14.2/3.14.3 readers reject compressed frames after a
    # PONG ("non-zero reserved bits", aio-libs/aiohttp#13274), which bench/load.py ran into.
    # A page on another site may open a websocket here (browsers do not apply the same-origin
    # policy to them) and would get every run and log line: only our own origin may.
    if not request.app[SAME_ORIGIN].origin_allowed(request, same_origin_ok=True):
        raise ApiError(403, f"websocket from origin {request.headers.get('Origin', '')[:100]!r} refused: only "
                            "the UI's own origin (or FLOWSCOPE_ALLOWED_ORIGINS) may subscribe")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024, compress=False)
    await ws.prepare(request)
    hub = request.app[HUB]
    client = Client(ws, hub.queue_size)
    hub.clients.add(client)
    client.sender = asyncio.create_task(_sender(client))
    try:
        async for raw in ws:
            if raw.type != WSMsgType.TEXT:
                continue
            try:
                msg = json.loads(raw.data)
            except ValueError:
                _error(client, None, "messages must be JSON objects")
                continue
            kind = msg.get("type") if isinstance(msg, dict) else None
            if kind == "ping":
                client.offer(dumps({"type": "pong"}))
            elif kind == "subscribe":
                await _subscribe(request, hub, client, msg)
            elif kind == "unsubscribe":
                client.subs.pop(str(msg.get("id")), None)
            else:
                _error(client, msg.get("id") if isinstance(msg, dict) else None,
                       f"unknown message type {kind!r} (subscribe, unsubscribe, ping)")
    finally:
        if not client.closed:
            client.closed = True
            hub.clients.discard(client)
            if client.sender is not None:
                client.sender.cancel()
    return ws


ROUTES = [Route("/api/ws", websocket, "Live updates (websocket; protocol in docs/api.md).", (),
                "websocket", "live", operation="liveUpdates", item="LiveMessage")]
