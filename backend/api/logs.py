"""Task logs: pages of lines (from_line/limit or tail), and the whole log as a download."""

from __future__ import annotations

from contextlib import aclosing

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live, task_row
from backend.db import tasks as tasks_db
from backend.db.query import Row
from backend.errors import bad_request, not_found
from backend.keys import DB
from backend.params import decode_cursor, encode_cursor, get_int
from backend.resources.logs import SCHEMAS as LOG_SCHEMAS
from backend.routes import Param, Route
from backend.sources import source_for
from backend.sources.base import LogWindow
from contract.logs_format import STREAMS

MAX_LINES = 10_000


async def _log_target(request: web.Request) -> tuple[Row, Row, str, int, bool]:
    run, task = await task_row(request)
    stream = request.match_info["stream"]
    if stream not in STREAMS:
        raise not_found(f"no log stream {stream!r}: use stdout or stderr")
    attempt = get_int(request.query, "attempt", task["attempt"], minimum=0)
    assert attempt is not None
    attempts = (await tasks_db.attempts_of(request.app[DB], live(request), [task["task_pk"]]))[task["task_pk"]]
    mine = [a for a in attempts if a["attempt"] == attempt]
    if attempts and not mine:
        raise not_found(f"task {task['step_name']}/{task['task_id']} has no attempt {attempt} "
                        f"(attempts: {', '.join(str(a['attempt']) for a in attempts)})")
    complete = bool(mine) and mine[0]["status"] != "running"
    return run, task, stream, attempt, complete


async def get_log(request: web.Request) -> web.Response:
    run, task, stream, attempt, complete = await _log_target(request)
    q = request.query
    tail = get_int(q, "tail", minimum=1, maximum=MAX_LINES)
    limit = get_int(q, "limit", 1000, minimum=1, maximum=MAX_LINES)
    assert limit is not None
    cursor = decode_cursor(q, "log", 1)
    if tail is not None and ("from_line" in q or cursor):
        raise bad_request("parameter 'tail' cannot be combined with 'from_line' or 'cursor'")
    if tail is not None:
        window = LogWindow(1, tail, tail)
    else:
        window = LogWindow(int(cursor[0]) if cursor else get_int(q, "from_line", 1, minimum=1) or 1, limit)
    page = await source_for(request.app, run).log_page(run, task, attempt, stream, complete, window)
    nxt = encode_cursor("log", [page.end]) if page.end <= page.total else None
    return respond.page(request, page.lines, nxt, immutable=page.immutable, total_lines=page.total,
                        complete=complete, attempt=attempt, stream=stream, seq=page.seq)


async def download_log(request: web.Request) -> web.StreamResponse:
    run, task, stream, attempt, complete = await _log_target(request)
    name = f"{run['flow_id']}_{run['run_id']}_{task['step_name']}_{task['task_id']}_{attempt}.{stream}.log"
    resp = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8",
                                       "Content-Disposition": respond.attachment(name)})
    async with aclosing(source_for(request.app, run).log_text(run, task, attempt, stream, complete)) as pieces:
        # The first piece is read before the headers go out: a log that cannot be read at all
        # is still a JSON error, not a broken download.
        first = await anext(pieces, None)
        await resp.prepare(request)
        if first is not None:
            await resp.write(first)
            async for text in pieces:
                await resp.write(text)
    await resp.write_eof()
    return resp


LOG_PAGE = LOG_SCHEMAS["LogPageInfo"]["properties"]
L = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/logs/{stream}"
ATTEMPT = Param("attempt", "Attempt number (default: the task's latest).", "integer")
ROUTES = [
    Route(L, get_log, "Lines of a task's stdout or stderr, with line numbers and timestamps.",
          (ATTEMPT, Param("from_line", "First line (1-based, default 1).", "integer"),
           Param("limit", "Lines per page (1-10000, default 1000).", "integer"),
           Param("tail", "The last N lines instead of a page.", "integer"),
           Param("cursor", "The `next` value of the previous page.")), "list", "logs",
          operation="getLog", item="LogLine", envelope=LOG_PAGE, feed="log"),
    Route(L + "/download", download_log, "The whole log as plain text.", (ATTEMPT,), "text", "logs",
          operation="downloadLog"),
]
