"""``current.card``: components appended during a step, rendered to HTML when the task ends."""

from __future__ import annotations

from typing import Any

from core_runtime.decorators import find_decorator, step_decorators


class CardCollector:
    """``current.card.append(c)`` goes to the card without an id (or the only card);
    ``current.card['id'].append(c)`` to the card with that id."""

    def __init__(self, cards: list[dict[str, Any]]) -> None:
        self._cards = cards                       # the @card attributes, one per decorator
        self._components: dict[str, list[Any]] = {self._card_id(c): [] for c in cards}

    @staticmethod
    def _card_id(attrs: dict[str, Any]) -> str:
        return str(attrs.get("id") or "default")

    @classmethod
    def for_step(cls, fn: Any) -> CardCollector | None:
        if find_decorator(fn, "card") is None:
            return None
        return cls([dict(d.attributes) for d in step_decorators(fn) if d.name == "card"])

    def _default_list(self) -> list[Any]:
        if "default" in self._components:
            return self._components["default"]
        return self._components[next(iter(self._components))]

    def append(self, component: Any) -> None:
        self._default_list().append(component)

    def extend(self, components: list[Any]) -> None:
        self._default_list().extend(components)

    def clear(self) -> None:
        self._default_list().clear()

    def refresh(self, *_args: Any, **_kwargs: Any) -> None:
        """Live refresh is not supported; cards are rendered when the task ends."""

    def __getitem__(self, card_id: str) -> _CardSection:
        if card_id not in self._components:
            known = ", ".join(sorted(self._components))
            raise KeyError(f"no @card(id={card_id!r}) on this step (cards: {known})")
        return _CardSection(self._components[card_id])

    def write(self, ds: Any, ctx: Any, plan: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Render each card to the datastore; returns rows for the cards table."""
        from contract.datastore import card_key
        from core_runtime.scheduler.card_render import render_task_card

        out = []
        for attrs in self._cards:
            card_id = self._card_id(attrs)
            html = render_task_card(attrs, self._components[card_id], ctx, plan, records)
            data = html.encode("utf-8")
            key = card_key(ctx.flow_name, ctx.run_id, plan.step, ctx.task_id, ctx.attempt, card_id)
            ds.put(key, data)
            out.append({"card_id": card_id, "type": str(attrs.get("type") or "default"),
                        "location": key, "size": len(data)})
        return out


class _CardSection:
    def __init__(self, components: list[Any]) -> None:
        self._components = components

    def append(self, component: Any) -> None:
        self._components.append(component)

    def extend(self, components: list[Any]) -> None:
        self._components.extend(components)

    def clear(self) -> None:
        self._components.clear()

    def refresh(self, *_args: Any, **_kwargs: Any) -> None:
        pass
