"""Task metadata and artifact records (routes 17-24 of the reference)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg2
from aiohttp import web

from backend.ingest import enrich as datastore
from backend.ingest.db import records as db
from backend.ingest.db import status as status_db
from backend.ingest.db.pool import cursor, transaction
from backend.ingest.keys import POOL, SETTINGS
from backend.ingest.lookup import run_of, task_of
from backend.ingest.shapes import artifact_obj, metadata_obj, stored_location
from backend.ingest.status import apply_metadata, has_decorator
from backend.ingest.wire import (
    BadRequest,
    attempt_of_tags,
    is_numeric,
    json_list,
    no_nul,
    not_found,
    now_ms,
    ok,
    value_text,
)

log = logging.getLogger(__name__)
ENRICH_TIMEOUT_S = 15.0


def _metadata_rows(body: list[dict[str, Any]], ts: int) -> list[dict[str, Any]]:
    rows = []
    for item in body:
        field = item.get("field_name")
        if not isinstance(field, str) or not field:
            raise BadRequest("each metadatum needs a string 'field_name'")
        if "value" not in item:
            raise BadRequest(f"metadatum {field!r} has no 'value'")
        tags = item.get("tags") or []
        if not isinstance(tags, list):
            raise BadRequest(f"metadatum {field!r}: 'tags' must be a list")
        kind = item.get("type")
        rows.append({"field_name": no_nul(field), "value": value_text(item["value"]),
                     "type": no_nul(kind) if isinstance(kind, str) else None,
                     "tags": [no_nul(str(t)) for t in tags], "attempt": attempt_of_tags(tags), "ts": ts})
    return rows


async def post_metadata(request: web.Request) -> web.Response:
    body = await json_list(request)
    rows = _metadata_rows(body, now_ms())
    async with transaction(request.app[POOL]) as cur:
        found = await task_of(cur, request)
        if found is None:
            return not_found()
        run, task = found
        n = await db.insert_metadata(cur, task["task_pk"], run["run_pk"], rows)
        await apply_metadata(cur, task["task_pk"], rows, rows[0]["ts"] if rows else now_ms())
    return ok({"metadata_created": n})


async def get_metadata(request: web.Request) -> web.Response:
    async with cursor(request.app[POOL]) as cur:
        found = await task_of(cur, request)
        if found is None:
            return not_found()
        run, task = found
        rows = await db.list_metadata(cur, task["task_pk"])
    return ok([metadata_obj(run, task, r) for r in rows])


async def filtered_tasks(request: web.Request) -> web.Response:
    field = request.query.get("metadata_field_name") or None
    pattern = request.query.get("pattern") or None
    async with cursor(request.app[POOL]) as cur:
        run = await run_of(cur, request)
        if run is None:
            return not_found()
        try:
            ids = await db.filtered_task_ids(cur, run["run_pk"], request.match_info["step"], field, pattern)
        except psycopg2.DataError as exc:   # an invalid regular expression
            raise BadRequest(f"invalid pattern {pattern!r}: {str(exc).strip()}") from None
    m = request.match_info
    return ok([f"{m['flow']}/{m['run']}/{m['step']}/{t}" for t in ids])


def _artifact_rows(body: list[dict[str, Any]], flow: str, ts: int) -> list[dict[str, Any]]:
    rows = []
    for item in body:
        name, sha = item.get("name"), item.get("sha")
        if not isinstance(name, str) or not name or not isinstance(sha, str) or not sha:
            raise BadRequest("each artifact needs string 'name' and 'sha'")
        attempt = item.get("attempt_id", 0)
        if isinstance(attempt, str) and is_numeric(attempt):
            attempt = int(attempt)
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0:
            raise BadRequest(f"artifact {name!r}: 'attempt_id' must be a non-negative integer")
        location = item.get("location")
        encoding = item.get("content_type")
        rows.append({"name": name, "sha": sha, "attempt": attempt,
                     "root": location[len(":root:"):] if isinstance(location, str)
                     and location.startswith(":root:") else None,
                     "location": stored_location(flow, sha, location) if isinstance(location, str) else None,
                     "encoding": encoding if isinstance(encoding, str) else "pickle-v4",
                     "type": None, "size": None, "preview": None, "ts": ts})
    return rows


async def _inspect(request: web.Request, run: dict[str, Any], task: dict[str, Any],
                   rows: list[dict[str, Any]], catch_step: bool) -> datastore.Enrichment | None:
    root = next((r["root"] for r in rows if r["root"]), None)
    if root is None:
        return None
    attempt = rows[0]["attempt"]
    shas = {r["name"]: r["sha"] for r in rows if r["attempt"] == attempt}
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(
        None, datastore.inspect, root, request.app[SETTINGS].s3_endpoint_url, run["flow_id"],
        run["run_id"], task["step_name"], task["task_id"], attempt, shas, catch_step)
    try:
        return await asyncio.wait_for(job, ENRICH_TIMEOUT_S)
    except Exception:   # the datastore is advisory: registering the artifacts must not fail
        log.exception("reading the datastore for %s/%s/%s/%s failed", run["flow_id"], run["run_id"],
                      task["step_name"], task["task_id"])
        return None


async def post_artifacts(request: web.Request) -> web.Response:
    body = await json_list(request)
    flow = request.match_info["flow"]
    rows = _artifact_rows(body, flow, now_ms())
    async with cursor(request.app[POOL]) as cur:
        found = await task_of(cur, request)
        if found is None:
            return not_found()
        run, task = found
        ctx = await status_db.run_context(cur, run["run_pk"], task["step_name"])
    info = await _inspect(request, run, task, rows, has_decorator(ctx["decorators"], "catch")) if rows else None
    if info is not None:
        for r in rows:
            r["type"], r["size"] = info.types.get(r["name"], (None, None))
            r["preview"] = info.previews.get(r["name"])
    created = 0
    async with transaction(request.app[POOL]) as cur:
        for r in rows:
            created += await db.insert_artifact(cur, task["task_pk"], run["run_pk"], r)
        if info is not None and rows:
            await _apply(cur, run, task, rows[0]["attempt"], info)
    return ok({"artifacts_created": created})


async def _apply(cur: Any, run: dict[str, Any], task: dict[str, Any], attempt: int,
                 info: datastore.Enrichment) -> None:
    if info.dag is not None:
        await status_db.set_dag(cur, run["run_pk"], info.dag)
    if info.parameters is not None:
        await status_db.set_parameters(cur, run["run_pk"], info.parameters)
    if info.foreach_stack:
        last = info.foreach_stack[-1]
        value = last.get("value")
        await status_db.set_foreach(cur, task["task_pk"], info.foreach_stack,
                                    last.get("index") if isinstance(last.get("index"), int) else None,
                                    None if value is None else str(value)[:200])
    exc = info.exception
    if exc is not None:
        exc_type = exc.type.removeprefix("builtins.")
        what = f"{exc_type}: {exc.message}" if exc.message else exc_type
        reason = f"@catch caught {what}" if info.caught else what
        await status_db.set_exception(cur, task["task_pk"], attempt, exc_type, exc.message,
                                      exc.stacktrace, reason)
        state = await status_db.task_state(cur, task["task_pk"])
        if state and state["attempt"] == attempt and (info.caught or state["status"] == "failed"):
            await status_db.set_task_reason(cur, task["task_pk"], reason)
        if not info.caught:
            await status_db.set_run_reason(cur, run["run_pk"], task["step_name"],
                                           f"step {task['step_name']} failed: {what}")


async def list_artifacts(request: web.Request) -> web.Response:
    attempt = request.match_info.get("attempt")
    async with cursor(request.app[POOL]) as cur:
        found = await task_of(cur, request)
        if found is None:
            return not_found()
        run, task = found
        rows = await db.list_artifacts(cur, task["task_pk"], int(attempt) if attempt is not None else None)
    return ok([artifact_obj(run, task, r) for r in rows])


async def get_artifact(request: web.Request) -> web.Response:
    attempt = request.match_info.get("attempt")
    async with cursor(request.app[POOL]) as cur:
        found = await task_of(cur, request)
        if found is None:
            return not_found()
        run, task = found
        row = await db.get_artifact(cur, task["task_pk"], request.match_info["name"],
                                    int(attempt) if attempt is not None else None)
    return ok(artifact_obj(run, task, row)) if row else not_found()
