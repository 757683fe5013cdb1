"""``current.card``: Metaflow 2.19's card API inside a step.

* ``current.card.append(c, id=None)`` / ``extend`` / ``clear`` / ``components`` / ``refresh`` act on
  the *default editable card*: the only editable card of the step, else the only one without an
  id, else the one with ``customize=True`` (Metaflow's rules). ``current.card["id"]`` is the card
  with that id; ``current.card["id"] = [...]`` replaces its components.
* ``refresh(data=None, force=False)`` is throttled like Metaflow's: a call within
  ``refresh_interval`` seconds of the last accepted one is ignored. An accepted refresh writes the
  card's state (and its page when components were added or removed, or ``force``); the UI shows it
  live. The final version is written when the task ends.
* Mistakes warn on stderr (``[@card WARNING] …``) and, like Metaflow, in the cards themselves
  (unless METAFLOW_CARD_NO_WARNING is set, as Metaflow's own tests do); they never fail the step.
* Which cards are editable is the card type's ``ALLOW_USER_COMPONENTS`` (core_runtime.cards.card_types,
  custom types included). ``default`` and ``blank`` are card documents refreshed live; a custom
  type renders its HTML once, when the task ends (core_runtime.cards.custom).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from core_runtime.cards.card_types import DOCUMENT_TYPES, is_editable
from core_runtime.cards.components import MetaflowCardComponent, log_component
from core_runtime.cards.custom import CardTask, render_custom
from core_runtime.cards.documents import card_doc
from core_runtime.cards.publish import CardPublisher, CardTarget


def warn(message: str) -> None:
    print(f"[@card WARNING] {message}", file=sys.stderr)


def warnings_in_cards() -> bool:
    """Metaflow's METAFLOW_CARD_NO_WARNING: set, warnings go to stderr only, not into the cards."""
    return os.environ.get("METAFLOW_CARD_NO_WARNING", "").strip().lower() in ("", "0", "false", "no")


class _Stub(MetaflowCardComponent):
    """``components["missing"]``: updates to it do nothing (Metaflow's StubComponent)."""

    def __init__(self, component_id: str) -> None:
        self.component_id = component_id

    def update(self, *args: Any, **kwargs: Any) -> None:
        warn(f"component with id {self.component_id!r} does not exist; nothing is updated")

    def render(self) -> dict[str, Any]:
        return {}


