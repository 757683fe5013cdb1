"""/search: grep the logs of every task of a run, streaming matches as NDJSON as they are found.

Bounded three ways (results, bytes read, wall time) and cancellable: when the client goes away
the next write fails and the search stops.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from backend.api.lookup import run_row
from backend.api.respond import dumps
from backend.db import search as search_db
from backend.errors import bad_request
from backend.keys import BLOBS, DB, SETTINGS
from backend.logs_format import parse_chunk
from backend.params import get_bool, get_int, get_list
from backend.routes import Param, Route

TASKS_PER_BATCH = 500
MAX_PATTERN = 500


def make_matcher(q: str, regex: bool, ignore_case: bool) -> Callable[[str], bool]:
    if not q:
        raise bad_request("parameter 'q' is required: the text (or regex=true: the pattern) to find")
    if len(q) > MAX_PATTERN:
        raise bad_request(f"parameter 'q' is longer than {MAX_PATTERN} characters")
    if regex:
        try:
            pattern = re.compile(q, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise bad_request(f"parameter 'q' is not a valid regular expression: {exc}") from None
        return lambda line: pattern.search(line) is not None
    if ignore_case:
        low = q.lower()
        return lambda line: low in line.lower()
    return lambda line: q in line


def _scan(data: bytes, first_line: int, match: Callable[[str], bool]) -> list[tuple[int, int | None, str]]:
    return [rec for rec in parse_chunk(data, first_line) if match(rec[2])]


async def search_logs(request: web.Request) -> web.StreamResponse:
    run = await run_row(request)
    q = request.query
    settings = request.app[SETTINGS]
    match = make_matcher(q.get("q", ""), get_bool(q, "regex"), get_bool(q, "ignore_case"))
    max_results = min(get_int(q, "limit", int(settings.search_max_results), minimum=1) or 1,
                      int(settings.search_max_results))
    streams = get_list(q, "stream", ("stdout", "stderr")) or None
    steps = get_list(q, "step") or None
    # task (and attempt) let a task's log view search only its own log on the server.
    tasks = get_list(q, "task") or None
    attempt = get_int(q, "attempt", minimum=0)
    deadline = time.monotonic() + float(settings.search_timeout)
    max_bytes = int(settings.search_max_bytes)
    db, blobs = request.app[DB], request.app[BLOBS]
    resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    loop = asyncio.get_running_loop()
    found = scanned = 0
    reason: str | None = None
    after = 0
    while reason is None:
        batch = await search_db.task_batch(db, run["run_pk"], after, steps, TASKS_PER_BATCH, tasks)
        if not batch:
            break
        after = batch[-1]["task_pk"]
        names = {t["task_pk"]: t for t in batch}
        for chunk in await search_db.chunks_of_tasks(db, list(names), streams, attempt):
            if time.monotonic() > deadline:
                reason = f"time limit of {float(settings.search_timeout):g} s reached"
                break
            if scanned >= max_bytes:
                reason = f"read limit of {max_bytes} bytes reached"
                break
            data = await blobs.get(chunk["location"])
            scanned += len(data)
            # Matching runs off the event loop so a big chunk (or a slow regex) never stalls it.
            hits = await loop.run_in_executor(None, _scan, data, chunk["first_line"], match)
            task = names[chunk["task_pk"]]
            lines: list[str] = []
            for number, ts, text in hits:
                lines.append(dumps({
                    "type": "match", "task": f"{run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']}",
                    "step_name": task["step_name"], "task_id": task["task_id"], "attempt": chunk["attempt"],
                    "stream": chunk["stream"], "line": number, "ts": ts, "text": text}))
                found += 1
                if found >= max_results:
                    reason = f"result limit of {max_results} matches reached"
                    break
            if lines:
                await resp.write(("\n".join(lines) + "\n").encode())
            if reason:
                break
    summary: dict[str, Any] = {"type": "done", "matches": found, "scanned_bytes": scanned,
                               "truncated": reason is not None, "reason": reason}
    await resp.write((dumps(summary) + "\n").encode())
    await resp.write_eof()
    return resp


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/search", search_logs,
          "Search the logs of every task of a run; NDJSON lines streamed as found, then a summary.",
          (Param("q", "Text to find (or a regular expression with regex=true)."),
           Param("regex", "true: q is a Python regular expression.", "boolean"),
           Param("ignore_case", "true: case-insensitive.", "boolean"),
           Param("stream", "stdout and/or stderr (default both).", repeated=True),
           Param("step", "Only tasks of these steps.", repeated=True),
           Param("task", "Only these task ids.", repeated=True),
           Param("attempt", "Only this attempt of each task.", "integer"),
           Param("limit", "Most matches to return (bounded by FLOWSCOPE_SEARCH_MAX_RESULTS).", "integer")),
          "ndjson", "search"),
]
