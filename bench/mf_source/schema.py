"""A Postgres database laid out as Netflix's metaflow-service lays it out (schema "v3").

Written from the facts of docs/metaflow.md "Beside an existing metadata service" and the
service's migrations (read, not copied): the six tables with their keys, column types and the
secondary indexes that exist at each goose version, the goose bookkeeping table, and optionally
the ``notify_ui_05092024_*`` triggers that Metaflow's UI backend installs. The tests and the
mirror benchmark build their source databases with it; the mirror itself never creates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Every goose version of metaflow-service's migrations, oldest first (version 0 is goose's own).
GOOSE_VERSIONS = (1, 20200603104139, 20201002000616, 20210202145952, 20210260056859, 20211202100726,
                  20220503175500, 20230118020300, 20260615000000, 20260706000000, 20260706000001,
                  20260706000002, 20260706000003)
NEWEST = GOOSE_VERSIONS[-1]


@dataclass(frozen=True)
class Names:
    """Table names and schema (deployments may rename them: DB_TABLE_NAME_*, DB_SCHEMA_NAME)."""

    schema: str = "public"
    flows: str = "flows_v3"
    runs: str = "runs_v3"
    steps: str = "steps_v3"
    tasks: str = "tasks_v3"
    metadata: str = "metadata_v3"
    artifact: str = "artifact_v3"

    def q(self, table: str) -> str:
        return f'"{self.schema}"."{getattr(self, table)}"'


def _tables(n: Names) -> list[str]:
    return [
        f"""CREATE TABLE {n.q('flows')} (
            flow_id varchar(255) PRIMARY KEY, user_name varchar(255), ts_epoch bigint NOT NULL,
            tags jsonb, system_tags jsonb)""",
        f"""CREATE TABLE {n.q('runs')} (
            flow_id varchar(255) NOT NULL, run_number serial NOT NULL, user_name varchar(255),
            ts_epoch bigint NOT NULL, tags jsonb, system_tags jsonb,
            PRIMARY KEY (flow_id, run_number), FOREIGN KEY (flow_id) REFERENCES {n.q('flows')} (flow_id))""",
        f"""CREATE TABLE {n.q('steps')} (
            flow_id varchar(255) NOT NULL, run_number bigint NOT NULL, step_name varchar(255) NOT NULL,
            user_name varchar(255), ts_epoch bigint NOT NULL, tags jsonb, system_tags jsonb,
            PRIMARY KEY (flow_id, run_number, step_name),
            FOREIGN KEY (flow_id, run_number) REFERENCES {n.q('runs')} (flow_id, run_number))""",
        f"""CREATE TABLE {n.q('tasks')} (
            flow_id varchar(255) NOT NULL, run_number bigint NOT NULL, step_name varchar(255) NOT NULL,
            task_id bigserial PRIMARY KEY, user_name varchar(255), ts_epoch bigint NOT NULL,
            tags jsonb, system_tags jsonb,
            FOREIGN KEY (flow_id, run_number, step_name)
                REFERENCES {n.q('steps')} (flow_id, run_number, step_name))""",
        f"""CREATE TABLE {n.q('metadata')} (
            flow_id varchar(255), run_number bigint NOT NULL, step_name varchar(255) NOT NULL,
            task_id bigint NOT NULL, id bigserial NOT NULL, field_name varchar(255) NOT NULL,
            value text NOT NULL, type varchar(255) NOT NULL, user_name varchar(255),
            ts_epoch bigint NOT NULL, tags jsonb, system_tags jsonb,
            PRIMARY KEY (flow_id, run_number, step_name, task_id, field_name))""",
        f"""CREATE TABLE {n.q('artifact')} (
            flow_id varchar(255) NOT NULL, run_number bigint NOT NULL, step_name varchar(255) NOT NULL,
            task_id bigint NOT NULL, name varchar(255) NOT NULL, location varchar(255) NOT NULL,
            ds_type varchar(255) NOT NULL, sha varchar(255), type varchar(255),
            content_type varchar(255), user_name varchar(255), attempt_id smallint NOT NULL,
            ts_epoch bigint NOT NULL, tags jsonb, system_tags jsonb,
            PRIMARY KEY (flow_id, run_number, step_name, task_id, attempt_id, name))""",
    ]


def _steps(n: Names) -> dict[int, list[str]]:
    """What each goose version changes (the end state of each migration)."""
    r, s, t, m, a = (n.q(x) for x in ("runs", "steps", "tasks", "metadata", "artifact"))
    return {
        20200603104139: [
            f"ALTER TABLE {r} ADD COLUMN run_id varchar(255), ADD COLUMN last_heartbeat_ts bigint",
            f"ALTER TABLE {r} ADD CONSTRAINT {n.runs}_flow_id_run_id_key UNIQUE (flow_id, run_id)",
            f"ALTER TABLE {s} ADD COLUMN run_id varchar(255)",
            (f"ALTER TABLE {s} ADD CONSTRAINT {n.steps}_flow_id_run_id_step_name_key "
            "UNIQUE (flow_id, run_id, step_name)"),
            (f"ALTER TABLE {t} ADD COLUMN run_id varchar(255), ADD COLUMN task_name varchar(255), "
            "ADD COLUMN last_heartbeat_ts bigint"),
            (f"ALTER TABLE {t} ADD CONSTRAINT {n.tasks}_flow_id_run_number_step_name_task_name_key "
            "UNIQUE (flow_id, run_number, step_name, task_name)"),
            f"ALTER TABLE {m} ADD COLUMN run_id varchar(255), ADD COLUMN task_name varchar(255)",
            f"ALTER TABLE {a} ADD COLUMN run_id varchar(255), ADD COLUMN task_name varchar(255)",
        ],
        # The metadata primary key gains the serial id as its first column.
        20201002000616: [
            f"CREATE INDEX {n.metadata}_akey ON {m} (flow_id, run_number, step_name, task_id, field_name)",
            f"ALTER TABLE {m} DROP CONSTRAINT {n.metadata}_pkey",
            f"ALTER TABLE {m} ADD PRIMARY KEY (id, flow_id, run_number, step_name, task_id, field_name)",
        ],
        20210202145952: [
            f"CREATE INDEX {n.runs}_idx_ts_epoch ON {r} (ts_epoch)",
            f"CREATE INDEX {n.runs}_idx_gin_tags_combined ON {r} USING gin ((tags || system_tags))",
            f"CREATE INDEX {n.runs}_idx_flow_id_asc_ts_epoch_desc ON {r} (flow_id ASC, ts_epoch DESC)",
            (f"CREATE INDEX {n.runs}_idx_user_asc_ts_epoch_desc ON {r} ((CASE WHEN system_tags ? "
            "('user:' || user_name) THEN user_name ELSE NULL END) ASC, ts_epoch DESC)"),
        ],
        20210260056859: [
            (f"CREATE INDEX {n.tasks}_idx_flow_id_run_id_step_name_task_name ON {t} "
            "(flow_id, run_id, step_name, task_name) WHERE run_id IS NOT NULL AND task_name IS NOT NULL"),
        ],
        20211202100726: [
            f"CREATE INDEX {n.runs}_idx_str_ids_primary_key ON {r} (flow_id, run_id) WHERE run_id IS NOT NULL",
            (f"CREATE INDEX {n.steps}_idx_str_ids_primary_key ON {s} (flow_id, run_id, step_name) "
            "WHERE run_id IS NOT NULL"),
            (f"CREATE INDEX {n.metadata}_idx_str_ids_primary_key ON {m} "
            "(id, flow_id, run_id, step_name, task_name, field_name) "
            "WHERE run_id IS NOT NULL AND task_name IS NOT NULL"),
            (f"CREATE INDEX {n.artifact}_idx_str_ids_primary_key ON {a} "
            "(flow_id, run_id, step_name, task_name, attempt_id, name) "
            "WHERE run_id IS NOT NULL AND task_name IS NOT NULL"),
        ],
        20220503175500: [f"CREATE INDEX {n.runs}_idx_epoch_ts_desc ON {r} (ts_epoch DESC)"],
        # Partial string-id indexes replaced by full ones.
        20230118020300: [
            f"CREATE INDEX {n.runs}_idx_str_ids_primary_key_v2 ON {r} (flow_id, run_id)",
            f"DROP INDEX \"{n.schema}\".{n.runs}_idx_str_ids_primary_key",
            f"CREATE INDEX {n.steps}_idx_str_ids_primary_key_v2 ON {s} (flow_id, run_id, step_name)",
            f"DROP INDEX \"{n.schema}\".{n.steps}_idx_str_ids_primary_key",
            (f"CREATE INDEX {n.tasks}_idx_flow_id_run_id_step_name_task_name_v2 ON {t} "
            "(flow_id, run_id, step_name, task_name)"),
            f"DROP INDEX \"{n.schema}\".{n.tasks}_idx_flow_id_run_id_step_name_task_name",
            f"CREATE INDEX {n.metadata}_idx_str_ids_a_key ON {m} (flow_id, run_id, step_name, task_name, field_name)",
            (f"CREATE INDEX {n.metadata}_idx_str_ids_a_key_with_task_id ON {m} "
            "(flow_id, run_id, step_name, task_id, field_name)"),
            f"DROP INDEX \"{n.schema}\".{n.metadata}_idx_str_ids_primary_key",
            (f"CREATE INDEX {n.artifact}_idx_str_ids_primary_key_v2 ON {a} "
            "(flow_id, run_id, step_name, task_name, attempt_id, name)"),
            (f"CREATE INDEX {n.artifact}_idx_str_ids_primary_key_with_task_id ON {a} "
            "(flow_id, run_id, step_name, task_id, attempt_id, name)"),
            f"DROP INDEX \"{n.schema}\".{n.artifact}_idx_str_ids_primary_key",
        ],
        20260615000000: [(f"CREATE INDEX {n.runs}_idx_flow_ts_runnum_desc ON {r} "
                         "(flow_id, ts_epoch DESC, run_number DESC)")],
        20260706000000: [(f"CREATE INDEX {n.artifact}_idx_latest_attempt ON {a} "
                         "(flow_id, run_number, task_id, name, ts_epoch DESC)")],
        20260706000001: [f"CREATE INDEX {n.flows}_idx_ts_flow_desc ON {n.q('flows')} (ts_epoch DESC, flow_id DESC)"],
        20260706000002: [(f"CREATE INDEX {n.tasks}_idx_flow_run_step_ts_task_desc ON {t} "
                         "(flow_id, run_number, step_name, ts_epoch DESC, task_id DESC)")],
        20260706000003: [(f"CREATE INDEX {n.metadata}_idx_flow_run_ts_id_desc ON {m} "
                         "(flow_id, run_number, ts_epoch DESC, id DESC)")],
    }


def create_source(conn: Any, names: Names = Names(), version: int = NEWEST, *,
                  with_indexes: bool = True) -> None:
    """Create the tables as of goose ``version`` in ``names.schema`` (a psycopg2 connection).

    ``with_indexes=False`` leaves out the secondary indexes of the last version's steps so a bulk
    loader can build them afterwards (``create_indexes``); the keys are always there.
    """
    if version not in GOOSE_VERSIONS:
        raise ValueError(f"unknown metaflow-service schema version {version}")
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{names.schema}"')
        # goose's bookkeeping table lives in the schema the service connects to.
        cur.execute(f'CREATE TABLE "{names.schema}".goose_db_version (id serial PRIMARY KEY, '
                    "version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())")
        cur.execute(f'INSERT INTO "{names.schema}".goose_db_version (version_id, is_applied) VALUES (0, true)')
        for stmt in _tables(names):
            cur.execute(stmt)
        insert_version = f'INSERT INTO "{names.schema}".goose_db_version (version_id, is_applied) VALUES (%s, true)'
        cur.execute(insert_version, (1,))
        steps = _steps(names)
        for v in GOOSE_VERSIONS[1:]:
            if v > version:
                break
            for stmt in steps[v]:
                if with_indexes or not stmt.startswith(("CREATE INDEX", "DROP INDEX")):
                    cur.execute(stmt)
            cur.execute(insert_version, (v,))
    conn.commit()


def create_indexes(conn: Any, names: Names = Names(), version: int = NEWEST) -> None:
    """The secondary indexes ``create_source(with_indexes=False)`` left out, as of ``version``."""
    steps = _steps(names)
    with conn.cursor() as cur:
        for v in GOOSE_VERSIONS[1:]:
            if v > version:
                break
            for stmt in steps[v]:
                if stmt.startswith("CREATE INDEX"):
                    cur.execute(stmt.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
            for stmt in steps[v]:
                if stmt.startswith("DROP INDEX"):
                    cur.execute(stmt.replace("DROP INDEX", "DROP INDEX IF EXISTS", 1))
    conn.commit()


# Metaflow's UI backend: which tables notify, on what, with which keys (and for metadata, which fields).
TRIGGERS = {
    "flows": (("INSERT", "UPDATE", "DELETE"), ("flow_id",), None),
    "runs": (("INSERT",), ("flow_id", "run_number", "last_heartbeat_ts"), None),
    "steps": (("INSERT", "UPDATE", "DELETE"), ("flow_id", "run_number", "step_name"), None),
    "tasks": (("INSERT",), ("flow_id", "run_number", "step_name", "task_id"), None),
    "metadata": (("INSERT",), ("flow_id", "run_number", "step_name", "task_id", "field_name", "value", "tags"),
                 ("attempt", "attempt_ok", "code-package", "code-package-url")),
}


def create_triggers(conn: Any, names: Names = Names()) -> None:
    """The ``notify_ui_05092024_<table>`` triggers: pg_notify('notify', {table, schema, operation, data})."""
    with conn.cursor() as cur:
        for key, (ops, cols, fields) in TRIGGERS.items():
            table = getattr(names, key)
            fn = f'"{names.schema}".notify_ui_05092024_{table}'
            data = ", ".join(f"'{c}', rec.{c}" for c in cols)
            cur.execute(f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE rec RECORD;
                BEGIN
                  IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
                  PERFORM pg_notify('notify', json_build_object('table', TG_TABLE_NAME,
                      'schema', TG_TABLE_SCHEMA, 'operation', TG_OP, 'data', json_build_object({data}))::text);
                  RETURN rec;
                END $$""")
            when = ("WHEN (" + " OR ".join(f"NEW.field_name = '{f}'" for f in fields) + ")") if fields else ""
            cur.execute(f"CREATE TRIGGER notify_ui_05092024_{table} AFTER {' OR '.join(ops)} ON {names.q(key)} "
                        f"FOR EACH ROW {when} EXECUTE PROCEDURE {fn}()")
            cur.execute(f"ALTER TABLE {names.q(key)} ENABLE ALWAYS TRIGGER notify_ui_05092024_{table}")
    conn.commit()
