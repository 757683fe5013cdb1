"""The database side of the bulk load: one transaction, triggers off, COPY per table per batch.

Triggers (change_seq, notifications, task counts, foreign-key checks) are switched off for this
session with ``session_replication_role = replica``; the generator fills in what they would have
written, and ``bench.checks`` verifies the counts before the transaction commits.
"""

from __future__ import annotations

import io
from typing import Any

import psycopg2

from bench.checks import consistency_errors
from bench.copy_text import Tables
from bench.emit import Ids
from bench.generate import Manifest


class SeedError(RuntimeError):
    """The database cannot be seeded; the message says why and what to do."""


_SEQUENCES = {"run_pk": ("runs", "run_pk"), "task_pk": ("tasks", "task_pk"), "metadata_id": ("metadata", "id")}


class Loader:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        conn.autocommit = False
        self.cur = conn.cursor()
        self.first_run_pk = 0
        self.dropped: list[tuple[str, str]] = []

    def prepare(self, flow_ids: list[str]) -> Ids:
        cur = self.cur
        try:
            cur.execute("SET session_replication_role = replica")
        except psycopg2.Error as exc:
            self.conn.rollback()
            raise SeedError("bench seed disables triggers for its bulk load (session_replication_role), "
                            f"which needs a superuser connection: {exc.pgerror or exc}".strip()) from None
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SELECT flow_id FROM flows WHERE flow_id = ANY(%s) ORDER BY flow_id", (flow_ids,))
        taken = [r[0] for r in cur.fetchall()]
        if taken:
            raise SeedError(f"the database already has flows the generator makes ({', '.join(taken[:3])}"
                            f"{', ...' if len(taken) > 3 else ''}): seed into an empty database "
                            "(another FLOWSCOPE_HOME, or --dsn)")
        nexts = {}
        for attr, (table, col) in _SEQUENCES.items():
            cur.execute(f"SELECT coalesce(max({col}), 0) + 1 FROM {table}")
            nexts[attr] = int(cur.fetchone()[0])
        cur.execute("SELECT last_value + (CASE WHEN is_called THEN 0 ELSE -1 END) FROM change_seq")
        ids = Ids(run_pk=nexts["run_pk"], task_pk=nexts["task_pk"], change_seq=int(cur.fetchone()[0]),
                  metadata_id=nexts["metadata_id"])
        self.first_run_pk = ids.run_pk
        return ids

    def drop_indexes(self) -> int:
        """On an empty database, drop the secondary indexes of the loaded tables for the load.

        Building an index once over sorted data is several times cheaper than maintaining it
        row by row; ``finish`` recreates them from their saved definitions in the same
        transaction, so a failed load leaves the schema as it was. Constraint indexes (primary
        keys, unique) stay: our keys arrive in order, so they are cheap to maintain.
        """
        cur = self.cur
        cur.execute("SELECT EXISTS (SELECT 1 FROM runs)")
        if cur.fetchone()[0]:
            return 0
        cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
                    " AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                    " WHERE c.conname = i.indexname) ORDER BY i.tablename, i.indexname", (list(Tables.ORDER),))
        self.dropped = cur.fetchall()
        for name, _ in self.dropped:
            cur.execute(f'DROP INDEX "{name}"')
        return len(self.dropped)

    def copy(self, t: Tables) -> None:
        for table in Tables.ORDER:
            data = t.payload(table)
            if data:
                self.cur.copy_expert(f"COPY {table} ({Tables.COLUMNS[table]}) FROM STDIN", io.BytesIO(data),
                                     size=1 << 20)

    def finish(self, ids: Ids, manifest: Manifest) -> dict[str, int]:
        """Flows rows, sequences past the generated keys, checks; commits only if all checks pass."""
        cur = self.cur
        for flow_id, st in sorted(manifest.flows.items()):
            ids.change_seq += 1
            cur.execute("INSERT INTO flows (flow_id, created_at, last_run_number, last_run_at, change_seq) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        (flow_id, st.created, st.last_number, st.last_run_at, ids.change_seq))
        for attr, (table, col) in _SEQUENCES.items():
            last = getattr(ids, attr) - 1
            if last >= 1:
                cur.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)", (table, col, last))
        if ids.change_seq >= 1:
            cur.execute("SELECT setval('change_seq', %s)", (ids.change_seq,))
        # run_tags (migration 0008) is kept by a trigger, off for this session: fill it here.
        cur.execute("INSERT INTO run_tags (tag, created_at, run_pk) SELECT DISTINCT t.tag, r.created_at, r.run_pk "
                    "FROM runs r CROSS JOIN LATERAL unnest(r.tags) AS t(tag) WHERE r.run_pk >= %s",
                    (self.first_run_pk,))
        if self.dropped:
            cur.execute("SET maintenance_work_mem = '1GB'")
            for _, definition in self.dropped:
                cur.execute(definition)
        errors = consistency_errors(self.conn, self.first_run_pk)
        if any(errors.values()):
            self.conn.rollback()
            raise SeedError(f"generated data failed its consistency checks, nothing was committed: {errors}")
        cur.execute("SET session_replication_role = origin")
        self.conn.commit()
        return errors

    def analyze(self) -> None:
        self.conn.autocommit = True
        self.cur.execute("ANALYZE")
