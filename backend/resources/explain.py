"""Why a status is what it is: the rule that decided a run's or a task's status, with its evidence.

The rules are the ones the writers and readers apply (docs/schema.md, docs/runtime.md, and for
runs Metaflow wrote, the metadata rules of docs/metaflow.md): the effective status turns a
stale heartbeat into a failure; otherwise the stored status stands and the evidence is the
attempt that decided it (its exception, exit code, timeout, or Metaflow's ``attempt_ok`` row).
Pure functions of rows the handler read (backend/api/explain.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from backend.db.query import Row
from backend.resources.schema import INT, STATUS, STR, arr, nullable, obj

RULES = ("pending", "heartbeat_fresh", "heartbeat_lost", "end_step_ok", "task_failed", "interrupted",
         "writer_reason", "attempt_ok", "caught", "cloned", "exception", "timeout", "killed",
         "exit_code", "attempt_ok_false", "newer_attempt", "running")
RULE = {"type": "string", "enum": list(RULES)}
EVIDENCE = obj({"label": STR, "value": STR, "at": nullable(INT), "link": nullable(STR)})

SCHEMAS = {
    "StatusExplanation": obj({
        "pathspec": STR, "kind": {"type": "string", "enum": ["run", "task"]}, "status": STATUS,
        "stored_status": STATUS, "source": STR, "rule": RULE, "summary": STR,
        "evidence": arr(EVIDENCE),
        "attempts": arr(obj({"attempt": INT, "status": STATUS, "rule": RULE, "summary": STR})),
        "timing": nullable(obj({"ready_at": nullable(INT), "started_at": nullable(INT),
                                "finished_at": nullable(INT), "queued_ms": nullable(INT),
                                "running_ms": nullable(INT)})),
    }, description="Why a run or task has its status: the rule that fired (rule, summary in plain "
                   "words) and the evidence it used (label, value, time, link to the UI). timing (tasks "
                   "only, null for a run): when the task could start (its last parent's finish, the run's "
                   "start for a root; null while a parent has not finished), its queued time (ready to "
                   "started) and running time (started to finished; to its last heartbeat when that was "
                   "lost and no finish was recorded, finished_at then null), null where unknown."),
}


def task_timing(run: Row, task: Row, parents: Row | None, stale: bool = False) -> dict[str, Any]:
    """Queued vs running time of one task, as the critical path counts them (ready_at there).

    ``parents``: how many of the task's recorded parents are tasks of the run (``found``), how many
    of those finished (``done``) and the last finish (``ready``); None for a task without parents.
    ``stale``: its heartbeat was lost (stored running, effectively failed): it ran until its last
    sign of life (finished_at stays null: no finish was recorded), not until every later "now".
    """
    if parents is None:
        ready = run.get("started_at")
    elif parents["found"] and parents["done"] == parents["found"]:
        ready = parents["ready"]
    else:
        ready = None
    s, e = task.get("started_at"), task.get("finished_at")
    until = e if e is not None or not stale else _last_sign(task)
    return {"ready_at": ready, "started_at": s, "finished_at": e,
            "queued_ms": max(0, s - ready) if s is not None and ready is not None else None,
            "running_ms": max(0, until - s) if s is not None and until is not None else None}


def clock(ms: int | None) -> str:
    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(ms: int) -> str:
    """A duration in words: 42 s, 7 min, 3 h 5 min."""
    s = max(0, ms) // 1000
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def ev(label: str, value: Any, at: int | None = None, link: str | None = None) -> dict[str, Any]:
    return {"label": label, "value": str(value), "at": at, "link": link}


def _last_sign(row: Row) -> int | None:
    return row.get("heartbeat_at") or row.get("started_at") or row.get("created_at")


def heartbeat_rule(row: Row, threshold_s: float, now: int, what: str) -> tuple[str, str, list[dict[str, Any]]]:
    """Running or heartbeat lost: the age of the last sign of life against the threshold."""
    last = _last_sign(row)
    silence = now - (last or now)
    evidence = [ev("last heartbeat", clock(last), last), ev("silence", age(silence)),
                ev("threshold", f"{threshold_s:g} s (FLOWSCOPE_HEARTBEAT_TIMEOUT)")]
    if row["status"] == "failed":
        return ("heartbeat_lost", f"Failed: the {what} was recorded as running, but its last heartbeat was "
                f"{age(silence)} ago, past the {threshold_s:g} s threshold, so the process that ran it is "
                "gone (killed, lost machine) and nothing will finish it.", evidence)
    return ("heartbeat_fresh", f"Running: the last heartbeat was {age(silence)} ago, within the "
            f"{threshold_s:g} s threshold.", evidence)


def retries_allowed(decorators: Any) -> int | None:
    for deco in decorators or []:
        if isinstance(deco, dict) and deco.get("name") == "retry":
            try:
                return int((deco.get("attributes") or {}).get("times", 3))
            except (TypeError, ValueError):
                return 3
    return None


def _attempt_ok(meta: list[Row], attempt: int) -> Row | None:
    rows = [m for m in meta if m["field_name"] == "attempt_ok" and m["attempt"] == attempt]
    return rows[-1] if rows else None


def attempt_rule(a: Row, newest: int, meta: list[Row], metaflow: bool) -> tuple[str, str, list[dict[str, Any]]]:
    """The rule that decided one attempt's status."""
    n, reason = a["attempt"], a.get("status_reason") or ""
    ok_row = _attempt_ok(meta, n) if metaflow else None
    evidence: list[dict[str, Any]] = []
    if ok_row is not None:
        evidence.append(ev(f"attempt_ok (attempt {n})", ok_row["value"], ok_row["created_at"]))
    if a["exit_code"] is not None:
        evidence.append(ev("exit code", a["exit_code"]))
    if a["status"] == "running":
        return "running", f"attempt {n} is running", evidence
    if a["status"] == "completed":
        if reason == "exception caught by @catch":
            return "caught", f"attempt {n} completed: @catch stored the previous attempt's exception", evidence
        if ok_row is not None:
            return "attempt_ok", f"attempt {n} completed: Metaflow recorded attempt_ok = True", evidence
        return "attempt_ok", f"attempt {n} completed" + (" (exit code 0)" if a["exit_code"] == 0 else ""), evidence
    if a.get("exception_type"):
        evidence.append(ev("exception", f"{a['exception_type']}: {a.get('exception_message') or ''}".strip()))
    if reason.startswith("timeout after"):
        return "timeout", f"attempt {n} was killed by its @timeout ({reason})", evidence
    if reason.startswith("killed:"):
        return "killed", f"attempt {n} was killed because the run failed ({reason[8:]})", evidence
    if a.get("exception_type"):
        return "exception", f"attempt {n} raised {a['exception_type']}: {a.get('exception_message') or ''}", evidence
    if metaflow and n < newest and ok_row is None:
        return "newer_attempt", f"attempt {n} failed: a newer attempt ({n + 1}) started after it", evidence
    if ok_row is not None:
        return "attempt_ok_false", f"attempt {n} failed: Metaflow recorded attempt_ok = False", evidence
    if a["exit_code"] is not None:
        code = a["exit_code"]
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return "exit_code", f"attempt {n} failed: the task process {how} without reporting an exception", evidence
    return "writer_reason", f"attempt {n} failed: {reason or 'no reason recorded'}", evidence


