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
- lines already parsed (a Metaflow log, ``scan_lines``): the same tests on each line's text.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any

from aiohttp import web

from backend.api.lookup import run_row
from backend.api.respond import dumps
from backend.errors import bad_request
from backend.keys import SETTINGS
from backend.params import get_bool, get_int, get_list
from backend.regex_lines import line_safe
from backend.resources.search import done_shape, match_shape
from backend.routes import Param, Route
from backend.sources import source_for
from backend.sources.base import Hit, LogPiece, SearchScope
from contract.logs_format import PREFIX, chunk_text, line_text, parse_record

TASKS_PER_BATCH = 500
MAX_PATTERN = 500
READ_AHEAD = 16            # chunks read (and scanned) concurrently, ahead of the one being sent
INLINE_BYTES = 16 * 1024  # chunks that may match and are bigger than this are scanned in a thread
YIELD_EVERY_S = 0.005     # give other requests the event loop at least this often


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
    """Finds the matching lines of one log chunk (``scan``) or of parsed lines (``scan_lines``);
    both are pure and may run in a thread."""

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
            indexes = self._regex_hits([line_text(r) for r in records])
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

    def scan_lines(self, lines: Sequence[tuple[int | None, str]], first_line: int) -> list[Hit]:
        """The matches among lines already split and parsed, (ts, text) each, without newlines."""
        if self.never or not lines:
            return []
        texts = [text for _, text in lines]
        if self.regex:
            indexes = self._regex_hits(texts)
        elif self.ignore_case:
            indexes = [i for i, t in enumerate(texts) if self.needle in t.lower()]
        else:
            indexes = [i for i, t in enumerate(texts) if self.needle in t]
        return [(first_line + i, lines[i][0], texts[i]) for i in indexes]

    def _regex_hits(self, texts: list[str]) -> list[int]:
        if self.joined is not None:
            return self._joined_hits("\n".join(texts))
        search = self.pattern.search  # type: ignore[union-attr]
        return [i for i, t in enumerate(texts) if search(t)]

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


def _pieces_ahead(pieces: list[LogPiece], start: Any) -> Generator[tuple[LogPiece, asyncio.Task[Any]], None, None]:
    """(piece, task reading and scanning it) in order, with at most READ_AHEAD under way."""
    ahead: deque[tuple[LogPiece, asyncio.Task[Any]]] = deque()
    it = iter(pieces)
    try:
        while True:
            while len(ahead) < READ_AHEAD and (piece := next(it, None)) is not None:
                task = asyncio.ensure_future(start(piece))
                task.add_done_callback(_retrieve)
                ahead.append((piece, task))
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
    # task (and attempt) let a task's log view search only its own log on the server.
    scope = SearchScope(streams=get_list(q, "stream", ("stdout", "stderr")) or None,
                        steps=get_list(q, "step") or None, tasks=get_list(q, "task") or None,
                        attempt=get_int(q, "attempt", minimum=0))
    deadline = time.monotonic() + settings.search_timeout
    max_bytes = settings.search_max_bytes
    source = source_for(request.app, run)
    resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    loop = asyncio.get_running_loop()

    async def read_and_scan(piece: LogPiece) -> tuple[int, list[Hit]]:
        text = await source.read_piece(run, piece)
        if text.rejected(matcher):
            return text.size, []
        if text.size <= INLINE_BYTES:
            return text.size, text.scan(matcher)
        # A big piece that may match is scanned off the event loop (decoding, a slow regex).
        return text.size, await loop.run_in_executor(None, text.scan, matcher)

    found = scanned = 0
    reason: str | None = None
    after = 0
    yielded = time.monotonic()
    while reason is None:
        batch = await source.search_tasks(run, after, scope, TASKS_PER_BATCH)
        if not batch:
            break
        after = batch[-1]["task_pk"]
        names = {t["task_pk"]: t for t in batch}
        ahead = _pieces_ahead(await source.log_pieces(run, batch, scope), read_and_scan)
        try:
            for piece, pending in ahead:
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
                task = names[piece.task_pk]
                lines: list[str] = []
                for number, ts, text in hits:
                    lines.append(dumps(match_shape(run, task, piece.attempt, piece.stream, number, ts, text)))
                    found += 1
                    if found >= max_results:
                        reason = f"result limit of {max_results} matches reached"
                        break
                if lines:
                    await resp.write(("\n".join(lines) + "\n").encode())
                if time.monotonic() - yielded > YIELD_EVERY_S:
                    await asyncio.sleep(0)   # pieces read from memory do not suspend the handler
                    yielded = time.monotonic()
                if reason:
                    break
        finally:
            ahead.close()   # cancels the reads still under way (a limit, or the client left)
    await resp.write((dumps(done_shape(found, scanned, reason)) + "\n").encode())
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
          "ndjson", "search", operation="searchLogs", item="SearchLine"),
]
