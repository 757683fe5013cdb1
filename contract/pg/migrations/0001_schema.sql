-- Flowscope schema v1.
-- Written by core_runtime and the ingest app (writer role); read by the UI backend (reader role).
-- Scale targets: 1,000,000 runs, 100,000 tasks in one run. Every list the UI offers is served by an
-- index below and paged by keyset (never OFFSET). Times are epoch milliseconds (bigint).

-- One global sequence orders every change; the backend resyncs with "change_seq > N".
CREATE SEQUENCE IF NOT EXISTS change_seq;

CREATE TABLE flows (
    flow_id         text PRIMARY KEY,
    created_at      bigint NOT NULL,
    -- per-flow run-number allocator: UPDATE ... SET last_run_number = last_run_number + 1 RETURNING
    last_run_number bigint NOT NULL DEFAULT 0,
    last_run_at     bigint,
    change_seq      bigint NOT NULL DEFAULT 0
);

CREATE TABLE runs (
    run_pk        bigserial PRIMARY KEY,
    flow_id       text NOT NULL REFERENCES flows(flow_id),
    -- the pathspec component: "12" for numbered runs, "argo-train-x7" for orchestrator ids
    run_id        text NOT NULL,
    run_number    bigint,               -- set when run_id is numeric (sorting, display)
    user_name     text,
    tags          text[] NOT NULL DEFAULT '{}',
    system_tags   text[] NOT NULL DEFAULT '{}',
    source        text NOT NULL DEFAULT 'native' CHECK (source IN ('native', 'metaflow')),
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    status_reason text,
    failed_step   text,
    parameters    jsonb NOT NULL DEFAULT '{}',
    dag           jsonb,                -- Metaflow _graph_info format (see docs/schema.md)
    origin_run_id text,                 -- resume: the run this one was resumed from
    created_at    bigint NOT NULL,
    started_at    bigint,
    finished_at   bigint,
    heartbeat_at  bigint,
    duration_ms   bigint GENERATED ALWAYS AS (finished_at - started_at) STORED,
    -- task counts kept by trigger on tasks, so run lists never aggregate tasks
    n_tasks       integer NOT NULL DEFAULT 0,
    n_running     integer NOT NULL DEFAULT 0,
    n_completed   integer NOT NULL DEFAULT 0,
    n_failed      integer NOT NULL DEFAULT 0,
    change_seq    bigint NOT NULL DEFAULT 0,
    UNIQUE (flow_id, run_id)
);
-- Home page and its filters, newest first; run_pk breaks ties for the keyset cursor.
CREATE INDEX runs_created ON runs (created_at DESC, run_pk DESC);
CREATE INDEX runs_flow_created ON runs (flow_id, created_at DESC, run_pk DESC);
CREATE INDEX runs_user_created ON runs (user_name, created_at DESC, run_pk DESC);
CREATE INDEX runs_status_created ON runs (status, created_at DESC, run_pk DESC);
CREATE INDEX runs_finished ON runs (finished_at DESC NULLS LAST, run_pk DESC);
CREATE INDEX runs_duration ON runs (duration_ms DESC NULLS LAST, run_pk DESC);
CREATE INDEX runs_tags ON runs USING gin (tags);
CREATE INDEX runs_system_tags ON runs USING gin (system_tags);
CREATE INDEX runs_change ON runs (change_seq);
-- Liveness sweep: running runs by heartbeat.
CREATE INDEX runs_running_heartbeat ON runs (heartbeat_at) WHERE status = 'running';

-- The source of the flow file of a run (kept out of runs rows so lists stay narrow).
CREATE TABLE run_sources (
    run_pk    bigint PRIMARY KEY REFERENCES runs(run_pk) ON DELETE CASCADE,
    file_name text,
    source    text
);

CREATE TABLE steps (
    run_pk       bigint NOT NULL REFERENCES runs(run_pk) ON DELETE CASCADE,
    step_name    text NOT NULL,
    created_at   bigint NOT NULL,
    started_at   bigint,
    finished_at  bigint,
    n_tasks      integer NOT NULL DEFAULT 0,
    n_running    integer NOT NULL DEFAULT 0,
    n_completed  integer NOT NULL DEFAULT 0,
    n_failed     integer NOT NULL DEFAULT 0,
    change_seq   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (run_pk, step_name)
);

