"""Live logs of Metaflow-recorded runs: polled, because Metaflow's log uploads leave no database trace.

A task that real Metaflow runs remotely (``@kubernetes``, ``@batch``, Argo Workflows) uploads its
growing log files to Metaflow's datastore every few seconds (Metaflow's ``mflog`` uploader); a
local Metaflow run saves its logs once, when the task process exits. The metadata service hears
of neither. So for every websocket subscription to the log of a Metaflow-recorded task, this task
lists the attempt's log files every ``metaflow_log_poll_ms`` while anyone watches, reads the log
again only when a file's size or time changed, and sends each new line to the subscription as an
insert shaped like the REST page's lines (``LogLine``). Subscriptions to the same log share one
listing and one read per pass.

What a subscriber already has: the lines it loaded over REST just before subscribing. Lines
seen on the first pass after it subscribed are sent only if stamped within ``GRACE_MS`` before
the subscription (they may have landed between the REST answer and the subscription); every
line that appears after the first pass is sent. At most ``MAX_LINES_PER_PASS`` lines (the newest)
go to one subscriber per pass: the view pages older ones in over REST, as it does for any line
it has not loaded.

A watched log is listed until ``SETTLE_S`` after its attempt ended (a local run saves its
runtime log a moment after the attempt is recorded as finished), then only for new subscribers.
Local Metaflow runs merge that runtime log in, which can renumber lines a subscriber got earlier
from the task's own uploads; the view is right again when reloaded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from backend.api.respond import dumps
from backend.db import logs as logs_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.live.datastore_poller import DatastorePoller
from backend.live.hub import Client, Hub, Subscription
from backend.metaflow_store.mflog import MflogLine
from backend.metaflow_store.roots import FileEntry
from backend.sources.metaflow_reader import LogKey, reader_for

log = logging.getLogger("flowscope.live")

GRACE_MS = 10_000
SETTLE_S = 30.0    # a local run saves its runtime log a moment after the attempt is recorded as ended
MAX_LINES_PER_PASS = 500


@dataclass
class Watched:
    """One log (task attempt stream) that subscribers watch, and what each of them was sent."""
    key: LogKey | None = None
    files: tuple[FileEntry, ...] | None = None
    lines: list[MflogLine] = field(default_factory=list)
    finished: bool = False
    ended_at: float | None = None     # monotonic time the attempt was first seen ended
    sent: dict[tuple[int, str], int] = field(default_factory=dict)   # (client, sub id) -> lines sent


def first_to_send(lines: list[MflogLine], started_ms: int) -> int:
    """Index of the first line a new subscriber may not have: stamped within the grace period
    (or unstamped, which Metaflow's merge puts last). Resending a line it has costs nothing:
    the view keys lines by number."""
    i = len(lines)
    while i > 0:
        ts = lines[i - 1].ts_ms
        if ts is not None and ts < started_ms - GRACE_MS:
            break
        i -= 1
    return i


def line_message(sub: Subscription, number: int, line: MflogLine) -> str:
    data = dumps({"line": number, "ts": line.ts_ms, "text": line.text})
    return (f'{{"type":"insert","id":{dumps(sub.id)},"resource":{dumps(sub.resource)},'
            f'"data":{data}}}')


class MetaflowLogPoller(DatastorePoller):
    feed, what = "log", "Metaflow log"

    def __init__(self, app: web.Application, hub: Hub, every_s: float) -> None:
        super().__init__(app, hub, every_s)
        self.logs: dict[tuple[Any, ...], Watched] = {}
        self.reads = 0
        self.lines_sent = 0

    async def _refresh(self, w: Watched, sub: Subscription) -> bool:
        """Re-read the log if its files changed; True if ``w.lines`` may hold new lines."""
        t = sub.target
        assert t.run_pk is not None and t.task_pk is not None and t.attempt is not None
        db = self.hub.db
        if w.key is None:
            root = await logs_db.metaflow_ds_root(db, t.run_pk, t.task_pk)
            if root is None:
                return False   # not started yet: no ds-root recorded
            p = t.path
            w.key = (root, p["flow"], p["run"], p["step"], p["task"], t.attempt, p["stream"])
        task = await tasks_db.get_task(db, live_params(self.hub.settings), t.run_pk, t.path["step"], t.path["task"])
        # Ended (or a newer attempt began): after SETTLE_S more the log will not change again.
        ended = task is None or (task["attempt"] != t.attempt or task["finished_at"] is not None)
        if ended and w.ended_at is None:
            w.ended_at = time.monotonic()
        w.finished = w.ended_at is not None and time.monotonic() - w.ended_at > SETTLE_S
        reader = reader_for(self.app)
        files = await reader.log_files(w.key)
        if files == w.files:
            return False
        w.files = files
        w.lines = await reader.log(w.key, finished=False)
        self.reads += 1
        return True

    def _send(self, w: Watched, client: Client, sub: Subscription) -> None:
        ident = (client.n, sub.id)
        start = w.sent.get(ident)
        if start is None:
            start = first_to_send(w.lines, sub.started_ms)
        start = max(start, len(w.lines) - MAX_LINES_PER_PASS)
        for n in range(start, len(w.lines)):
            if not self.hub.offer_or_drop(client, line_message(sub, n + 1, w.lines[n])):
                return
            self.lines_sent += 1
        w.sent[ident] = max(w.sent.get(ident, 0), len(w.lines))

    async def poll_once(self) -> None:
        groups = self.watched()
        for key in list(self.logs):
            if key not in groups:
                del self.logs[key]
        for key, members in groups.items():
            w = self.logs.setdefault(key, Watched())
            live = {(c.n, s.id) for c, s in members}
            for ident in list(w.sent):
                if ident not in live:
                    del w.sent[ident]
            new_members = [(c, s) for c, s in members if (c.n, s.id) not in w.sent]
            if w.finished and not new_members:
                continue
            try:
                changed = await self._refresh(w, members[0][1])
            except Exception as exc:  # noqa: BLE001 - a datastore hiccup: try again next pass
                self.errors += 1
                log.warning("polling the Metaflow log of %s failed: %s", members[0][1].target.path, exc)
                continue
            for client, sub in members:
                if changed or (client.n, sub.id) not in w.sent:
                    self._send(w, client, sub)
        self.polls += 1

    def stats(self) -> dict[str, Any]:
        return {"every_ms": int(self.every_s * 1000), "polls": self.polls, "reads": self.reads,
                "lines_sent": self.lines_sent, "errors": self.errors, "logs": len(self.logs)}
