"""The websocket hub: clients, their subscriptions, batching and per-client bounded queues.

Notifications only mark runs (or "everything global") dirty; at most once per ``batch_ms`` the
hub runs each dirty target's "changes since my last seq" query once per distinct target (shared
by all its subscriptions) and hands the events to clients' queues without waiting on any socket. Each client has its own sender task;
a client whose queue overflows is closed with 4008 ("too slow"), so a stalled reader costs the
others nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

from backend.api.respond import dumps
from backend.cache.blobs import BlobReader
from backend.cache.lru import LruCache
from backend.db.query import Db
from backend.live.horizon import Horizons
from backend.live.targets import Batch, Event, Target, fetch
from backend.shutdown import stop_task
from backend.sources.dags import cached_dag
from contract.settings import Settings

log = logging.getLogger("flowscope.live")

TOO_SLOW = 4008


@dataclass
class Subscription:
    id: str
    resource: str
    target: Target
    last_seq: int
    started_ms: int
    seen: set[str] = field(default_factory=set)
    # One delivery at a time: a resync and a live flush must not both send the same changes.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Changes above the horizon are waiting (backend/live/horizon.py): retry on every batch.
    held: bool = False

    def label(self, event: Event) -> str:
        """insert for objects new since the subscription began, else update."""
        if event.kind == "insert":
            return "insert"
        if event.key not in self.seen and (event.created_at or 0) >= self.started_ms:
            return "insert"
        return "update"


class Client:
    _ids = itertools.count(1)

    def __init__(self, ws: web.WebSocketResponse, queue_size: int) -> None:
        self.n = next(self._ids)
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self.subs: dict[str, Subscription] = {}
        self.closed = False
        self.sent = 0
        self.sender: asyncio.Task[None] | None = None

    def offer(self, message: str) -> bool:
        try:
            self.queue.put_nowait(message)
            return True
        except asyncio.QueueFull:
            return False


class Hub:
    def __init__(self, db: Db, settings: Settings, blobs: BlobReader, dag_cache: LruCache[Any]) -> None:
        self.db = db
        self.settings = settings
        self.blobs = blobs
        self.dag_cache = dag_cache
        self.batch_s = settings.ws_batch_ms / 1000
        self.queue_size = settings.ws_queue_size
        self.clients: set[Client] = set()
        self._dirty_runs: set[int] = set()
        self._dirty_global = False
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._last_flush = 0.0
        self._stopping = False
        self.horizons = Horizons(db)
        self.dropped_slow = 0
        # Bumped on every notification (and on listener connects/losses): a response cached under
        # one generation is valid while it stays the same and ``listening`` is true.
        self.generation = 0
        self.listening = False
        self.events_sent = 0
        self.flushes = 0
        self.fetches = 0
        self._closing: set[asyncio.Task[None]] = set()   # closes of slow clients under way

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop(), name="flowscope-hub")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await stop_task(self._flusher, 5.0, "the live hub's flush loop")
        for client in list(self.clients):
            await self.close_client(client, WSCloseCode.GOING_AWAY, "server shutdown")

    # -- notifications -------------------------------------------------------------------------
    def notify(self, payload: str) -> None:
        self.generation += 1
        kind, _, value = payload.partition(":")
        if kind == "run" and value.isdigit():
            self._dirty_runs.add(int(value))
        self._dirty_global = True  # run lists and flow lists may change with any run
        self._wake.set()

    def notify_all(self) -> None:
        """After a listener reconnect: anything may have changed while we were not listening."""
        self.generation += 1
        for client in self.clients:
            for sub in client.subs.values():
                if sub.target.run_pk is not None:
                    self._dirty_runs.add(sub.target.run_pk)
        self._dirty_global = True
        self._wake.set()

    async def _flush_loop(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            if self._stopping:
                return
            # At most one pass per batch_s: a change after a quiet spell goes out at once, and a
            # busy run's many notifications gather into the next pass.
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(0.0, self._last_flush + self.batch_s - loop.time()))
            self._last_flush = loop.time()
            self._wake.clear()
            runs, self._dirty_runs = self._dirty_runs, set()
            global_dirty, self._dirty_global = self._dirty_global, False
            try:
                await self.flush(runs, global_dirty)
            except Exception as exc:  # noqa: BLE001 - e.g. Postgres restarting: keep the work, retry
                log.warning("live flush failed (%s: %s); retrying", type(exc).__name__, exc)
                self._dirty_runs |= runs
                self._dirty_global = self._dirty_global or global_dirty
                await asyncio.sleep(1.0)
                self._wake.set()

    async def flush(self, runs: set[int], global_dirty: bool) -> None:
        self.flushes += 1
        if not self.clients:
            return
        horizon = await self.horizons.sample()   # before the data queries it guards
        # Subscriptions to the same target share one fetch: 1,000 clients watching a run cost
        # one query per batch, not 1,000.
        groups: dict[tuple[Any, ...], list[tuple[Client, Subscription]]] = {}
        for client in list(self.clients):
            for sub in list(client.subs.values()):
                t = sub.target
                if sub.held or (t.global_scope and global_dirty) or (t.run_pk is not None and t.run_pk in runs):
                    groups.setdefault(t.key, []).append((client, sub))
        for members in groups.values():
            await self._deliver_group(members, horizon)
        if any(sub.held for client in self.clients for sub in client.subs.values()):
            self._wake.set()   # come back next batch for changes waiting on the horizon

    # -- delivery ------------------------------------------------------------------------------
    async def _dag(self, target: Target) -> dict[str, Any] | None:
        if target.feed != "steps" or target.run_pk is None:
            return None
        return await cached_dag(self.dag_cache, self.db, target.run_pk)

    async def deliver(self, client: Client, sub: Subscription, horizon: int | None = None) -> None:
        """Send the subscription's changes after its last seq (also the resync with ``since``)."""
        if horizon is None:
            horizon = await self.horizons.sample()
        async with sub.lock:
            self.fetches += 1
            batch = await fetch(sub.target, sub.last_seq, self.db, self.settings, self.blobs,
                                await self._dag(sub.target))
            self._send(client, sub, batch, horizon, {})
        if sub.held:
            self._wake.set()   # the rest (above the horizon or past a limit) in the next batch

    async def _deliver_group(self, members: list[tuple[Client, Subscription]], horizon: int) -> None:
        """One fetch from the lowest last seq among subscriptions of one target, sent to each."""
        busy = [(c, s) for c, s in members if s.lock.locked()]   # a resync is sending to these
        free = [(c, s) for c, s in members if not s.lock.locked()]
        if free:
            for _, sub in free:
                await sub.lock.acquire()     # free: returns at once, without yielding
            try:
                target = free[0][1].target
                self.fetches += 1
                batch = await fetch(target, min(s.last_seq for _, s in free), self.db, self.settings,
                                    self.blobs, await self._dag(target))
                encoded: dict[int, str] = {}
                for client, sub in free:
                    self._send(client, sub, batch, horizon, encoded)
            finally:
                for _, sub in free:
                    sub.lock.release()
        for client, sub in busy:
            await self.deliver(client, sub, horizon)

    def _send(self, client: Client, sub: Subscription, batch: Batch, horizon: int,
              encoded: dict[int, str]) -> None:
        """Queue the batch's events after the subscription's last seq, up to what is known complete.

        Known complete: everything up to the horizon (an open transaction may still commit a
        lower seq above it), and, when the query was limited, up to the last row it read.
        ``encoded`` caches each event's JSON across the subscriptions sharing the batch.
        """
        if client.closed or sub.id not in client.subs:
            return
        covered = horizon
        if not batch.complete and batch.events:
            covered = min(covered, max(e.seq for e in batch.events))
        sub.held = not batch.complete or any(e.seq > covered for e in batch.events)
        head = None
        for event in batch.events:
            if event.seq <= sub.last_seq or event.seq > covered:
                continue
            data = encoded.get(id(event))
            if data is None:
                data = encoded[id(event)] = dumps(event.data)
            if head is None:
                head = f',"id":{dumps(sub.id)},"resource":{dumps(sub.resource)},"data":'
            message = f'{{"type":"{sub.label(event)}"{head}{data},"seq":{event.seq}}}'
            sub.seen.add(event.key)
            if not self.offer_or_drop(client, message):
                return
        sub.last_seq = max(sub.last_seq, covered)

    def offer_or_drop(self, client: Client, message: str) -> bool:
        """Queue one event message; a client whose queue is full is closed with 4008 (False)."""
        if client.offer(message):
            self.events_sent += 1
            return True
        self.dropped_slow += 1
        # Keep a reference: the loop holds tasks weakly, a dropped one may never finish.
        closing = asyncio.create_task(self.close_client(client, TOO_SLOW, "too slow: event queue full"))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        return False

    def subscribe(self, client: Client, sub: Subscription) -> None:
        client.subs[sub.id] = sub

    async def close_client(self, client: Client, code: int, message: str) -> None:
        if client.closed:
            return
        client.closed = True
        self.clients.discard(client)
        if client.sender is not None:
            client.sender.cancel()
        try:
            await asyncio.wait_for(client.ws.close(code=code, message=message.encode()), 2)
        except (TimeoutError, ConnectionError, RuntimeError):
            # The peer is not reading at all: drop the connection rather than wait on it.
            transport = client.ws._req.transport if client.ws._req is not None else None
            if transport is not None:
                transport.abort()

    def stats(self) -> dict[str, Any]:
        return {"clients": len(self.clients),
                "subscriptions": sum(len(c.subs) for c in self.clients),
                "queued": sum(c.queue.qsize() for c in self.clients), "queue_size": self.queue_size,
                "batch_ms": int(self.batch_s * 1000), "events_sent": self.events_sent,
                "flushes": self.flushes, "fetches": self.fetches, "dropped_slow_clients": self.dropped_slow,
                "now": int(time.time() * 1000)}
