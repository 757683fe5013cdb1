-- Metaflow ingest (backend/ingest): id allocation and internal steps.

-- Task ids handed to the metaflow client. One global sequence, like the official metadata
-- service: ids are unique across flows and runs, so they never collide inside a run's step.
-- (Run numbers come from flows.last_run_number, shared with native runs of the same flow.)
CREATE SEQUENCE IF NOT EXISTS metaflow_task_id;

-- Metaflow's pseudo-step "_parameters" (and any step whose name starts with "_") is stored
-- like a step, because the client reads and writes it, but it is not a task a user ran: keep
-- it out of the run and step task counters. Same body as 0001 plus the early return.
CREATE OR REPLACE FUNCTION count_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_tasks int := 0; d_running int := 0; d_completed int := 0; d_failed int := 0;
BEGIN
    IF left(NEW.step_name, 1) = '_' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        d_tasks := 1;
    ELSIF NEW.status = OLD.status THEN
        RETURN NULL;
    ELSE
        d_running   := d_running   - (OLD.status = 'running')::int;
        d_completed := d_completed - (OLD.status = 'completed')::int;
        d_failed    := d_failed    - (OLD.status = 'failed')::int;
    END IF;
    d_running   := d_running   + (NEW.status = 'running')::int;
    d_completed := d_completed + (NEW.status = 'completed')::int;
    d_failed    := d_failed    + (NEW.status = 'failed')::int;
    UPDATE runs SET n_tasks = n_tasks + d_tasks, n_running = n_running + d_running,
                    n_completed = n_completed + d_completed, n_failed = n_failed + d_failed
     WHERE run_pk = NEW.run_pk;
    INSERT INTO steps AS s (run_pk, step_name, created_at, n_tasks, n_running, n_completed, n_failed)
    VALUES (NEW.run_pk, NEW.step_name, NEW.created_at, d_tasks, d_running, d_completed, d_failed)
    ON CONFLICT (run_pk, step_name) DO UPDATE
       SET n_tasks = s.n_tasks + d_tasks, n_running = s.n_running + d_running,
           n_completed = s.n_completed + d_completed, n_failed = s.n_failed + d_failed;
    RETURN NULL;
END $$;
