"""The statements the mirror runs on a metaflow-service database: SELECTs only, each on an index.

Which index serves each one (tests/mirror/test_source_plans.py EXPLAINs them on a large source):

| statement | index (metaflow-service names) |
| --- | --- |
| probe (an idle poll: the newest id, task id and run time) | the primary keys of metadata and tasks, ``runs_v3_idx_ts_epoch`` |
| flows page (once, when a backfill starts) | ``flows_v3_pkey`` (flow_id), or a scan of a small table |
| runs page (newest first), new runs | ``runs_v3_idx_ts_epoch`` / ``runs_v3_idx_epoch_ts_desc`` (ts_epoch) |
| runs by key (alive runs: heartbeats, tags) | ``runs_v3_pkey`` (flow_id, run_number) |
| steps of runs | ``steps_v3_pkey`` (flow_id, run_number, step_name) |
| tasks of runs | ``tasks_v3_flow_id_run_number_step_name_task_name_key`` (flow_id, run_number, ...) |
| new tasks, tasks by id (gaps, alive tasks) | ``tasks_v3_pkey`` (task_id) |
| alive tasks with orchestrator ids | ``tasks_v3_flow_id_run_number_step_name_task_name_key`` |
| metadata of runs, of tasks | ``metadata_v3_akey`` (flow_id, run_number, step_name, task_id, field_name) |
| new metadata, metadata by id (gaps) | ``metadata_v3_pkey`` (id, ...) |
| artifacts of runs, of tasks, of task attempts | ``artifact_v3_pkey`` (flow_id, run_number, step_name, task_id, attempt_id, name) |
| backfill bulk path: metadata to fold + the others as arrays | ``metadata_v3_akey`` (as metadata of runs) |
| backfill bulk path: artifacts to replay + the others as arrays | ``artifact_v3_pkey`` (as artifacts of runs) |

Batches of keys travel as arrays joined with ``unnest`` (a nested loop of index lookups).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    schema: str = "public"
    flows: str = "flows_v3"
    runs: str = "runs_v3"
    steps: str = "steps_v3"
    tasks: str = "tasks_v3"
    metadata: str = "metadata_v3"
    artifact: str = "artifact_v3"

    def q(self, table: str) -> str:
        # The settings only accept plain identifiers; quoting keeps case as configured.
        return f'"{self.schema}"."{getattr(self, table)}"'


class SourceSql:
    """The statements with the deployment's table names filled in."""

    def __init__(self, n: Names, metadata_value_jsonb: bool = False) -> None:
        f, r, s, t, m, a = (n.q(x) for x in ("flows", "runs", "steps", "tasks", "metadata", "artifact"))
        # Some deployments store metadata values as jsonb: a JSON string is read back as its text.
        value = ("CASE WHEN jsonb_typeof(m.value) = 'string' THEN m.value #>> '{}' ELSE m.value::text END"
                 if metadata_value_jsonb else "m.value")
        run_cols = ("r.flow_id, r.run_number, r.run_id, r.user_name, r.ts_epoch, r.tags, r.system_tags, "
                    "r.last_heartbeat_ts")
        task_cols = ("t.flow_id, t.run_number, t.step_name, t.task_id, t.task_name, t.ts_epoch, "
                     "t.last_heartbeat_ts")
        md_cols = (f"m.id, m.flow_id, m.run_number, m.step_name, m.task_id, m.field_name, {value} AS value, "
                   "m.type, m.tags, m.ts_epoch")
        art_cols = ("a.flow_id, a.run_number, a.step_name, a.task_id, a.name, a.location, a.sha, "
                    "a.content_type, a.attempt_id, a.ts_epoch")

        # One statement per idle poll: has anything moved? (three backward index scans, one row each)
        self.probe = (f"SELECT (SELECT max(id) FROM {m}) AS metadata_id, (SELECT max(task_id) FROM {t}) AS task_id, "
                      f"(SELECT max(ts_epoch) FROM {r}) AS run_ts")
        self.horizon_metadata = f"SELECT max(id) AS v FROM {m}"
        self.horizon_tasks = f"SELECT max(task_id) AS v FROM {t}"
        self.count_runs = f"SELECT count(*) AS n FROM {r} WHERE ts_epoch <= %s"

        self.flows_page = (f"SELECT f.flow_id, f.ts_epoch FROM {f} f WHERE f.flow_id > %s "
                           "ORDER BY f.flow_id LIMIT %s")
        # Newest first, so the runs people look at (and the live ones) arrive first.
        self.runs_page = (f"SELECT {run_cols} FROM {r} r WHERE r.ts_epoch <= %s "
                          "AND (r.ts_epoch, r.flow_id, r.run_number) < (%s, %s, %s) "
                          "ORDER BY r.ts_epoch DESC, r.flow_id DESC, r.run_number DESC LIMIT %s")
        self.new_runs = (f"SELECT {run_cols} FROM {r} r WHERE r.ts_epoch >= %s "
                         "ORDER BY r.ts_epoch, r.flow_id, r.run_number LIMIT %s")
        self.runs_by_key = (f"SELECT {run_cols} FROM {r} r JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                            "ON r.flow_id = k.f AND r.run_number = k.n")
        self.run_by_id = f"SELECT {run_cols} FROM {r} r WHERE r.flow_id = %s AND r.run_id = %s"
        self.steps_of_runs = (f"SELECT s.flow_id, s.run_number, s.step_name, s.ts_epoch FROM {s} s "
                              "JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                              "ON s.flow_id = k.f AND s.run_number = k.n")
        self.task_counts = (f"SELECT t.flow_id, t.run_number, count(*) AS n FROM {t} t "
                            "JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                            "ON t.flow_id = k.f AND t.run_number = k.n WHERE t.task_id <= %s GROUP BY 1, 2")
        # Tasks of runs up to the horizon, in id order; paged by task_id for very large runs.
        self.tasks_of_runs = (f"SELECT {task_cols} FROM {t} t JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                              "ON t.flow_id = k.f AND t.run_number = k.n WHERE t.task_id <= %s "
                              "AND t.task_id > %s ORDER BY t.task_id LIMIT %s")
        self.new_tasks = f"SELECT {task_cols} FROM {t} t WHERE t.task_id > %s ORDER BY t.task_id LIMIT %s"
        self.tasks_by_id = f"SELECT {task_cols} FROM {t} t WHERE t.task_id = ANY(%s)"
        self.tasks_by_name = (f"SELECT {task_cols} FROM {t} t JOIN unnest(%s::text[], %s::bigint[], %s::text[], "
                              "%s::text[]) AS k(f, n, s, i) ON t.flow_id = k.f AND t.run_number = k.n "
                              "AND t.step_name = k.s AND t.task_name = k.i")
        self.metadata_of_tasks = (f"SELECT {md_cols} FROM {m} m JOIN unnest(%s::text[], %s::bigint[], %s::text[], "
                                  "%s::bigint[]) AS k(f, n, s, i) ON m.flow_id = k.f AND m.run_number = k.n "
                                  "AND m.step_name = k.s AND m.task_id = k.i WHERE m.id <= %s")
        self.metadata_of_runs = (f"SELECT {md_cols} FROM {m} m JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                                 "ON m.flow_id = k.f AND m.run_number = k.n WHERE m.id <= %s")
        self.new_metadata = f"SELECT {md_cols} FROM {m} m WHERE m.id > %s ORDER BY m.id LIMIT %s"
        self.metadata_by_id = f"SELECT {md_cols} FROM {m} m WHERE m.id = ANY(%s)"
        self.artifacts_of_runs = (f"SELECT {art_cols} FROM {a} a JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                                  "ON a.flow_id = k.f AND a.run_number = k.n")
        self.artifacts_of_tasks = (f"SELECT {art_cols} FROM {a} a JOIN unnest(%s::text[], %s::bigint[], %s::text[], "
                                   "%s::bigint[]) AS k(f, n, s, i) ON a.flow_id = k.f AND a.run_number = k.n "
                                   "AND a.step_name = k.s AND a.task_id = k.i")
        self.artifacts_of_attempts = (
            f"SELECT {art_cols} FROM {a} a JOIN unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[], "
            "%s::smallint[]) AS k(f, n, s, i, at) ON a.flow_id = k.f AND a.run_number = k.n "
            "AND a.step_name = k.s AND a.task_id = k.i AND a.attempt_id = k.at")
        # The backfill's bulk path (backend/mirror/bulk.py). A metadata POST ("call") is a run of
        # consecutive ids of one task in the batch; every row carries its call's first id and time
        # (``call``: the replay applies calls in that order). Python reads the rows the translation
        # folds (``fold.FOLD_FIELDS``) and those whose tags it must convert itself; every "clean" row
        # travels as arrays, one per column in their text form, never decoded in Python, into
        # Flowscope's INSERT ... SELECT. Both come from one statement, so each row is read once.
        md_calls = (f"WITH b AS (SELECT {md_cols}, m.task_id IS DISTINCT FROM lag(m.task_id) OVER (ORDER BY m.id) "
                    f"AS brk FROM {m} m JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                    "ON m.flow_id = k.f AND m.run_number = k.n WHERE m.id <= %s), "
                    "d AS (SELECT b.*, max(CASE WHEN brk THEN ARRAY[id, ts_epoch] END) OVER (ORDER BY id) AS call, "
                    f"{CLEAN_TAGS} AS clean FROM b) ")
        # One statement per batch reads every row once: the rows Python folds, in id order, and
        # after them one more row whose ``bulk`` packs the clean rows' arrays (``packed``; ``d`` is
        # materialised once, being read twice). Parameters: runs, horizon, the fold fields.
        # A clean row's tags and type reach Python only as its attempt (``ATTEMPT_OF_CLEAN``): the
        # fold needs nothing else of them, and decoding each row's jsonb tags cost the mirror more.
        self.metadata_batch = (md_calls + "SELECT * FROM (SELECT id, flow_id, run_number, step_name, task_id, "
                               "field_name, value, CASE WHEN clean THEN NULL ELSE type END AS type, "
                               "CASE WHEN clean THEN NULL ELSE tags END AS tags, "
                               f"CASE WHEN clean THEN {ATTEMPT_OF_CLEAN} END AS attempt, ts_epoch, "
                               "call[1] AS call_id, call[2] AS call_ts, "
                               "clean, NULL::text AS bulk FROM d WHERE field_name = ANY(%s) OR NOT clean "
                               "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                               "NULL, NULL, NULL, " + packed(["array_agg(id)", "array_agg(task_id)", "array_agg(field_name)",
                                                        "array_agg(value)", "array_agg(type)",
                                                        "array_agg(CASE WHEN jsonb_typeof(tags) = 'array' THEN tags "
                                                        "ELSE '[]'::jsonb END)", "array_agg(ts_epoch)",
                                                        "array_agg(call[1])", "array_agg(call[2])"], "d WHERE clean")
                               + ") u ORDER BY id NULLS LAST")
        # Artifacts: an attempt's rows go the bulk way when no datastore fact can come of them (every
        # ``:root:`` is a root known unreadable), their shas are sound and the attempt is not one
        # of the runs just finished (whose artifact names the tail must expect); the rest, the
        # replay's way. Parameters: runs, unreadable roots, runs with a recent attempt-done.
        art_groups = (f"WITH b AS (SELECT {art_cols} FROM {a} a JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                      "ON a.flow_id = k.f AND a.run_number = k.n), "
                      "odd AS (SELECT DISTINCT flow_id, run_number, step_name, task_id, attempt_id FROM b "
                      "WHERE NOT (COALESCE(sha ~ '[0-9A-Za-z]', false) AND (location IS NULL "
                      "OR location NOT LIKE ':root:%%' OR substr(location, 7) = ANY(%s::text[]))) "
                      "UNION SELECT flow_id, run_number, step_name, task_id, attempt_id FROM b "
                      "JOIN unnest(%s::text[], %s::bigint[]) AS x(f, n) ON x.f = b.flow_id AND x.n = b.run_number), "
                      "g AS (SELECT b.*, odd.flow_id IS NULL AS bulk FROM b LEFT JOIN odd "
                      "USING (flow_id, run_number, step_name, task_id, attempt_id)) ")
        # One statement per batch: the rows to replay, and one more row whose ``bulk`` packs the
        # arrays of the others (``g`` is materialised once).
        self.artifacts_batch = (art_groups + "SELECT flow_id, run_number, step_name, task_id, name, location, "
                                "sha, content_type, attempt_id, ts_epoch, NULL::text AS bulk FROM g WHERE NOT bulk "
                                "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                                + packed(["array_agg(task_id)", "array_agg(attempt_id)", "array_agg(name)",
                                          "array_agg(CASE WHEN location LIKE ':root:%%' THEN rtrim(substr(location, 7), "
                                          "'/') || '/' || flow_id || '/data/' || left(sha, 2) || '/' || sha "
                                          "ELSE location END)", "array_agg(sha)",
                                          "array_agg(COALESCE(content_type, 'pickle-v4'))", "array_agg(ts_epoch)",
                                          "array_agg(CASE WHEN location LIKE ':root:%%' THEN substr(location, 7) END)"],
                                         "g WHERE bulk"))
        self.run_heartbeats = (f"SELECT r.flow_id, r.run_number, r.last_heartbeat_ts, r.tags FROM {r} r "
                               "JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) "
                               "ON r.flow_id = k.f AND r.run_number = k.n")
        self.task_heartbeats = f"SELECT t.task_id, t.last_heartbeat_ts FROM {t} t WHERE t.task_id = ANY(%s)"
        # The tag sweep (tag_sweep.py): the next page of runs by primary key.
        self.runs_after = (f"SELECT r.flow_id, r.run_number, r.tags FROM {r} r "
                           "WHERE (r.flow_id, r.run_number) > (%s, %s) ORDER BY r.flow_id, r.run_number LIMIT %s")


