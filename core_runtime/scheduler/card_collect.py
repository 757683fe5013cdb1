"""``current.card`` for a step with @card: one manager per decorator, wired to the publisher."""

from __future__ import annotations

import time
from typing import Any

from core_runtime.cards.collector import CardComponentCollector, CardComponentManager
from core_runtime.cards.publish import CardPublisher, CardTarget
from core_runtime.decorators import resolved_attributes, step_decorators


def card_ids(cards: list[dict[str, Any]]) -> list[str]:
    """Each card's card_id in the cards table (unique within the attempt; the UI's name for it):
    its @card id, else its type; repeats get _2, _3, … Metaflow's own card id (the @card id or
    None) is recorded beside it as decorator_id."""
    seen: dict[str, int] = {}
    out = []
    for attrs in cards:
        base = str(attrs.get("id") or attrs.get("type") or "default")
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def collector_for_step(fn: Any, ds: Any, ctx: Any, step: str, events_fd: int | None) -> CardComponentCollector | None:
    decos = [d for d in step_decorators(fn) if d.name == "card"]
    if not decos:
        return None
    # Config expressions in @card arguments are evaluated now, as for every decorator.
    cards = [resolved_attributes(d, ctx.flow_cls) for d in decos]
    publisher = CardPublisher(ds, events_fd)
    started = int(time.time() * 1000)
    managers = [CardComponentManager(attrs, CardTarget(ctx.flow_name, ctx.run_id, step, ctx.task_id, ctx.attempt,
                                                       card_id, str(attrs.get("type") or "default"),
                                                       str(attrs["id"]) if attrs.get("id") else None),
                                     publisher, started)
                for attrs, card_id in zip(cards, card_ids(cards), strict=True)]
    return CardComponentCollector(managers)
