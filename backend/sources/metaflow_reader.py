"""Reads of Metaflow's datastore for the metaflow source (backend/sources/metaflow.py).

Same rules as ``backend.cache.blobs.BlobReader`` for native runs: blocking reads happen in a
bounded thread pool under the backend's ``datastore_timeout`` (504 when it passes), never on
the event loop. Blobs are content-addressed and a finished attempt's log files never change
again, so both are cached; the log of a running attempt is re-read on every request. Card
listings and card HTML of finished tasks are cached too (see ``cards``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from backend.cache.budget import CacheBudget
from backend.cache.lru import LruCache
from backend.errors import ApiError
from backend.keys import METAFLOW_READER
from backend.metaflow_store.blobs import read_blob_at
from backend.metaflow_store.card_pages import flowscope_page
from backend.metaflow_store.cards import CardFile, list_card_data, list_cards, read_card, read_card_data
from backend.metaflow_store.logs import attempt_recorded, log_files, read_log
from backend.metaflow_store.mflog import MflogLine
from backend.metaflow_store.roots import FileEntry, StoreError, open_root
from contract.settings import Settings

T = TypeVar("T")
LogKey = tuple[str, str, str, str, str, int, str]
CardsKey = tuple[str, str, str, str, str]   # card root, flow, run, step, task
CardListing = tuple[str, list[CardFile]]    # the cards directory, its cards


# Measured with tracemalloc (tests/backend/test_cache_budget.py): an MflogLine with its text and
# timestamp, beyond the text's characters; a CardFile with its name, type, id and hash strings.
LINE_BYTES = 200
CARD_FILE_BYTES = 380


def lines_size(lines: list[MflogLine]) -> int:
    return sys.getsizeof(lines) + sum(len(ln.text) + LINE_BYTES for ln in lines)


def listing_size(listing: CardListing) -> int:
    return sys.getsizeof(listing[0]) + sys.getsizeof(listing[1]) + CARD_FILE_BYTES * len(listing[1]) + 64


class MetaflowReader:
    def __init__(self, *, timeout: float, threads: int, s3_endpoint_url: str | None,
                 logs: LruCache[list[MflogLine]], blobs: LruCache[bytes],
                 card_lists: LruCache[CardListing]) -> None:
        self.timeout = timeout
        self.s3_endpoint_url = s3_endpoint_url
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="metaflow-store")
        self.logs = logs
        self.blobs = blobs
        self.card_lists = card_lists
        # A few big downloads must not flush the blob cache.
        self.max_blob = blobs.max_bytes // 8

    async def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn, *args), self.timeout)
        except TimeoutError:
            raise ApiError(504, f"reading {what} from the Metaflow datastore took longer than "
                                f"{self.timeout:g} s") from None
        except StoreError as exc:
            raise ApiError(502, f"cannot read {what} from the Metaflow datastore: {exc}") from None
        except OSError as exc:   # S3 client and filesystem errors
            raise ApiError(502, f"cannot read {what} from the Metaflow datastore: {exc}") from None

    def _read_log(self, key: LogKey) -> list[MflogLine]:
        root, flow, run, step, task, attempt, stream = key
        return read_log(open_root(root, self.s3_endpoint_url), flow, run, step, task, attempt, stream)

    async def log(self, key: LogKey, finished: bool) -> list[MflogLine]:
        """Lines of one stream of one attempt (runtime_ and task_ merged); cached once finished."""
        cached = self.logs.get(key) if finished else None
        if cached is not None:
            return cached
        lines = await self._call(f"the {key[6]} log of {'/'.join(key[1:5])}", self._read_log, key)
        if finished and lines:
            # Not an empty one: local Metaflow runs save a task's logs after its process
            # exits, a moment after the attempt is recorded as finished.
            self.logs.put(key, lines)
        return lines

    async def check_attempt(self, key: LogKey) -> None:
        """502 unless the datastore holds the attempt's record: a finished attempt with no log at
        all printed nothing, or lives in a datastore this process does not see (a local root on
        another machine, moved or wiped), which must not read as "no output"."""
        await self._call(f"the {key[6]} log of {'/'.join(key[1:5])}", self._check_attempt, key)

    def _check_attempt(self, key: LogKey) -> None:
        root, flow, run, step, task, attempt, _stream = key
        if not attempt_recorded(open_root(root, self.s3_endpoint_url), flow, run, step, task, attempt):
            raise StoreError(f"{root} holds no record of attempt {attempt} of {'/'.join(key[1:5])} "
                             "(no attempt.json): the datastore Metaflow wrote is not readable at that "
                             "path from here, or the attempt ended before it wrote anything (a task "
                             "that never started) (docs/metaflow.md, section 3)")

    async def log_files(self, key: LogKey) -> tuple[FileEntry, ...]:
        """Sizes and times of the attempt's log files of the stream (a listing; never cached)."""
        root, flow, run, step, task, attempt, stream = key
        return await self._call(f"the {stream} log files of {'/'.join(key[1:5])}", lambda: log_files(
            open_root(root, self.s3_endpoint_url), flow, run, step, task, attempt, stream))

    def _read_blob(self, location: str) -> bytes:
        data = read_blob_at(location, self.s3_endpoint_url)
        if data is None:
            raise StoreError(f"no blob at {location}")
        return data

    async def blob(self, location: str) -> bytes:
        """The serialized (gunzipped) bytes of the artifact blob at ``location``."""
        cached = self.blobs.get(location)
        if cached is not None:
            return cached
        data = await self._call(f"artifact blob {location}", self._read_blob, location)
        if len(data) <= self.max_blob:
            self.blobs.put(location, data)
        return data

    def _list_cards(self, key: CardsKey) -> CardListing:
        root, flow, run, step, task = key
        return list_cards(open_root(root, self.s3_endpoint_url), flow, run, step, task)

    async def cards(self, key: CardsKey, finished: bool, expected: frozenset[str],
                    settled: bool, finished_ms: int = 0) -> CardListing:
        """The cards of a task; a finished task's listing is cached once it is known complete.

        ``expected`` are the hashes of the task's ``card-info`` metadata, registered just after
        each card is saved: a listing holding all of them (and at least one card) is complete
        until another entry appears, which changes the cache key — if no page is older than the task's
        end (``finished_ms``: a live card's final render comes after it). ``settled`` (the task ended
        long ago) lets an empty or partial listing be cached too.
        """
        cache_key = (*key, expected)
        if finished:
            cached = self.card_lists.get(cache_key)
            if cached is not None:
                return cached
        listing = await self._call(f"the cards of {'/'.join(key[1:])}", self._list_cards, key)
        hashes = {c.hash for c in listing[1]}
        # A live card's page is re-rendered once more after the task is recorded finished (Metaflow
        # registers attempt_ok before task_finished renders cards): a page older than the task's
        # end is a runtime version, still to be replaced.
        complete = bool(listing[1]) and expected <= hashes and all(c.modified_ms >= finished_ms for c in listing[1])
        if finished and (settled or complete):
            self.card_lists.put(cache_key, listing)
        return listing

    def _read_card(self, root: str, directory: str, card: CardFile) -> bytes:
        data = read_card(open_root(root, self.s3_endpoint_url), directory, card)
        if data is None:
            raise StoreError(f"card {directory}/{card.name} is listed but cannot be found")
        return data

    async def card_html(self, root: str, directory: str, card: CardFile, finished: bool, title: str) -> bytes:
        """A card's page, redrawn by Flowscope's renderer (card_pages); cached for finished tasks
        (a running one may re-render its cards)."""
        key = ("card-page", root, directory, card.name, card.size, card.modified_ms)
        cached = self.blobs.get(key) if finished else None
        if cached is not None:
            return cached
        data = await self._call(f"card {card.name}", self._read_card, root, directory, card)
        page = await asyncio.get_running_loop().run_in_executor(self._pool, flowscope_page, data, title, finished)
        if finished and len(page) <= self.max_blob:
            self.blobs.put(key, page)
        return page

    async def card_data_files(self, key: CardsKey) -> dict[str, FileEntry]:
        """The task's runtime card data files by card hash (never cached: they change while it runs)."""
        root, flow, run, step, task = key
        return await self._call(f"the card data of {'/'.join(key[1:])}",
                                lambda: list_card_data(open_root(root, self.s3_endpoint_url), flow, run, step, task))

    async def card_data(self, key: CardsKey, entry: FileEntry) -> bytes | None:
        root, flow, run, step, task = key
        return await self._call(f"card data {entry.name}", lambda: read_card_data(
            open_root(root, self.s3_endpoint_url), flow, run, step, task, entry))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict[str, Any]:
        return {"logs": self.logs.stats(), "blobs": self.blobs.stats(), "card_lists": self.card_lists.stats()}


def new_reader(settings: Settings, budget: CacheBudget) -> MetaflowReader:
    """The app's reader, its caches sized by the budget (create_app closes it at cleanup)."""
    return MetaflowReader(
        timeout=settings.datastore_timeout, threads=max(2, settings.datastore_threads // 2),
        s3_endpoint_url=settings.s3_endpoint_url,
        logs=LruCache("metaflow_logs", budget.bytes_for("metaflow_logs"), lines_size),
        blobs=LruCache("metaflow_blobs", budget.bytes_for("metaflow_blobs")),
        card_lists=LruCache("metaflow_card_lists", budget.bytes_for("metaflow_card_lists"), listing_size))


def reader_for(app: web.Application) -> MetaflowReader:
    return app[METAFLOW_READER]
