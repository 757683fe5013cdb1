-- Task counts per run and step for inserts, per statement instead of per row.
--
-- Per row, every inserted task updated its run (a non-HOT update: runs.change_seq is indexed)
-- and upserted its step: a bulk insert of 5,000 tasks of 600 runs made 5,000 run updates. Per
-- statement, the inserted rows are counted per (run, step) and each run and step is updated once.
-- Same counts, same rule ("_"-steps are not counted, pending = n_tasks minus the others); status
-- changes stay per row (UPDATE OF status cannot have transition tables).
DROP TRIGGER tasks_count ON tasks;
CREATE TRIGGER tasks_count AFTER UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_task_status();

CREATE FUNCTION count_tasks_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH d AS (
        SELECT run_pk, step_name, min(created_at) AS created_at, count(*)::int AS n,
               (count(*) FILTER (WHERE status = 'running'))::int AS r,
               (count(*) FILTER (WHERE status = 'completed'))::int AS c,
               (count(*) FILTER (WHERE status = 'failed'))::int AS f
          FROM new_rows WHERE left(step_name, 1) <> '_'
         GROUP BY run_pk, step_name
    ), per_run AS (
        UPDATE runs SET n_tasks = n_tasks + x.n, n_running = n_running + x.r,
                        n_completed = n_completed + x.c, n_failed = n_failed + x.f
          FROM (SELECT run_pk, sum(n)::int AS n, sum(r)::int AS r, sum(c)::int AS c, sum(f)::int AS f
                  FROM d GROUP BY run_pk) x
         WHERE runs.run_pk = x.run_pk
    )
    INSERT INTO steps AS s (run_pk, step_name, created_at, n_tasks, n_running, n_completed, n_failed)
    SELECT run_pk, step_name, created_at, n, r, c, f FROM d
    ON CONFLICT (run_pk, step_name) DO UPDATE
       SET n_tasks = s.n_tasks + EXCLUDED.n_tasks, n_running = s.n_running + EXCLUDED.n_running,
           n_completed = s.n_completed + EXCLUDED.n_completed, n_failed = s.n_failed + EXCLUDED.n_failed;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_tasks_inserted();
