"""The datastore contract, run against a local directory and a moto S3 server alike."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contract.datastore import (
    Datastore,
    DatastoreError,
    LocalDatastore,
    S3Datastore,
    blob_key,
    card_key,
    log_chunk_key,
    open_datastore,
)
from contract.settings import load_settings


def test_put_get_roundtrip(datastore: Datastore) -> None:
    datastore.put("Flow/1/start/3/logs/0.stdout.000000", b"1\thello\n")
    assert datastore.get("Flow/1/start/3/logs/0.stdout.000000") == b"1\thello\n"
    datastore.put("Flow/1/start/3/logs/0.stdout.000000", b"replaced")
    assert datastore.get("Flow/1/start/3/logs/0.stdout.000000") == b"replaced"


def test_binary_and_empty_values(datastore: Datastore) -> None:
    payload = bytes(range(256)) * 100
    datastore.put("F/data/ab/abc", payload)
    datastore.put("F/empty", b"")
    assert datastore.get("F/data/ab/abc") == payload
    assert datastore.get("F/empty") == b""


def test_put_if_absent_stores_once(datastore: Datastore) -> None:
    assert datastore.put_if_absent("F/data/aa/aa1", b"first") is True
    assert datastore.put_if_absent("F/data/aa/aa1", b"second") is False
    assert datastore.get("F/data/aa/aa1") == b"first"


def test_exists(datastore: Datastore) -> None:
    assert not datastore.exists("F/x")
    datastore.put("F/x", b"1")
    assert datastore.exists("F/x")
    assert not datastore.exists("F")  # a "directory" is not a key


def test_missing_key_names_key_and_root(datastore: Datastore) -> None:
    with pytest.raises(DatastoreError) as info:
        datastore.get("F/nope/never")
    assert "F/nope/never" in str(info.value)
    assert datastore.root in str(info.value)
    assert "no such key" in str(info.value)


def test_list_by_prefix(datastore: Datastore) -> None:
    for key in ["F/1/a/1/logs/0.stdout.000001", "F/1/a/1/logs/0.stdout.000000",
                "F/1/a/1/logs/0.stderr.000000", "F/1/a/10/logs/0.stdout.000000", "G/1/a/1/x"]:
        datastore.put(key, b"x")
    assert datastore.list("F/1/a/1/logs/0.stdout") == ["F/1/a/1/logs/0.stdout.000000",
                                                        "F/1/a/1/logs/0.stdout.000001"]
    assert datastore.list("F/1/a/1/") == ["F/1/a/1/logs/0.stderr.000000", "F/1/a/1/logs/0.stdout.000000",
                                          "F/1/a/1/logs/0.stdout.000001"]
    assert len(datastore.list("F/")) == 4
    assert datastore.list("nothing/") == []


@pytest.mark.parametrize("bad", ["", "/abs", "a/../b", "a//b", "./a"])
def test_bad_keys_rejected(datastore: Datastore, bad: str) -> None:
    with pytest.raises(DatastoreError, match="invalid key"):
        datastore.put(bad, b"x")


def test_key_helpers_follow_the_schema_layout() -> None:
    sha = "0a1b2c3d" + "0" * 32
    assert blob_key("MyFlow", sha) == f"MyFlow/data/0a/{sha}"
    assert log_chunk_key("MyFlow", "12", "train", "345", 1, "stderr", 7) == \
        "MyFlow/12/train/345/logs/1.stderr.000007"
    assert card_key("MyFlow", "12", "train", "345", 0, "default") == "MyFlow/12/train/345/cards/0.default.html"


def test_open_datastore_defaults_to_home(tmp_path: Path) -> None:
    ds = open_datastore(load_settings({}, home=str(tmp_path)))
    assert isinstance(ds, LocalDatastore)
    assert ds.root == str((tmp_path / "datastore").resolve())


def test_open_datastore_s3_uses_endpoint(s3_endpoint: str, s3_bucket: str) -> None:
    settings = load_settings({"FLOWSCOPE_DATASTORE": f"s3://{s3_bucket}/pre/fix",
                              "FLOWSCOPE_S3_ENDPOINT_URL": s3_endpoint})
    ds = open_datastore(settings)
    assert isinstance(ds, S3Datastore)
    assert ds.root == f"s3://{s3_bucket}/pre/fix"
    ds.put("F/k", b"v")
    import boto3

    obj = boto3.client("s3", endpoint_url=s3_endpoint).get_object(Bucket=s3_bucket, Key="pre/fix/F/k")
    assert obj["Body"].read() == b"v"


def test_open_datastore_rejects_unknown_scheme() -> None:
    with pytest.raises(DatastoreError, match="unsupported scheme"):
        open_datastore(load_settings({"FLOWSCOPE_DATASTORE": "gs://bucket/x"}))


def test_s3_url_without_bucket() -> None:
    with pytest.raises(DatastoreError, match="no bucket"):
        S3Datastore("s3:///x", endpoint_url="http://127.0.0.1:1")


def test_unreachable_endpoint_fails_fast(s3_credentials: None) -> None:
    # Port 1 on localhost refuses connections: a clear error, not a hang.
    ds = S3Datastore("s3://bucket/p", endpoint_url="http://127.0.0.1:1")
    started = time.monotonic()
    with pytest.raises(DatastoreError) as info:
        ds.put("F/k", b"v")
    assert time.monotonic() - started < 15
    msg = str(info.value)
    assert "s3://bucket/p" in msg and "F/k" in msg and "unreachable" in msg


def test_missing_bucket_is_named(s3_endpoint: str, s3_credentials: None) -> None:
    ds = S3Datastore("s3://no-such-bucket-here/p", endpoint_url=s3_endpoint)
    with pytest.raises(DatastoreError, match="bucket does not exist"):
        ds.put("F/k", b"v")


def test_local_root_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatastoreError, match="cannot create the directory"):
        LocalDatastore(blocker / "ds")


def test_s3_client_is_per_process(s3_endpoint: str, s3_bucket: str) -> None:
    """A datastore opened before a fork works in the child (the runtime forks task processes)."""
    import os

    ds = S3Datastore(f"s3://{s3_bucket}/forked", endpoint_url=s3_endpoint)
    ds.put("F/parent", b"p")
    pid = os.fork()
    if pid == 0:  # child: write with the inherited datastore object, then exit without cleanup
        code = 0
        try:
            ds.put("F/child", ds.get("F/parent") + b"c")
        except BaseException:  # noqa: BLE001 -- the child must always reach os._exit
            code = 1
        os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert ds.get("F/child") == b"pc"


@pytest.mark.parametrize("op", ["get", "exists", "list"])
def test_unreachable_endpoint_every_operation(s3_credentials: None, op: str) -> None:
    ds = S3Datastore("s3://bucket", endpoint_url="http://127.0.0.1:1")
    started = time.monotonic()
    with pytest.raises(DatastoreError, match="endpoint unreachable"):
        getattr(ds, op)("F/k")
    assert time.monotonic() - started < 15
