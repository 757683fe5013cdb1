"""The client reading ``spin --persist`` results (Metaflow's ``inspect_spin``).

The run files of a SpinStore are answered to the same named queries as Postgres answers
(client/queries.py), row for row in the same column order, so Flow/Run/Step/Task work unchanged.
Run and task keys are numbers this source hands out; the files are re-read on every query, so a
spin that finishes later is seen by the next lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from contract.datastore import Datastore, DatastoreError, open_datastore
from core_runtime.client import queries
from core_runtime.client.errors import FlowscopeClientError

Row = tuple[Any, ...]

_QUERY_NAMES = {getattr(queries, n): n for n in dir(queries) if n.isupper() and not n.endswith("COLUMNS")}
TASKS_PER_RUN = 1_000_000


class SpinSource:
    def __init__(self, root: str) -> None:
        from core_runtime.spin.store import SpinStore

        self.store = SpinStore(root or ".", create=False)
        self._lock = threading.Lock()
        self._run_pks: dict[tuple[str, str], int] = {}
        self._datastore: Datastore | None = None
        self._handlers: dict[str, Callable[[Any], list[Row]]] = {
            "FLOW": self._flow, "FLOWS": self._flows, "RUNS_PAGE": self._runs_page, "RUN": self._run,
            "STEPS": self._steps, "STEP": self._step, "TASKS_PAGE": self._tasks_page,
            "TASK": self._task, "ARTIFACTS": self._artifacts, "ATTEMPT": self._attempt,
            "LOG_CHUNKS": self._log_chunks, "METADATA": self._metadata,
        }

    def describe(self) -> str:
        return f"spin@{self.store.home.parent}"

    def close(self) -> None:
        pass

    def mutate_run_tags(self, flow: str, run_id: str, remove: list[str], add: list[str]) -> frozenset[str]:
        from core_runtime.client.errors import FlowscopeTaggingError

        raise FlowscopeTaggingError(f"{flow}/{run_id} is a spin result ({self.describe()}): its tags "
                                    "cannot be changed")

    def query(self, sql: str, args: Any = None) -> list[Row]:
        name = _QUERY_NAMES.get(sql)
        handler = self._handlers.get(name or "")
        if handler is None:
            raise FlowscopeClientError(f"{name or 'this query'} is not available for spin results "
                                       f"({self.describe()})")
        return handler(args)

    def datastore(self) -> Datastore:
        from core_runtime.client.context import current_settings
        from core_runtime.spin.layered import LayeredDatastore

        with self._lock:
            if self._datastore is None:
                fallbacks: list[Datastore] = []
                roots = {str(r["datastore_root"]) for r in self.store.runs() if r.get("datastore_root")}
                for root in sorted(roots):
                    try:
                        fallbacks.append(open_datastore(current_settings().replace(datastore=root)))
                    except DatastoreError:
                        continue
                self._datastore = LayeredDatastore(self.store.datastore, fallbacks)
            return self._datastore

    # ---- the runs, keyed ----------------------------------------------------------------------
    def _runs(self) -> list[tuple[int, dict[str, Any]]]:
        out = []
        with self._lock:
            for doc in self.store.runs():
                key = (str(doc["flow_id"]), str(doc["run_id"]))
                pk = self._run_pks.setdefault(key, len(self._run_pks) + 1)
                out.append((pk, doc))
        return out

    def _run_by_pk(self, run_pk: int) -> dict[str, Any] | None:
        return next((d for pk, d in self._runs() if pk == run_pk), None)

    def _tasks(self, run_pk: int) -> list[tuple[int, dict[str, Any]]]:
        doc = self._run_by_pk(run_pk)
        if doc is None:
            return []
        return [(run_pk * TASKS_PER_RUN + i + 1, t) for i, t in enumerate(doc.get("tasks", []))]

    def _task_by_pk(self, task_pk: int) -> dict[str, Any] | None:
        return next((t for pk, t in self._tasks(task_pk // TASKS_PER_RUN) if pk == task_pk), None)

    # ---- rows ---------------------------------------------------------------------------------
    @staticmethod
    def _run_row(pk: int, d: dict[str, Any]) -> Row:
        return (pk, d["flow_id"], d["run_id"], d.get("user"), d.get("tags", []), d.get("system_tags", []),
                d.get("status"), d.get("status_reason"), d.get("failed_step"), d.get("parameters", {}),
                d.get("dag"), d.get("origin_run_id"), d.get("created_at"), d.get("started_at"),
                d.get("finished_at"), d.get("finished_at") or d.get("started_at"))

    @staticmethod
    def _task_row(pk: int, t: dict[str, Any]) -> Row:
        return (pk, t["step"], t["task_id"], t.get("status"), t.get("status_reason"), t.get("attempt", 0),
                t.get("foreach_index"), t.get("foreach_value"), t.get("foreach_stack"),
                t.get("parent_task_ids", []), t.get("cloned_from"), t.get("created_at"),
                t.get("started_at"), t.get("finished_at"), t.get("finished_at") or t.get("started_at"),
                t.get("iteration_stack") or [])

    def _flow_rows(self) -> list[Row]:
        flows: dict[str, list[int]] = {}
        for _pk, d in self._runs():
            flows.setdefault(str(d["flow_id"]), []).append(int(d.get("created_at") or 0))
        return [(name, min(times), max(times)) for name, times in sorted(flows.items())]

    def _flow(self, args: Any) -> list[Row]:
        return [r for r in self._flow_rows() if r[0] == args[0]]

    def _flows(self, _args: Any) -> list[Row]:
        return self._flow_rows()

    def _runs_page(self, a: dict[str, Any]) -> list[Row]:
        rows = []
        for pk, d in self._runs():
            if d["flow_id"] != a["flow"]:
                continue
            if a["ns"] is not None and a["ns"] not in set(d.get("tags", [])) | set(d.get("system_tags", [])):
                continue
            if a["status"] is not None and d.get("status") != a["status"]:
                continue
            key = (int(d.get("created_at") or 0), pk)
            if a["after_created"] is not None and key >= (a["after_created"], a["after_pk"]):
                continue
            rows.append((key, self._run_row(pk, d)))
        rows.sort(key=lambda kr: kr[0], reverse=True)
        return [r for _k, r in rows[: int(a["limit"])]]

    def _run(self, args: Any) -> list[Row]:
        flow, run_id = args
        return [self._run_row(pk, d) for pk, d in self._runs()
                if d["flow_id"] == flow and str(d["run_id"]) == str(run_id)]

    def _step_rows(self, run_pk: int) -> list[Row]:
        steps: dict[str, list[dict[str, Any]]] = {}
        for _pk, t in self._tasks(run_pk):
            steps.setdefault(str(t["step"]), []).append(t)
        rows = []
        for name, tasks in steps.items():
            finished = [t.get("finished_at") for t in tasks]
            done = [int(f) for f in finished if f is not None]
            rows.append((name, min(t.get("created_at") or 0 for t in tasks),
                         min(t.get("started_at") or 0 for t in tasks),
                         max(done) if len(done) == len(finished) else None, len(tasks),
                         sum(t.get("status") == "completed" for t in tasks),
                         sum(t.get("status") == "failed" for t in tasks)))
        rows.sort(key=lambda r: (-int(r[1]), r[0]))
        return rows

    def _steps(self, args: Any) -> list[Row]:
        return self._step_rows(args[0])

    def _step(self, args: Any) -> list[Row]:
        run_pk, name = args
        return [r for r in self._step_rows(run_pk) if r[0] == name]

    def _tasks_page(self, args: Any) -> list[Row]:
        run_pk, step, after, limit = args
        rows = [self._task_row(pk, t) for pk, t in self._tasks(run_pk) if t["step"] == step and pk > after]
        return rows[: int(limit)]

    def _task(self, args: Any) -> list[Row]:
        run_pk, step, task_id = args
        return [self._task_row(pk, t) for pk, t in self._tasks(run_pk)
                if t["step"] == step and str(t["task_id"]) == str(task_id)]

    def _artifacts(self, a: dict[str, Any]) -> list[Row]:
        t = self._task_by_pk(int(a["task"])) or {}
        arts = sorted(t.get("artifacts", []), key=lambda r: str(r["name"]))
        return [(r["name"], r.get("sha"), r.get("type"), r.get("size"), r.get("encoding"), r["location"],
                 r.get("preview"), r.get("created_at"), r.get("attempt", 0)) for r in arts]

    def _attempt(self, args: Any) -> list[Row]:
        task_pk, attempt = args
        t = self._task_by_pk(int(task_pk)) or {}
        return [(x["attempt"], x.get("status"), x.get("status_reason"), x.get("started_at"),
                 x.get("finished_at"), x.get("exit_code"), x.get("exception_type"),
                 x.get("exception_message"), x.get("traceback"))
                for x in t.get("attempts", []) if int(x["attempt"]) == int(attempt)]

    def _log_chunks(self, args: Any) -> list[Row]:
        task_pk, attempt, stream = args
        t = self._task_by_pk(int(task_pk)) or {}
        chunks = [c for c in t.get("log_chunks", []) if c["attempt"] == attempt and c["stream"] == stream]
        return [(c["seq"], c["first_line"], c["n_lines"], c["first_ts"], c["last_ts"], c["location"])
                for c in sorted(chunks, key=lambda c: int(c["seq"]))]

    def _metadata(self, args: Any) -> list[Row]:
        t = self._task_by_pk(int(args[0])) or {}
        return [(m["field_name"], m["value"], m.get("type"), m.get("attempt"), m.get("created_at"))
                for m in t.get("metadata", [])]


def inspect_spin(datastore_root: str = ".") -> None:
    """Point the client at the results ``spin --persist`` kept under ``datastore_root``
    (``datastore_root/.flowscope_spin``), like Metaflow's ``inspect_spin``. ``configure(None)``
    goes back to Flowscope's database."""
    from core_runtime.client.context import use_source

    use_source(SpinSource(datastore_root))
