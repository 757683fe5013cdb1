"""The scheduler's end of a task's events pipe: live card versions, recorded as cards rows.

The task writes one JSON line per card version (core_runtime.cards.publish); the row's change
is the event the UI's websocket feed follows. A final version (written when the task ends)
arrives with the task's result instead and is never overwritten by a late live one.
"""

from __future__ import annotations

import json
import sys
from typing import Any

MAX_LINE = 64 * 1024


class CardEvents:
    def __init__(self, store: Any, task: Any) -> None:
        self.store = store
        self.task = task
        self.buf = b""
        self.bad = 0
        self.recorded = 0

    def feed(self, data: bytes) -> None:
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        if len(self.buf) > MAX_LINE:   # not ours: a task never writes lines this long
            self.buf = b""
        for line in lines:
            self._line(line)

    def _line(self, line: bytes) -> None:
        try:
            ev = json.loads(line)
            if ev.get("kind") != "card":
                return
            self.store.record_card(self.task, int(ev["attempt"]), str(ev["card_id"]), str(ev["type"]),
                                   str(ev["location"]), ev.get("size"), data_location=ev.get("data_location"),
                                   final=False, updated_at=ev.get("updated_at"),
                                   decorator_id=ev.get("decorator_id"))
            self.recorded += 1
        except (ValueError, KeyError, TypeError) as exc:
            self.bad += 1
            if self.bad == 1:
                print(f"flowscope: ignoring a malformed card event from task {self.task.task_id}: {exc}",
                      file=sys.stderr)

    def close(self) -> None:
        if self.buf:
            self._line(self.buf)
            self.buf = b""
