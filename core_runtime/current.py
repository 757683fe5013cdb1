"""``current``: facts about the running task (flow, run, step, task ids, retry count, card)."""

from __future__ import annotations

from typing import Any


class Current:
    """Set by the task process before the step function runs; empty outside a running flow."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def _set(self, **values: Any) -> None:
        self._values.update(values)

    def _reset(self) -> None:
        self._values = {}

    def _get(self, key: str) -> Any:
        return self._values.get(key)

    @property
    def is_running_flow(self) -> bool:
        return bool(self._values.get("is_running_flow"))

    @property
    def flow_name(self) -> str | None:
        return self._get("flow_name")  # type: ignore[no-any-return]

    @property
    def run_id(self) -> str | None:
        return self._get("run_id")  # type: ignore[no-any-return]

    @property
    def step_name(self) -> str | None:
        return self._get("step_name")  # type: ignore[no-any-return]

    @property
    def task_id(self) -> str | None:
        return self._get("task_id")  # type: ignore[no-any-return]

    @property
    def retry_count(self) -> int:
        return int(self._values.get("retry_count") or 0)

    @property
    def origin_run_id(self) -> str | None:
        return self._get("origin_run_id")  # type: ignore[no-any-return]

    @property
    def username(self) -> str | None:
        return self._get("username")  # type: ignore[no-any-return]

    @property
    def tags(self) -> list[str]:
        return list(self._values.get("tags") or [])

    @property
    def namespace(self) -> str | None:
        user = self.username
        return f"user:{user}" if user else None

    @property
    def pathspec(self) -> str | None:
        parts = [self.flow_name, self.run_id, self.step_name, self.task_id]
        if not all(parts):
            return None
        return "/".join(str(p) for p in parts)

    @property
    def card(self) -> Any:
        card = self._values.get("card")
        if card is None:
            raise AttributeError("current.card is only available in a step decorated with @card")
        return card

    def __repr__(self) -> str:
        return f"<current {self.pathspec or '(not running a flow)'}>"


current = Current()
