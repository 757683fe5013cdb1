"""Parsing log chunks (docs/schema.md "Log chunk format": ``<epoch_ms>\\t<text>\\n`` per line)."""

from __future__ import annotations


def parse_chunk(data: bytes, first_line: int) -> list[tuple[int, int | None, str]]:
    """(line number, ts, text) for each record; a malformed record keeps its text, ts None."""
    out: list[tuple[int, int | None, str]] = []
    text = data.decode("utf-8", errors="replace")
    text = text.removesuffix("\n")
    if not text and not data:
        return out
    for i, record in enumerate(text.split("\n")):
        ts_text, sep, line = record.partition("\t")
        ts: int | None
        if sep and ts_text.isdigit():
            ts = int(ts_text)
        else:
            ts, line = None, record
        out.append((first_line + i, ts, line))
    return out
