"""Cards of a task: the list, and one card's HTML under a sandboxing Content-Security-Policy."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import task_row
from backend.db import cards as cards_db
from backend.db.query import Row
from backend.errors import not_found
from backend.keys import BLOBS, DB
from backend.metaflow_store import ui_cards
from backend.metaflow_store.ui_logs import is_metaflow
from backend.params import get_int
from backend.routes import Param, Route

# Cards are user HTML: they run in an opaque origin (no cookies, no API access, no top
# navigation) and may load nothing from the network.
CARD_CSP = ("sandbox allow-scripts allow-popups; default-src 'none'; img-src data: blob:; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; font-src data:; "
            "frame-ancestors 'self'")


def card_shape(row: Row, base: str) -> dict[str, Any]:
    return {"card_id": row["card_id"], "type": row["type"], "attempt": row["attempt"],
            "size": row["size"], "created_at": row["created_at"], "seq": row["change_seq"],
            "url": f"{base}/{row['card_id']}?attempt={row['attempt']}"}


async def list_cards(request: web.Request) -> web.Response:
    run, task = await task_row(request)
    attempt = get_int(request.query, "attempt", minimum=0)
    base = request.path.rstrip("/")
    if is_metaflow(run):
        # Metaflow's @card files live in its own card store, not in the cards table.
        cards = await ui_cards.task_cards(request, run, task)
        return respond.page(request, [c.shape(base) for c in cards if attempt is None or c.attempt == attempt],
                            None)
    rows = await cards_db.list_cards(request.app[DB], task["task_pk"], attempt)
    return respond.page(request, [card_shape(r, base) for r in rows], None)


def _html(body: bytes, cache_control: str) -> web.Response:
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers={
        "Content-Security-Policy": CARD_CSP, "X-Content-Type-Options": "nosniff",
        "Cache-Control": cache_control})


async def get_card(request: web.Request) -> web.Response:
    run, task = await task_row(request)
    card_id = request.match_info["card_id"]
    attempt = get_int(request.query, "attempt", minimum=0)
    missing = (f"card {card_id!r} not found in task {run['flow_id']}/{run['run_id']}/"
               f"{task['step_name']}/{task['task_id']}" + (f" (attempt {attempt})" if attempt is not None else ""))
    if is_metaflow(run):
        # The id is only matched against the listing: it never becomes part of a path.
        found = [c for c in await ui_cards.task_cards(request, run, task)
                 if c.card_id == card_id and (attempt is None or c.attempt == attempt)]
        if not found:
            raise not_found(missing)
        card = found[0]   # the latest attempt's
        html = await ui_cards.card_html(request, task, card)
        # A running task's cards may still be re-rendered in place.
        return _html(html, respond.IMMUTABLE if ui_cards.finished(task) else respond.LIVE)
    row = await cards_db.get_card(request.app[DB], task["task_pk"], card_id, attempt)
    if row is None:
        raise not_found(missing)
    return _html(await request.app[BLOBS].get(row["location"]), respond.IMMUTABLE)


T = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"
ATTEMPT = (Param("attempt", "Attempt number (default: the latest attempt with the card).", "integer"),)
ROUTES = [
    Route(T + "/cards", list_cards, "Cards of a task.", ATTEMPT, "list", "cards"),
    Route(T + "/cards/{card_id}", get_card, "One card's HTML, served with a sandboxing CSP.", ATTEMPT,
          "html", "cards"),
]
