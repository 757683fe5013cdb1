"""Where ``spin --persist`` keeps what a spun task produced: a throw-away local directory.

    <root>/.flowscope_spin/
        datastore/                    artifacts and log chunks (the datastore layout of docs/schema.md)
        runs/<Flow>/<run_id>.json     the run, its one task, its artifacts, log chunks and metadata

Nothing here is recorded in Postgres or shown in the UI. ``inspect_spin(root)`` points the client
at it (client/spin_source.py); deleting the directory forgets every spin result.
Artifacts the task only inherited stay where they are (the flow's datastore, named in the run
file), so a spin never copies a big input.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from contract.datastore import Datastore, LocalDatastore
from core_runtime.store.refs import TaskRef

SPIN_DIR = ".flowscope_spin"


def spin_home(root: str | os.PathLike[str]) -> Path:
    """``root/.flowscope_spin``; a path already ending in it is taken as is."""
    path = Path(root).expanduser().resolve()
    return path if path.name == SPIN_DIR else path / SPIN_DIR


def now_ms() -> int:
    return int(time.time() * 1000)


class SpinStore:
    """Writes one spin run (``begin`` … ``finish``) and reads back all of them."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = True) -> None:
        self.home = spin_home(root)
        if create:
            self.home.mkdir(parents=True, exist_ok=True)
        self._datastore: Datastore | None = None
        self._lock = threading.Lock()
        self.doc: dict[str, Any] | None = None

    @property
    def datastore(self) -> Datastore:
        if self._datastore is None:
            self._datastore = LocalDatastore(self.home / "datastore")
        return self._datastore

    # ---- writing -------------------------------------------------------------------------------
    @staticmethod
    def new_run_id() -> str:
        # Digits, increasing with time, like the ids Metaflow's local metadata gives spin runs.
        return str(time.time_ns() // 1000)

    def begin(self, run: dict[str, Any], task: dict[str, Any]) -> TaskRef:
        """Start the run file; ``task`` holds the task row's fields (step, task_id, stack …)."""
        now = now_ms()
        task = {"task_pk": 1, "status": "running", "status_reason": None, "attempt": 0,
                "cloned_from": None, "created_at": now, "started_at": now, "finished_at": None,
                "artifacts": [], "log_chunks": [], "metadata": [], "attempts": [], **task}
        self.doc = {"status": "running", "status_reason": None, "failed_step": None,
                    "created_at": now, "started_at": now, "finished_at": None, **run,
                    "tasks": [task]}
        self._save()
        return TaskRef(task_pk=1, run_pk=0, step_name=str(task["step"]), task_id=str(task["task_id"]))

    def record_log_chunk(self, task: TaskRef, attempt: int, stream: str, seq: int, first_line: int,
                         n_lines: int, n_bytes: int, first_ts: int, last_ts: int, location: str) -> None:
        with self._lock:
            self._task()["log_chunks"].append(
                {"attempt": attempt, "stream": stream, "seq": seq, "first_line": first_line,
                 "n_lines": n_lines, "n_bytes": n_bytes, "first_ts": first_ts, "last_ts": last_ts,
                 "location": location})

    def record_metadata(self, fields: list[tuple[str, str, str]]) -> None:
        now = now_ms()
        with self._lock:
            self._task()["metadata"] += [{"field_name": n, "value": v, "type": t, "attempt": 0,
                                          "created_at": now} for n, v, t in fields]

    def finish(self, *, ok: bool, reason: str | None, records: list[dict[str, Any]],
               exception: dict[str, Any] | None = None, exit_code: int | None = None) -> None:
        now = now_ms()
        status = "completed" if ok else "failed"
        with self._lock:
            assert self.doc is not None
            task = self._task()
            task.update(status=status, status_reason=reason, finished_at=now,
                        artifacts=[dict(r, created_at=now, attempt=0) for r in records])
            task["attempts"] = [{"attempt": 0, "status": status, "status_reason": reason,
                                 "started_at": task["started_at"], "finished_at": now,
                                 "exit_code": exit_code, **(exception or {})}]
            self.doc.update(status=status, status_reason=reason, finished_at=now,
                            failed_step=None if ok else task["step"])
            self._save()

    def _task(self) -> dict[str, Any]:
        assert self.doc is not None, "SpinStore.begin() was not called"
        task: dict[str, Any] = self.doc["tasks"][0]
        return task

    def _save(self) -> None:
        assert self.doc is not None
        folder = self.home / "runs" / str(self.doc["flow_id"])
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.doc, fh, default=str)
        os.replace(tmp, folder / f"{self.doc['run_id']}.json")

    # ---- reading -------------------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """Every spin run kept here, oldest first; unreadable files are skipped, not fatal."""
        out: list[dict[str, Any]] = []
        base = self.home / "runs"
        if not base.is_dir():
            return out
        for path in sorted(base.glob("*/*.json")):
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        out.sort(key=lambda r: (int(r.get("created_at") or 0), str(r.get("run_id"))))
        return out
