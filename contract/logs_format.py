"""The log chunk format (docs/schema.md "Log chunk format": ``<epoch_ms>\\t<text>\\n`` per line).

Writers (the runtime's LogWriter) encode records with ``encode_record``; every reader parses
them with the functions below.

A chunk is split into records on ``\\n`` (one trailing ``\\n`` dropped). A record whose part
before the first tab is a non-empty run of decimal digits is ``(ts, text)``; any other record is
malformed and keeps all of it as its text, with ts None. Every reader (the log pages, the run-wide
search, live log events, the download, the client API) uses these functions, so they all agree on the lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from contract.datastore.base import Datastore

STREAMS = ("stdout", "stderr")

# A timestamp is 1 to MAX_TS_DIGITS decimal digits (str.isdecimal: what int() accepts; int()
# refuses longer strings, sys.get_int_max_str_digits()). PREFIX is the same test as a regex, for
# the search to tell the prefix from the text in a whole chunk: keep the two equal.
MAX_TS_DIGITS = 4300
PREFIX = re.compile(rf"\d{{1,{MAX_TS_DIGITS}}}\t")


def encode_record(ts: int, text: str) -> bytes:
    """One line of a chunk: its epoch-ms timestamp, a tab, the text (without newlines)."""
    return f"{ts}\t{text}\n".encode()


def _is_ts(ts_text: str) -> bool:
    return ts_text.isdecimal() and len(ts_text) <= MAX_TS_DIGITS


def chunk_text(data: bytes) -> str:
    """A chunk's text with its one trailing newline removed: records are ``split("\\n")`` of it."""
    return data.decode("utf-8", errors="replace").removesuffix("\n")


def chunk_records(data: bytes) -> list[str]:
    """The raw records (``<epoch_ms>\\t<text>``) of a chunk; an empty chunk has none."""
    if not data:
        return []
    return chunk_text(data).split("\n")


def parse_record(record: str) -> tuple[int | None, str]:
    """(ts, text) of one record; a malformed record keeps its whole text, ts None."""
    ts_text, sep, line = record.partition("\t")
    if sep and _is_ts(ts_text):
        return int(ts_text), line
    return None, record


def line_text(record: str) -> str:
    """The text of one record (what the search matches), without parsing the timestamp."""
    ts_text, sep, line = record.partition("\t")
    return line if sep and _is_ts(ts_text) else record


def parse_chunk(data: bytes, first_line: int) -> list[tuple[int, int | None, str]]:
    """(line number, ts, text) for each record; a malformed record keeps its text, ts None."""
    out: list[tuple[int, int | None, str]] = []
    for i, record in enumerate(chunk_records(data)):
        ts, line = parse_record(record)
        out.append((first_line + i, ts, line))
    return out


def read_log_lines(ds: Datastore, chunks: Sequence[Mapping[str, Any]]) -> list[tuple[int, int | None, str]]:
    """(line number, ts, text) of the given ``log_chunks`` rows (``location``, ``first_line``),
    in line order: a whole log read back, as the client API's ``task.stdout`` does."""
    lines: list[tuple[int, int | None, str]] = []
    for chunk in sorted(chunks, key=lambda c: int(c["first_line"])):
        lines.extend(parse_chunk(ds.get(str(chunk["location"])), int(chunk["first_line"])))
    return lines
