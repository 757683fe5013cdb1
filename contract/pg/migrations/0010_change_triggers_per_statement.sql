-- Inserts take their change_seq and send their notifications per statement, not per row.
--
-- Measured on the mirror's backfill (docs/benchmarks.md, "The mirror of a metaflow-service
-- database"): inserting 7,000 artifact rows in one statement took 186 ms, of which the per-row
-- plpgsql triggers took 46 ms (artifacts_notify 28 ms, artifacts_seq 18 ms) — a quarter of the
-- statement, the same share for tasks, attempts and steps. Per statement instead:
--
-- * change_seq of an inserted row comes from the column's default, nextval('change_seq'),
--   evaluated in C as the row is formed. The transaction's horizon token (0004) must still be
--   taken before its first change_seq: a BEFORE INSERT ... FOR EACH STATEMENT trigger takes it,
--   and statement triggers fire before the statement produces its first row. An INSERT that
--   names change_seq itself keeps its value (only the bulk loader of bench/ does, with triggers
--   off). Updates keep the per-row trigger (every updated row needs a new change_seq).
-- * one pg_notify per distinct run (flow) of the inserted rows, from a transition table. The
--   payloads are the ones the per-row trigger sent, and Postgres folded identical payloads of a
--   transaction into one anyway; they are delivered at commit, as before. Updates keep theirs.
CREATE OR REPLACE FUNCTION take_change_token() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    token bigint;
BEGIN
    IF coalesce(current_setting('flowscope.change_token', true), '') = '' THEN
        token := nextval('change_seq');
        PERFORM pg_advisory_xact_lock_shared((x'46530000'::int + (token >> 31))::int,
                                             (token & 2147483647)::int);
        PERFORM set_config('flowscope.change_token', token::text, true);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('flowscope_changes', 'run:' || d.run_pk::text)
       FROM (SELECT DISTINCT run_pk FROM new_rows) d;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['flows', 'runs', 'steps', 'tasks', 'attempts', 'artifacts', 'log_chunks', 'cards'] LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN change_seq SET DEFAULT nextval(''change_seq'')', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_seq', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION set_change_seq()',
                       t || '_seq', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH STATEMENT EXECUTE FUNCTION take_change_token()',
                       t || '_seq_token', t);
    END LOOP;
    -- flows have no notify trigger (0001); runs, steps, tasks, attempts and cards notify on updates too.
    FOREACH t IN ARRAY ARRAY['runs', 'steps', 'tasks', 'attempts', 'artifacts', 'log_chunks', 'cards'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_notify', t);
        IF t NOT IN ('artifacts', 'log_chunks') THEN
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION notify_change()',
                           t || '_notify', t);
        END IF;
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION notify_inserted()', t || '_notify_insert', t);
    END LOOP;
END $$;

-- The task counts of inserted tasks (0006) also move their steps' time spans, by the rule of the
-- step_time_span trigger for updates: one update of each step per statement, where the writers
-- of tasks inserted already started or finished (the ingest, the mirror) updated every step a
-- second time (ingest's STEP_SPANS statement, now gone).
CREATE OR REPLACE FUNCTION count_tasks_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