def explain_task(run: Row, task: Row, attempts: list[Row], meta: list[Row], decorators: Any,
                 threshold_s: float, now: int | None = None) -> dict[str, Any]:
    now = int(time.time() * 1000) if now is None else now
    metaflow = run["source"] != "native"
    pathspec = f"{run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']}"
    newest = max((a["attempt"] for a in attempts), default=0)
    per_attempt = []
    for a in attempts:
        rule, summary, _ = attempt_rule(a, newest, meta, metaflow)
        per_attempt.append({"attempt": a["attempt"], "status": a["status"], "rule": rule, "summary": summary})
    stored = "running" if task.get("stale") else task["status"]
    out = {"pathspec": pathspec, "kind": "task", "status": task["status"], "stored_status": stored,
           "source": run["source"], "attempts": per_attempt}
    last = next((a for a in attempts if a["attempt"] == task["attempt"]), None)
    if task["status"] == "pending" or (task["status"] != "failed" and last is None and not task.get("cloned_from")):
        return {**out, "rule": "pending", "summary": "Pending: the task exists but no attempt has started yet "
                "(it waits for a worker slot or for its parents).",
                "evidence": [ev("created", clock(task["created_at"]), task["created_at"])]}
    if task["status"] == "running" or task.get("stale"):
        rule, summary, evidence = heartbeat_rule(task, threshold_s, now, "task")
        return {**out, "rule": rule, "summary": summary, "evidence": evidence}
    if task.get("cloned_from"):
        return {**out, "rule": "cloned", "summary": f"Completed in an earlier run: resume cloned it from "
                f"{task['cloned_from']}.", "evidence": [ev("cloned from", task["cloned_from"],
                                                           link="/" + task["cloned_from"])]}
    assert last is not None or task["status"] == "failed"
    if last is None:
        return {**out, "rule": "writer_reason", "summary": f"Failed: {task.get('status_reason') or 'no reason'}",
                "evidence": [ev("reason", task.get("status_reason") or "none")]}
    rule, summary, evidence = attempt_rule(last, newest, meta, metaflow)
    allowed = retries_allowed(decorators)
    n_attempts = len(attempts)
    if task["status"] == "failed":
        retries = (f"; @retry allowed {allowed} retr{'y' if allowed == 1 else 'ies'}, so no attempt was left"
                   if allowed is not None else "; the step has no @retry")
        text = f"Failed: {summary} (attempt {last['attempt'] + 1} of {n_attempts}){retries}."
        evidence.insert(0, ev("attempts", n_attempts))
        if allowed is not None:
            evidence.append(ev("@retry times", allowed))
    else:
        retried = f" after {n_attempts - 1} failed attempt{'s' if n_attempts > 2 else ''}" if n_attempts > 1 else ""
        text = f"Completed: {summary}{retried}."
    evidence.append(ev("finished", clock(last.get("finished_at")), last.get("finished_at")))
    return {**out, "rule": rule, "summary": text[0].upper() + text[1:], "evidence": evidence}


