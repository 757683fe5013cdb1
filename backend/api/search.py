"""/search: grep the logs of every task of a run, streaming matches as NDJSON as they are found.

Bounded three ways (results, bytes read, wall time) and cancellable: when the client goes away
the next write fails and the search stops.

A line matches when its text (the record without its ``<epoch_ms>\\t`` prefix) contains ``q``
(``q.lower()`` in ``text.lower()`` with ignore_case) or, with regex=true, when
``re.search(q, text)`` finds something. The matchers below give exactly those lines without
running Python code per line:

- plain text: the needle is looked for in the raw chunk bytes first (most chunks of a big log
  are rejected there, unparsed), then in the decoded (or lowered) chunk text; a hit that starts
  inside a line's prefix is skipped, and only the records that matched are parsed.
- regex: the pattern runs over the chunk's line texts joined by ``\\n``, once, compiled with
  MULTILINE so ``^``/``$`` mean line start/end. That equals per-line matching only when no match
  can involve a newline, which ``backend.regex_lines.line_safe`` decides from the pattern's text
  (no token that can match ``\\n``, no ``\\A``/``\\Z``); other patterns are run line by line
  (still without parsing every record).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Generator
from typing import Any

from aiohttp import web

from backend.api.lookup import run_row
from backend.api.respond import dumps
from backend.db import search as search_db
from backend.db.query import Row
from backend.errors import bad_request
from backend.keys import BLOBS, DB, SETTINGS
from backend.params import get_bool, get_int, get_list
from backend.regex_lines import line_safe
from backend.routes import Param, Route
from contract.logs_format import PREFIX, chunk_text, line_text, parse_record

TASKS_PER_BATCH = 500
MAX_PATTERN = 500
READ_AHEAD = 16            # chunks read (and scanned) concurrently, ahead of the one being sent
INLINE_BYTES = 16 * 1024  # chunks that may match and are bigger than this are scanned in a thread
YIELD_EVERY_S = 0.005     # give other requests the event loop at least this often

Hit = tuple[int, int | None, str]   # (line number, ts, text)

def _line_hits(hay: str, needle: str) -> list[int]:
    """Indexes of the records of ``hay`` (a chunk's text, or its lowered copy) whose text part
    contains ``needle``; ``needle`` has no newline. A hit inside a record's prefix does not count."""
    out: list[int] = []
    pos = hay.find(needle)
    line = counted = 0
    while pos >= 0:
        start = hay.rfind("\n", 0, pos) + 1
        prefix = PREFIX.match(hay, start)
        text_start = prefix.end() if prefix else start
        if pos < text_start:            # the needle starts in the `<epoch_ms>\t` prefix
            pos = hay.find(needle, text_start)
            continue
        line += hay.count("\n", counted, pos)
        out.append(line)
        end = hay.find("\n", pos)
        if end < 0:
            break
        counted, line = end + 1, line + 1
        pos = hay.find(needle, end + 1)
    return out


class Matcher:
    """Finds the matching lines of one log chunk; ``scan`` is pure and may run in a thread."""

    def __init__(self, q: str, regex: bool, ignore_case: bool) -> None:
        if not q:
            raise bad_request("parameter 'q' is required: the text (or regex=true: the pattern) to find")
        if len(q) > MAX_PATTERN:
            raise bad_request(f"parameter 'q' is longer than {MAX_PATTERN} characters")
        self.regex, self.ignore_case = regex, ignore_case
        self.pattern: re.Pattern[str] | None = None
        self.joined: re.Pattern[str] | None = None
        self.needle = q.lower() if ignore_case else q
        # The raw-bytes test: for a case-sensitive needle only (a lowered chunk is not its bytes
        # lowered), and not for one containing U+FFFD (a chunk's invalid UTF-8 decodes to it).
        self.needle_bytes: bytes | None = None
        self.never = False      # a plain needle with a newline never matches: lines have none
        if regex:
            flags = re.IGNORECASE if ignore_case else 0
            try:
                self.pattern = re.compile(q, flags)
            except re.error as exc:
                raise bad_request(f"parameter 'q' is not a valid regular expression: {exc}") from None
            if line_safe(q, flags):
                self.joined = re.compile(q, flags | re.MULTILINE)
        elif "\n" in self.needle:
            self.never = True
        elif not ignore_case and "\ufffd" not in q:
            try:
                self.needle_bytes = q.encode()
            except UnicodeEncodeError:      # a lone surrogate: no decoded chunk contains one
                self.never = True

    def rejects(self, data: bytes) -> bool:
        """Cheap: True when no line of this chunk can match (the rest must be scanned)."""
        if self.never or not data:
            return True
        return self.needle_bytes is not None and self.needle_bytes not in data

    def scan(self, data: bytes, first_line: int) -> list[Hit]:
        if self.rejects(data):
            return []
        text = chunk_text(data)
        records: list[str] | None = None
        if self.regex:
            records = text.split("\n")
            texts = [line_text(r) for r in records]
            if self.joined is not None:
                indexes = self._joined_hits("\n".join(texts))
            else:
                search = self.pattern.search  # type: ignore[union-attr]
                indexes = [i for i, t in enumerate(texts) if search(t)]
        else:
            indexes = _line_hits(text.lower() if self.ignore_case else text, self.needle)
        if not indexes:
            return []
        if records is None:
            records = text.split("\n")
        out: list[Hit] = []
        for i in indexes:
            ts, line = parse_record(records[i])
            out.append((first_line + i, ts, line))
        return out

    def _joined_hits(self, joined: str) -> list[int]:
        out: list[int] = []
        search = self.joined.search  # type: ignore[union-attr]
        pos = line = counted = 0
        while (m := search(joined, pos)) is not None:
            line += joined.count("\n", counted, m.start())
            out.append(line)
            end = joined.find("\n", m.start())
            if end < 0:
                break
            counted, line, pos = end + 1, line + 1, end + 1
        return out


def make_matcher(q: str, regex: bool, ignore_case: bool) -> Matcher:
    return Matcher(q, regex, ignore_case)


def _retrieve(task: asyncio.Task[Any]) -> None:
    # A read abandoned after a limit (or a client that left) may fail unobserved: not an error.
    if not task.cancelled():
        task.exception()


def _chunks_ahead(chunks: list[Row], start: Any) -> Generator[tuple[Row, asyncio.Task[Any]], None, None]:
    """(chunk, task reading and scanning it) in order, with at most READ_AHEAD under way."""
    ahead: deque[tuple[Row, asyncio.Task[Any]]] = deque()
    it = iter(chunks)
    try:
        while True:
            while len(ahead) < READ_AHEAD and (chunk := next(it, None)) is not None:
                task = asyncio.ensure_future(start(chunk))
                task.add_done_callback(_retrieve)
                ahead.append((chunk, task))
            if not ahead:
                return
            yield ahead.popleft()
    finally:
        for _, task in ahead:
            task.cancel()


async def search_logs(request: web.Request) -> web.StreamResponse:
    run = await run_row(request)
    q = request.query
    settings = request.app[SETTINGS]
    matcher = make_matcher(q.get("q", ""), get_bool(q, "regex"), get_bool(q, "ignore_case"))
    max_results = min(get_int(q, "limit", settings.search_max_results, minimum=1) or 1,
                      settings.search_max_results)
    streams = get_list(q, "stream", ("stdout", "stderr")) or None
    steps = get_list(q, "step") or None
    # task (and attempt) let a task's log view search only its own log on the server.
    tasks = get_list(q, "task") or None
    attempt = get_int(q, "attempt", minimum=0)
    deadline = time.monotonic() + settings.search_timeout
    max_bytes = settings.search_max_bytes
    db, blobs = request.app[DB], request.app[BLOBS]
    resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    loop = asyncio.get_running_loop()

    async def read_and_scan(chunk: Row) -> tuple[int, list[Hit]]:
        data = await blobs.get(chunk["location"])
        if matcher.rejects(data):
            return len(data), []
        if len(data) <= INLINE_BYTES:
            return len(data), matcher.scan(data, chunk["first_line"])
        # A big chunk that may match is scanned off the event loop (decoding, a slow regex).
        return len(data), await loop.run_in_executor(None, matcher.scan, data, chunk["first_line"])

    found = scanned = 0
    reason: str | None = None
    after = 0
    yielded = time.monotonic()
    while reason is None:
        batch = await search_db.task_batch(db, run["run_pk"], after, steps, TASKS_PER_BATCH, tasks,
                                           streams, attempt)
        if not batch:
            break
        after = batch[-1]["task_pk"]
        names = {t["task_pk"]: t for t in batch}
        chunks = await search_db.chunks_of_tasks(db, list(names), streams, attempt)
        ahead = _chunks_ahead(chunks, read_and_scan)
        try:
            for chunk, pending in ahead:
                if time.monotonic() > deadline:
                    reason = f"time limit of {settings.search_timeout:g} s reached"
                    break
                if scanned >= max_bytes:
                    reason = f"read limit of {max_bytes} bytes reached"
                    break
                if not pending.done():
                    yielded = time.monotonic()   # awaiting it lets other requests run
                size, hits = await pending
                scanned += size
                task = names[chunk["task_pk"]]
                lines: list[str] = []
                for number, ts, text in hits:
                    lines.append(dumps({
                        "type": "match",
                        "task": f"{run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']}",
                        "step_name": task["step_name"], "task_id": task["task_id"], "attempt": chunk["attempt"],
                        "stream": chunk["stream"], "line": number, "ts": ts, "text": text}))
                    found += 1
                    if found >= max_results:
                        reason = f"result limit of {max_results} matches reached"
                        break
                if lines:
                    await resp.write(("\n".join(lines) + "\n").encode())
                if time.monotonic() - yielded > YIELD_EVERY_S:
                    await asyncio.sleep(0)   # chunks read from memory do not suspend the handler
                    yielded = time.monotonic()
                if reason:
                    break
        finally:
            ahead.close()   # cancels the reads still under way (a limit, or the client left)
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