CREATE TABLE tasks (
    task_pk          bigserial PRIMARY KEY,
    run_pk           bigint NOT NULL REFERENCES runs(run_pk) ON DELETE CASCADE,
    step_name        text NOT NULL,
    task_id          text NOT NULL,     -- the pathspec component
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    status_reason    text,
    attempt          integer NOT NULL DEFAULT 0,   -- latest attempt number
    foreach_index    integer,
    foreach_value    text,              -- short label of self.input
    foreach_stack    jsonb,             -- [{"step","var","num_splits","index","value"}] outermost first
    parent_task_ids  text[] NOT NULL DEFAULT '{}',  -- "step/task_id" of the parents
    cloned_from      text,              -- resume: pathspec of the origin task
    created_at       bigint NOT NULL,
    started_at       bigint,
    finished_at      bigint,
    heartbeat_at     bigint,
    duration_ms      bigint GENERATED ALWAYS AS (finished_at - started_at) STORED,
    change_seq       bigint NOT NULL DEFAULT 0,
    UNIQUE (run_pk, step_name, task_id)
);
CREATE INDEX tasks_run ON tasks (run_pk, task_pk);
CREATE INDEX tasks_run_step ON tasks (run_pk, step_name, task_pk);
CREATE INDEX tasks_run_status ON tasks (run_pk, status, task_pk);
CREATE INDEX tasks_run_started ON tasks (run_pk, started_at, task_pk);
CREATE INDEX tasks_run_change ON tasks (run_pk, change_seq);
CREATE INDEX tasks_running_heartbeat ON tasks (heartbeat_at) WHERE status = 'running';

CREATE TABLE attempts (
    task_pk           bigint NOT NULL REFERENCES tasks(task_pk) ON DELETE CASCADE,
    attempt           integer NOT NULL,
    run_pk            bigint NOT NULL,
    status            text NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'completed', 'failed')),
    status_reason     text,
    started_at        bigint NOT NULL,
    finished_at       bigint,
    heartbeat_at      bigint,
    exit_code         integer,
    exception_type    text,
    exception_message text,
    traceback         text,
    duration_ms       bigint GENERATED ALWAYS AS (finished_at - started_at) STORED,
    change_seq        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (task_pk, attempt)
);
CREATE INDEX attempts_run_started ON attempts (run_pk, started_at);
CREATE INDEX attempts_run_change ON attempts (run_pk, change_seq);

-- Artifact records; the bytes live content-addressed in the datastore under sha.
CREATE TABLE artifacts (
    task_pk     bigint NOT NULL REFERENCES tasks(task_pk) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    name        text NOT NULL,
    run_pk      bigint NOT NULL,
    sha         text NOT NULL,
    type        text,                   -- python type name, e.g. "float", "pandas.DataFrame"
    size        bigint,                 -- serialized size in bytes
    encoding    text NOT NULL DEFAULT 'pickle-v4',
    location    text,                   -- datastore key of the blob
    preview     text,                   -- short, safe text preview made by the writer
    created_at  bigint NOT NULL,
    change_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (task_pk, attempt, name)
);
CREATE INDEX artifacts_run_change ON artifacts (run_pk, change_seq);

CREATE TABLE metadata (
    id          bigserial PRIMARY KEY,
    task_pk     bigint NOT NULL REFERENCES tasks(task_pk) ON DELETE CASCADE,
    run_pk      bigint NOT NULL,
    attempt     integer,
    field_name  text NOT NULL,
    value       text NOT NULL,
    type        text,
    tags        text[] NOT NULL DEFAULT '{}',
    created_at  bigint NOT NULL
);
CREATE INDEX metadata_task ON metadata (task_pk, id);
CREATE INDEX metadata_run_field ON metadata (run_pk, field_name);

