"""SQL of the translation's store: loading runs and tasks, writing many rows per statement.

Batches travel as one JSON document per statement (``json_populate_recordset`` against the
table's own row type), so a flush of a whole backfill batch is a handful of statements, and a
single HTTP call uses the very same ones with one row.
"""

RUN_COLS = ("r.run_pk, r.flow_id, r.run_id, r.run_number, r.user_name, r.tags, r.system_tags, r.status, "
            "r.status_reason, r.failed_step, r.created_at, r.started_at, r.finished_at, r.heartbeat_at, "
            "r.origin_run_id, r.dag, r.parameters, "
            "(SELECT m.value FROM metadata m WHERE m.run_pk = r.run_pk AND m.field_name = 'end_step' "
            "ORDER BY m.id DESC LIMIT 1) AS end_step_meta")
GET_RUN = (f"SELECT {RUN_COLS} FROM runs r WHERE r.flow_id = %s AND r.run_id = %s "
           "AND r.source = 'metaflow'")
GET_RUN_FOR_UPDATE = GET_RUN + " FOR UPDATE OF r"
GET_RUNS = (f"SELECT {RUN_COLS} FROM runs r JOIN unnest(%s::text[], %s::text[]) AS k(f, i) "
            "ON r.flow_id = k.f AND r.run_id = k.i WHERE r.source = 'metaflow'")

TASK_COLS = ("t.task_pk, t.run_pk, t.step_name, t.task_id, t.status, t.status_reason, t.attempt, "
             "t.started_at, t.finished_at, t.heartbeat_at, t.foreach_index, t.foreach_value, "
             "t.foreach_stack, t.iteration_stack, t.parent_task_ids, t.cloned_from, t.created_at, "
             "(SELECT m.value FROM metadata m WHERE m.task_pk = t.task_pk "
             "AND m.field_name = 'foreach-execution-path' ORDER BY m.id DESC LIMIT 1) AS foreach_path")
GET_TASK = f"SELECT {TASK_COLS} FROM tasks t WHERE t.run_pk = %s AND t.step_name = %s AND t.task_id = %s"
GET_TASK_FOR_UPDATE = GET_TASK + " FOR UPDATE OF t"
GET_TASKS = (f"SELECT {TASK_COLS} FROM tasks t JOIN unnest(%s::bigint[], %s::text[], %s::text[]) "
             "AS k(r, s, i) ON t.run_pk = k.r AND t.step_name = k.s AND t.task_id = k.i")
ATTEMPT_COLS = ("task_pk, attempt, status, status_reason, started_at, finished_at, heartbeat_at, "
                "exception_type, exception_message, traceback")
GET_ATTEMPTS = f"SELECT {ATTEMPT_COLS} FROM attempts WHERE task_pk = ANY(%s) ORDER BY task_pk, attempt"
# Candidate parents: the run's tasks in the parent steps, with their latest foreach path.
PARENT_CANDIDATES = (
    "SELECT t.task_pk, t.step_name, t.task_id, (SELECT m.value FROM metadata m WHERE m.task_pk = t.task_pk "
    "AND m.field_name = 'foreach-execution-path' ORDER BY m.id DESC LIMIT 1) AS path "
    "FROM tasks t WHERE t.run_pk = %s AND t.step_name = ANY(%s) ORDER BY t.step_name, t.task_pk"
)
SET_PARENTS = "UPDATE tasks SET parent_task_ids = %s WHERE task_pk = %s AND parent_task_ids = '{}'"

INSERT_FLOWS = ("INSERT INTO flows (flow_id, created_at) SELECT x.flow_id, x.created_at "
                "FROM json_populate_recordset(NULL::flows, %s) x ON CONFLICT DO NOTHING")
# New runs move the flow's "last run" time, and numbered ones its run-number allocator, so a
# native run of the same flow never takes a number a Metaflow run already has.
TOUCH_FLOWS = ("UPDATE flows f SET last_run_at = GREATEST(COALESCE(f.last_run_at, 0), x.last_run_at), "
               "last_run_number = GREATEST(f.last_run_number, x.last_run_number) "
               "FROM json_populate_recordset(NULL::flows, %s) x WHERE f.flow_id = x.flow_id")
INSERT_RUNS = (
    "INSERT INTO runs AS r (flow_id, run_id, run_number, user_name, tags, system_tags, source, status, "
    "status_reason, failed_step, parameters, dag, origin_run_id, created_at, started_at, finished_at, "
    "heartbeat_at) SELECT x.flow_id, x.run_id, x.run_number, x.user_name, x.tags, x.system_tags, "
    "'metaflow', x.status, x.status_reason, x.failed_step, x.parameters, x.dag, x.origin_run_id, "
    "x.created_at, x.started_at, x.finished_at, x.heartbeat_at FROM json_populate_recordset(NULL::runs, %s) x "
    "ON CONFLICT (flow_id, run_id) DO NOTHING RETURNING r.run_pk, r.flow_id, r.run_id"
)
INSERT_STEPS = ("INSERT INTO steps (run_pk, step_name, created_at) SELECT x.run_pk, x.step_name, x.created_at "
                "FROM json_populate_recordset(NULL::steps, %s) x ON CONFLICT DO NOTHING")
