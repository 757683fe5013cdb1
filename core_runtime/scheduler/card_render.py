"""Rendering a task's cards (in the task process) with core_runtime.cards."""

from __future__ import annotations

import time
from typing import Any


def render_task_card(attrs: dict[str, Any], components: list[Any], ctx: Any, plan: Any,
                     records: list[dict[str, Any]]) -> str:
    from core_runtime.artifacts import ArtifactRecord
    from core_runtime.cards import default_card, render_card

    pathspec = f"{ctx.flow_name}/{ctx.run_id}/{plan.step}/{ctx.task_id}"
    if not components and str(attrs.get("type") or "default") == "default":
        # Nothing appended: the default card, a table of the task's artifacts.
        keep = ArtifactRecord.__dataclass_fields__
        recs = [ArtifactRecord(**{k: v for k, v in r.items() if k in keep}) for r in records]
        return default_card(pathspec, recs, int(time.time() * 1000))
    card_id = attrs.get("id")
    title = f"{pathspec}" + (f" · {card_id}" if card_id else "")
    return render_card(components, title, subtitle=f"attempt {ctx.attempt}")
