"""Rendering a card of a custom type (a MetaflowCard subclass) when its task ends.

As Metaflow's ``card create`` does: the class is built with ``options``, the appended components
already rendered (``render()`` output; anything that is not a component, or fails to render, is
left out), ``graph`` and ``flow``; ``render(task)`` must return the page's HTML within the card's
``timeout``. A card that fails, times out or returns nothing is replaced by an error card
(``save_errors=True``, the default) or left out, with the reason on stderr; it never fails the task.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core_runtime.cards.card_types import ErrorCard, card_class
from core_runtime.cards.components import MetaflowCardComponent


class CardTimeout(Exception):
    pass


class CardTask:
    """The task a card type's ``render(task)`` gets: ``pathspec``, ``id``, ``task["x"].data``,
    ``task.data.x`` — the artifacts this task just stored (the database does not have them yet)."""

    def __init__(self, pathspec: str, records: list[dict[str, Any]], values: dict[str, Any]) -> None:
        self.pathspec = pathspec
        self.id = pathspec.rsplit("/", 1)[-1]
        self.finished = True
        self._records = {r["name"]: r for r in records}
        self._values = values
        self.data = _CardTaskData(self)

    def _value(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        rec = self._records.get(name)
        if rec is None or "location" not in rec:
            raise KeyError(f"task {self.pathspec} has no artifact {name!r}")
        from contract.datastore import open_datastore
        from contract.settings import load_settings
        from core_runtime.artifacts import load_artifact

        return load_artifact(open_datastore(load_settings()), rec["location"])

    def __getitem__(self, name: str) -> _CardArtifact:
        return _CardArtifact(name, self._value(name))

    def __contains__(self, name: str) -> bool:
        return name in self._values or name in self._records

    def __repr__(self) -> str:
        return f"Task('{self.pathspec}')"


class _CardArtifact:
    def __init__(self, name: str, data: Any) -> None:
        self.id = name
        self.data = data


class _CardTaskData:
    def __init__(self, task: CardTask) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._task._value(name)
        except KeyError as exc:
            raise AttributeError(str(exc)) from None


def rendered_component(component: Any) -> Any:
    """What a card type receives for an appended component: its render() output (str or dict)."""
    if not isinstance(component, MetaflowCardComponent):
        return None
    try:
        out = component.render()
    except Exception:  # noqa: BLE001 - a broken component is dropped, as in Metaflow
        return None
    return out if isinstance(out, (str, dict)) else None


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Stop a card's render() after ``seconds`` (the task process is single-threaded)."""
    if seconds <= 0:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise CardTimeout(f"card rendering took longer than its timeout of {seconds:g} s "
                          f"(set @card(timeout=...) to allow more)")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def render_custom(card_type: str, attrs: dict[str, Any], components: list[Any], task: CardTask,
                  graph: Any) -> str | None:
    """The page of one custom-type card, its error card, or None (failed, ``save_errors=False``)."""
    cls = card_class(card_type)
    try:
        if cls is None:
            raise LookupError(f"no card type {card_type!r} is registered (define a MetaflowCard "
                              f"subclass with type = {card_type!r}, or name its module in "
                              f"FLOWSCOPE_CARD_MODULES)")
        rendered = [r for r in (rendered_component(c) for c in components) if r is not None]
        instance = cls(options=dict(attrs.get("options") or {}), components=rendered, graph=graph, flow=None)
        with _deadline(float(attrs.get("timeout") or 0)):
            page = instance.render(task)
        if page is None:
            raise ValueError(f"render() of card type {card_type!r} returned nothing")
        if not isinstance(page, str):
            raise TypeError(f"render() of card type {card_type!r} returned {type(page).__name__}, "
                            f"not an HTML string")
        return page
    except Exception as exc:  # noqa: BLE001 - a card never fails the task
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(f"[@card WARNING] @card(type={card_type!r}) failed: {type(exc).__name__}: {exc}\n")
        if not attrs.get("save_errors", True):
            return None
        return ErrorCard().render(task, stack_trace=trace)
