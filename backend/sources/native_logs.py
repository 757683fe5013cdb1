"""Log chunks of native runs, split into records and parsed only as far as pages ask.

Chunks already read live in app[LOG_CHUNKS] (one datastore per app; shown at /api/-/status).
Chunks are immutable once their row exists (docs/schema.md), so entries never go stale; the key
has the size too, to be sure. A page of a 1M-line log then parses only the lines it returns,
once, and never decodes and splits the same ~64 KiB chunk again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from backend.db.query import Row
from backend.keys import BLOBS, LOG_CHUNKS
from contract.logs_format import chunk_records, parse_record

# Counted as if every line were parsed (what the entry grows to): each record's str, then its
# line's dict, text str (the record's characters again, less the prefix) and two ints. Measured
# with tracemalloc (tests/backend/test_cache_budget.py).
LINE_OVERHEAD = 330


class ParsedChunk:
    """A chunk's records, each parsed into its API shape the first time a page needs it."""

    __slots__ = ("first_line", "lines", "records", "size")

    def __init__(self, first_line: int, records: list[str]) -> None:
        self.first_line = first_line
        self.records = records
        self.lines: list[dict[str, Any] | None] = [None] * len(records)
        self.size = 2 * sum(map(len, records)) + LINE_OVERHEAD * len(records) + 128

    def slice(self, start: int, end: int) -> list[dict[str, Any]]:
        """Lines start..end-1 (line numbers) that are in this chunk. The dicts are shared: read-only."""
        lo, hi = max(start - self.first_line, 0), min(end - self.first_line, len(self.records))
        lines = self.lines
        for i in range(lo, hi):
            if lines[i] is None:
                ts, text = parse_record(self.records[i])
                lines[i] = {"line": self.first_line + i, "ts": ts, "text": text}
        return lines[lo:hi]  # type: ignore[return-value]


def chunk_size(chunk: ParsedChunk) -> int:
    return chunk.size


async def parsed_chunk(app: web.Application, chunk: Row) -> ParsedChunk:
    cache = app[LOG_CHUNKS]
    key = (chunk["location"], chunk["n_bytes"], chunk["first_line"])
    parsed = cache.get(key)
    if parsed is None:
        parsed = ParsedChunk(chunk["first_line"], chunk_records(await app[BLOBS].get(chunk["location"])))
        cache.put(key, parsed)
    return parsed


async def read_lines(app: web.Application, chunks: list[Row], start: int, end: int) -> list[dict[str, Any]]:
    """Lines start..end-1 of these chunks (in line order); only those records are parsed."""
    lines: list[dict[str, Any]] = []
    for parsed in await asyncio.gather(*(parsed_chunk(app, c) for c in chunks)):
        lines += parsed.slice(start, end)
    return lines
