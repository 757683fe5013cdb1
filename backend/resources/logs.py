"""Task logs: the JSON shape of a log line, the page's schema, and the live feed of new lines."""

from __future__ import annotations

from backend.db import logs as logs_db
from backend.errors import ApiError
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.resources.schema import BOOL, INT, STR, nullable, obj
from contract.logs_format import STREAMS, parse_chunk

SCHEMAS = {
    "LogLine": obj({"line": INT, "ts": nullable(INT), "text": STR},
                   description="One line: its number (1-based) and time (epoch ms; null when the "
                               "record had no valid timestamp)."),
    "LogPageInfo": obj({"total_lines": INT, "complete": BOOL, "attempt": INT,
                        "stream": {"type": "string", "enum": list(STREAMS)},
                        "seq": {**nullable(INT), "description":
                                "On a tail page of a log Flowscope records: subscribe to the log "
                                "with this `since` to get every line written after the page. Null "
                                "otherwise (Metaflow-recorded logs are polled; see docs/api.md)."}}),
}


def prepare_log(target: Target) -> None:
    if target.path["stream"] not in STREAMS:
        raise ApiError(404, f"no log stream {target.path['stream']!r}: use stdout or stderr")


async def log_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    """Lines of chunks flushed after ``since`` (a chunk row is the event; its lines are the data)."""
    assert target.task_pk is not None and target.attempt is not None
    events: list[Event] = []
    for chunk in await logs_db.chunks_changed(ctx.db, target.task_pk, target.attempt, target.path["stream"],
                                              since):
        data = await ctx.blobs.get(chunk["location"])
        for number, ts, text in parse_chunk(data, chunk["first_line"]):
            events.append(Event("insert", str(number), chunk["change_seq"],
                                {"line": number, "ts": ts, "text": text}))
    return Batch(events)


FEEDS = (Feed("log", "task", log_feed, "LogLine", prepare_log),)
