"""Which executor runs a step: the local one, or the distributed one (Ray) when it is configured.

A step goes to the distributed executor when the run asked for it for every step (``--with ray``,
``--with kubernetes``, ``--with batch``) or when the step carries a remote-compute decorator
(@kubernetes, @batch). Without a distributed executor such a step runs here and its tasks get a
notice saying so.
"""

from __future__ import annotations

from typing import Any

from core_runtime.compute import ComputeRequest, step_request
from core_runtime.scheduler.executor import Executor


class Placer:
    def __init__(self, flow_cls: type, local: Executor, remote: Executor | None, remote_all: str | None) -> None:
        self.flow_cls = flow_cls
        self.local = local
        self.remote = remote
        self.remote_all = remote_all
        self._by_step: dict[str, tuple[Executor, ComputeRequest, str | None]] = {}

    def choose(self, step: str) -> tuple[Executor, ComputeRequest, str | None]:
        """(executor, the step's resource request, a notice to record on its tasks or None)."""
        hit = self._by_step.get(step)
        if hit is None:
            hit = self._by_step[step] = self._decide(getattr(self.flow_cls, step))
        return hit

    def _decide(self, fn: Any) -> tuple[Executor, ComputeRequest, str | None]:
        request = step_request(fn)
        if self.remote is not None and (self.remote_all or request.remote):
            return self.remote, request, None
        asked = request.remote or (self.remote_all if self.remote_all != "ray" else None)
        if asked:
            return self.local, request, (
                f"@{asked}: no distributed executor is configured (FLOWSCOPE_RAY_ADDRESS "
                f"is unset), so this task ran on this machine; its request ({request.describe()}) "
                f"was recorded, not enforced.")
        return self.local, request, None

    def health(self) -> str | None:
        return self.remote.health() if self.remote is not None else None

    def close(self) -> None:
        self.local.close()
        if self.remote is not None:
            self.remote.close()
