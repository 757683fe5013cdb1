"""``core_runtime.S3`` against Metaflow's own ``metaflow.S3`` (the real pip package), call for call,
on one moto S3 server (an emulator of S3, not AWS): every call of Metaflow's API gives the same
keys, URLs, prefixes, sizes, contents, content types, user metadata, ranges and errors, and objects
written by one read back the same through the other."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.s3_server import moto_s3

BUCKET = "tools"
FILES = {"a/0.txt": "zero", "a/b/1.txt": "one one", "a/c/2.txt": "two two two", "a/d/e/3.txt": "3",
         "f/4.txt": "four, ünïcode"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3(BUCKET) as url:
        yield url


@pytest.fixture(autouse=True)
def _creds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: str) -> None:
    """Credentials for moto and the endpoint as a Metaflow deployment sets it
    (METAFLOW_S3_ENDPOINT_URL), which both clients read. Not through ``client_params``: Metaflow
    2.19 adds a botocore ``Config`` to that dict on its first single-object call and then fails
    to JSON-encode it for the next ``*_many`` call (TypeError)."""
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", "us-east-1"), ("METAFLOW_S3_ENDPOINT_URL", endpoint)):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FLOWSCOPE_S3_ENDPOINT_URL", raising=False)
    if _has_metaflow():
        # Metaflow read its configuration when first imported; its s3op subprocesses read the
        # environment afresh.
        from metaflow.plugins.datatools.s3 import s3util

        monkeypatch.setattr(s3util, "DATATOOLS_CLIENT_PARAMS", {"endpoint_url": endpoint})
    monkeypatch.chdir(tmp_path)   # both clients put their temporary directory in the working directory


def _has_metaflow() -> bool:
    try:
        import metaflow  # noqa: F401
    except ImportError:
        return False
    return True


def _ours() -> Any:
    from core_runtime import datatools

    return datatools


def _metaflows() -> Any:
    pytest.importorskip("metaflow", reason="the real pip metaflow (the compat extra) is needed to compare")
    from metaflow.plugins.datatools import s3 as mf_s3

    return mf_s3


def _view(obj: Any, root: str) -> dict[str, Any]:
    """What a user reads from an S3Object, with the client's root made neutral."""
    def neutral(v: Any) -> Any:
        return v.replace(root, "<root>") if isinstance(v, str) else v

    ri = obj.range_info
    return {"key": neutral(obj.key), "url": neutral(obj.url), "prefix": neutral(obj.prefix),
            "exists": obj.exists, "downloaded": obj.downloaded, "size": obj.size, "blob": obj.blob,
            "text": obj.text, "content_type": obj.content_type, "metadata": obj.metadata,
            "has_info": obj.has_info, "range": None if ri is None else tuple(ri),
            "last_modified": type(obj.last_modified).__name__, "str": neutral(str(obj))}


def _outcome(fn: Callable[[], Any], root: str) -> Any:
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 -- the class name is what is compared
        return ("raises", type(exc).__name__)
    if isinstance(value, list):
        return [_view(v, root) if hasattr(v, "url") else tuple(x.replace(root, "<root>") for x in v) for v in value]
    if hasattr(value, "url"):
        return _view(value, root)
    return value.replace(root, "<root>") if isinstance(value, str) else value


def _script(mod: Any, root: str, tmp: Path) -> dict[str, Any]:
    """The same calls through one implementation (``mod``: its datatools module)."""
    params: dict[str, Any] = {}
    out: dict[str, Any] = {}
    local = tmp / "local.bin"
    local.write_bytes(b"from a file")
    with mod.S3(s3root=root, **params) as s3:
        out["put"] = _outcome(lambda: s3.put("a/0.txt", FILES["a/0.txt"]), root)
        out["put_many"] = _outcome(lambda: s3.put_many([(k, v) for k, v in FILES.items() if k != "a/0.txt"]), root)
        out["put_info"] = _outcome(lambda: s3.put("meta/x.json", b'{"a": 1}', content_type="application/json",
                                                  metadata={"owner": "ana", "n": 3}), root)
        out["put_object"] = _outcome(lambda: s3.put_many([mod.S3PutObject(
            "meta/y.csv", value="c,d", content_type="text/csv", metadata={"k": "v"})]), root)
        out["put_fileobj"] = _outcome(lambda: s3.put("meta/z.bin", io.BytesIO(b"\x00\x01\x02")), root)
        out["put_files"] = _outcome(lambda: s3.put_files([("files/local.bin", str(local))]), root)
        out["put_no_overwrite"] = _outcome(lambda: s3.put("a/0.txt", "changed", overwrite=False), root)
        out["put_many_no_overwrite"] = _outcome(lambda: s3.put_many([("a/0.txt", "x"), ("new.txt", "n")],
                                                                    overwrite=False), root)
        out["put_bad"] = _outcome(lambda: s3.put("bad", 123), root)
        out["put_files_missing"] = _outcome(lambda: s3.put_files([("k", str(tmp / "nope"))]), root)
        out["absolute_key"] = _outcome(lambda: s3.get("s3://tools/x"), root)
        _reads(s3, mod, root, out)
    with mod.S3(**params) as s3:
        out["no_root_relative"] = _outcome(lambda: s3.get("a/0.txt"), root)
        out["no_root_full_url"] = _outcome(lambda: s3.get(root + "/a/0.txt"), root)
        out["no_root_get_all"] = _outcome(s3.get_all, root)
        out["no_bucket"] = _outcome(lambda: s3.get("s3://no-such-bucket-here/k"), root)
    out["bad_root"] = _outcome(lambda: mod.S3(s3root="/tmp/x", **params), root)
    return out


