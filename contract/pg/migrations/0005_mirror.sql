-- The mirror of an existing metaflow-service database (backend/mirror, docs/metaflow.md).

-- Which Flowscope runs a mirror copied, and their key in the source (flow_id, run_number).
-- The mirror reads the source by that key (heartbeats, tags) and never touches runs it did not
-- create (a native or ingested run with the same id is left alone).
CREATE TABLE mirror_runs (
    run_pk      bigint PRIMARY KEY REFERENCES runs(run_pk) ON DELETE CASCADE,
    source      text NOT NULL,
    flow_id     text NOT NULL,
    run_number  bigint NOT NULL,
    UNIQUE (source, flow_id, run_number)
);

-- One row per mirrored source: the checkpoint (written in the same transaction as the rows it
-- covers, so a killed mirror resumes exactly there) and the state shown at /api/-/status.
CREATE TABLE mirror_state (
    source      text PRIMARY KEY,
    phase       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    checkpoint  jsonb NOT NULL DEFAULT '{}',
    updated_at  bigint NOT NULL
);
