"""Reading Metaflow's datastore for mirrored artifacts, many attempts at a time.

The same reader the ingest service uses (``backend.ingest.enrich.inspect``: data.json, the DAG,
parameters, foreach stack, exception), in a bounded thread pool. A root that cannot be read is
probed once a minute instead of once per attempt, and counted for /api/-/status: a mirror of
years of history must not spend its time (or its log) on a datastore it cannot see.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from backend.ingest.enrich import Enrichment, inspect
from backend.metaflow_store.roots import StoreError, open_root

log = logging.getLogger(__name__)
PROBE_EVERY_S = 60.0
INSPECT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Job:
    root: str
    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    shas: dict[str, str]
    catch_step: bool


class Enricher:
    def __init__(self, s3_endpoint_url: str | None, threads: int) -> None:
        self.s3_endpoint_url = s3_endpoint_url
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mirror-datastore")
        self._roots: dict[str, tuple[bool, float]] = {}
        self._probing: dict[str, asyncio.Future[bool]] = {}
        self.unreadable: dict[str, int] = {}     # root -> attempts left without datastore facts
        self.read = 0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _probe(self, root: str) -> tuple[bool, str]:
        """Whether the root lists, and why not (logged once when it turns unreadable, not per probe)."""
        try:
            return bool(open_root(root, self.s3_endpoint_url).list("")), "nothing is listed there"
        except (StoreError, OSError, ValueError) as exc:
            return False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    def known_unreadable(self) -> list[str]:
        """Roots found unreadable by a probe still fresh: attempts there get no datastore facts."""
        now = time.monotonic()
        return sorted(r for r, (ok, at) in self._roots.items() if not ok and now - at < PROBE_EVERY_S)

    async def _readable(self, root: str) -> bool:
        known = self._roots.get(root)
        if known is not None and time.monotonic() - known[1] < PROBE_EVERY_S:
            return known[0]
        # One probe per root at a time: a batch asks about the same root for every attempt at once.
        probe = self._probing.get(root)
        if probe is None or probe.done():     # done: an old answer that a cancelled caller left behind
            probe = self._probing[root] = asyncio.ensure_future(self._reprobe(root, known))
        try:
            return await asyncio.shield(probe)
        finally:
            if probe.done():
                self._probing.pop(root, None)

    async def _reprobe(self, root: str, known: tuple[bool, float] | None) -> bool:
        loop = asyncio.get_running_loop()
        ok, why = await loop.run_in_executor(self._pool, self._probe, root)
        if not ok and (known is None or known[0]):
            log.warning("Metaflow datastore %s cannot be read (%s): mirrored runs of it get no DAG, parameters, "
                        "artifact types or previews until it can (logs and artifact values are read by the "
                        "UI when it can see it)", root, why)
        self._roots[root] = (ok, time.monotonic())
        return ok

    async def _one(self, job: Job) -> Enrichment | None:
        if not await self._readable(job.root):
            self.unreadable[job.root] = self.unreadable.get(job.root, 0) + 1
            return None
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool, inspect, job.root, self.s3_endpoint_url, job.flow, job.run_id,
                                   job.step, job.task_id, job.attempt, job.shas, job.catch_step)
        try:
            info = await asyncio.wait_for(fut, INSPECT_TIMEOUT_S)
        except Exception:   # the datastore is advisory: the rows are mirrored regardless
            log.exception("reading the datastore for %s/%s/%s/%s attempt %d failed", job.flow, job.run_id,
                          job.step, job.task_id, job.attempt)
            return None
        self.read += 1
        return info

    async def inspect_many(self, jobs: list[Job]) -> list[Enrichment | None]:
        return list(await asyncio.gather(*(self._one(j) for j in jobs)))