def explain_run(run: Row, end_step: str, decider: Row | None, decider_attempts: list[Row],
                decider_meta: list[Row], decorators: Any, threshold_s: float,
                now: int | None = None) -> dict[str, Any]:
    """``decider``: the end step's task of a completed run, the failed task of a failed one."""
    now = int(time.time() * 1000) if now is None else now
    pathspec = f"{run['flow_id']}/{run['run_id']}"
    stored = "running" if run.get("stale") else run["status"]
    out = {"pathspec": pathspec, "kind": "run", "status": run["status"], "stored_status": stored,
           "source": run["source"], "attempts": []}
    metaflow = run["source"] != "native"
    if run["status"] == "running" or run.get("stale"):
        rule, summary, evidence = heartbeat_rule(run, threshold_s, now, "run")
        if run.get("stale"):
            # counted as the run's task_counts count them (backend/db/run_json.py): a task still
            # running when the heartbeat stopped is failed
            lost = f"; {run['n_running']} of them running when the heartbeat stopped" if run["n_running"] else ""
            counts = f"{run['n_completed']} completed, {run['n_failed'] + run['n_running']} failed{lost}"
        else:
            counts = f"{run['n_running']} running, {run['n_completed']} completed, {run['n_failed']} failed"
        evidence.append(ev("tasks", f"{run['n_tasks']} ({counts})"))
        return {**out, "rule": rule, "summary": summary, "evidence": evidence}
    reason = run.get("status_reason") or ""
    finished = ev("finished", clock(run["finished_at"]), run["finished_at"])
    link = (f"/{pathspec}/{decider['step_name']}/{decider['task_id']}" if decider else None)
    if run["status"] == "completed":
        evidence = [ev("end step", end_step)]
        if decider is not None:
            last = next((a for a in decider_attempts if a["attempt"] == decider["attempt"]), None)
            ok_row = _attempt_ok(decider_meta, decider["attempt"]) if metaflow else None
            evidence.append(ev("end task", f"{end_step}/{decider['task_id']} attempt {decider['attempt']}",
                               last.get("finished_at") if last else None, link))
            if ok_row is not None:
                evidence.append(ev(f"attempt_ok (attempt {decider['attempt']})", ok_row["value"],
                                   ok_row["created_at"]))
                summary = (f"Completed: the newest attempt_ok of the end step ({end_step}) is True "
                           f"(task {decider['task_id']}, attempt {decider['attempt']}).")
            else:
                summary = (f"Completed: the end step ({end_step}) finished successfully "
                           f"(task {decider['task_id']}, attempt {decider['attempt']}).")
        else:
            summary = f"Completed: {reason or 'the writer recorded the run as completed'}."
        return {**out, "rule": "end_step_ok", "summary": summary, "evidence": [*evidence, finished]}
    if reason.startswith("interrupted by"):
        sig = reason.rsplit(" ", 1)[-1]
        what = {"SIGINT": "Ctrl-C", "SIGTERM": "a termination request"}.get(sig, sig)
        return {**out, "rule": "interrupted", "summary": f"Failed: the runtime was {reason} ({what}); "
                "running tasks were killed.", "evidence": [ev("reason", reason), finished]}
    if decider is not None:
        task = explain_task(run, decider, decider_attempts, decider_meta, decorators, threshold_s, now)
        task_summary = task["summary"].removeprefix("Failed: ")
        summary = (f"Failed: step {decider['step_name']} failed for good — task {decider['task_id']}: "
                   f"{task_summary}")
        evidence = [ev("failed step", run.get("failed_step") or decider["step_name"]),
                    ev("failed task", f"{decider['step_name']}/{decider['task_id']}", None, link),
                    *[e for e in task["evidence"] if e["label"] != "finished"], ev("run's reason", reason or "none"),
                    finished]
        return {**out, "rule": "task_failed", "summary": summary, "evidence": evidence}
    return {**out, "rule": "writer_reason", "summary": f"Failed: {reason or 'no reason recorded'}.",
            "evidence": [ev("reason", reason or "none"), finished]}