def packed(arrays: list[str], source: str) -> str:
    """One text value holding several arrays in their text form: their lengths, ':', then the
    arrays one after the other (``unpack``); an empty one is '' (no rows). One plain text column
    reaches Python as it is: a text[] of them would be parsed and unescaped character by character
    (3.3 ms a batch of artifacts, the whole of what reading them once saved)."""
    cols = ", ".join(f"coalesce({a}::text, '') AS a{i}" for i, a in enumerate(arrays))
    names = [f"a{i}" for i in range(len(arrays))]
    return (f"(SELECT concat_ws(',', {', '.join(f'length({n})' for n in names)}) || ':' || "
            f"concat({', '.join(names)}) FROM (SELECT {cols} FROM {source}) p)")


def unpack(text: str, names: tuple[str, ...]) -> dict[str, str | None]:
    """The arrays ``packed`` put in ``text``, by name; None for an empty one."""
    colon = text.index(":")
    out: dict[str, str | None] = {}
    pos = colon + 1
    for name, n in zip(names, text[:colon].split(","), strict=True):
        end = pos + int(n)
        out[name] = text[pos:end] or None
        pos = end
    assert pos == len(text), "packed arrays of unexpected lengths"
    return out


# A metadata row whose tags Flowscope's INSERT ... SELECT converts exactly as the replay does
# (``replay._strings``, ``wire.attempt_of_tags``): not an array (read as []), or an array of
# strings whose ``attempt_id:`` tags all carry a plain number. Others go through the replay.
# The first branches are the common cases, cheap; the path query decides the rest. The usual one
# tag, ``attempt_id:N``, is checked without a regular expression (0.45 instead of 0.75 µs a row):
# the prefix, 1 to 9 characters after it, and nothing left once ASCII digits are trimmed.
CLEAN_TAGS = ("(CASE WHEN jsonb_typeof(tags) IS DISTINCT FROM 'array' THEN true "
              "WHEN jsonb_array_length(tags) = 1 AND left(tags ->> 0, 11) = 'attempt_id:' "
              "AND length(tags ->> 0) BETWEEN 12 AND 20 AND ltrim(substr(tags ->> 0, 12), '0123456789') = '' THEN true "
              "ELSE NOT jsonb_path_exists(tags, '$[*] ? (@.type() != \"string\" || (@ starts with "
              "\"attempt_id:\" && !(@ like_regex \"^attempt_id:[0-9]{1,9}$\")))') END)")

