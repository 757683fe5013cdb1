"""Flows, runs, steps, tasks, heartbeats and tag mutation (routes 1-16 of the reference)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from backend.ingest.db import objects as db
from backend.ingest.db.pool import Cursor, cursor, transaction
from backend.ingest.keys import POOL, SETTINGS
from backend.ingest.lookup import run_of, task_of
from backend.ingest.shapes import flow_obj, run_obj, step_obj, task_obj
from backend.ingest.state import fold
from backend.ingest.state.model import RunState, TaskState
from backend.ingest.state.store import StateStore
from backend.ingest.wire import (
    SERVICE_VERSION,
    BadRequest,
    conflict,
    given_id,
    json_object,
    not_found,
    now_ms,
    ok,
    opt_str,
    str_list,
)


async def ping(request: web.Request) -> web.Response:
    # The client gates heartbeats, attempt reads and tag mutation on this header.
    return web.Response(text="pong", headers={"METADATA_SERVICE_VERSION": SERVICE_VERSION})


async def version(request: web.Request) -> web.Response:
    return web.Response(text=SERVICE_VERSION)


async def list_flows(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        return ok([flow_obj(r) for r in await db.list_flows(cur)])


async def get_flow(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        row = await db.get_flow(cur, request.match_info["flow"])
    return ok(flow_obj(row)) if row else not_found()


async def create_flow(request: web.Request) -> web.Response:
    await json_object(request)
    async with cursor(request.app[POOL]) as cur:
        row = await db.insert_flow(cur, request.match_info["flow"], now_ms())
    return ok(flow_obj(row)) if row else conflict("flow already exists")


async def _new_run(cur: Cursor, flow: str, run_id: str, number: int | None, user: str | None,
                   tags: list[str], system_tags: list[str], ts: int) -> dict[str, Any] | None:
    """Insert the run (through the translation's store); None if ``flow/run_id`` exists."""
    store = StateStore(cur)
    run = RunState(flow_id=flow, run_id=run_id, run_number=number, user_name=user, tags=tags,
                   system_tags=system_tags, created_at=ts)
    fold.run_created(run, ts)
    store.add_run(run)
    await store.flush()
    return await db.get_run(cur, flow, run_id) if run.run_pk is not None else None


async def create_run(request: web.Request) -> web.Response:
    body = await json_object(request)
    flow = request.match_info["flow"]
    given = given_id(body, "run_number", "run_number")
    user, tags, system_tags = opt_str(body, "user_name"), str_list(body, "tags"), str_list(body, "system_tags")
    ts = now_ms()
    async with transaction(request.app[POOL]) as cur:
        if given is not None:
            if await db.get_flow(cur, flow) is None:
                return not_found()
            run = await _new_run(cur, flow, given, None, user, tags, system_tags, ts)
            return ok(run_obj(run)) if run else conflict("run already exists")
        for _ in range(10):   # skip numbers a native run of this flow may already hold
            number = await db.alloc_run_number(cur, flow, ts)
            if number is None:
                return not_found()
            run = await _new_run(cur, flow, str(number), number, user, tags, system_tags, ts)
            if run is not None:
                return ok(run_obj(run))
    raise BadRequest(f"could not allocate a run number for flow {flow}")


async def list_runs(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        return ok([run_obj(r) for r in await db.list_runs(cur, request.match_info["flow"])])


async def get_run(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        run = await run_of(cur, request)
    return ok(run_obj(run)) if run else not_found()


def _beat_reply(request: web.Request) -> web.Response:
    # A JSON *string* holding JSON: the sidecar decodes twice (a plain object kills its thread).
    wait = request.app[SETTINGS].ingest_heartbeat_interval
    return web.json_response(json.dumps({"wait_time_in_seconds": wait}))


async def run_heartbeat(request: web.Request) -> web.Response:
    # The body (raw "{}", no content type) carries nothing: not parsed.
    m = request.match_info
    async with transaction(request.app[POOL]) as cur:
        store = StateStore(cur)
        run = await store.run(m["flow"], m["run"])
        if run is None:
            return not_found()
        fold.run_heartbeat(run, now_ms())
        await store.flush()
    return _beat_reply(request)


async def mutate_tags(request: web.Request) -> web.Response:
    body = await json_object(request)
    add, remove = str_list(body, "tags_to_add"), str_list(body, "tags_to_remove")
    m = request.match_info
    async with transaction(request.app[POOL]) as cur:
        store = StateStore(cur)
        run = await store.run(m["flow"], m["run"])
        if run is None:
            return not_found()
        await store.lock_run(run)
        system = set(run.system_tags)
        bad = sorted(set(remove) & system)
        if bad:
            return web.json_response({"message": f"cannot remove system tags: {', '.join(bad)}"},
                                     status=422)
        tags = [t for t in run.tags if t not in set(remove)]
        tags += [t for t in add if t not in system and t not in tags]
        tags = sorted(set(tags))
        run.set("tags", tags)
        await store.flush()
    return ok({"tags": tags})


async def list_steps(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        run = await run_of(cur, request)
        if run is None:
            return not_found()
        return ok([step_obj(run, s) for s in await db.list_steps(cur, run["run_pk"])])


async def get_step(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        run = await run_of(cur, request)
        step = await db.get_step(cur, run["run_pk"], request.match_info["step"]) if run else None
    return ok(step_obj(run, step)) if run and step else not_found()


async def create_step(request: web.Request) -> web.Response:
    await json_object(request)
    async with cursor(request.app[POOL]) as cur:
        run = await run_of(cur, request)
        if run is None:
            return not_found()
        step = await db.insert_step(cur, run["run_pk"], request.match_info["step"], now_ms())
    return ok(step_obj(run, step)) if step else conflict("step already exists")


async def list_tasks(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        run = await run_of(cur, request)
        if run is None:
            return not_found()
        rows = await db.list_tasks(cur, run["run_pk"], request.match_info["step"])
    return ok([task_obj(run, t) for t in rows])


async def get_task(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        found = await task_of(cur, request)
    return ok(task_obj(*found)) if found else not_found()


async def create_task(request: web.Request) -> web.Response:
    body = await json_object(request)
    given = given_id(body, "task_id", "task_name")
    m = request.match_info
    ts = now_ms()
    async with transaction(request.app[POOL]) as cur:
        store = StateStore(cur)
        run = await store.run(m["flow"], m["run"])
        if run is None:
            return not_found()
        task: TaskState | None = None
        for _ in range(1 if given is not None else 10):
            task_id = given if given is not None else await db.alloc_task_id(cur)
            task = TaskState(run=run, step_name=m["step"], task_id=task_id, created_at=ts)
            fold.task_created(task, ts)
            store.add_task(task)
            await store.flush()
            if task.task_pk is not None:
                break
        if task is None or task.task_pk is None:
            if given is not None:
                return conflict("task already exists")
            raise BadRequest("could not allocate a task id")
        found = await task_of(cur, request, task.task_id)
    assert found is not None
    return ok(task_obj(*found))


async def task_heartbeat(request: web.Request) -> web.Response:
    m = request.match_info
    async with transaction(request.app[POOL]) as cur:
        store = StateStore(cur)
        run = await store.run(m["flow"], m["run"])
        task = await store.task(run, m["step"], m["task"]) if run is not None else None
        if task is None:
            return not_found()
        fold.task_heartbeat(task, now_ms())
        await store.flush()
    return _beat_reply(request)
