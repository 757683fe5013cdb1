"""Turning simulated runs into COPY rows, with the denormalized columns the triggers would keep.

The bulk load runs with triggers off, so this module does their work: every row gets the next
``change_seq``, runs and steps get task counts by status and steps their time span (min start,
max finish over the tasks, as the trigger computes them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.artifact_pool import POOL_SIZE, PooledArtifact
from bench.catalogue import Flow
from bench.copy_text import NULL, Tables, esc, num
from bench.simulate import RunPlan, TaskPlan

_ERRORS = [
    ("ValueError", "bad alpha: expected a value in (0, 1)"),
    ("KeyError", "'customer_id'"),
    ("RuntimeError", "CUDA out of memory. Tried to allocate 2.00 GiB"),
    ("FileNotFoundError", "[Errno 2] No such file or directory: 'data/part-0007.parquet'"),
    ("ConnectionError", "s3.amazonaws.com: read timed out"),
    ("AssertionError", "validation accuracy 0.41 below threshold 0.6"),
]


@dataclass
class Ids:
    """Next values of the sequences; the loader reads them at the start and setvals at the end."""

    run_pk: int
    task_pk: int
    change_seq: int
    metadata_id: int


@dataclass(frozen=True)
class RunHead:
    flow: Flow
    run_id: str
    run_number: int | None
    user: str
    tags: tuple[str, ...]
    created: int
    parameters: str          # JSON, no characters that need COPY escaping


@dataclass
class Emitted:
    run_pk: int
    tasks: list[tuple[int, TaskPlan]]   # (task_pk, plan): for log writers
    status: str
    tracebacks: dict[tuple[int, int], str] | None = None   # (task_pk, attempt) -> traceback, when asked for


def _error(rng: random.Random, flow: Flow, step: str) -> tuple[str, str, str]:
    etype, msg = _ERRORS[rng.randrange(len(_ERRORS))]
    tb = (f"Traceback (most recent call last):\n  File \"/home/ci/flows/{flow.file_name}\", line "
          f"{rng.randint(20, 90)}, in {step}\n    self.result = compute(self.input)\n{etype}: {msg}")
    return etype, msg, tb


def emit_run(rng: random.Random, ids: Ids, t: Tables, pools: dict[tuple[str, str], list[list[PooledArtifact]]],
             head: RunHead, plan: RunPlan, status: str, heartbeat: int, keep_tracebacks: bool = False) -> Emitted:
    run_pk = ids.run_pk
    ids.run_pk += 1
    flow = head.flow
    counts = [0, 0, 0, 0]   # tasks, running, completed, failed
    step_ids: dict[str, list[str]] = {}
    out: list[tuple[int, TaskPlan]] = []
    reason = NULL
    tracebacks: dict[tuple[int, int], str] | None = {} if keep_tracebacks else None
    tasks_rows, att_rows, art_rows, meta_rows = (t.rows["tasks"], t.rows["attempts"],
                                                 t.rows["artifacts"], t.rows["metadata"])
    for step, plans in plan.steps:
        parents = ",".join(x for p in step.parents for x in step_ids.get(p, ()))
        mine: list[str] = []
        sc = [0, 0, 0, 0]
        s_start: int | None = None
        s_end: int | None = None
        for tp in plans:
            task_pk = ids.task_pk
            ids.task_pk += 1
            tid = str(task_pk)
            mine.append(f"{step.name}/{tid}")
            st = tp.status
            sc[0] += 1
            if st == "running":
                sc[1] += 1
            elif st == "completed":
                sc[2] += 1
            elif st == "failed":
                sc[3] += 1
            t_reason = NULL
            att_n = len(tp.attempts) - 1 if tp.attempts else 0
            began = tp.attempts[0].begin if tp.attempts else None
            ended = tp.attempts[-1].end if tp.attempts else None
            if began is not None and (s_start is None or began < s_start):
                s_start = began
            if ended is not None and (s_end is None or ended > s_end):
                s_end = ended
            for a, at in enumerate(tp.attempts):
                if at.end is None:
                    att_rows.append(f"{task_pk}\t{a}\t{run_pk}\trunning\t\\N\t{at.begin}\t\\N\t{heartbeat}"
                                    f"\t\\N\t\\N\t\\N\t\\N\t{_seq(ids)}")
                    continue
                if at.ok:
                    att_rows.append(f"{task_pk}\t{a}\t{run_pk}\tcompleted\t\\N\t{at.begin}\t{at.end}"
                                    f"\t{at.end}\t0\t\\N\t\\N\t\\N\t{_seq(ids)}")
                else:
                    etype, msg, tb = _error(rng, flow, step.name)
                    if tracebacks is not None:
                        tracebacks[(task_pk, a)] = tb
                    a_reason = esc(f"{etype}: {msg}")
                    att_rows.append(f"{task_pk}\t{a}\t{run_pk}\tfailed\t{a_reason}\t{at.begin}\t{at.end}"
                                    f"\t{at.end}\t1\t{etype}\t{esc(msg)}\t{esc(tb)}\t{_seq(ids)}")
                    if a == att_n:
                        t_reason = esc(f"step {step.name} failed: {etype}: {msg}")
                        if reason == NULL:
                            reason = t_reason
                meta_rows.append(f"{ids.metadata_id}\t{task_pk}\t{run_pk}\t{a}\tattempt_ok\t{at.ok}"
                                 f"\tinternal_attempt_status\t{{attempt_id:{a}}}\t{at.end}")
                ids.metadata_id += 1
            if st == "completed":
                for pool in pools[(flow.flow_id, step.name)]:
                    art = pool[rng.randrange(POOL_SIZE)]
                    art_rows.append(f"{task_pk}\t{att_n}\t{art.name}\t{run_pk}\t{art.fields}\t{ended}"
                                    f"\t{_seq(ids)}")
            if step.foreach:
                i = tp.index
                fe = (f"{i}\t{i}\t[{{\"step\": \"start\", \"var\": \"items\", \"num_splits\": {len(plans)}, "
                      f"\"index\": {i}, \"value\": \"{i}\"}}]")
            else:
                fe = "\\N\t\\N\t\\N"
            hb = ended if ended is not None else (heartbeat if st == "running" else NULL)
            tasks_rows.append(f"{task_pk}\t{run_pk}\t{step.name}\t{tid}\t{st}\t{t_reason}\t{att_n}\t{fe}"
                              f"\t{{{parents}}}\t{tp.created}\t{num(began)}\t{num(ended)}\t{hb}\t{_seq(ids)}")
            out.append((task_pk, tp))
        step_ids[step.name] = mine
        for k in range(4):
            counts[k] += sc[k]
        t.rows["steps"].append(f"{run_pk}\t{step.name}\t{plans[0].created}\t{num(s_start)}\t{num(s_end)}"
                               f"\t{sc[0]}\t{sc[1]}\t{sc[2]}\t{sc[3]}\t{_seq(ids)}")
    failed_step = plan.failed_step if status == "failed" else None
    sys_tags = f"{{user:{head.user},runtime:flowscope,python_version:3.11.9}}"
    t.rows["runs"].append(
        f"{run_pk}\t{flow.flow_id}\t{head.run_id}\t{num(head.run_number)}\t{head.user}"
        f"\t{{{','.join(head.tags)}}}\t{sys_tags}\tnative\t{status}\t{reason if status == 'failed' else NULL}"
        f"\t{failed_step or NULL}\t{head.parameters}\t{flow.dag_copy}\t{head.created}\t{plan.started}"
        f"\t{num(plan.finished)}\t{heartbeat}\t{counts[0]}\t{counts[1]}\t{counts[2]}\t{counts[3]}\t{_seq(ids)}")
    t.rows["run_sources"].append(f"{run_pk}\t{flow.file_name}\t{flow.source_copy}")
    return Emitted(run_pk, out, status, tracebacks)


def _seq(ids: Ids) -> int:
    ids.change_seq += 1
    return ids.change_seq
