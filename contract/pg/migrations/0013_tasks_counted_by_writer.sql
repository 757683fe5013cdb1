-- Numbered after issue 13 (the mirror), so it cannot collide with migrations other branches add
-- meanwhile; it must only come after 0010, whose count_tasks_inserted it replaces.
--
-- A writer that inserts tasks of runs it inserts in the same transaction may write those runs'
-- and steps' counts and spans itself, with the rows, and tell the counting trigger to add nothing
-- for that INSERT: it sets flowscope.tasks_counted to 'on', transaction-locally, just before the
-- INSERT of the tasks and back to 'off' right after. The mirror's backfill does (backend/ingest/
-- state/store.py, ``precount``): the trigger's UPDATE of every run (never HOT: change_seq is
-- indexed) and upsert of every step were 0.13-0.15 ms of Postgres CPU per copied run
-- (docs/benchmarks.md). Every other writer leaves the setting unset: nothing changes for it.
CREATE OR REPLACE FUNCTION count_tasks_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('flowscope.tasks_counted', true) = 'on' THEN
        RETURN NULL;
    END IF;
    WITH d AS (
        SELECT run_pk, step_name, min(created_at) AS created_at, count(*)::int AS n,
               (count(*) FILTER (WHERE status = 'running'))::int AS r,
               (count(*) FILTER (WHERE status = 'completed'))::int AS c,
               (count(*) FILTER (WHERE status = 'failed'))::int AS f,
               min(started_at) AS a, max(finished_at) AS b
          FROM new_rows WHERE left(step_name, 1) <> '_'
         GROUP BY run_pk, step_name
    ), per_run AS (
        UPDATE runs SET n_tasks = n_tasks + x.n, n_running = n_running + x.r,
                        n_completed = n_completed + x.c, n_failed = n_failed + x.f
          FROM (SELECT run_pk, sum(n)::int AS n, sum(r)::int AS r, sum(c)::int AS c, sum(f)::int AS f
                  FROM d GROUP BY run_pk) x
         WHERE runs.run_pk = x.run_pk
    )
    INSERT INTO steps AS s (run_pk, step_name, created_at, started_at, finished_at,
                            n_tasks, n_running, n_completed, n_failed)
    SELECT run_pk, step_name, created_at, a, b, n, r, c, f FROM d
    ON CONFLICT (run_pk, step_name) DO UPDATE
       SET n_tasks = s.n_tasks + EXCLUDED.n_tasks, n_running = s.n_running + EXCLUDED.n_running,
           n_completed = s.n_completed + EXCLUDED.n_completed, n_failed = s.n_failed + EXCLUDED.n_failed,
           -- LEAST and GREATEST skip NULLs: a span only widens, and only from tasks that have times
           started_at = LEAST(s.started_at, EXCLUDED.started_at),
           finished_at = GREATEST(s.finished_at, EXCLUDED.finished_at);
    RETURN NULL;
END $$;
