"""Task metadata and artifact records (routes 17-24 of the reference)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg2
from aiohttp import web

from backend.ingest import enrich as datastore
from backend.ingest.db import records as db
from backend.ingest.db.pool import Cursor, cursor, transaction
from backend.ingest.keys import POOL, SETTINGS
from backend.ingest.lookup import run_of, task_of
from backend.ingest.shapes import artifact_obj, metadata_obj, stored_location
from backend.ingest.state import fold
from backend.ingest.state.model import ArtifactRecord, MetadataRecord, RunState, TaskState
from backend.ingest.state.store import StateStore
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


def _metadata_rows(body: list[dict[str, Any]], ts: int) -> list[MetadataRecord]:
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
        rows.append(MetadataRecord(field_name=no_nul(field), value=value_text(item["value"]),
                                   type=no_nul(kind) if isinstance(kind, str) else None,
                                   tags=[no_nul(str(t)) for t in tags], attempt=attempt_of_tags(tags), ts=ts))
    return rows


async def _locked(cur: Cursor, request: web.Request) -> tuple[StateStore, RunState, TaskState] | None:
    """The store with the path's task and run loaded and locked (task first, then run)."""
    m = request.match_info
    store = StateStore(cur)
    run = await store.run(m["flow"], m["run"])
    task = await store.task(run, m["step"], m["task"], lock=True) if run is not None else None
    if run is None or task is None:
        return None
    await store.lock_run(run)
    return store, run, task


async def post_metadata(request: web.Request) -> web.Response:
    body = await json_list(request)
    rows = _metadata_rows(body, now_ms())
    async with transaction(request.app[POOL]) as cur:
        found = await _locked(cur, request)
        if found is None:
            return not_found()
        store, _run, task = found
        store.add_metadata(task, rows)
        fold.apply_metadata(task, rows)
        await store.flush()
    return ok({"metadata_created": len(rows)})


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


def _artifact_rows(body: list[dict[str, Any]], flow: str, ts: int) -> list[ArtifactRecord]:
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
        rows.append(ArtifactRecord(
            name=name, sha=sha, attempt=attempt,
            root=location[len(":root:"):] if isinstance(location, str) and location.startswith(":root:") else None,
            location=stored_location(flow, sha, location) if isinstance(location, str) else None,
            encoding=encoding if isinstance(encoding, str) else "pickle-v4", ts=ts))
    return rows


async def inspect_artifacts(s3_endpoint_url: str | None, run: RunState, task: TaskState,
                            rows: list[ArtifactRecord]) -> datastore.Enrichment | None:
    """Read the datastore about one attempt's artifacts (in a thread, bounded in time)."""
    root = next((r.root for r in rows if r.root), None)
    if root is None:
        return None
    attempt = rows[0].attempt
    shas = {r.name: r.sha for r in rows if r.attempt == attempt}
    catch_step = fold.has_decorator(run.decorators(task.step_name), "catch")
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(None, datastore.inspect, root, s3_endpoint_url, run.flow_id, run.run_id,
                               task.step_name, task.task_id, attempt, shas, catch_step)
    try:
        return await asyncio.wait_for(job, ENRICH_TIMEOUT_S)
    except Exception:   # the datastore is advisory: registering the artifacts must not fail
        log.exception("reading the datastore for %s/%s/%s/%s failed", run.flow_id, run.run_id,
                      task.step_name, task.task_id)
        return None


async def post_artifacts(request: web.Request) -> web.Response:
    body = await json_list(request)
    m = request.match_info
    rows = _artifact_rows(body, m["flow"], now_ms())
    async with cursor(request.app[POOL]) as cur:
        store = StateStore(cur)
        run = await store.run(m["flow"], m["run"])
        task = await store.task(run, m["step"], m["task"]) if run is not None else None
        if run is None or task is None:
            return not_found()
    # The datastore is read outside the transaction: it may be slow (S3).
    info = await inspect_artifacts(request.app[SETTINGS].s3_endpoint_url, run, task, rows) if rows else None
    fold.describe_artifacts(rows, info)
    async with transaction(request.app[POOL]) as cur:
        found = await _locked(cur, request)
        if found is None:
            return not_found()
        store, _run, task = found
        store.add_artifacts(task, rows)
        if rows:
            fold.apply_artifacts(task, rows[0].attempt, info)
        created = (await store.flush()).artifacts_created
    return ok({"artifacts_created": created})


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
