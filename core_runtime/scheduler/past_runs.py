"""Reading an earlier run back (for resume and spin): plain SELECTs on the schema's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core_runtime.scheduler.plan import Finished, Record

ARTIFACT_COLUMNS = ("name", "sha", "type", "size", "encoding", "location", "preview")


class PastRunError(LookupError):
    """The run or task asked for does not exist; the message says what was looked for."""


@dataclass
class PastRun:
    run_pk: int
    run_id: str
    status: str
    failed_step: str | None
    parameters: dict[str, Any]


@dataclass
class PastTask:
    task_pk: int
    step: str
    task_id: str
    status: str
    attempt: int
    stack: list[dict[str, Any]]
    parent_task_ids: list[str]
    iteration: list[int] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.step}/{self.task_id}"

    def key(self) -> tuple[Any, ...]:
        """Same shape as TaskPlan.key(): step, foreach indices, iteration."""
        return (self.step, tuple(int(f["index"]) for f in self.stack), tuple(self.iteration))


def find_run(conn: Any, flow: str, run_id: str | None, *, namespace: str | None = None) -> PastRun:
    """The run ``run_id``, or the latest run of the flow (in ``namespace`` when one is given)."""
    with conn.cursor() as cur:
        if run_id is None:
            cur.execute("SELECT run_pk, run_id, status, failed_step, parameters FROM runs "
                        "WHERE flow_id = %(flow)s AND (%(ns)s::text IS NULL OR tags @> ARRAY[%(ns)s::text] "
                        "OR system_tags @> ARRAY[%(ns)s::text]) "
                        "ORDER BY created_at DESC, run_pk DESC LIMIT 1", {"flow": flow, "ns": namespace})
        else:
            cur.execute("SELECT run_pk, run_id, status, failed_step, parameters FROM runs "
                        "WHERE flow_id = %s AND run_id = %s", (flow, run_id))
        row = cur.fetchone()
    if row is None:
        if run_id:
            raise PastRunError(f"no run {flow}/{run_id} recorded")
        raise PastRunError(f"no run of {flow} recorded yet"
                           + (f" in namespace {namespace}" if namespace else ""))
    return PastRun(int(row[0]), str(row[1]), str(row[2]), row[3], dict(row[4] or {}))


def run_tasks(conn: Any, run_pk: int, step: str | None = None) -> list[PastTask]:
    query = ("SELECT task_pk, step_name, task_id, status, attempt, foreach_stack, parent_task_ids, "
             "iteration_stack FROM tasks WHERE run_pk = %s")
    args: tuple[Any, ...] = (run_pk,)
    if step is not None:
        query += " AND step_name = %s"
        args += (step,)
    with conn.cursor() as cur:
        cur.execute(query + " ORDER BY task_pk", args)
        rows = cur.fetchall()
    return [PastTask(int(r[0]), r[1], str(r[2]), r[3], int(r[4] or 0), list(r[5] or []), list(r[6] or []),
                     [int(i) for i in r[7] or []])
            for r in rows]


def task_records(conn: Any, task: PastTask) -> dict[str, Record]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(ARTIFACT_COLUMNS)} FROM artifacts "
                    "WHERE task_pk = %s AND attempt = %s", (task.task_pk, task.attempt))
        rows = cur.fetchall()
    return {r[0]: dict(zip(ARTIFACT_COLUMNS, r)) for r in rows}


def as_finished(conn: Any, task: PastTask, graph: Any, ds: Any, *, task_id: str | None = None,
                task_pk: int | None = None, next_steps: list[str] | None = None) -> Finished:
    """A completed past task as the scheduler sees one (records + where its transition goes).

    ``next_steps`` is the case a switch task chose (its children in the past run); other steps
    go where the graph says.
    """
    from core_runtime.artifacts import load_artifact
    from core_runtime.scheduler.child import foreach_label

    records = task_records(conn, task)
    node = graph.steps[task.step]
    if task.step == graph.end_step:
        next_steps = []
    elif next_steps is None:
        next_steps = list(node.next)
    done = Finished(task.step, task_id or task.task_id, task_pk or task.task_pk, records,
                    list(task.stack), next_steps, iteration=list(task.iteration))
    var = node.foreach_artifact if str(node.type) == "split-foreach" else None
    if str(node.type) == "split-parallel":
        from core_runtime.scheduler.child import PARALLEL_VAR

        # The gang's size: the clones of its tasks say how many there were.
        child = node.next[0]
        sizes = [int(t.stack[-1]["num_splits"]) for t in run_tasks(conn, _run_pk(conn, task), child)
                 if t.stack and t.stack[-1]["step"] == task.step]
        n = sizes[0] if sizes else max(int(getattr(node, "num_parallel", 0) or 0), 1)
        done.foreach_var, done.num_splits, done.labels = PARALLEL_VAR, n, [str(i) for i in range(n)]
        return done
    if var:
        if var not in records:
            raise PastRunError(f"task {task.step}/{task.task_id} has no artifact {var!r} to foreach over")
        items = list(load_artifact(ds, records[var]["location"]))
        done.foreach_var = var
        done.num_splits = len(items)
        done.labels = [foreach_label(v) for v in items]
    return done


def _run_pk(conn: Any, task: PastTask) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT run_pk FROM tasks WHERE task_pk = %s", (task.task_pk,))
        row = cur.fetchone()
    return int(row[0])