class ComponentStore:
    """The components of one card: a list (append/extend) that is also a dict by component id."""

    def __init__(self, components: Iterable[Any] = ()) -> None:
        self._map: dict[str, MetaflowCardComponent] = {}
        self.layout_changed_at = time.time()
        for c in components:
            self.append(c)

    def append(self, component: Any, id: str | None = None) -> None:
        if not isinstance(component, MetaflowCardComponent):
            warn(f"{component!r} is not a card component (core_runtime.cards.*); it is not added")
            return
        if id is not None:
            component.component_id = str(id)
        elif component.component_id is None:
            component.safe_render()   # assigns a generated id
        self._map[component.component_id] = component   # type: ignore[index]
        self.layout_changed_at = time.time()

    def extend(self, components: Iterable[Any]) -> None:
        for c in components:
            self.append(c)

    def clear(self) -> None:
        self._map.clear()
        self.layout_changed_at = time.time()

    def __getitem__(self, key: str) -> MetaflowCardComponent:
        if key not in self._map:
            return _Stub(key)
        return self._map[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self._map:
            raise ValueError(f"component {key!r} already exists in this card; replacing one component is "
                             "not supported (assign a new list to current.card[ID] instead)")
        self.append(value, id=key)

    def __delitem__(self, key: str) -> None:
        if key not in self._map:
            raise KeyError(f"no component with id {key!r} (components: {', '.join(self._map)})")
        del self._map[key]
        self.layout_changed_at = time.time()

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __iter__(self) -> Iterator[MetaflowCardComponent]:
        return iter(list(self._map.values()))

    def __len__(self) -> int:
        return len(self._map)

    def keys(self) -> list[str]:
        return list(self._map)

    def values(self) -> list[MetaflowCardComponent]:
        return list(self._map.values())

    def rendered(self) -> list[dict[str, Any]]:
        return [out for c in self._map.values() if (out := c.safe_render())]


class CardComponentManager:
    """One card: its components, its throttled refresh, its versions."""

    def __init__(self, attrs: dict[str, Any], target: CardTarget, publisher: CardPublisher,
                 started_ms: int) -> None:
        self.attrs = attrs
        self.target = target
        self.publisher = publisher
        self.started_ms = started_ms
        self.interval = float(attrs.get("refresh_interval") or 0)
        self._components = ComponentStore()
        self._last_refresh = 0.0
        self._last_layout: float | None = None
        self.user_data: Any = None

    @property
    def components(self) -> ComponentStore:
        return self._components

    @property
    def editable(self) -> bool:
        return is_editable(self.target.card_type)

    @property
    def runtime_updatable(self) -> bool:
        return self.target.card_type in DOCUMENT_TYPES

    def append(self, component: Any, id: str | None = None) -> None:
        self._components.append(component, id=id)

    def extend(self, components: Iterable[Any]) -> None:
        self._components.extend(components)

    def clear(self) -> None:
        self._components.clear()

    def replace(self, components: list[Any]) -> None:
        self._components = ComponentStore(components)

    def __iter__(self) -> Iterator[MetaflowCardComponent]:
        return iter(self._components)

    def refresh(self, data: Any = None, force: bool = False) -> None:
        self.user_data = data
        now = time.time()
        if now - self._last_refresh < self.interval:
            return   # Metaflow's rate limit: silently ignored
        self._last_refresh = now
        if not self.runtime_updatable or not self.publisher.live:
            return
        layout = self._components.layout_changed_at
        new_page = force or layout != self._last_layout
        self._last_layout = layout
        try:
            self.publisher.publish(self.target, self.document(None, None), final=False, new_page=new_page)
        except Exception as exc:  # noqa: BLE001 - a failed live update must not fail the step
            warn(f"card {self.target.card_id!r} was not refreshed: {type(exc).__name__}: {exc}")

    def document(self, records: list[dict[str, Any]] | None, finished_ms: int | None) -> dict[str, Any]:
        t = self.target
        return card_doc(t.card_type, t.pathspec, self._components.rendered(), options=self.attrs.get("options"),
                        attempt=t.attempt, started_ms=self.started_ms, finished_ms=finished_ms, records=records)


class CardComponentCollector:
    """``current.card`` of a step with one or more @card decorators."""

    def __init__(self, cards: list[CardComponentManager]) -> None:
        self._cards = cards
        self._by_id = {c.attrs["id"]: c for c in cards if c.attrs.get("id")}
        duplicates = {i for i in self._by_id if sum(c.attrs.get("id") == i for c in cards) > 1}
        for i in duplicates:
            warn(f"several @card decorators have id {i!r}: current.card[{i!r}] will not work")
            del self._by_id[i]
        self._default = self._resolve_default()
        self._warned: set[str] = set()

    def _resolve_default(self) -> CardComponentManager | None:
        editable = [c for c in self._cards if c.editable]
        if len(editable) == 1:
            return editable[0]
        without_id = [c for c in editable if not c.attrs.get("id")]
        chosen = without_id[0] if len(without_id) == 1 else None
        customized = [c for c in editable if str(c.attrs.get("customize")) == "True"]
        if len(customized) == 1:
            chosen = customized[0]
        elif len(customized) > 1:
            warn("several @card decorators have customize=True; current.card.append ignores them all")
        return chosen

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        warn(message)
        if warnings_in_cards():
            for card in self._cards:
                card.append(_Warning(message))

    def _editable(self, what: str) -> CardComponentManager | None:
        if self._default is None:
            why = (f"card of type {self._cards[0].target.card_type!r} is not an editable card"
                   if len(self._cards) == 1 else "it cannot choose between several editable @card decorators; "
                   "give each an id and use current.card[ID]")
            self._warn_once(what, f"current.card.{what} does nothing: {why}")
        return self._default

    def __getitem__(self, key: str) -> CardComponentManager | list[Any]:
        if key in self._by_id:
            return self._by_id[key]
        self._warn_once(f"get:{key}", f"current.card[{key!r}] is not a card of this step (set @card(id={key!r})); "
                        "it returns an empty list that is not part of any card")
        return []

    def __setitem__(self, key: str, value: list[Any]) -> None:
        if key not in self._by_id:
            warn(f"current.card[{key!r}] is not a card of this step (set @card(id={key!r}))")
            return
        if not isinstance(value, list):
            warn(f"current.card[{key!r}] must be set to a list of components")
            return
        self._by_id[key].replace(value)

    def append(self, component: Any, id: str | None = None) -> None:
        card = self._editable("append")
        if card is not None:
            card.append(component, id=id)

    def extend(self, components: Iterable[Any]) -> None:
        card = self._editable("extend")
        if card is not None:
            card.extend(components)

    def clear(self) -> None:
        if self._default is not None:
            self._default.clear()

    @property
    def components(self) -> ComponentStore | None:
        card = self._editable("components")
        return None if card is None else card.components

    def refresh(self, *args: Any, **kwargs: Any) -> None:
        if self._default is not None:
            self._default.refresh(*args, **kwargs)

    def get(self, type: str | None = None) -> list[CardComponentManager]:
        return [c for c in self._cards if c.target.card_type == type]

    def finish(self, records: list[dict[str, Any]], values: dict[str, Any] | None = None,
               graph: Any = None) -> list[dict[str, Any]]:
        """The final version of every card (the task succeeded); returns the cards-table rows.
        ``values`` are the task's artifacts in memory (what a custom card type's render reads)."""
        now = int(time.time() * 1000)
        rows = []
        for card in self._cards:
            t = card.target
            if card.runtime_updatable:
                row = card.publisher.publish(t, card.document(records, now), final=True, new_page=True)
            else:
                page = render_custom(t.card_type, card.attrs, list(card.components),
                                     CardTask(t.pathspec, records, values or {}), graph)
                if page is None:
                    continue
                row = card.publisher.publish_page(t, page)
            rows.append(row)
        return rows


class _Warning(MetaflowCardComponent):
    def __init__(self, message: str) -> None:
        self.message = message

    def render(self) -> dict[str, Any]:
        return log_component(f"@card WARNING\n\n{self.message}")
