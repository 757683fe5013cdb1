"""Runs that core_runtime wrote: contents in Flowscope's own datastore, a row for each piece.

Logs are numbered chunks (``log_chunks`` rows, the text in the datastore), artifact values are
pickle-v4 blobs, cards are ``cards`` rows with their HTML in the datastore; all of it is read
through app[BLOBS] (memory LRU → disk cache → datastore) and never changes once its row exists.
The DAG is written with the run row.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import orjson
from aiohttp import web

from backend.db import cards as cards_db
from backend.db import logs as logs_db
from backend.db import search as search_db
from backend.db.query import Row
from backend.keys import BLOBS, DAG_CACHE, DB, RENDERER
from backend.sources.base import (
    CardData,
    CardHtml,
    CardList,
    ChunkText,
    LogPage,
    LogPiece,
    LogWindow,
    PieceText,
    SearchScope,
)
from backend.sources.dags import cached_dag
from backend.sources.native_logs import read_lines
from contract.logs_format import chunk_records, line_text

NATIVE_ENCODING = "pickle-v4"   # what core_runtime writes (docs/datastore.md)


class NativeSource:
    name = "native"

    def __init__(self, app: web.Application) -> None:
        self.app = app

    # -- logs ----------------------------------------------------------------------------------
    async def log_page(self, run: Row, task: Row, attempt: int, stream: str, complete: bool,
                       window: LogWindow) -> LogPage:
        db = self.app[DB]
        key = (task["task_pk"], attempt, stream)
        if window.tail is not None:
            total, seq = await logs_db.last_line_and_seq(db, *key)
            start, end = window.lines(total)
            chunks = await logs_db.chunks_for_range(db, *key, start, end) if total else []
            # The tail's reader follows the log from here: chunks after `seq` are the lines it lacks.
            return LogPage(await read_lines(self.app, chunks, start, end), end, total, immutable=complete, seq=seq)
        start, end = window.lines(0)
        chunks, total = await logs_db.chunks_and_last_line(db, *key, start, end)
        # Chunks are written whole and never change: a finished attempt's page is final.
        return LogPage(await read_lines(self.app, chunks, start, end), end, total, immutable=complete)

    async def log_text(self, run: Row, task: Row, attempt: int, stream: str,
                       complete: bool) -> AsyncGenerator[bytes, None]:
        chunks = await logs_db.all_chunks(self.app[DB], task["task_pk"], attempt, stream)
        blobs = self.app[BLOBS]
        for chunk in chunks:
            data = await blobs.get(chunk["location"])
            yield "".join(line_text(record) + "\n" for record in chunk_records(data)).encode()

    async def search_tasks(self, run: Row, after: int, scope: SearchScope, limit: int) -> list[Row]:
        return await search_db.task_batch(self.app[DB], run["run_pk"], after, scope.steps, limit,
                                          scope.tasks, scope.streams, scope.attempt)

    async def log_pieces(self, run: Row, tasks: list[Row], scope: SearchScope) -> list[LogPiece]:
        chunks = await search_db.chunks_of_tasks(self.app[DB], [t["task_pk"] for t in tasks],
                                                 scope.streams, scope.attempt)
        return [LogPiece(c["task_pk"], c["attempt"], c["stream"], c["first_line"], c["location"])
                for c in chunks]

    async def read_piece(self, run: Row, piece: LogPiece) -> PieceText:
        return ChunkText(await self.app[BLOBS].get(str(piece.key)), piece.first_line)

    # -- artifacts -----------------------------------------------------------------------------
    def renders(self, encoding: str | None) -> bool:
        return encoding == NATIVE_ENCODING

    async def artifact_value(self, run: Row, row: Row) -> dict[str, Any]:
        blob = await self.app[BLOBS].get(row["location"])
        return await self.app[RENDERER].render(row["sha"], blob, f"artifact {row['name']!r}")

    async def artifact_bytes(self, run: Row, row: Row) -> bytes:
        return await self.app[BLOBS].get(row["location"])

    # -- cards ---------------------------------------------------------------------------------
    async def cards(self, run: Row, task: Row, attempt: int | None) -> list[Row]:
        return await cards_db.list_cards(self.app[DB], task["task_pk"], attempt)

    async def card_list(self, run: Row, task: Row, attempt: int | None) -> CardList:
        return CardList(await self.cards(run, task, attempt))

    async def card_html(self, run: Row, task: Row, card_id: str, attempt: int | None) -> CardHtml | None:
        row = await cards_db.get_card(self.app[DB], task["task_pk"], card_id, attempt)
        if row is None:
            return None
        # A live card's row moves to newer pages; the final page never changes again.
        return CardHtml(await self.app[BLOBS].get(row["location"]), immutable=bool(row["final"]))

    async def card_data(self, run: Row, task: Row, card_id: str, attempt: int | None) -> CardData | None:
        row = await cards_db.get_card(self.app[DB], task["task_pk"], card_id, attempt)
        if row is None:
            return None
        if not row["data_location"]:   # recorded before live cards: the page is all there is
            return CardData({"kind": "none", "final": True}, immutable=True)
        state = orjson.loads(await self.app[BLOBS].get(row["data_location"]))
        state["final"] = bool(state.get("final")) or bool(row["final"])
        return CardData({"kind": "state", "state": state, "final": state["final"]}, immutable=bool(row["final"]))

    # -- the DAG -------------------------------------------------------------------------------
    async def dag(self, run: Row) -> dict[str, Any]:
        """core_runtime writes ``runs.dag`` with the run row: read once, cached by run_pk."""
        return await cached_dag(self.app[DAG_CACHE], self.app[DB], run["run_pk"])
