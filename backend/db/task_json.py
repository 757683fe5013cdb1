"""A task's JSON with its attempts, built by Postgres, for the task pages of a run (the run page and
a 100,000-task run's pages): passed through as ``orjson.Fragment`` like a run's (backend/db/run_json.py).

It is the ``Task`` shape of backend/resources/tasks.py (task_shape, which the live feed and the
one-task answer still build in Python from the same columns); tests/backend/test_task_page_statement.py
proves the two equal on every task of the test database. ``seq`` is the task row's change_seq,
as task_shape gives it for a row of a page.
"""

from __future__ import annotations

from backend.db.liveness import reason_expr, status_expr


def attempt_json(alias: str = "a") -> str:
    a = alias
    return ("json_build_object("
            f"'attempt', {a}.attempt, 'status', {status_expr(a, False)}, "
            f"'status_reason', {reason_expr(a, False)}, 'started_at', {a}.started_at, "
            f"'finished_at', {a}.finished_at, 'duration_ms', {a}.duration_ms, 'exit_code', {a}.exit_code, "
            f"'exception_type', {a}.exception_type, 'exception_message', {a}.exception_message, "
            f"'traceback', {a}.traceback)")


def task_json(task: str = "t", run: str = "r") -> str:
    """The task ``task`` (a tasks row) of the run ``run`` (its runs row), its attempts in order."""
    t, r = task, run
    attempts = (f"COALESCE((SELECT json_agg({attempt_json('a')} ORDER BY a.attempt) FROM attempts a "
                f"WHERE a.task_pk = {t}.task_pk), '[]')")
    return (
        "json_build_object("
        f"'flow_id', {r}.flow_id, 'run_id', {r}.run_id, 'step_name', {t}.step_name, 'task_id', {t}.task_id, "
        f"'pathspec', {r}.flow_id || '/' || {r}.run_id || '/' || {t}.step_name || '/' || {t}.task_id, "
        f"'status', {status_expr(t)}, 'status_reason', {reason_expr(t)}, 'attempt', {t}.attempt, "
        f"'foreach_index', {t}.foreach_index, 'foreach_value', {t}.foreach_value, "
        f"'foreach_stack', {t}.foreach_stack, "
        # [k] for the k-th (0-based) iteration of a recursive step, [] elsewhere
        f"'iteration_stack', COALESCE({t}.iteration_stack, '{{}}'), "
        f"'parent_task_ids', COALESCE({t}.parent_task_ids, '{{}}'), "
        f"'cloned_from', {t}.cloned_from, 'created_at', {t}.created_at, 'started_at', {t}.started_at, "
        f"'finished_at', {t}.finished_at, 'duration_ms', {t}.duration_ms, 'heartbeat_at', {t}.heartbeat_at, "
        f"'attempts', {attempts}, 'seq', {t}.change_seq)"
    )


TASK_JSON = f"{task_json('t', 'r')}::text"
