"""What a websocket subscription watches: an API path parsed into a target, and its feed.

The subscribable paths are the routes that name a ``feed`` (backend/routes.py); the feeds are
the resources' (backend/resources/*.FEEDS). A target's ``fetch(since)`` is the resync query:
every change of its rows after ``since``, shaped exactly like the REST resource's items. Live
delivery runs the same query when a notification for the target's run arrives.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from multidict import MultiDict

from backend.cache.blobs import BlobReader
from backend.db import runs as runs_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Db
from backend.errors import ApiError
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.params import get_int
from backend.resources import feeds
from contract.settings import Settings

__all__ = ["Batch", "Event", "Target", "fetch", "parse_resource", "resolve"]


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], Feed], ...]:
    """(path regex, feed) for every route with a feed, from the route table itself."""
    from backend.app import all_routes

    by_name = feeds()
    out = []
    for route in all_routes():
        if route.feed is None:
            continue
        regex = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", route.path)
        out.append((re.compile(regex), by_name[route.feed]))
    return tuple(out)


def parse_resource(resource: str) -> Target:
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    query: MultiDict[str] = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
    for pattern, feed in _patterns():
        m = pattern.fullmatch(path)
        if m:
            return Target(feed.name, m.groupdict(), query)
    raise ApiError(400, f"cannot subscribe to {resource!r}: not a list or object path of this API "
                        "(see docs/api.md, 'Websocket')")


async def resolve(target: Target, db: Db, settings: Settings) -> None:
    """Look up the run/task of a run- or task-scoped target once, at subscription (404 if missing),
    and let the feed read its query parameters."""
    feed = feeds()[target.feed]
    p = target.path
    if feed.scope in ("run", "task"):
        run = await runs_db.get_run(db, live_params(settings), p["flow"], p["run"])
        if run is None:
            raise ApiError(404, f"run {p['flow']}/{p['run']} not found")
        target.run_pk = run["run_pk"]
        # Which writer's run: logs and cards of Metaflow-recorded runs are polled
        # (backend/live/metaflow_logs.py, backend/live/metaflow_cards.py).
        target.extra["source"] = run["source"]
        if feed.scope == "task":
            task = await tasks_db.get_task(db, live_params(settings), run["run_pk"], p["step"], p["task"])
            if task is None:
                raise ApiError(404, f"task {p['flow']}/{p['run']}/{p['step']}/{p['task']} not found")
            target.task_pk = task["task_pk"]
            target.attempt = get_int(target.query, "attempt", task["attempt"], minimum=0)
    if feed.prepare is not None:
        feed.prepare(target)


async def fetch(target: Target, since: int, db: Db, settings: Settings, blobs: BlobReader,
                dag: dict[str, Any] | None) -> Batch:
    """Changes of the target after ``since``, oldest first."""
    ctx = FeedContext(db, live_params(settings), blobs, dag)
    return await feeds()[target.feed].fetch(target, since, ctx)
