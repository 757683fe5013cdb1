"""Reading log chunks back as numbered lines (for the client API and the UI backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core_runtime.datastore import Datastore


class LogFormatError(ValueError):
    """A chunk does not follow ``<epoch_ms>\\t<text>\\n``; the message names the chunk."""


def parse_chunk(data: bytes, first_line: int, where: str = "chunk") -> list[tuple[int, int, str]]:
    """(line_no, ts, text) for each record of one chunk."""
    text = data.decode("utf-8", errors="replace")
    records = text.split("\n")
    if records and records[-1] == "":
        records.pop()
    out: list[tuple[int, int, str]] = []
    for i, rec in enumerate(records):
        ts, tab, body = rec.partition("\t")
        if not tab or not ts.isdigit():
            raise LogFormatError(f"{where}: record {i + 1} is not '<epoch_ms>\\t<text>': {rec[:60]!r}")
        out.append((first_line + i, int(ts), body))
    return out


def read_log_lines(ds: Datastore, chunks: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, str]]:
    """Lines of the given ``log_chunks`` rows (dicts with ``location`` and ``first_line``), in
    line order."""
    lines: list[tuple[int, int, str]] = []
    for chunk in sorted(chunks, key=lambda c: int(c["first_line"])):
        location = str(chunk["location"])
        lines.extend(parse_chunk(ds.get(location), int(chunk["first_line"]), f"{ds.root}/{location}"))
    return lines
