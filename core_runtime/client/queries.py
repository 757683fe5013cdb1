"""The client's SQL: named constants, read-only, keyset-paged where lists can be long."""

from __future__ import annotations

RUN_COLUMNS = """r.run_pk, r.flow_id, r.run_id, r.user_name, r.tags, r.system_tags, r.status, r.status_reason,
r.failed_step, r.parameters, r.dag, r.origin_run_id, r.created_at, r.started_at, r.finished_at,
r.heartbeat_at"""

FLOW = "SELECT flow_id, created_at, last_run_at FROM flows WHERE flow_id = %s"
FLOWS = "SELECT flow_id, created_at, last_run_at FROM flows ORDER BY flow_id"

# Newest first; (created_at, run_pk) is the cursor (index runs_flow_created). The namespace is tested
# per array so each side can use its GIN index.
RUNS_PAGE = f"""
SELECT {RUN_COLUMNS} FROM runs r
 WHERE r.flow_id = %(flow)s
   AND (%(ns)s::text IS NULL OR r.tags @> ARRAY[%(ns)s::text] OR r.system_tags @> ARRAY[%(ns)s::text])
   AND (%(status)s::text IS NULL OR r.status = %(status)s)
   AND (%(after_created)s::bigint IS NULL OR (r.created_at, r.run_pk) < (%(after_created)s, %(after_pk)s))
 ORDER BY r.created_at DESC, r.run_pk DESC
 LIMIT %(limit)s
"""

RUN = f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.flow_id = %s AND r.run_id = %s"

STEP_COLUMNS = "s.step_name, s.created_at, s.started_at, s.finished_at, s.n_tasks, s.n_completed, s.n_failed"
STEPS = f"SELECT {STEP_COLUMNS} FROM steps s WHERE s.run_pk = %s ORDER BY s.created_at DESC, s.step_name"
STEP = f"SELECT {STEP_COLUMNS} FROM steps s WHERE s.run_pk = %s AND s.step_name = %s"

TASK_COLUMNS = """t.task_pk, t.step_name, t.task_id, t.status, t.status_reason, t.attempt, t.foreach_index,
t.foreach_value, t.foreach_stack, t.parent_task_ids, t.cloned_from, t.created_at, t.started_at,
t.finished_at, t.heartbeat_at, t.iteration_stack"""
# Tasks of a step in creation order, paged by task_pk (index tasks_run_step).
TASKS_PAGE = f"""
SELECT {TASK_COLUMNS} FROM tasks t
 WHERE t.run_pk = %s AND t.step_name = %s AND t.task_pk > %s
 ORDER BY t.task_pk LIMIT %s
"""
TASK = f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.run_pk = %s AND t.step_name = %s AND t.task_id = %s"

# The artifacts of one attempt (Task(pathspec, attempt=N)).
ATTEMPT_ARTIFACTS = """
SELECT name, sha, type, size, encoding, location, preview, created_at, attempt FROM artifacts
 WHERE task_pk = %(task)s AND attempt = %(attempt)s
 ORDER BY name
"""

# A task's artifacts are those of its latest attempt that recorded any.
ARTIFACTS = """
SELECT name, sha, type, size, encoding, location, preview, created_at, attempt FROM artifacts
 WHERE task_pk = %(task)s
   AND attempt = (SELECT max(attempt) FROM artifacts WHERE task_pk = %(task)s)
 ORDER BY name
"""

ATTEMPT = """
SELECT attempt, status, status_reason, started_at, finished_at, exit_code, exception_type,
       exception_message, traceback
  FROM attempts WHERE task_pk = %s AND attempt = %s
"""

LOG_CHUNKS = """
SELECT seq, first_line, n_lines, first_ts, last_ts, location FROM log_chunks
 WHERE task_pk = %s AND attempt = %s AND stream = %s ORDER BY seq
"""

# A task's metadata rows, then, for each finished attempt that has none of its own (a native run;
# Metaflow-recorded runs carry their own), Metaflow's ``attempt_ok`` / ``attempt-done`` fields made
# from the attempt, so ``metadata_dict["attempt_ok"]`` reads as it does in Metaflow.
METADATA = """
SELECT field_name, value, type, attempt, created_at FROM (
  SELECT field_name, value, type, attempt, created_at, 0 AS part, id AS ord FROM metadata WHERE task_pk = %s
  UNION ALL
  SELECT f.name, f.value, f.type, a.attempt, a.finished_at, 1, a.attempt
    FROM attempts a
    CROSS JOIN LATERAL (VALUES
      ('attempt_ok', CASE WHEN a.status = 'completed' THEN 'True' ELSE 'False' END, 'internal_attempt_status'),
      ('attempt-done', a.attempt::text, 'attempt-done')) AS f(name, value, type)
   WHERE a.task_pk = %s AND a.status <> 'running'
     AND NOT EXISTS (SELECT 1 FROM metadata m
                      WHERE m.task_pk = a.task_pk AND m.attempt = a.attempt AND m.field_name = f.name)
) AS rows ORDER BY part, ord
"""

# Tasks started from a given task ("step/task_id" in their parent_task_ids), in creation order.
CHILD_TASKS = """
SELECT step_name, task_id FROM tasks WHERE run_pk = %s AND parent_task_ids @> ARRAY[%s::text]
 ORDER BY task_pk
"""
