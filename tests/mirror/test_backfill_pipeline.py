"""The backfill's batches commit out of order; the checkpoint only ever covers a committed prefix.

The Mirror is a stand-in here (no database): ``apply`` commits the batches in the order the test
releases them, and records the checkpoint each commit would save. The real writes, kills and
resumes are tests/mirror/test_mirror_resume.py's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.mirror import backfill as bf
from backend.mirror import checkpoint as ck
from backend.mirror.replay import Applied, Batch


class FakeStatus:
    phase = "backfilling"

    def backfill_progress(self, *_: Any) -> None:
        pass


class FakeMirror:
    def __init__(self, writers: int) -> None:
        self.name = "m"
        self.writers = writers
        self.ckpt = ck.Checkpoint(runs_done=5)
        self.status = FakeStatus()
        self.release: dict[int, asyncio.Event] = {}
        self.saved: list[tuple[int, list[Any] | None, int]] = []   # (batch, cursor, runs_done) per commit
        self.in_flight = 0
        self.most_in_flight = 0

    async def apply(self, batch: Batch, _known: dict[int, Any], before_commit: Any) -> Applied:
        n = int(next(iter(batch.new_runs))[1])
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await self.release.setdefault(n, asyncio.Event()).wait()
        await before_commit(None, Applied())
        self.saved.append((n, self.ckpt.backfill_cursor, self.ckpt.runs_done))
        self.in_flight -= 1
        return Applied()

    def note_applied(self, *_: Any) -> None:
        pass

    async def publish(self) -> None:
        pass


async def test_checkpoint_moves_only_past_a_committed_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    async def read(_m: Any, runs: list[dict[str, Any]]) -> Batch:
        return Batch(new_runs={("F", runs[0]["run_number"]): runs[0]})

    async def save(*_: Any) -> None:
        pass

    monkeypatch.setattr(bf, "_read", read)
    monkeypatch.setattr(ck, "save", save)
    m = FakeMirror(writers=2)
    pipe = bf.Pipeline(m)  # type: ignore[arg-type]
    rows = [{"ts_epoch": 100 - n, "flow_id": "F", "run_number": n} for n in range(1, 5)]
    for n in (1, 2, 3):
        await pipe.add([rows[n - 1]], rows[n - 1], passed=n)        # batch n passes n runs
    adding = asyncio.ensure_future(pipe.add([rows[3]], rows[3], passed=4))
    await asyncio.sleep(0.01)
    assert not adding.done()            # two batches written, one read ahead: the fourth waits
    assert m.in_flight == 2
    m.release.setdefault(2, asyncio.Event()).set()    # batch 2 commits before batch 1
    await asyncio.sleep(0.01)
    assert m.saved == [(2, None, 5)]    # its checkpoint stays where it was (batch 1 is not in)
    await adding
    m.release.setdefault(1, asyncio.Event()).set()
    await asyncio.sleep(0.01)
    assert m.saved[-1] == (1, [98, "F", 2], 5 + 1 + 2)   # now past batches 1 and 2
    m.release.setdefault(4, asyncio.Event()).set()
    await asyncio.sleep(0.01)
    assert m.saved[-1] == (4, [98, "F", 2], 8)          # batch 3 is still open
    m.release.setdefault(3, asyncio.Event()).set()
    await pipe.drain()
    assert m.saved[-1] == (3, [96, "F", 4], 8 + 3 + 4)
    assert m.most_in_flight == 2 and not pipe.slots
