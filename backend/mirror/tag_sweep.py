"""Tag mutations on any run, however old: a rolling sweep of the source's runs by primary key.

The service changes a run's ``tags`` in place (``run.add_tag`` years after it finished) and neither
a serial column nor Metaflow UI's notify triggers reveal it. So, once per liveness interval, the
tail reads the next ``mirror_tag_sweep_runs`` runs in ``(flow_id, run_number)`` order — an index
range scan of the source's primary key, never a scan of the table — compares their tags with
Flowscope's and applies the differences; at the end of the table it starts over. A full pass over
1,000,000 runs takes 1,000,000 / runs-per-step × the interval (42 min at 2,000 every 5 s); runs
alive or finished within the hour are followed every interval (tail.liveness) regardless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.ingest.db.pool import all_rows, transaction
from backend.ingest.state.store import StateStore
from backend.mirror.replay import Batch, Replayer, RunKey

if TYPE_CHECKING:
    from backend.mirror.mirror import Mirror

MIRRORED = ("SELECT m.flow_id, m.run_number, r.run_id, r.tags FROM mirror_runs m JOIN runs r USING (run_pk) "
            "JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) ON m.flow_id = k.f AND m.run_number = k.n "
            "WHERE m.source = %s")


class TagSweep:
    """Where the sweep is (in memory: after a restart it starts over, which only costs reads)."""

    def __init__(self, m: Mirror, runs_per_step: int) -> None:
        self.m = m
        self.runs_per_step = runs_per_step
        self.after: RunKey = ("", -1)
        self.passes = 0        # full passes completed (for tests and /api/-/status readers)
        self.changed = 0       # runs whose tags it corrected

    async def step(self) -> int:
        """Read the next page of source runs and apply their tag changes; returns how many changed."""
        if self.runs_per_step <= 0:
            return 0
        m = self.m
        page = await m.source.all(m.source.sql.runs_after, (self.after[0], self.after[1], self.runs_per_step))
        if len(page) < self.runs_per_step:
            self.after, self.passes = ("", -1), self.passes + 1
        else:
            self.after = (page[-1]["flow_id"], int(page[-1]["run_number"]))
        if not page:
            return 0
        keys = [(r["flow_id"], int(r["run_number"])) for r in page]
        async with transaction(m.pool) as cur:
            mine = {(r["flow_id"], int(r["run_number"])): r for r in await all_rows(
                cur, MIRRORED, ([k[0] for k in keys], [k[1] for k in keys], m.name))}
        changed: dict[RunKey, dict[str, Any]] = {}
        for key, row in zip(keys, page):
            have = mine.get(key)
            tags = sorted(row["tags"]) if isinstance(row["tags"], list) else []
            if have is not None and tags != sorted(have["tags"] or []):
                # Only the tags: a finished run's heartbeat is history.
                changed[key] = {**row, "last_heartbeat_ts": None}
        if not changed:
            return 0
        batch = Batch(mirrored={k: mine[k]["run_id"] for k in changed}, heartbeats=changed)
        async with transaction(m.pool) as cur:
            store = StateStore(cur)
            replayer = Replayer(store, m.enricher)
            await replayer.prepare(batch, {})
            await replayer.apply(batch)
            await store.flush()
        self.changed += len(changed)
        return len(changed)
