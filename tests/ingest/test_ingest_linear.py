"""A linear flow recorded by the real metaflow client, read back through its Client API and SQL."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from mf_harness import Ingest, client_read, metaflow_env, run_flow
from mf_sql import artifacts_of, attempts_of, metadata_fields, run_row, tasks_of

from backend.metaflow_store import open_root, read_blob_at, read_log

pytestmark = pytest.mark.compat


def test_linear_flow_roundtrip(ingest: Ingest, db: Any, tmp_path: Path) -> None:
    env = metaflow_env(ingest, tmp_path)
    run_flow("linear_flow.py", ["run", "--alpha", "0.25", "--tag", "nightly"], env, tmp_path)
    got = client_read(
        "run = Flow('LinearFlow').latest_run\n"
        "start = run['start'].task\n"
        "run.add_tag('added')\n"
        "run.remove_tag('nightly')\n"
        "print(json.dumps({'id': run.id, 'finished': run.finished, 'ok': run.successful,"
        " 'steps': sorted(s.id for s in run), 'x': run.data.x, 'words': run.data.words,"
        " 'stdout': start.stdout, 'stderr': start.stderr, 'tags': sorted(Run(run.pathspec).user_tags),"
        " 'parents': [s.id for s in run['middle'].parent_steps],"
        " 'meta': start.metadata_dict, 'attempt': start.current_attempt,"
        " 'task_parents': [t.pathspec for t in run['middle'].task.parent_tasks]}))",
        env, tmp_path)
    assert got["finished"] is True and got["ok"] is True
    assert got["steps"] == ["end", "middle", "start"]
    assert got["x"] == 2 and got["words"] == ["a", "b"]
    assert got["stdout"] == "hello from start\n" and got["stderr"] == "a warning\n"
    assert got["tags"] == ["added"]
    assert got["parents"] == ["start"]
    assert got["meta"]["ds-type"] == "local" and got["meta"]["user"] == "tester"
    assert got["attempt"] == 0
    assert got["task_parents"] == [f"LinearFlow/{got['id']}/start/{_task_id(db, got['id'], 'start')}"]

    run = run_row(db, "LinearFlow", got["id"])
    assert run["source"] == "metaflow" and run["status"] == "completed"
    assert run["finished_at"] and run["heartbeat_at"] and run["user_name"] == "tester"
    assert run["tags"] == ["added"] and "runtime:dev" in run["system_tags"]
    with db.cursor() as cur:   # the run list's tag table follows add_tag/remove_tag through the service
        cur.execute("SELECT tag FROM run_tags WHERE run_pk = %s", (run["run_pk"],))
        assert [r[0] for r in cur.fetchall()] == ["added"]
    assert run["parameters"] == {"alpha": 0.25, "label": "plain"}
    assert run["dag"]["graph_structure"] == ["start", "middle", "end"]
    assert run["dag"]["steps"]["start"]["doc"] == "Begin."
    # the _parameters pseudo-task is stored but kept out of the counts
    assert (run["n_tasks"], run["n_completed"], run["n_failed"]) == (3, 3, 0)
    tasks = tasks_of(db, run["run_pk"])
    assert [t["step_name"] for t in tasks] == ["_parameters", "start", "middle", "end"]
    assert all(t["status"] == "completed" and t["finished_at"] for t in tasks)
    attempts = attempts_of(db, run["run_pk"])
    assert [(a["step_name"], a["attempt"], a["status"]) for a in attempts] == [
        ("_parameters", 0, "completed"), ("start", 0, "completed"),
        ("middle", 0, "completed"), ("end", 0, "completed")]

    arts = artifacts_of(db, run["run_pk"], "middle")
    x = arts[(0, "x")]
    assert x["type"] == "int" and x["preview"] == "2" and x["encoding"] == "pickle-v4"
    assert arts[(0, "words")]["preview"] == "['a', 'b']"
    # Metaflow's own `name` artifact (the flow's name, in every task) is a plain str: previewed too.
    assert arts[(0, "name")]["type"] == "str" and arts[(0, "name")]["preview"] == "'LinearFlow'"
    assert x["location"] == f"{tmp_path}/.metaflow/LinearFlow/data/{x['sha'][:2]}/{x['sha']}"
    assert read_blob_at(x["location"]) == pickle.dumps(2, protocol=4)
    meta = metadata_fields(db, run["run_pk"], "start")
    assert {"attempt", "attempt_ok", "attempt-done", "ds-root"} <= {m["field_name"] for m in meta}
    ok_row = next(m for m in meta if m["field_name"] == "attempt_ok")
    assert ok_row["value"] == "True" and ok_row["attempt"] == 0 and ok_row["tags"] == ["attempt_id:0"]

    lines = read_log(open_root(f"{tmp_path}/.metaflow"), "LinearFlow", got["id"], "middle",
                     str(_task_id(db, got["id"], "middle")), 0, "stdout")
    assert [ln.text for ln in lines] == ["middle line one", "middle line two"]
    assert all(ln.ts_ms and ln.source == "runtime" for ln in lines)


def _task_id(db: Any, run_id: str, step: str) -> str:
    run = run_row(db, "LinearFlow", run_id)
    return next(t["task_id"] for t in tasks_of(db, run["run_pk"]) if t["step_name"] == step)
