"""A whole run with the S3 datastore, against moto's S3 server: artifacts, logs and cards land
in the bucket and read back through the Client API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.runtime.conftest import FIXTURES, FLOWS, run_row


@pytest.fixture(scope="module")
def s3_env(flowscope_env: dict[str, str]) -> Iterator[dict[str, str]]:
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_DEFAULT_REGION": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="runs")
    yield {**flowscope_env, **creds, "FLOWSCOPE_DATASTORE": "s3://runs/flowscope",
           "FLOWSCOPE_S3_ENDPOINT_URL": endpoint}
    server.stop()


def test_run_on_s3(s3_env: dict[str, str], db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from contract.settings import load_settings
    from core_runtime.client import Run, configure, namespace
    from tests.runtime.conftest import run_flow

    res = run_flow(s3_env, FIXTURES / "foreach_flow.py", "run", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    cards = run_flow(s3_env, FLOWS / "card_flow.py", "run", tmp=tmp_path)
    assert cards.returncode == 0, cards.stderr
    run = run_row(db, "ForeachFlow", res.run_id)
    assert run["status"] == "completed"
    with db.cursor() as cur:
        cur.execute("SELECT location FROM log_chunks WHERE run_pk = %s LIMIT 1", (run["run_pk"],))
        assert cur.fetchone() is not None

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, s3_env[key])
    settings = load_settings({k: v for k, v in s3_env.items() if k.startswith("FLOWSCOPE_")})
    configure(settings)
    namespace(None)
    client_run = Run(f"ForeachFlow/{res.run_id}")
    assert client_run.data.total == 55
    assert sorted(t.stdout.strip() for t in client_run["square"]) == [
        f"square {i} {(i + 1) ** 2}" for i in range(5)]

    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_env["FLOWSCOPE_S3_ENDPOINT_URL"])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="runs", Prefix="flowscope/CardFlow/")["Contents"]]
    assert any(k.endswith(".html") for k in keys) and any("/data/" in k for k in keys)


def test_live_card_on_s3(s3_env: dict[str, str], db: Any, tmp_path: Any) -> None:
    """The live card flow on the S3 datastore (moto's server, an emulator): every accepted
    refresh is a state object in the bucket, the last one final, and the page is self-contained."""
    import json

    import boto3

    from tests.cards.pages import assert_strict_page, of_type, page_state
    from tests.runtime.conftest import REPO, run_flow

    flow = REPO / "tests" / "fixtures" / "cards" / "live_card_flow.py"
    res = run_flow(s3_env, flow, "run", tmp=tmp_path, extra_env={"LIVE_CARD_STEPS": "3", "LIVE_CARD_SLEEP": "1.0"})
    assert res.returncode == 0, res.stderr
    run = run_row(db, "LiveCardFlow", res.run_id)
    with db.cursor() as cur:
        cur.execute("SELECT location, data_location, final FROM cards WHERE run_pk = %s", (run["run_pk"],))
        (location, data_location, final), = cur.fetchall()
    assert final
    s3 = boto3.client("s3", endpoint_url=s3_env["FLOWSCOPE_S3_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    prefix = "flowscope/" + location.rsplit("/", 1)[0] + "/"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="runs", Prefix=prefix)["Contents"])
    states = [json.loads(s3.get_object(Bucket="runs", Key=k)["Body"].read()) for k in keys if k.endswith(".json")]
    assert len(states) >= 3 and [s["final"] for s in states][-1] is True and not any(s["final"] for s in states[:-1])
    values = [of_type(s["doc"], "progressBar")[0]["value"] for s in states]
    assert values == sorted(values) and values[-1] == 3
    page = s3.get_object(Bucket="runs", Key="flowscope/" + location)["Body"].read().decode()
    assert_strict_page(page)
    assert page_state(page)["seq"] == states[-1]["seq"] and data_location.endswith(f"{states[-1]['seq']:06d}.json")


def test_s3_client_in_a_flow(s3_env: dict[str, str], db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``S3(run=self)`` keys objects under FLOWSCOPE_DATASTORE/data/<flow>/<run id> (Metaflow's
    DATATOOLS_S3ROOT default); a later step and, after the run, ``S3(run=Run(...))`` read them."""
    from contract.settings import load_settings
    from core_runtime import S3
    from core_runtime.client import Run, configure, namespace
    from tests.runtime.conftest import run_flow

    flow = FLOWS / "s3_tools_flow.py"
    res = run_flow(s3_env, flow, "run", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not list(flow.parent.glob("metaflow.s3.*")), "the downloads' directory outlived its context"
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    configure(load_settings({k: v for k, v in s3_env.items() if k.startswith("FLOWSCOPE_")}))
    namespace(None)
    run = Run(f"S3ToolsFlow/{res.run_id}")
    assert run.data.url == f"s3://runs/flowscope/data/S3ToolsFlow/{res.run_id}/model/weights.txt"
    assert (run.data.weights, run.data.epoch, run.data.shards) == ("w=1", 3, ["0", "1", "2"])
    monkeypatch.chdir(tmp_path)
    with S3(run=run) as s3:
        assert [o.key for o in s3.list_recursive()] == ["model/weights.txt", "shard/0", "shard/1", "shard/2"]
