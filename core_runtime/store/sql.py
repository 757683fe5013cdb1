"""The SQL of RunStore, as named constants (docs/schema.md is the contract)."""

UPSERT_FLOW_ALLOCATE = """
INSERT INTO flows AS f (flow_id, created_at, last_run_number, last_run_at)
VALUES (%(flow_id)s, %(now)s, 1, %(now)s)
ON CONFLICT (flow_id) DO UPDATE
   SET last_run_number = f.last_run_number + 1, last_run_at = EXCLUDED.last_run_at
RETURNING last_run_number
"""

# A run with a given id (orchestrators, ingest): keep the allocator ahead of numeric ids.
UPSERT_FLOW_GIVEN = """
INSERT INTO flows AS f (flow_id, created_at, last_run_number, last_run_at)
VALUES (%(flow_id)s, %(now)s, COALESCE(%(number)s, 0), %(now)s)
ON CONFLICT (flow_id) DO UPDATE
   SET last_run_number = GREATEST(f.last_run_number, COALESCE(%(number)s, 0)),
       last_run_at = EXCLUDED.last_run_at
"""

INSERT_RUN = """
INSERT INTO runs (flow_id, run_id, run_number, user_name, tags, system_tags, source, status,
                  parameters, dag, origin_run_id, created_at, started_at, heartbeat_at)
VALUES (%(flow_id)s, %(run_id)s, %(number)s, %(user)s, %(tags)s, %(system_tags)s, %(source_kind)s,
        'running', %(parameters)s, %(dag)s, %(origin_run_id)s, %(now)s, %(now)s, %(now)s)
RETURNING run_pk
"""

INSERT_RUN_SOURCE = "INSERT INTO run_sources (run_pk, file_name, source) VALUES (%s, %s, %s)"

FINISH_RUN = """
UPDATE runs SET status = %(status)s, status_reason = %(reason)s, failed_step = %(failed_step)s,
                finished_at = %(now)s, heartbeat_at = %(now)s
 WHERE run_pk = %(run_pk)s
"""

HEARTBEAT_RUN = "UPDATE runs SET heartbeat_at = %s WHERE run_pk = %s"
HEARTBEAT_TASKS = "UPDATE tasks SET heartbeat_at = %s WHERE task_pk = ANY(%s) AND status = 'running'"
HEARTBEAT_ATTEMPTS = """
UPDATE attempts SET heartbeat_at = %s WHERE task_pk = ANY(%s) AND status = 'running'
"""

# Native task ids are the task_pk, so take it from the sequence inside the same statement.
INSERT_TASK = """
WITH n AS (SELECT nextval(pg_get_serial_sequence('tasks', 'task_pk')) AS pk)
INSERT INTO tasks (task_pk, run_pk, step_name, task_id, status, foreach_index, foreach_value,
                   foreach_stack, iteration_stack, parent_task_ids, cloned_from, created_at)
SELECT n.pk, %(run_pk)s, %(step)s, COALESCE(%(task_id)s, n.pk::text), 'pending', %(foreach_index)s,
       %(foreach_value)s, %(foreach_stack)s, %(iteration_stack)s::integer[], %(parent_task_ids)s,
       %(cloned_from)s, %(now)s
  FROM n
RETURNING task_pk, task_id
"""

START_ATTEMPT = """
WITH a AS (
    INSERT INTO attempts AS a (task_pk, attempt, run_pk, status, started_at, heartbeat_at)
    VALUES (%(task_pk)s, %(attempt)s, %(run_pk)s, 'running', %(now)s, %(now)s)
    ON CONFLICT (task_pk, attempt) DO UPDATE
       SET status = 'running', started_at = EXCLUDED.started_at, finished_at = NULL,
           heartbeat_at = EXCLUDED.heartbeat_at, status_reason = NULL
)
UPDATE tasks SET status = 'running', status_reason = NULL, attempt = %(attempt)s,
                 started_at = COALESCE(started_at, %(now)s), heartbeat_at = %(now)s
 WHERE task_pk = %(task_pk)s
"""

FINISH_ATTEMPT = """
UPDATE attempts SET status = %(status)s, status_reason = %(reason)s, finished_at = %(now)s,
                    heartbeat_at = %(now)s, exit_code = %(exit_code)s,
                    exception_type = %(exception_type)s, exception_message = %(exception_message)s,
                    traceback = %(traceback)s
 WHERE task_pk = %(task_pk)s AND attempt = %(attempt)s
"""

FINISH_ATTEMPT_AND_TASK = """
WITH a AS (""" + FINISH_ATTEMPT + """)
UPDATE tasks SET status = %(status)s, status_reason = %(reason)s, finished_at = %(now)s,
                 heartbeat_at = %(now)s
 WHERE task_pk = %(task_pk)s
"""

