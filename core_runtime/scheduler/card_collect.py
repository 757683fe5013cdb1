"""``current.card``: components appended during a step, rendered when the task ends.

Which card ``current.card.append`` edits follows Metaflow: among the step's editable cards
(``ALLOW_USER_COMPONENTS``), the only one; else the only one without an id; a card with
``customize=True`` wins. With no such card, append does nothing but warn once.
``current.card["id"]`` edits the card with that id (an unknown id warns and edits nothing).
``current.card.get(type=...)`` lists the component lists of the cards of a type.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core_runtime.decorators import step_decorators


class _Card:
    def __init__(self, attrs: dict[str, Any], key: str) -> None:
        from core_runtime.cards.card_types import is_editable

        self.attrs = attrs
        self.key = key                       # card_id column: the id, or default / default.N
        self.type = str(attrs.get("type") or "default")
        self.id = attrs.get("id")
        self.editable = is_editable(self.type)
        self.components: list[Any] = []


class CardCollector:
    def __init__(self, cards: list[dict[str, Any]]) -> None:
        self._cards: list[_Card] = []
        unnamed = 0
        for attrs in cards:
            if attrs.get("id"):
                key = str(attrs["id"])
            else:
                key = "default" if unnamed == 0 else f"default.{unnamed}"
                unnamed += 1
            self._cards.append(_Card(attrs, key))
        self._warned: set[str] = set()
        self._default = self._pick_default()
        ids = [c.id for c in self._cards if c.id]
        self._by_id = {c.id: c for c in self._cards if c.id and ids.count(c.id) == 1}

    def _pick_default(self) -> _Card | None:
        editable = [c for c in self._cards if c.editable]
        if len(editable) == 1:
            return editable[0]
        custom = [c for c in editable if c.attrs.get("customize")]
        if len(custom) == 1:
            return custom[0]
        unnamed = [c for c in editable if not c.id]
        return unnamed[0] if len(unnamed) == 1 else None

    @classmethod
    def for_step(cls, fn: Any, flow_cls: type | None = None) -> CardCollector | None:
        from core_runtime.decorators import resolved_attributes

        decos = [d for d in step_decorators(fn) if d.name == "card"]
        if not decos:
            return None
        return cls([resolved_attributes(d, flow_cls) if flow_cls else dict(d.attributes) for d in decos])

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            sys.stderr.write(f"@card: {message}\n")

    def _default_list(self) -> list[Any]:
        if self._default is None:
            self._warn("append", "current.card.append has no card to add to: no single editable "
                       "card on this step (give one @card customize=True, or use current.card[id])")
            return []
        return self._default.components

    def append(self, component: Any, id: str | None = None) -> None:
        self._default_list().append(component)

    def extend(self, components: list[Any]) -> None:
        self._default_list().extend(components)

    def clear(self) -> None:
        self._default_list().clear()

    def refresh(self, *_args: Any, **_kwargs: Any) -> None:
        """Live refresh is not supported; cards are rendered when the task ends."""

    def get(self, type: str | None = None) -> list[list[Any]]:
        return [c.components for c in self._cards if c.type == type]

    def __getitem__(self, card_id: str) -> _CardSection:
        card = self._by_id.get(card_id)
        if card is None:
            self._warn(f"id:{card_id}", f"current.card[{card_id!r}]: no @card(id={card_id!r}) on "
                       f"this step; what is appended to it is dropped")
            return _CardSection([])
        return _CardSection(card.components)

    def write(self, ds: Any, ctx: Any, plan: Any, records: list[dict[str, Any]],
              values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Render each card to the datastore; returns rows for the cards table."""
        from contract.datastore import card_key

        out = []
        for card in self._cards:
            page = self._render(card, ctx, plan, records, values or {})
            if page is None:
                continue
            data = page.encode("utf-8")
            key = card_key(ctx.flow_name, ctx.run_id, plan.step, ctx.task_id, ctx.attempt, card.key)
            ds.put(key, data)
            out.append({"card_id": card.key, "type": card.type, "location": key, "size": len(data)})
        return out

    def _render(self, card: _Card, ctx: Any, plan: Any, records: list[dict[str, Any]],
                values: dict[str, Any]) -> str | None:
        from core_runtime.cards.card_types import ErrorCard, card_class
        from core_runtime.scheduler.card_render import CardTask, render_task_card

        task = CardTask(ctx, plan, records, values)
        if card.type == "default":
            return render_task_card(card.attrs, card.components, ctx, plan, records)
        cls = card_class(card.type)
        try:
            if cls is None:
                raise LookupError(f"no card type {card.type!r} is registered (define a MetaflowCard "
                                  f"subclass with type = {card.type!r}, or name its module in "
                                  f"FLOWSCOPE_CARD_MODULES)")
            rendered = [r for r in (_render_component(c) for c in card.components) if r is not None]
            instance = cls(options=dict(card.attrs.get("options") or {}), components=rendered,
                           graph=ctx.graph_info, flow=None)
            with _deadline(float(card.attrs.get("timeout") or 0)):
                page = instance.render(task)
            if not isinstance(page, str):
                raise TypeError(f"render() of card type {card.type!r} returned "
                                f"{type(page).__name__}, not an HTML string")
            return page
        except Exception as exc:  # noqa: BLE001 - a card never fails the task
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            sys.stderr.write(f"@card(type={card.type!r}) failed: {type(exc).__name__}: {exc}\n")
            if not card.attrs.get("save_errors", True):
                return None
            return ErrorCard().render(task, stack_trace=trace)


def _render_component(component: Any) -> Any:
    """What a card type receives for an appended component (Metaflow: its render() output;
    anything that is not a component, or fails to render, is left out)."""
    from core_runtime.cards.card_types import MetaflowCardComponent

    render = getattr(component, "render", None)
    if not isinstance(component, MetaflowCardComponent) and not callable(render):
        return None
    try:
        out = render() if render else None
    except Exception:  # noqa: BLE001 - a broken component is dropped, as in Metaflow
        return None
    return out if isinstance(out, (str, dict)) else None


class CardTimeout(Exception):
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Stop a card's render() after ``seconds`` (the task process is single-threaded)."""
    if seconds <= 0:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise CardTimeout(f"card rendering took longer than its timeout of {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _CardSection:
    def __init__(self, components: list[Any]) -> None:
        self._components = components

    def append(self, component: Any, id: str | None = None) -> None:
        self._components.append(component)

    def extend(self, components: list[Any]) -> None:
        self._components.extend(components)

    def clear(self) -> None:
        self._components.clear()

    def refresh(self, *_args: Any, **_kwargs: Any) -> None:
        pass
