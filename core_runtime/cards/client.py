"""Reading cards back: ``get_cards(task, id=None, type=None)`` as in Metaflow's client.

Returns a CardContainer (list-like) of Card objects whose HTML is fetched on ``get()``. A task
with no matching card raises CardNotPresentException. A resumed task's cards are its origin's
(resume copies them), which is Metaflow's ``follow_resumed`` behaviour.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from core_runtime.exception import MetaflowException

CARDS = """
SELECT card_id, type, location, size, created_at, decorator_id FROM cards
 WHERE task_pk = %s AND attempt = %s ORDER BY created_at, card_id
"""


class CardNotPresentException(MetaflowException):
    headline = "Card not found in datastore"   # Metaflow's; scripts look for it on stderr

    def __init__(self, pathspec: str, card_type: str | None = None, card_id: str | None = None) -> None:
        what = " and ".join(f"{k} {v!r}" for k, v in (("type", card_type), ("id", card_id)) if v)
        super().__init__(f"task {pathspec} has no card" + (f" with {what}" if what else ""))


class Card:
    def __init__(self, task_pathspec: str, decorator_id: str | None, card_type: str, location: str,
                 created_at: int | None = None, source: Any = None) -> None:
        self._location = location
        self._source = source
        self._html: str | None = None
        self.type = card_type
        self.hash = hashlib.sha1(f"{task_pathspec}/{location}".encode()).hexdigest()
        self.id = decorator_id          # the id given to @card, None without one (as Metaflow)
        self.created_on = created_at
        self.from_resumed = False
        self.origin_pathspec: str | None = None

    @property
    def path(self) -> str:
        return self._location

    def get(self) -> str:
        """The card's HTML, read from the datastore on first use."""
        if self._html is None:
            from core_runtime.client import context

            store = self._source.datastore() if self._source is not None else context.datastore()
            self._html = store.get(self._location).decode("utf-8", errors="replace")
        return self._html

    def get_data(self) -> dict[str, Any] | None:
        """Live-update data of a card; cards here are rendered once, so there is none."""
        return None

    def view(self) -> None:
        import webbrowser

        fd, path = tempfile.mkstemp(suffix=".html")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.get())
        webbrowser.open("file://" + path)

    def _repr_html_(self) -> str:
        return self.get()

    def __str__(self) -> str:
        return f"<Card at '{self._location}'>"

    __repr__ = __str__


class CardContainer:
    def __init__(self, cards: list[Card], origin_pathspec: str | None = None) -> None:
        self._cards = cards
        self.origin_pathspec = origin_pathspec
        self.from_resumed = origin_pathspec is not None

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def __getitem__(self, index: int) -> Card:
        return self._cards[index]

    def _repr_html_(self) -> str:
        return "\n".join(f"<h1>{c.type}</h1>{c.get()}" for c in self._cards)


def get_cards(task: Any, id: str | None = None, type: str | None = None,
              follow_resumed: bool = True) -> CardContainer:
    """The cards of a task (a ``Task`` or its pathspec), optionally only those of an id or type."""
    from core_runtime.client import Task

    if isinstance(task, str):
        task = Task(task, _namespace_check=False)
    elif not isinstance(task, Task):
        raise MetaflowException(f"get_cards takes a Task or a task pathspec, got {task!r}")
    rows = task._src.query(CARDS, (task._task_pk, task.current_attempt))
    cards = [Card(task.pathspec, decorator_id, ctype, location, created, task._src)
             for _card_id, ctype, location, _size, created, decorator_id in rows
             if (type is None or ctype == type) and (id is None or decorator_id == id)]
    if not cards:
        raise CardNotPresentException(task.pathspec, type, id)
    origin = task.cloned_from if follow_resumed else None
    for c in cards:
        c.from_resumed, c.origin_pathspec = origin is not None, origin
    return CardContainer(cards, origin)
