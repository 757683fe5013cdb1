"""What a live feed produces, and what it may read to produce it (no resource knowledge here).

A feed is a resource's answer to "every change of your rows after seq N", shaped exactly like
the REST resource's items, each with the row's change_seq. The resources (backend/resources/)
implement the feeds; backend/live/targets.py picks one per subscription.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiDict

from backend.cache.blobs import BlobReader
from backend.db.query import Db


@dataclass
class Event:
    kind: str           # insert | update
    key: str            # identity of the object within the resource
    seq: int
    data: Any           # what orjson encodes: a dict, or an orjson.Fragment of JSON built by Postgres
    created_at: int | None = None


@dataclass
class Batch:
    """A fetch's answer: the changes after ``since``, oldest first.

    ``complete`` is False when a query hit its row limit: the events then cover exactly the
    changes up to the highest seq among them, and the caller must ask again from there.
    """
    events: list[Event]
    complete: bool = True


@dataclass
class Target:
    """A subscription's resource: the feed's name, the path's parameters, the query."""
    feed: str
    path: dict[str, str]
    query: MultiDict[str]
    run_pk: int | None = None       # run-scoped targets: the run they belong to
    task_pk: int | None = None
    attempt: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def global_scope(self) -> bool:
        return self.run_pk is None

    @property
    def key(self) -> tuple[Any, ...]:
        """Everything the feed depends on: targets with equal keys can share one fetch."""
        return (self.feed, tuple(sorted(self.path.items())), tuple(sorted(self.query.items())),
                self.run_pk, self.task_pk, self.attempt)


@dataclass(frozen=True)
class FeedContext:
    """What a feed may use: the reader pool, the liveness parameters, the datastore, the run's DAG."""
    db: Db
    live: dict[str, Any]
    blobs: BlobReader
    dag: dict[str, Any] | None


Fetch = Callable[[Target, int, FeedContext], Awaitable[Batch]]


@dataclass(frozen=True)
class Feed:
    """A resource's live feed: how to resolve a subscription and how to fetch its changes.

    ``scope``: "global" (no run), "run" (the path names a run) or "task" (the path names a
    task: the feed follows one attempt, ``?attempt=`` or the latest).
    """
    name: str
    scope: str
    fetch: Fetch
    item: str            # the component schema of an event's data (OpenAPI)
    # Reads the subscription's query parameters into ``target.extra`` (400 on a bad value).
    prepare: Callable[[Target], None] | None = None
