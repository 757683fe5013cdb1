"""Pieces shared by Flow, Run, Step and Task: pathspecs, times, namespace checks, liveness."""

from __future__ import annotations

import time
from datetime import datetime

from contract.liveness import lost_reason
from core_runtime.client.context import current_settings
from core_runtime.client.errors import FlowscopeNamespaceMismatch, FlowscopeNotFound
from core_runtime.client.namespace import get_namespace


def split_pathspec(pathspec: str, parts: int, kind: str) -> list[str]:
    """``"Flow/12"`` → ``["Flow", "12"]``, with a clear error for the wrong number of parts."""
    pieces = pathspec.strip("/").split("/") if isinstance(pathspec, str) else []
    if len(pieces) != parts or not all(pieces):
        shapes = ["FlowName", "FlowName/RunId", "FlowName/RunId/StepName",
                  "FlowName/RunId/StepName/TaskId", "FlowName/RunId/StepName/TaskId/ArtifactName"]
        raise FlowscopeNotFound(f"{kind}({pathspec!r}): expected a pathspec like '{shapes[parts - 1]}'")
    return pieces


def to_datetime(ms: int | None) -> datetime | None:
    """Epoch ms → naive local datetime, as Metaflow's client returns."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000.0)


def check_namespace(pathspec: str, tags: frozenset[str]) -> None:
    ns = get_namespace()
    if ns is not None and ns not in tags:
        raise FlowscopeNamespaceMismatch(pathspec, ns)


def live_status(status: str, reason: str | None, heartbeat_at: int | None) -> tuple[str, str | None]:
    """A running row whose heartbeat is older than FLOWSCOPE_HEARTBEAT_TIMEOUT is reported failed."""
    if status != "running" or heartbeat_at is None:
        return status, reason
    timeout_ms = float(current_settings().heartbeat_timeout) * 1000
    silent_ms = time.time() * 1000 - heartbeat_at
    if silent_ms <= timeout_ms:
        return status, reason
    return "failed", lost_reason(heartbeat_at, float(current_settings().heartbeat_timeout))


class ClientObject:
    """Common surface: ``id``, ``pathspec``, equality by pathspec, Metaflow-like repr."""

    _kind = "Object"
    pathspec: str
    id: str

    def __repr__(self) -> str:
        return f"{self._kind}('{self.pathspec}')"

    @property
    def path_components(self) -> list[str]:
        return self.pathspec.split("/")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.pathspec == self.pathspec

    def __hash__(self) -> int:
        return hash((self._kind, self.pathspec))


class TimedObject(ClientObject):
    """A run or a task: an effective status and epoch-ms times, shown as Metaflow shows them."""

    status: str
    _created: int | None
    _started: int | None
    _finished: int | None

    @property
    def successful(self) -> bool:
        return self.status == "completed"

    @property
    def created_at(self) -> datetime | None:
        return to_datetime(self._created)

    @property
    def started_at(self) -> datetime | None:
        return to_datetime(self._started)