# A retry follows: the task stays running, its reason says why the attempt failed.
NOTE_TASK_RETRY = """
WITH a AS (""" + FINISH_ATTEMPT + """)
UPDATE tasks SET status_reason = %(reason)s, heartbeat_at = %(now)s WHERE task_pk = %(task_pk)s
"""

UPSERT_ARTIFACTS = """
INSERT INTO artifacts (task_pk, attempt, name, run_pk, sha, type, size, encoding, location, preview,
                       created_at)
VALUES %s
ON CONFLICT (task_pk, attempt, name) DO UPDATE
   SET sha = EXCLUDED.sha, type = EXCLUDED.type, size = EXCLUDED.size, encoding = EXCLUDED.encoding,
       location = EXCLUDED.location, preview = EXCLUDED.preview, created_at = EXCLUDED.created_at
"""

INSERT_METADATA = """
INSERT INTO metadata (task_pk, run_pk, attempt, field_name, value, type, created_at) VALUES %s
"""

INSERT_LOG_CHUNK = """
INSERT INTO log_chunks (task_pk, attempt, stream, seq, run_pk, first_line, n_lines, n_bytes,
                        first_ts, last_ts, location, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

UPSERT_CARD = """
INSERT INTO cards (task_pk, attempt, card_id, run_pk, type, location, size, created_at, data_location,
                   final, updated_at, decorator_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (task_pk, attempt, card_id) DO UPDATE
   SET type = EXCLUDED.type, location = EXCLUDED.location, size = coalesce(EXCLUDED.size, cards.size),
       data_location = EXCLUDED.data_location, final = EXCLUDED.final, updated_at = EXCLUDED.updated_at,
       decorator_id = EXCLUDED.decorator_id
 WHERE NOT cards.final
"""

CLOSE_LIVE_CARDS = """
UPDATE cards SET final = true WHERE task_pk = %(task_pk)s AND attempt = %(attempt)s AND NOT final
"""

ORIGIN_TASK = """
SELECT t.step_name, t.task_id, t.attempt, t.foreach_index, t.foreach_value, t.foreach_stack,
       t.parent_task_ids, r.flow_id, r.run_id
  FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
 WHERE t.task_pk = %s
"""

CLONE_TASK = """
INSERT INTO tasks (run_pk, step_name, task_id, status, status_reason, attempt, foreach_index,
                   foreach_value, foreach_stack, iteration_stack, parent_task_ids, cloned_from,
                   created_at, started_at, finished_at, heartbeat_at)
SELECT %(run_pk)s, step_name, %(task_id)s, 'completed', %(reason)s, attempt, foreach_index,
       foreach_value, foreach_stack, iteration_stack, %(parent_task_ids)s, %(cloned_from)s, %(now)s,
       %(now)s, %(now)s, %(now)s
  FROM tasks WHERE task_pk = %(origin)s
RETURNING task_pk
"""

CLONE_ATTEMPTS = """
INSERT INTO attempts (task_pk, attempt, run_pk, status, status_reason, started_at, finished_at,
                      heartbeat_at, exit_code, exception_type, exception_message, traceback)
SELECT %(new)s, attempt, %(run_pk)s, status, status_reason, started_at, finished_at, heartbeat_at,
       exit_code, exception_type, exception_message, traceback
  FROM attempts WHERE task_pk = %(origin)s
"""

CLONE_ARTIFACTS = """
INSERT INTO artifacts (task_pk, attempt, name, run_pk, sha, type, size, encoding, location, preview,
                       created_at)
SELECT %(new)s, attempt, name, %(run_pk)s, sha, type, size, encoding, location, preview, %(now)s
  FROM artifacts WHERE task_pk = %(origin)s
"""

CLONE_METADATA = """
INSERT INTO metadata (task_pk, run_pk, attempt, field_name, value, type, tags, created_at)
SELECT %(new)s, %(run_pk)s, attempt, field_name, value, type, tags, created_at
  FROM metadata WHERE task_pk = %(origin)s ORDER BY id
"""

# Log chunks and cards keep pointing at the origin's datastore keys: the bytes are immutable.
CLONE_LOG_CHUNKS = """
INSERT INTO log_chunks (task_pk, attempt, stream, seq, run_pk, first_line, n_lines, n_bytes,
                        first_ts, last_ts, location, created_at)
SELECT %(new)s, attempt, stream, seq, %(run_pk)s, first_line, n_lines, n_bytes, first_ts, last_ts,
       location, created_at
  FROM log_chunks WHERE task_pk = %(origin)s
"""

CLONE_CARDS = """
INSERT INTO cards (task_pk, attempt, card_id, run_pk, type, location, size, created_at, data_location,
                   final, updated_at, decorator_id)
SELECT %(new)s, attempt, card_id, %(run_pk)s, type, location, size, created_at, data_location, true,
       updated_at, decorator_id
  FROM cards WHERE task_pk = %(origin)s
"""
