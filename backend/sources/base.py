"""The source seam: what the API reads from "a run", whoever wrote it.

A run's ``source`` column names its writer: ``native`` (core_runtime: log chunks, blobs and cards
in Flowscope's datastore, rows for each) or ``metaflow`` (pip metaflow through the ingest service,
or a mirror of a metaflow-service database: logs, artifact blobs and cards in Metaflow's own
datastore, found through the task's ``ds-root`` metadata). Rows (runs, tasks, attempts,
artifacts, metadata) are the same for every source; what differs is where the *contents* are
and what can be cached, and that is all ``RunSource`` covers:

* logs: a page of numbered lines (``log_page``), the whole text (``log_text``), and the pieces a
  run-wide search scans (``search_tasks``, ``log_pieces``, ``read_piece``);
* artifacts: which encodings a value can be rendered from, the rendered value, the raw bytes;
* cards: the list (as card rows) and one card's HTML;
* the DAG (``runs.dag`` is written with a native run, but only once Metaflow's ``_parameters``
  task is recorded for a Metaflow run).

Handlers get the source with ``backend.sources.source_for(app, run)`` and never ask who wrote
the run. A third writer is one more class with these methods, registered in ``SOURCE_CLASSES``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backend.db.query import Row

Hit = tuple[int, int | None, str]   # (line number, ts, text) of a search match


class LineMatcher(Protocol):
    """What the run-wide search matches lines with (backend.api.search.Matcher)."""

    def rejects(self, data: bytes) -> bool: ...
    def scan(self, data: bytes, first_line: int) -> list[Hit]: ...
    def scan_lines(self, lines: Sequence[tuple[int | None, str]], first_line: int) -> list[Hit]: ...


@dataclass(frozen=True, slots=True)
class LogWindow:
    """The lines a page asks for: the last ``tail``, or ``limit`` lines from ``start``."""

    start: int
    limit: int
    tail: int | None = None

    def lines(self, total: int) -> tuple[int, int]:
        """[start, end) in line numbers, given the log's line count (needed for a tail)."""
        if self.tail is not None:
            start = max(1, total - self.tail + 1)
            return start, start + self.tail
        return self.start, self.start + self.limit


@dataclass(frozen=True, slots=True)
class LogPage:
    lines: list[dict[str, Any]]   # {"line", "ts", "text"}: shared, read-only
    end: int                      # one past the last line asked for (the next page starts here)
    total: int                    # lines in the log so far
    immutable: bool               # the page can never change (its ETag may be cached for good)
    seq: int | None = None        # tail pages of native logs: the live feed's seq to follow from


@dataclass(frozen=True, slots=True)
class CardData:
    body: dict[str, Any]          # {kind: state | components | none, …, final}
    immutable: bool


@dataclass(frozen=True, slots=True)
class CardList:
    rows: list[Row]               # as ``RunSource.cards`` returns them
    # Why cards the run recorded are not listed (a Metaflow card store other than the one its
    # metadata names, docs/metaflow.md#cards); None when nothing is known to be missing.
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class CardHtml:
    html: bytes
    immutable: bool               # False while the card may still be re-rendered in place


@dataclass(frozen=True, slots=True)
class LogPiece:
    """A part of one task attempt's log that the search reads and scans as a whole."""

    task_pk: int
    attempt: int
    stream: str
    first_line: int
    key: Hashable                 # what the source needs to read it


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Which logs of a run a search covers (None: all)."""

    streams: Sequence[str] | None
    steps: Sequence[str] | None
    tasks: Sequence[str] | None
    attempt: int | None


class PieceText(Protocol):
    """A piece's contents, read: scanned by a matcher (``scan`` may run in a thread)."""

    @property
    def size(self) -> int: ...

    def rejected(self, matcher: LineMatcher) -> bool: ...
    def scan(self, matcher: LineMatcher) -> list[Hit]: ...


@dataclass(frozen=True, slots=True)
class ChunkText:
    """A log chunk in Flowscope's format (contract/logs_format.py)."""

    data: bytes
    first_line: int

    @property
    def size(self) -> int:
        return len(self.data)

    def rejected(self, matcher: LineMatcher) -> bool:
        return matcher.rejects(self.data)

    def scan(self, matcher: LineMatcher) -> list[Hit]:
        return matcher.scan(self.data, self.first_line)


@dataclass(frozen=True, slots=True)
class LineText:
    """Lines already parsed, (ts, text) each (a Metaflow log file)."""

    lines: Sequence[tuple[int | None, str]]
    first_line: int
    size: int

    def rejected(self, matcher: LineMatcher) -> bool:
        return not self.lines

    def scan(self, matcher: LineMatcher) -> list[Hit]:
        return matcher.scan_lines(self.lines, self.first_line)


class RunSource(Protocol):
    """Reading the contents of a run; every method takes rows the handler already looked up."""

    name: str

    # -- logs ----------------------------------------------------------------------------------
    async def log_page(self, run: Row, task: Row, attempt: int, stream: str, complete: bool,
                       window: LogWindow) -> LogPage:
        """Lines of one stream of one attempt. ``complete``: the attempt has ended."""
        ...

    def log_text(self, run: Row, task: Row, attempt: int, stream: str,
                 complete: bool) -> AsyncGenerator[bytes, None]:
        """The whole log as plain text (one line per ``\\n``), in pieces as they are read."""
        ...

    async def search_tasks(self, run: Row, after: int, scope: SearchScope, limit: int) -> list[Row]:
        """Up to ``limit`` tasks (task_pk, step_name, task_id) above task_pk ``after`` that may
        have log lines in scope, by task_pk."""
        ...

    async def log_pieces(self, run: Row, tasks: list[Row], scope: SearchScope) -> list[LogPiece]:
        """The pieces of those tasks' logs, by task_pk, attempt, stream and line."""
        ...

    async def read_piece(self, run: Row, piece: LogPiece) -> PieceText: ...

    # -- artifacts -----------------------------------------------------------------------------
    def renders(self, encoding: str | None) -> bool:
        """Whether values stored with this encoding can be rendered."""
        ...

    async def artifact_value(self, run: Row, row: Row) -> dict[str, Any]:
        """The rendered value ({"text", "truncated", "json", "type"}) or {"error": message}."""
        ...

    async def artifact_bytes(self, run: Row, row: Row) -> bytes:
        """The serialized value (a pickle), as the download returns it."""
        ...

    # -- cards ---------------------------------------------------------------------------------
    async def cards(self, run: Row, task: Row, attempt: int | None) -> list[Row]:
        """Card rows (card_id, type, attempt, size, created_at, change_seq, final, updated_at;
        "hash" where the writer has one), latest attempt first, then by card_id."""
        ...

    async def card_list(self, run: Row, task: Row, attempt: int | None) -> CardList:
        """``cards`` with, when the run recorded cards that cannot be found, why (the list API's ``notice``)."""
        ...

    async def card_html(self, run: Row, task: Row, card_id: str, attempt: int | None) -> CardHtml | None:
        """The card's HTML (its latest attempt unless one is asked for); None if there is none."""
        ...

    async def card_data(self, run: Row, task: Row, card_id: str, attempt: int | None) -> CardData | None:
        """The card's latest live version for its frame (docs/cards.md); None if there is no such card."""
        ...

    # -- the DAG -------------------------------------------------------------------------------
    async def dag(self, run: Row) -> dict[str, Any]:
        """Metaflow's ``_graph_info`` shape; {} while it is not known yet."""
        ...
