"""Runs: the JSON shape of a run, its schema, and the live feeds of run lists and of one run."""

from __future__ import annotations

from typing import Any

import orjson
from multidict import MultiMapping

from backend.db import runs as runs_db
from backend.db.query import Row
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.params import get_int, get_list
from backend.resources.schema import INT, JSON_OBJECT, STATUS, STR, arr, extend, nullable, obj, ref

RUNS_LIMIT = 1000      # rows per fetch of a run list feed

SCHEMAS = {
    "TaskCounts": obj({"total": INT, "pending": INT, "running": INT, "completed": INT, "failed": INT},
                      description="Tasks by effective status (a lost heartbeat counts as failed)."),
    "Run": (RUN := obj({
        "flow_id": STR, "run_id": STR, "run_number": nullable(INT), "pathspec": STR,
        "user": nullable(STR), "tags": arr(STR), "system_tags": arr(STR),
        "source": {"type": "string", "description": "Who wrote the run: flowscope (core_runtime) or metaflow."},
        "status": STATUS, "status_reason": nullable(STR), "failed_step": nullable(STR),
        "origin_run_id": nullable(STR), "created_at": INT, "started_at": nullable(INT),
        "finished_at": nullable(INT), "duration_ms": nullable(INT), "heartbeat_at": nullable(INT),
        "parameters": JSON_OBJECT, "task_counts": ref("TaskCounts"), "seq": INT,
    }, description="A run. Times are epoch ms; status is effective (heartbeat rules applied).")),
    "RunGroup": obj({"group": nullable(STR), "group_by": {"type": "string", "enum": ["flow", "user"]},
                     "runs": arr(ref("Run")), "next": nullable(STR)}),
    "RunDetail": extend(RUN, {"file_name": nullable(STR)}, optional={"source_code": nullable(STR)},
                        description="A run with its flow file's name (and its text with ?source=true)."),
    "RunListEntry": {"anyOf": [ref("Run"), ref("RunGroup")],
                     "description": "A run; with group_by, a group of runs."},
}


def run_shape(row: Row) -> orjson.Fragment:
    """A run's answer: its JSON as Postgres built it (backend/db/run_json.py, selected as ``run_json``
    by every statement that reads runs), passed through without decoding."""
    return orjson.Fragment(row["run_json"])


def run_object(row: Row) -> dict[str, Any]:
    """The same, decoded, for code that reads its fields (the summary's Markdown)."""
    value: dict[str, Any] = orjson.loads(row["run_json"])
    return value


def parse_filters(q: MultiMapping[str], flow: str | None) -> runs_db.RunFilters:
    flows = get_list(q, "flow")
    if flow is not None:
        flows = [flow]
    return runs_db.RunFilters(
        statuses=get_list(q, "status", runs_db.RUN_STATUSES), flows=flows, users=get_list(q, "user"),
        tags=get_list(q, "tag"), any_tags=get_list(q, "any_tag"), system_tags=get_list(q, "system_tag"),
        created_after=get_int(q, "created_after"), created_before=get_int(q, "created_before"),
        q=q.get("q") or None)


def prepare_runs(target: Target) -> None:
    target.extra["filters"] = parse_filters(target.query, target.path.get("flow"))


async def runs_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    """Changes of runs matching a run list's filters (``extra["filters"]``, set at resolve)."""
    rows = await runs_db.runs_changed(ctx.db, ctx.live, since, RUNS_LIMIT, filters=target.extra["filters"])
    return Batch([Event("update", f"{r['flow_id']}/{r['run_id']}", r["change_seq"], run_shape(r),
                        r["created_at"]) for r in rows], len(rows) < RUNS_LIMIT)


async def run_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    assert target.run_pk is not None
    rows = await runs_db.runs_changed(ctx.db, ctx.live, since, 10, run_pk=target.run_pk)
    return Batch([Event("update", "run", r["change_seq"], run_shape(r)) for r in rows])


FEEDS = (Feed("runs", "global", runs_feed, "Run", prepare_runs), Feed("run", "run", run_feed, "Run"))
