"""Artifacts of a task: the list with previews, one rendered value, the raw download."""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.api.lookup import task_row
from backend.db import artifacts as artifacts_db
from backend.db.query import Row
from backend.errors import ApiError, not_found
from backend.keys import DB, SETTINGS
from backend.params import get_int
from backend.resources.artifacts import artifact_shape
from backend.routes import Param, Route
from backend.sources import source_for


async def _task_attempt(request: web.Request) -> tuple[Row, Row, int | None]:
    run, task = await task_row(request)
    attempt = get_int(request.query, "attempt", minimum=0)
    return run, task, await artifacts_db.artifact_attempt(request.app[DB], task["task_pk"], attempt)


async def list_artifacts(request: web.Request) -> web.Response:
    _, task, attempt = await _task_attempt(request)
    rows = [] if attempt is None else await artifacts_db.list_artifacts(request.app[DB], task["task_pk"], attempt)
    return respond.page(request, [artifact_shape(r) for r in rows], None,
                        immutable=task["status"] in ("completed", "failed") and attempt is not None)


async def _artifact(request: web.Request) -> tuple[Row, Row]:
    """(run, artifact row)."""
    run, task, attempt = await _task_attempt(request)
    name = request.match_info["name"]
    row = None
    if attempt is not None:
        row = await artifacts_db.get_artifact(request.app[DB], task["task_pk"], attempt, name)
    if row is None:
        where = f"{run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']}"
        raise not_found(f"artifact {name!r} not found in task {where}"
                        + (f" (attempt {attempt})" if attempt is not None else ""))
    return run, row


async def get_artifact(request: web.Request) -> web.Response:
    run, row = await _artifact(request)
    data = artifact_shape(row)
    limit = int(request.app[SETTINGS].artifact_max_bytes)
    source = source_for(request.app, run)
    if not row["location"] or not source.renders(row["encoding"]):
        data.update(value=None, render_error=f"values with encoding {row['encoding']!r} are not rendered")
    elif row["size"] is not None and row["size"] > limit:
        data.update(value=None, render_error=f"the value is {row['size']} bytes, over the {limit}-byte "
                                             "rendering limit; download it instead")
    else:
        rendered = await source.artifact_value(run, row)
        if "error" in rendered:
            data.update(value=None, render_error=rendered["error"])
        else:
            data.update(value={"text": rendered["text"], "truncated": rendered["truncated"],
                               "json": rendered.get("json"), "type": rendered["type"],
                               "decoder": rendered.get("decoder")}, render_error=None)
    return respond.one(request, data, immutable=True)


async def download_artifact(request: web.Request) -> web.Response:
    run, row = await _artifact(request)
    if not row["location"]:
        raise ApiError(404, f"artifact {row['name']!r} has no stored value")
    blob = await source_for(request.app, run).artifact_bytes(run, row)
    return web.Response(body=blob, content_type="application/octet-stream", headers={
        "Content-Disposition": respond.attachment(f"{row['name']}.pickle"),
        "Cache-Control": respond.IMMUTABLE, "ETag": f'"{row["sha"]}"'})


T = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"
ATTEMPT = (Param("attempt", "Attempt number (default: the latest attempt with artifacts).", "integer"),)
ROUTES = [
    Route(T + "/artifacts", list_artifacts, "Artifacts of a task: name, type, size, sha and preview.",
          ATTEMPT, "list", "artifacts", operation="listArtifacts", item="Artifact", feed="artifacts"),
    Route(T + "/artifacts/{name}", get_artifact,
          "One artifact with its value rendered in a sandboxed worker (within a size limit).",
          ATTEMPT, "object", "artifacts", operation="getArtifact", item="ArtifactValue"),
    Route(T + "/artifacts/{name}/download", download_artifact, "The artifact's raw pickled bytes.",
          ATTEMPT, "bytes", "artifacts", operation="downloadArtifact"),
]
