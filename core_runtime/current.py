"""``current``: facts about the running task, with Metaflow's names.

Ids (``flow_name``, ``run_id``, ``step_name``, ``task_id``, ``pathspec``, ``retry_count``,
``origin_run_id``), who and how (``username``, ``namespace``, ``tags``, ``parameter_names``,
``is_running_flow``), @project names, ``graph``, ``tempdir``, ``card``, ``parallel`` and the
client objects ``current.task`` / ``current.run``.
"""

from __future__ import annotations

import tempfile
from collections import namedtuple
from typing import Any

# ``current.parallel`` in a @parallel step, as Metaflow names its fields.
Parallel = namedtuple("Parallel", ["main_ip", "num_nodes", "node_index", "control_task_id"])


class Current:
    """Set by the task process before the step function runs; empty outside a running flow."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def _set(self, **values: Any) -> None:
        self._values.update(values)

    def _reset(self) -> None:
        # What flow decorators added for the whole run (flow_init, before the tasks were forked)
        # stays; everything about the previous task goes.
        extra = self._values.get("extra")
        self._values = {"extra": dict(extra)} if extra else {}

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
    def tags(self) -> set[str]:
        """The run's user tags (a set, as in Metaflow)."""
        return set(self._values.get("tags") or [])

    @property
    def namespace(self) -> str | None:
        user = self.username
        return f"user:{user}" if user else None

    def _update_env(self, values: dict[str, Any]) -> None:
        """Add values readable as ``current.<name>`` (what flow decorators use)."""
        extra = dict(self._values.get("extra") or {})
        extra.update(values)
        self._values["extra"] = extra

    @property
    def pathspec(self) -> str | None:
        parts = [self.flow_name, self.run_id, self.step_name, self.task_id]
        if not all(parts):
            return None
        return "/".join(str(p) for p in parts)

    @property
    def parameter_names(self) -> list[str]:
        return list(self._values.get("parameter_names") or [])

    @property
    def project_name(self) -> str | None:
        return self._get("project_name")  # type: ignore[no-any-return]

    @property
    def branch_name(self) -> str | None:
        return self._get("branch_name")  # type: ignore[no-any-return]

    @property
    def project_flow_name(self) -> str | None:
        return self._get("project_flow_name")  # type: ignore[no-any-return]

    @property
    def is_production(self) -> bool | None:
        return self._get("is_production")  # type: ignore[no-any-return]

    @property
    def graph(self) -> dict[str, Any] | None:
        """The flow's DAG as recorded with the run (Metaflow's ``_graph_info`` shape)."""
        return self._get("graph")  # type: ignore[no-any-return]

    @property
    def tempdir(self) -> str | None:
        """A directory for this task's scratch files (created on first use, per task process)."""
        if not self.is_running_flow:
            return None
        if self._values.get("tempdir") is None:
            self._values["tempdir"] = tempfile.mkdtemp(prefix=f"task-{self.task_id}-")
        return self._get("tempdir")  # type: ignore[no-any-return]

    @property
    def parallel(self) -> Parallel:
        """(main_ip, num_nodes, node_index, control_task_id); one node outside a @parallel step."""
        value = self._values.get("parallel")
        if value is None:
            return Parallel("127.0.0.1", 1, 0, self.task_id)
        return value  # type: ignore[no-any-return]

    @property
    def task(self) -> Any:
        """This task as a client ``Task`` (reads the database)."""
        if not self.pathspec:
            return None
        from core_runtime.client import Task

        return Task(self.pathspec, _namespace_check=False)

    @property
    def run(self) -> Any:
        """This run as a client ``Run`` (reads the database)."""
        if not (self.flow_name and self.run_id):
            return None
        from core_runtime.client import Run

        return Run(f"{self.flow_name}/{self.run_id}", _namespace_check=False)

    def __getattr__(self, name: str) -> Any:
        # Values a flow decorator added (current.<name>), as Metaflow's current allows.
        values = self.__dict__.get("_values") or {}
        extra = values.get("extra") or {}
        if name in extra:
            return extra[name]
        raise AttributeError(f"current has no attribute {name!r}")

    @property
    def card(self) -> Any:
        card = self._values.get("card")
        if card is None:
            raise AttributeError("current.card is only available in a step decorated with @card")
        return card

    def __repr__(self) -> str:
        return f"<current {self.pathspec or '(not running a flow)'}>"


current = Current()
