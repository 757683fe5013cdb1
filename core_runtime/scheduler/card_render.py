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


class CardTask:
    """The task a card type's ``render(task)`` gets: ``pathspec``, ``id``, ``task["x"].data``,
    ``task.data.x`` — the artifacts this task just stored (the database does not have them yet)."""

    def __init__(self, ctx: Any, plan: Any, records: list[dict[str, Any]], values: dict[str, Any]) -> None:
        self.pathspec = f"{ctx.flow_name}/{ctx.run_id}/{plan.step}/{ctx.task_id}"
        self.id = str(ctx.task_id)
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
