"""Fixtures of the store tests: a RunStore on the session database, and datastores on both
backends — a local directory and a real S3-compatible server (moto in server mode)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.datastore import Datastore, LocalDatastore, S3Datastore
from core_runtime.store import RunRef, RunStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port for the whole session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_credentials() -> Iterator[None]:
    # boto3 reads credentials from the environment; moto accepts any. Set only if absent.
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint: str, s3_credentials: None) -> str:
    import boto3

    name = "flowscope-test"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def datastore(request: pytest.FixtureRequest, tmp_path: Path) -> Datastore:
    """The same tests run against each backend; every test gets an empty root."""
    if request.param == "local":
        return LocalDatastore(tmp_path / "ds")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Datastore(f"s3://{bucket}/t-{uuid.uuid4().hex[:8]}", endpoint_url=endpoint)


@pytest.fixture()
def store(db: Any) -> RunStore:
    return RunStore(db)


@pytest.fixture()
def run(store: RunStore) -> RunRef:
    flow = f"StoreTestFlow{uuid.uuid4().hex[:6]}"
    return store.create_run(flow, user="tester", tags=["t"], system_tags=["runtime:test"],
                            parameters={"alpha": 0.5}, dag={"start": {"type": "start"}},
                            file_name="flow.py", source="print('hi')\n")
