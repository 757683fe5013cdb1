"""Writes runs through the real writer (RunStore, datastore, LogWriter) the way the runtime does,
so client tests read rows shaped exactly like the runtime's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.datastore import Datastore
from core_runtime.artifacts import persist_artifacts
from core_runtime.logs import LogWriter
from core_runtime.store import RunRef, RunStore, TaskRef


@dataclass
class Recorder:
    store: RunStore
    ds: Datastore

    def run(self, flow: str, *, user: str = "tester", tags: tuple[str, ...] = (),
            dag: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None) -> RunRef:
        return self.store.create_run(flow, user=user, tags=tags, system_tags=(f"user:{user}",),
                                     parameters=parameters or {}, dag=dag, file_name="flow.py", source="")

    def task(self, run: RunRef, step: str, artifacts: dict[str, Any] | None = None, *,
             stdout: str = "", stderr: str = "", fail: Exception | None = None, attempt: int = 0,
             foreach_index: int | None = None, task: TaskRef | None = None) -> TaskRef:
        ref = task or self.store.create_task(run, step, foreach_index=foreach_index)
        self.store.start_attempt(ref, attempt)
        for stream, text in (("stdout", stdout), ("stderr", stderr)):
            if text:
                with LogWriter(self.ds, self.store, ref, run.flow_id, run.run_id, attempt, stream) as w:
                    w.feed(text.encode())
        if artifacts:
            self.store.record_artifacts(ref, attempt, persist_artifacts(self.ds, run.flow_id, step, artifacts))
        if fail is None:
            self.store.finish_attempt(ref, attempt, status="completed", exit_code=0)
        else:
            self.store.finish_attempt(ref, attempt, status="failed", exit_code=1,
                                      exception_type=type(fail).__name__, exception_message=str(fail),
                                      traceback=f"Traceback (most recent call last):\n{type(fail).__name__}")
        return ref
