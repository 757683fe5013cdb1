"""Artifacts of a task: the JSON shape (with a safe preview), its schema, and its live feed."""

from __future__ import annotations

from typing import Any

from backend.db import artifacts as artifacts_db
from backend.db.query import Row
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.resources.schema import ANY, BOOL, INT, STR, extend, nullable, obj, ref

SCHEMAS = {
    "Artifact": (ARTIFACT := obj({
        "name": STR, "type": nullable(STR), "size": nullable(INT), "sha": nullable(STR), "attempt": INT,
        "encoding": nullable(STR), "preview": nullable(STR), "seq": INT,
    }, description="An artifact of a task attempt; the preview was made by its writer (no unpickling).")),
    "RenderedValue": obj({"text": STR, "truncated": BOOL, "json": ANY, "type": STR,
                          "decoder": {"type": "string", "enum": ["safe", "sandbox"]}},
                         description="A rendered value: its repr (shortened) and, for plain JSON values, "
                                     "the value itself. decoder: 'safe' (common types, decoded in the "
                                     "server without running pickle code) or 'sandbox' (the confined "
                                     "unpickling worker)."),
    "ArtifactValue": extend(ARTIFACT, {"value": nullable(ref("RenderedValue")), "render_error": nullable(STR)},
                            description="An artifact with its value rendered (or why it was not)."),
}


def artifact_shape(row: Row) -> dict[str, Any]:
    return {"name": row["name"], "type": row["type"], "size": row["size"], "sha": row["sha"],
            "attempt": row["attempt"], "encoding": row["encoding"], "preview": row["preview"],
            "seq": row["change_seq"]}


async def artifacts_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    assert target.run_pk is not None and target.task_pk is not None
    rows = await artifacts_db.artifacts_changed(ctx.db, target.run_pk, target.task_pk, since)
    return Batch([Event("insert", f"{r['attempt']}/{r['name']}", r["change_seq"], artifact_shape(r))
                  for r in rows])


FEEDS = (Feed("artifacts", "task", artifacts_feed, "Artifact"),)