# The attempt of a clean row (``CLEAN_TAGS``), as ``wire.attempt_of_tags`` reads it: the number of
# its first ``attempt_id:`` tag (every such tag of a clean row is one plain number), else NULL.
ATTEMPT_OF_CLEAN = ("(CASE WHEN jsonb_typeof(tags) IS DISTINCT FROM 'array' THEN NULL "
                    "WHEN jsonb_array_length(tags) = 1 THEN CASE WHEN left(tags ->> 0, 11) = 'attempt_id:' "
                    "THEN substr(tags ->> 0, 12)::int END "
                    "ELSE (SELECT substr(u.t, 12)::int FROM jsonb_array_elements_text(tags) WITH ORDINALITY "
                    "AS u(t, n) WHERE left(u.t, 11) = 'attempt_id:' ORDER BY u.n LIMIT 1) END)")

# Goose versions of metaflow-service's schema this mirror reads. Older ones lack the indexes its
# polls need (metadata by id: 20201002000616; runs by ts_epoch: 20210202145952); newer ones are
# unknown and refused rather than half-mirrored.
SUPPORTED_VERSIONS = (20210202145952, 20210260056859, 20211202100726, 20220503175500, 20230118020300,
                      20260615000000, 20260706000000, 20260706000001, 20260706000002, 20260706000003)

REQUIRED_COLUMNS = {
    "flows": ("flow_id", "ts_epoch"),
    "runs": ("flow_id", "run_number", "run_id", "user_name", "ts_epoch", "tags", "system_tags",
             "last_heartbeat_ts"),
    "steps": ("flow_id", "run_number", "step_name", "ts_epoch"),
    "tasks": ("flow_id", "run_number", "step_name", "task_id", "task_name", "ts_epoch", "last_heartbeat_ts"),
    "metadata": ("id", "flow_id", "run_number", "step_name", "task_id", "field_name", "value", "type", "tags",
                 "ts_epoch"),
    "artifact": ("flow_id", "run_number", "step_name", "task_id", "name", "location", "sha", "content_type",
                 "attempt_id", "ts_epoch"),
}
