"""Flows: the JSON shape of a flow (with its latest run), its schema and its live feed."""

from __future__ import annotations

from typing import Any

from backend.db import flows as flows_db
from backend.db.query import Row
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.resources.runs import run_shape
from backend.resources.schema import INT, STR, nullable, obj, ref

SCHEMAS = {
    "Flow": obj({"flow_id": STR, "created_at": INT, "last_run_at": nullable(INT),
                 "last_run_number": nullable(INT), "latest_run": nullable(ref("Run")), "seq": INT},
                description="A flow with its latest run."),
}


def flow_shape(row: Row) -> dict[str, Any]:
    latest = row.get("latest")
    return {"flow_id": row["flow_id"], "created_at": row["created_at"],
            "last_run_at": row["last_run_at"], "last_run_number": row["last_run_number"],
            "latest_run": run_shape(latest) if latest else None, "seq": row["change_seq"]}


async def flows_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    return Batch([Event("update", r["flow_id"], r["change_seq"], flow_shape(r), r["created_at"])
                  for r in await flows_db.flows_changed(ctx.db, ctx.live, since)])


FEEDS = (Feed("flows", "global", flows_feed, "Flow"),)
