"""Task logs: pages of lines (from_line/limit or tail), and the whole log as a download."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live, task_row
from backend.cache.lru import LruCache
from backend.db import logs as logs_db
from backend.db import tasks as tasks_db
from backend.db.query import Row
from backend.errors import bad_request, not_found
from backend.keys import BLOBS, DB, LOG_CHUNKS
from backend.metaflow_store import ui_logs
from backend.params import decode_cursor, encode_cursor, get_int
from backend.routes import Param, Route
from contract.logs_format import chunk_records, line_text, parse_record

STREAMS = ("stdout", "stderr")
MAX_LINES = 10_000

# Log chunks already read, split into records and parsed as far as pages asked for: app[LOG_CHUNKS]
# (one datastore per app; shown at /api/-/status). Chunks are immutable once their row exists
# (docs/schema.md), so entries never go stale; the key has the size too, to be sure. A page of a
# 1M-line log then parses only the lines it returns, once, and never decodes and splits the same
# ~64 KiB chunk again.
LINE_OVERHEAD = 320     # bytes per parsed line beyond its text: the dict, the str and int objects


class ParsedChunk:
    """A chunk's records, each parsed into its API shape the first time a page needs it."""

    __slots__ = ("first_line", "lines", "records", "size")

    def __init__(self, first_line: int, records: list[str]) -> None:
        self.first_line = first_line
        self.records = records
        self.lines: list[dict[str, Any] | None] = [None] * len(records)
        self.size = sum(map(len, records)) + LINE_OVERHEAD * len(records) + 128

    def slice(self, start: int, end: int) -> list[dict[str, Any]]:
        """Lines start..end-1 (line numbers) that are in this chunk. The dicts are shared: read-only."""
        lo, hi = max(start - self.first_line, 0), min(end - self.first_line, len(self.records))
        lines = self.lines
        for i in range(lo, hi):
            if lines[i] is None:
                ts, text = parse_record(self.records[i])
                lines[i] = {"line": self.first_line + i, "ts": ts, "text": text}
        return lines[lo:hi]  # type: ignore[return-value]


def chunk_cache(request: web.Request) -> LruCache[ParsedChunk]:
    return request.app[LOG_CHUNKS]


async def parsed_chunk(request: web.Request, chunk: Row) -> ParsedChunk:
    cache = chunk_cache(request)
    key = (chunk["location"], chunk["n_bytes"], chunk["first_line"])
    parsed = cache.get(key)
    if parsed is None:
        parsed = ParsedChunk(chunk["first_line"], chunk_records(await request.app[BLOBS].get(chunk["location"])))
        cache.put(key, parsed)
    return parsed


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


async def read_lines(request: web.Request, chunks: list[Row], start: int, end: int) -> list[dict[str, Any]]:
    """Lines start..end-1 of these chunks (in line order); only those records are parsed."""
    lines: list[dict[str, Any]] = []
    for parsed in await asyncio.gather(*(parsed_chunk(request, c) for c in chunks)):
        lines += parsed.slice(start, end)
    return lines


async def get_log(request: web.Request) -> web.Response:
    run, task, stream, attempt, complete = await _log_target(request)
    q = request.query
    db = request.app[DB]
    mf_lines = None
    immutable = complete
    total = 0
    if ui_logs.is_metaflow(run):
        mf_lines = await ui_logs.task_log(request, run, task, attempt, stream, complete)
        total = len(mf_lines)
        immutable = complete and total > 0   # its log may be saved just after the attempt ends
    tail = get_int(q, "tail", minimum=1, maximum=MAX_LINES)
    limit = get_int(q, "limit", 1000, minimum=1, maximum=MAX_LINES)
    assert limit is not None
    cursor = decode_cursor(q, "log", 1)
    if tail is not None and ("from_line" in q or cursor):
        raise bad_request("parameter 'tail' cannot be combined with 'from_line' or 'cursor'")
    key = (task["task_pk"], attempt, stream)
    chunks: list[Row] | None = None
    if tail is not None:
        if mf_lines is None:
            total = await logs_db.last_line(db, *key)
        start, limit = max(1, total - tail + 1), tail
        end = start + limit
    else:
        start = int(cursor[0]) if cursor else get_int(q, "from_line", 1, minimum=1) or 1
        end = start + limit
        if mf_lines is None:
            chunks, total = await logs_db.chunks_and_last_line(db, *key, start, end)
    if mf_lines is not None:
        lines = ui_logs.numbered(mf_lines, start, end)
    else:
        if chunks is None:
            chunks = await logs_db.chunks_for_range(db, *key, start, end) if total else []
        lines = await read_lines(request, chunks, start, end)
    nxt = encode_cursor("log", [end]) if end <= total else None
    return respond.page(request, lines, nxt, immutable=immutable, total_lines=total, complete=complete,
                        attempt=attempt, stream=stream)


async def download_log(request: web.Request) -> web.StreamResponse:
    run, task, stream, attempt, complete = await _log_target(request)
    mf_text = None
    if ui_logs.is_metaflow(run):
        mf_lines = await ui_logs.task_log(request, run, task, attempt, stream, complete)
        mf_text = "".join(ln.text + "\n" for ln in mf_lines).encode()
    chunks = [] if mf_text is not None else await logs_db.all_chunks(request.app[DB], task["task_pk"],
                                                                      attempt, stream)
    name = f"{run['flow_id']}_{run['run_id']}_{task['step_name']}_{task['task_id']}_{attempt}.{stream}.log"
    resp = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8",
                                       "Content-Disposition": f'attachment; filename="{name}"'})
    await resp.prepare(request)
    if mf_text is not None:
        await resp.write(mf_text)
    blobs = request.app[BLOBS]
    for chunk in chunks:
        data = await blobs.get(chunk["location"])
        text = "".join(line_text(record) + "\n" for record in chunk_records(data))
        await resp.write(text.encode())
    await resp.write_eof()
    return resp


L = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/logs/{stream}"
ATTEMPT = Param("attempt", "Attempt number (default: the task's latest).", "integer")
ROUTES = [
    Route(L, get_log, "Lines of a task's stdout or stderr, with line numbers and timestamps.",
          (ATTEMPT, Param("from_line", "First line (1-based, default 1).", "integer"),
           Param("limit", "Lines per page (1-10000, default 1000).", "integer"),
           Param("tail", "The last N lines instead of a page.", "integer"),
           Param("cursor", "The `next` value of the previous page.")), "list", "logs"),
    Route(L + "/download", download_log, "The whole log as plain text.", (ATTEMPT,), "text", "logs"),
]