-- One row per flushed chunk of a log; the chunk text lives in the datastore at location.
-- Lines are numbered from 1 per (task, attempt, stream); a chunk covers
-- [first_line, first_line + n_lines). The row is the live event for log followers.
CREATE TABLE log_chunks (
    task_pk     bigint NOT NULL REFERENCES tasks(task_pk) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    stream      text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
    seq         integer NOT NULL,        -- 0, 1, 2 ... per (task, attempt, stream)
    run_pk      bigint NOT NULL,
    first_line  bigint NOT NULL,
    n_lines     integer NOT NULL,
    n_bytes     integer NOT NULL,
    first_ts    bigint,
    last_ts     bigint,
    location    text NOT NULL,
    created_at  bigint NOT NULL,
    change_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (task_pk, attempt, stream, seq)
);
CREATE INDEX log_chunks_line ON log_chunks (task_pk, attempt, stream, first_line);
CREATE INDEX log_chunks_run_change ON log_chunks (run_pk, change_seq);

CREATE TABLE cards (
    task_pk     bigint NOT NULL REFERENCES tasks(task_pk) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    card_id     text NOT NULL,           -- "default", or the id given to @card
    run_pk      bigint NOT NULL,
    type        text NOT NULL,
    location    text NOT NULL,           -- datastore key of the HTML
    size        bigint,
    created_at  bigint NOT NULL,
    change_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (task_pk, attempt, card_id)
);

-- ---------------------------------------------------------------------------------------------
-- change_seq on every write, and one small notification per (transaction, run).
CREATE FUNCTION set_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('change_seq');
    RETURN NEW;
END $$;

-- Payload "<kind>:<run_pk>"; identical payloads in one transaction are folded by Postgres,
-- so a transaction touching 1,000 tasks of a run sends one notification per table kind.
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'flows' THEN
        PERFORM pg_notify('flowscope_changes', 'flow:' || NEW.flow_id);
    ELSE
        PERFORM pg_notify('flowscope_changes', 'run:' || NEW.run_pk::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER flows_seq BEFORE INSERT OR UPDATE ON flows FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER runs_seq BEFORE INSERT OR UPDATE ON runs FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER steps_seq BEFORE INSERT OR UPDATE ON steps FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER tasks_seq BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER attempts_seq BEFORE INSERT OR UPDATE ON attempts FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER artifacts_seq BEFORE INSERT OR UPDATE ON artifacts FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER log_chunks_seq BEFORE INSERT OR UPDATE ON log_chunks FOR EACH ROW EXECUTE FUNCTION set_change_seq();
CREATE TRIGGER cards_seq BEFORE INSERT OR UPDATE ON cards FOR EACH ROW EXECUTE FUNCTION set_change_seq();

CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE ON runs FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER steps_notify AFTER INSERT OR UPDATE ON steps FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER tasks_notify AFTER INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER attempts_notify AFTER INSERT OR UPDATE ON attempts FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER artifacts_notify AFTER INSERT ON artifacts FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER log_chunks_notify AFTER INSERT ON log_chunks FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER cards_notify AFTER INSERT ON cards FOR EACH ROW EXECUTE FUNCTION notify_change();

-- Task counts per run and per step, by status, maintained here so lists never count tasks.
-- "pending" is n_tasks minus the others.
CREATE FUNCTION count_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_tasks int := 0; d_running int := 0; d_completed int := 0; d_failed int := 0;
BEGIN
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

CREATE TRIGGER tasks_count AFTER INSERT OR UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_task_status();

-- Step time span follows its tasks.
CREATE FUNCTION step_time_span() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.started_at IS DISTINCT FROM OLD.started_at OR NEW.finished_at IS DISTINCT FROM OLD.finished_at THEN
        UPDATE steps SET started_at = LEAST(COALESCE(started_at, NEW.started_at), NEW.started_at),
                         finished_at = GREATEST(COALESCE(finished_at, NEW.finished_at), NEW.finished_at)
         WHERE run_pk = NEW.run_pk AND step_name = NEW.step_name;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_step_span AFTER UPDATE OF started_at, finished_at ON tasks
    FOR EACH ROW EXECUTE FUNCTION step_time_span();
