"""What a websocket subscription watches: a REST path parsed into a target, and its feed.

A target's ``fetch(since)`` is the resync query: every change of its rows after ``since``,
shaped exactly like the REST resource's items, each with the row's change_seq. Live delivery
runs the same query when a notification for the target's run arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from multidict import MultiDict

from backend.api.artifacts import artifact_shape
from backend.api.flows import flow_shape
from backend.api.runs import parse_filters, run_shape
from backend.api.steps import step_shape
from backend.api.tasks import task_shape
from backend.cache.blobs import BlobReader
from backend.db import artifacts as artifacts_db
from backend.db import flows as flows_db
from backend.db import logs as logs_db
from backend.db import runs as runs_db
from backend.db import steps as steps_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Db
from backend.errors import ApiError
from backend.params import get_int, get_list
from contract.logs_format import parse_chunk
from contract.settings import Settings

RUNS_LIMIT = 1000      # rows per fetch of a run list feed
TASKS_LIMIT = 5000     # rows per fetch of a task list feed

RUN = r"/api/flows/(?P<flow>[^/]+)/runs/(?P<run>[^/]+)"
TASK = RUN + r"/steps/(?P<step>[^/]+)/tasks/(?P<task>[^/]+)"
PATTERNS = [
    ("flows", r"/api/flows"),
    ("runs", r"/api/runs"),
    ("runs", r"/api/flows/(?P<flow>[^/]+)/runs"),
    ("run", RUN),
    ("steps", RUN + r"/(?:dag|steps)"),
    ("steps", RUN + r"/steps/(?P<step>[^/]+)"),
    ("tasks", RUN + r"/tasks"),
    ("tasks", RUN + r"/steps/(?P<step>[^/]+)/tasks"),
    ("tasks", TASK),
    ("artifacts", TASK + r"/artifacts"),
    ("cards", TASK + r"/cards"),
    ("log", TASK + r"/logs/(?P<stream>stdout|stderr)"),
]


@dataclass
class Event:
    kind: str           # insert | update
    key: str            # identity of the object within the resource
    seq: int
    data: dict[str, Any]
    created_at: int | None = None


@dataclass
class Batch:
    """A fetch's answer: the changes after ``since``, oldest first.

    ``complete`` is False when a query hit its row limit: the events then cover exactly the
    changes up to the highest seq among them, and the caller must ask again from there.
    """
    events: list[Event]
    complete: bool = True


@dataclass
class Target:
    kind: str
    path: dict[str, str]
    query: MultiDict[str]
    run_pk: int | None = None       # run-scoped targets: the run they belong to
    task_pk: int | None = None
    attempt: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def global_scope(self) -> bool:
        return self.kind in ("flows", "runs")

    @property
    def key(self) -> tuple[Any, ...]:
        """Everything the feed depends on: targets with equal keys can share one fetch."""
        return (self.kind, tuple(sorted(self.path.items())), tuple(sorted(self.query.items())),
                self.run_pk, self.task_pk, self.attempt)


def parse_resource(resource: str) -> Target:
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    query: MultiDict[str] = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
    for kind, pattern in PATTERNS:
        m = re.fullmatch(pattern, path)
        if m:
            return Target(kind, {k: v for k, v in m.groupdict().items() if v is not None}, query)
    raise ApiError(400, f"cannot subscribe to {resource!r}: not a list or object path of this API "
                        "(see docs/api.md, 'Websocket')")


async def resolve(target: Target, db: Db, settings: Settings) -> None:
    """Look up the run/task of a run-scoped target once, at subscription (404 if missing)."""
    p = target.path
    if target.kind == "runs":
        target.extra["filters"] = parse_filters(target.query, p.get("flow"))
        return
    if "run" not in p:
        return
    run = await runs_db.get_run(db, live_params(settings), p["flow"], p["run"])
    if run is None:
        raise ApiError(404, f"run {p['flow']}/{p['run']} not found")
    target.run_pk = run["run_pk"]
    if target.kind == "tasks":
        target.extra["steps"] = [p["step"]] if "step" in p else get_list(target.query, "step")
        target.extra["statuses"] = get_list(target.query, "status", tasks_db.TASK_STATUSES)
    if "task" in p and target.kind != "tasks":
        task = await tasks_db.get_task(db, live_params(settings), run["run_pk"], p["step"], p["task"])
        if task is None:
            raise ApiError(404, f"task {p['flow']}/{p['run']}/{p['step']}/{p['task']} not found")
        target.task_pk = task["task_pk"]
        target.attempt = get_int(target.query, "attempt", task["attempt"], minimum=0)
    elif "task" in p:
        target.extra["task_id"] = p["task"]
        target.extra["steps"] = [p["step"]]


async def fetch(target: Target, since: int, db: Db, settings: Settings, blobs: BlobReader,
                dag: dict[str, Any] | None) -> Batch:
    """Changes of the target after ``since``, oldest first."""
    if target.kind == "runs":
        rows = await runs_db.runs_changed(db, live_params(settings), since, RUNS_LIMIT,
                                          filters=target.extra["filters"])
        return Batch([Event("update", f"{r['flow_id']}/{r['run_id']}", r["change_seq"], run_shape(r),
                            r["created_at"]) for r in rows], len(rows) < RUNS_LIMIT)
    if target.kind == "tasks":
        assert target.run_pk is not None
        task_rows, complete = await tasks_db.tasks_changed(
            db, live_params(settings), target.run_pk, since, TASKS_LIMIT, steps=target.extra["steps"],
            statuses=target.extra["statuses"], task_id=target.extra.get("task_id"))
        attempts = await tasks_db.attempts_of(db, live_params(settings), [r["task_pk"] for r in task_rows])
        return Batch([Event("update", f"{r['step_name']}/{r['task_id']}", r["change_seq"],
                            task_shape(r, attempts[r["task_pk"]]), r["created_at"]) for r in task_rows],
                     complete)
    return Batch(await _fetch_all(target, since, db, settings, blobs, dag))


async def _fetch_all(target: Target, since: int, db: Db, settings: Settings, blobs: BlobReader,
                     dag: dict[str, Any] | None) -> list[Event]:
    """The feeds whose queries are not limited: every change after ``since``."""
    live = live_params(settings)
    k = target.kind
    if k == "flows":
        return [Event("update", r["flow_id"], r["change_seq"], flow_shape(r), r["created_at"])
                for r in await flows_db.flows_changed(db, live, since)]
    assert target.run_pk is not None
    if k == "run":
        rows = await runs_db.runs_changed(db, live, since, 10, run_pk=target.run_pk)
        return [Event("update", "run", r["change_seq"], run_shape(r)) for r in rows]
    if k == "steps":
        run = await runs_db.runs_changed(db, live, -1, 1, run_pk=target.run_pk)
        stale = bool(run and run[0]["stale"])
        infos = (dag or {}).get("steps") or {}
        out = []
        for r in await steps_db.steps_changed(db, target.run_pk, since):
            if "step" in target.path and r["step_name"] != target.path["step"]:
                continue
            out.append(Event("update", r["step_name"], r["change_seq"],
                             step_shape(r["step_name"], infos.get(r["step_name"]), r, stale), r["created_at"]))
        return out
    if k == "artifacts":
        assert target.task_pk is not None
        rows = await artifacts_db.artifacts_changed(db, target.run_pk, target.task_pk, since)
        return [Event("insert", f"{r['attempt']}/{r['name']}", r["change_seq"], artifact_shape(r))
                for r in rows]
    if k == "cards":
        from backend.api.cards import card_shape

        assert target.task_pk is not None
        rows = await artifacts_db.cards_changed(db, target.run_pk, target.task_pk, since)
        base = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/cards".format(**target.path)
        return [Event("insert", f"{r['attempt']}/{r['card_id']}", r["change_seq"], card_shape(r, base))
                for r in rows]
    if k == "log":
        assert target.task_pk is not None and target.attempt is not None
        events: list[Event] = []
        for chunk in await logs_db.chunks_changed(db, target.task_pk, target.attempt,
                                                  target.path["stream"], since):
            data = await blobs.get(chunk["location"])
            for number, ts, text in parse_chunk(data, chunk["first_line"]):
                events.append(Event("insert", str(number), chunk["change_seq"],
                                    {"line": number, "ts": ts, "text": text}))
        return events
    raise AssertionError(k)