def _reads(s3: Any, mod: Any, root: str, out: dict[str, Any]) -> None:
    out["list_paths"] = _outcome(lambda: s3.list_paths(["a", "f"]), root)
    out["list_paths_root"] = _outcome(s3.list_paths, root)
    out["list_recursive"] = _outcome(lambda: s3.list_recursive(["a"]), root)
    out["list_recursive_root"] = _outcome(s3.list_recursive, root)
    out["info"] = _outcome(lambda: s3.info("meta/x.json"), root)
    out["info_missing"] = _outcome(lambda: s3.info("nope", return_missing=True), root)
    out["info_missing_raises"] = _outcome(lambda: s3.info("nope"), root)
    out["info_many"] = _outcome(lambda: s3.info_many(["a/0.txt", "meta/y.csv", "nope"], return_missing=True), root)
    out["get"] = _outcome(lambda: s3.get("a/0.txt"), root)
    out["get_info"] = _outcome(lambda: s3.get("meta/x.json"), root)
    out["get_no_info"] = _outcome(lambda: s3.get("meta/x.json", return_info=False), root)
    out["get_range"] = _outcome(lambda: s3.get(mod.S3GetObject("a/c/2.txt", 4, 3)), root)
    out["get_tail"] = _outcome(lambda: s3.get(mod.S3GetObject("a/c/2.txt", None, -5)), root)
    out["get_from"] = _outcome(lambda: s3.get(mod.S3GetObject("a/c/2.txt", 4, None)), root)
    out["get_object_needs_length"] = _outcome(lambda: s3.get(mod.S3GetObject("a/c/2.txt", 4)), root)
    out["get_missing"] = _outcome(lambda: s3.get("nope", return_missing=True), root)
    out["get_missing_raises"] = _outcome(lambda: s3.get("nope"), root)
    out["get_many"] = _outcome(lambda: s3.get_many(["f/4.txt", "a/0.txt", "meta/y.csv", "nope"],
                                                   return_missing=True), root)
    out["get_many_no_info"] = _outcome(lambda: s3.get_many(["f/4.txt", "files/local.bin"], return_info=False), root)
    out["get_many_missing_raises"] = _outcome(lambda: s3.get_many(["a/0.txt", "nope"]), root)
    out["get_recursive"] = _outcome(lambda: s3.get_recursive(["a"]), root)
    out["get_recursive_info"] = _outcome(lambda: s3.get_recursive(["meta"], return_info=True), root)
    out["get_all"] = _outcome(s3.get_all, root)


def test_every_call_matches_metaflow(endpoint: str, tmp_path: Path) -> None:
    ours = _script(_ours(), f"s3://{BUCKET}/ours", tmp_path)
    theirs = _script(_metaflows(), f"s3://{BUCKET}/metaflow", tmp_path)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert ours[name] == theirs[name], name
    # Not vacuous: the reads found what was written.
    assert [o["key"] for o in ours["list_paths"]] == ["0.txt", "b", "c", "d", "4.txt"]
    assert ours["get_info"]["metadata"] == {"owner": "ana", "n": 3}
    assert ours["get_range"]["blob"] == b"two" and ours["get_range"]["range"] == (11, 4, 3)


def test_each_reads_what_the_other_wrote(endpoint: str, tmp_path: Path) -> None:
    """User metadata, content types and bytes cross over in both directions."""
    ours, theirs = _ours(), _metaflows()
    params: dict[str, Any] = {}
    for writer, reader, root in ((theirs, ours, f"s3://{BUCKET}/cross-mf"), (ours, theirs, f"s3://{BUCKET}/cross-fs")):
        with writer.S3(s3root=root, **params) as w:
            w.put("k.json", "{}", content_type="application/json", metadata={"a": [1, 2]})
        with reader.S3(s3root=root, **params) as r:
            obj = r.get("k.json")
            assert (obj.text, obj.content_type, obj.metadata) == ("{}", "application/json", {"a": [1, 2]})


def test_downloads_are_deleted_when_the_context_closes(endpoint: str, tmp_path: Path) -> None:
    datatools = _ours()
    with datatools.S3(s3root=f"s3://{BUCKET}/tmpcheck", client_params={"endpoint_url": endpoint}) as s3:
        s3.put("x", "y")
        path = s3.get("x").path
        assert path is not None and Path(path).read_text() == "y"
    assert not Path(path).exists()
    assert not list(tmp_path.glob("metaflow.s3.*"))


def test_run_root_outside_a_flow_and_without_a_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3(run=self) needs a running flow; without an S3 datastore or a datatools root it says what to set."""
    from core_runtime import FlowSpec
    from core_runtime.datatools import S3, MetaflowS3URLException

    for var in ("FLOWSCOPE_DATATOOLS_S3ROOT", "METAFLOW_DATATOOLS_S3ROOT", "FLOWSCOPE_DATASTORE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(MetaflowS3URLException, match="DATATOOLS_S3ROOT is not configured"):
        S3(run=object())
    monkeypatch.setenv("METAFLOW_DATATOOLS_S3ROOT", "s3://b/data")
    with pytest.raises(MetaflowS3URLException, match="outside of a running flow"):
        S3(run=FlowSpec.__new__(FlowSpec))

    class PastRun:
        pathspec = "TrainFlow/42"

    with S3(run=PastRun()) as s3:
        assert s3._url("model.pt") == "s3://b/data/TrainFlow/42/model.pt"
    with S3(run=PastRun(), bucket="other", prefix="/p/q") as s3:
        assert s3._url("model.pt") == "s3://other/p/q/TrainFlow/42/model.pt"