# A writer that counts the tasks it inserts itself (``StateStore.precount``, migration 0013):
# runs and steps go in with their counts and spans, and the counting trigger adds nothing.
INSERT_RUNS_COUNTED = (
    "INSERT INTO runs AS r (flow_id, run_id, run_number, user_name, tags, system_tags, source, status, "
    "status_reason, failed_step, parameters, dag, origin_run_id, created_at, started_at, finished_at, "
    "heartbeat_at, n_tasks, n_running, n_completed, n_failed) SELECT x.flow_id, x.run_id, x.run_number, "
    "x.user_name, x.tags, x.system_tags, 'metaflow', x.status, x.status_reason, x.failed_step, x.parameters, "
    "x.dag, x.origin_run_id, x.created_at, x.started_at, x.finished_at, x.heartbeat_at, x.n_tasks, x.n_running, "
    "x.n_completed, x.n_failed FROM json_populate_recordset(NULL::runs, %s) x "
    "ON CONFLICT (flow_id, run_id) DO NOTHING RETURNING r.run_pk, r.flow_id, r.run_id"
)
INSERT_STEPS_COUNTED = (
    "INSERT INTO steps (run_pk, step_name, created_at, started_at, finished_at, n_tasks, n_running, "
    "n_completed, n_failed) SELECT x.run_pk, x.step_name, x.created_at, x.started_at, x.finished_at, x.n_tasks, "
    "x.n_running, x.n_completed, x.n_failed FROM json_populate_recordset(NULL::steps, %s) x ON CONFLICT DO NOTHING")
TASKS_COUNTED = "SELECT set_config('flowscope.tasks_counted', %s, true)"
# That writer's runs are new (inserted by its own transaction), so their tasks, and the attempts of
# those tasks, cannot exist yet: inserted without ON CONFLICT, whose speculative insertion per row cost 15 % of
# the tasks' and attempts' INSERTs (a 1,729-task batch: 37 -> 32 ms and 22 -> 19 ms, docs/benchmarks.md).
# Should one exist after all, the statement fails and the mirror applies the batch again run by run.
_TASKS_SELECT = (
    "INSERT INTO tasks AS t (run_pk, step_name, task_id, status, status_reason, attempt, foreach_index, "
    "foreach_value, foreach_stack, iteration_stack, parent_task_ids, cloned_from, created_at, started_at, "
    "finished_at, heartbeat_at) SELECT x.run_pk, x.step_name, x.task_id, x.status, x.status_reason, x.attempt, "
    "x.foreach_index, x.foreach_value, x.foreach_stack, x.iteration_stack, x.parent_task_ids, x.cloned_from, "
    "x.created_at, x.started_at, x.finished_at, x.heartbeat_at FROM json_populate_recordset(NULL::tasks, %s) x "
)
INSERT_TASKS = _TASKS_SELECT + "ON CONFLICT DO NOTHING RETURNING t.task_pk, t.run_pk, t.step_name, t.task_id"
INSERT_TASKS_NEW = _TASKS_SELECT + "RETURNING t.task_pk, t.run_pk, t.step_name, t.task_id"
INSERT_ATTEMPTS_NEW = (
    "INSERT INTO attempts (task_pk, attempt, run_pk, status, status_reason, started_at, finished_at, "
    "heartbeat_at, exception_type, exception_message, traceback) SELECT x.task_pk, x.attempt, x.run_pk, "
    "x.status, x.status_reason, x.started_at, x.finished_at, x.heartbeat_at, x.exception_type, "
    "x.exception_message, x.traceback FROM json_populate_recordset(NULL::attempts, %s) x"
)
INSERT_ATTEMPTS = INSERT_ATTEMPTS_NEW + " ON CONFLICT DO NOTHING"
INSERT_METADATA = (
    "INSERT INTO metadata (task_pk, run_pk, attempt, field_name, value, type, tags, created_at) "
    "SELECT x.task_pk, x.run_pk, x.attempt, x.field_name, x.value, x.type, x.tags, x.created_at "
    "FROM json_populate_recordset(NULL::metadata, %s) x"
)
INSERT_ARTIFACTS = (
    "WITH ins AS (INSERT INTO artifacts (task_pk, attempt, name, run_pk, sha, type, size, encoding, "
    "location, preview, created_at) SELECT x.task_pk, x.attempt, x.name, x.run_pk, x.sha, x.type, x.size, "
    "x.encoding, x.location, x.preview, x.created_at FROM json_populate_recordset(NULL::artifacts, %s) x "
    "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) AS n FROM ins"
)
# Heartbeats only move forward, whichever writer gets there first.
MONOTONIC = {"heartbeat_at"}
