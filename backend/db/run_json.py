"""A run's JSON, built by Postgres: the one definition of the ``Run`` shape (backend/resources/runs.py).

Every answer and feed event that carries a run selects this expression as text and passes it
through as an ``orjson.Fragment``: no jsonb decoding, no dict per row, no re-encoding in Python
(together ~40 % of the event loop serving run lists without the response cache; docs/benchmarks.md,
"Issue #19"). Statuses are the effective ones (backend/db/liveness.py), so the query needs
live_params(); a run whose heartbeat is lost counts its running tasks as failed.

Postgres writes ``{"a" : 1, "b" : 2}`` (spaces after separators): the same JSON value, a few
bytes longer than orjson's.
"""

from __future__ import annotations

from backend.db.liveness import reason_expr, stale_expr, status_expr


def _task_counts(alias: str) -> str:
    stale = stale_expr(alias)
    a = alias
    return (f"json_build_object('total', {a}.n_tasks, "
            f"'pending', GREATEST(0, {a}.n_tasks - {a}.n_running - {a}.n_completed - {a}.n_failed), "
            f"'running', CASE WHEN {stale} THEN 0 ELSE {a}.n_running END, "
            f"'completed', {a}.n_completed, "
            f"'failed', CASE WHEN {stale} THEN {a}.n_failed + {a}.n_running ELSE {a}.n_failed END)")


def run_json(alias: str = "r", extra: str = "") -> str:
    """The ``Run`` object of the runs row ``alias`` as a json expression (cast to text to select it).

    ``extra``: more ``'key', value`` pairs appended (RunDetail's file_name and source_code).
    json_build_object takes at most 100 arguments; this uses 40.
    """
    a = alias
    return (
        "json_build_object("
        f"'flow_id', {a}.flow_id, 'run_id', {a}.run_id, 'run_number', {a}.run_number, "
        f"'pathspec', {a}.flow_id || '/' || {a}.run_id, 'user', {a}.user_name, "
        f"'tags', COALESCE({a}.tags, '{{}}'), 'system_tags', COALESCE({a}.system_tags, '{{}}'), "
        f"'source', {a}.source, 'status', {status_expr(a)}, 'status_reason', {reason_expr(a)}, "
        f"'failed_step', {a}.failed_step, 'origin_run_id', {a}.origin_run_id, "
        f"'created_at', {a}.created_at, 'started_at', {a}.started_at, 'finished_at', {a}.finished_at, "
        f"'duration_ms', {a}.duration_ms, 'heartbeat_at', {a}.heartbeat_at, "
        # the schema promises an object: a jsonb null, array or scalar is shown as {}
        f"'parameters', CASE WHEN jsonb_typeof({a}.parameters) = 'object' THEN {a}.parameters "
        "ELSE '{}'::jsonb END, "
        f"'task_counts', {_task_counts(a)}, 'seq', {a}.change_seq"
        f"{', ' + extra if extra else ''})"
    )


RUN_JSON = f"{run_json('r')}::text"
