"""Task logs of runs with source='metaflow', for the UI API's log routes.

Metaflow keeps a task's logs as whole MFLOG files in its own datastore (not as Flowscope log
chunks), so the lines are read from there (runtime_ and task_ sources merged by time) and
numbered from 1; the routes then page them exactly like native logs.
"""

from __future__ import annotations

from aiohttp import web

from backend.db import logs as logs_db
from backend.db.query import Row
from backend.errors import ApiError
from backend.keys import DB
from backend.metaflow_store.mflog import MflogLine
from backend.metaflow_store.ui_reader import reader_for


def is_metaflow(run: Row) -> bool:
    return bool(run["source"] == "metaflow")


async def task_log(request: web.Request, run: Row, task: Row, attempt: int, stream: str,
                   finished: bool) -> list[MflogLine]:
    """All lines of the stream; [] when the attempt has not written its log yet."""
    root = await logs_db.metaflow_ds_root(request.app[DB], run["run_pk"], task["task_pk"])
    if root is None:
        raise ApiError(404, f"task {run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']} "
                            "has no ds-root metadata: the Metaflow datastore of its logs is unknown")
    key = (root, run["flow_id"], run["run_id"], task["step_name"], task["task_id"], attempt, stream)
    return await reader_for(request.app).log(key, finished)


def numbered(lines: list[MflogLine], start: int, end: int) -> list[dict[str, object]]:
    return [{"line": n, "ts": ln.ts_ms, "text": ln.text}
            for n, ln in enumerate(lines[start - 1:end - 1], start)]
