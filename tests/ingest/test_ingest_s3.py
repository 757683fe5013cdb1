"""A flow with Metaflow's S3 datastore (moto server): the service reads DAG and types from S3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mf_harness import AWS_DUMMY, BUCKET, Ingest, client_read, run_flow, s3_env
from mf_sql import artifacts_of, run_row, tasks_of

from backend.metaflow_store import open_root, read_blob_at, read_log

pytestmark = pytest.mark.compat


def test_linear_flow_on_s3(ingest: Ingest, db: Any, tmp_path: Path, moto_endpoint: str,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = f"s3://{BUCKET}/mf"
    env = s3_env(ingest, tmp_path, moto_endpoint, "mf")
    run_flow("linear_flow.py", ["run", "--label", "on-s3"], env, tmp_path)
    got = client_read(
        "run = Flow('LinearFlow').latest_run\n"
        "print(json.dumps({'id': run.id, 'ok': run.successful, 'x': run.data.x,"
        " 'out': run['middle'].task.stdout, 'ds': run['start'].task.metadata_dict['ds-type']}))",
        env, tmp_path)
    assert got["ok"] is True and got["x"] == 2 and got["ds"] == "s3"
    assert got["out"] == "middle line one\nmiddle line two\n"

    run = run_row(db, "LinearFlow", got["id"])
    assert run["status"] == "completed" and run["parameters"] == {"alpha": 0.5, "label": "on-s3"}
    assert run["dag"]["graph_structure"] == ["start", "middle", "end"]
    x = artifacts_of(db, run["run_pk"], "middle")[(0, "x")]
    assert x["location"].startswith(f"{root}/LinearFlow/data/") and x["type"] == "int"
    assert x["preview"] == "2"

    for key, value in AWS_DUMMY.items():
        monkeypatch.setenv(key, value)
    assert read_blob_at(x["location"], moto_endpoint) == b"\x80\x04K\x02."
    middle = next(t for t in tasks_of(db, run["run_pk"]) if t["step_name"] == "middle")
    lines = read_log(open_root(root, moto_endpoint), "LinearFlow", got["id"], "middle",
                     middle["task_id"], 0, "stdout")
    assert [ln.text for ln in lines] == ["middle line one", "middle line two"]
