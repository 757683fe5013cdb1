"""Cards of a task: the list, one card's page under a sandboxing Content-Security-Policy, and its
latest live version (posted into the card's frame while the task refreshes it; docs/cards.md)."""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.api.lookup import task_row
from backend.db.query import Row
from backend.errors import ApiError, not_found
from backend.params import get_int
from backend.resources.cards import card_shape
from backend.routes import Param, Route
from backend.sources import source_for

# Cards are user HTML: they run in an opaque origin (no cookies, no API access, no top
# navigation) and may load nothing from the network.
CARD_CSP = ("sandbox allow-scripts allow-popups; default-src 'none'; img-src data: blob:; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; font-src data:; "
            "frame-ancestors 'self'")


async def list_cards(request: web.Request) -> web.Response:
    run, task = await task_row(request)
    attempt = get_int(request.query, "attempt", minimum=0)
    base = request.path.rstrip("/")
    found = await source_for(request.app, run).card_list(run, task, attempt)
    return respond.page(request, [card_shape(r, base) for r in found.rows], None, notice=found.notice)


def _html(body: bytes, cache_control: str) -> web.Response:
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers={
        "Content-Security-Policy": CARD_CSP, "X-Content-Type-Options": "nosniff",
        "Cache-Control": cache_control})


def _missing(request: web.Request, run: Row, task: Row, attempt: int | None) -> ApiError:
    card_id = request.match_info["card_id"]
    return not_found(f"card {card_id!r} not found in task {run['flow_id']}/{run['run_id']}/"
                     f"{task['step_name']}/{task['task_id']}" + (f" (attempt {attempt})" if attempt is not None else ""))


async def get_card(request: web.Request) -> web.Response:
    run, task = await task_row(request)
    attempt = get_int(request.query, "attempt", minimum=0)
    card = await source_for(request.app, run).card_html(run, task, request.match_info["card_id"], attempt)
    if card is None:
        raise _missing(request, run, task, attempt)
    return _html(card.html, respond.IMMUTABLE if card.immutable else respond.LIVE)


async def get_card_data(request: web.Request) -> web.Response:
    run, task = await task_row(request)
    attempt = get_int(request.query, "attempt", minimum=0)
    data = await source_for(request.app, run).card_data(run, task, request.match_info["card_id"], attempt)
    if data is None:
        raise _missing(request, run, task, attempt)
    return respond.one(request, data.body, immutable=data.immutable)


T = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"
ATTEMPT = (Param("attempt", "Attempt number (default: the latest attempt with the card).", "integer"),)
ROUTES = [
    Route(T + "/cards", list_cards, "Cards of a task.", ATTEMPT, "list", "cards", operation="listCards",
          item="Card", feed="cards", envelope={"notice": {
              "type": ["string", "null"], "description": "Why cards the run recorded are not listed "
              "(a Metaflow run whose cards were saved to another card store than its datastore "
              "root names); null otherwise."}}),
    Route(T + "/cards/{card_id}", get_card, "One card's HTML, served with a sandboxing CSP.", ATTEMPT,
          "html", "cards", operation="getCard"),
    Route(T + "/cards/{card_id}/data", get_card_data, "A card's latest live version, for its frame "
          "(kind state: a whole card state; kind components: Metaflow's component updates).", ATTEMPT,
          "object", "cards", operation="getCardData", item="CardData"),
]
