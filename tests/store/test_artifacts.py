"""Artifacts: pickle v4 + SHA-1, stored once, loadable, with safe previews and clear errors."""

from __future__ import annotations

import hashlib
import pickle
import socket
from collections import OrderedDict
from typing import Any

import pytest

from contract.datastore import Datastore, DatastoreError, blob_key
from core_runtime.artifacts import ArtifactError, load_artifact, make_preview, persist_artifacts, type_name


class Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.x == self.x


def test_persist_and_load_roundtrip(datastore: Datastore) -> None:
    values: dict[str, Any] = {"alpha": 0.5, "items": [1, 2, 3], "name": "n", "p": Point(3),
                              "od": OrderedDict(a=1)}
    records = persist_artifacts(datastore, "ArtFlow", "start", values)
    assert [r.name for r in records] == list(values)
    for rec in records:
        data = pickle.dumps(values[rec.name], protocol=4)
        assert rec.sha == hashlib.sha1(data).hexdigest()
        assert rec.size == len(data) and rec.encoding == "pickle-v4"
        assert rec.location == blob_key("ArtFlow", rec.sha)
        assert load_artifact(datastore, rec.location) == values[rec.name]
    by_name = {r.name: r for r in records}
    assert by_name["alpha"].type == "float" and by_name["alpha"].preview == "0.5"
    assert by_name["p"].type.endswith("test_artifacts.Point")
    assert by_name["od"].type == "collections.OrderedDict"


def test_same_value_stored_once(datastore: Datastore) -> None:
    a = persist_artifacts(datastore, "OnceFlow", "a", {"x": list(range(100))})
    b = persist_artifacts(datastore, "OnceFlow", "b", {"y": list(range(100))})
    assert a[0].location == b[0].location
    assert datastore.list("OnceFlow/data/") == [a[0].location]


def test_unpicklable_names_step_and_attribute(datastore: Datastore) -> None:
    with socket.socket() as sock, pytest.raises(ArtifactError) as info:
        persist_artifacts(datastore, "BadFlow", "train", {"ok": 1, "conn": sock})
    assert str(info.value).startswith("step train: artifact self.conn cannot be saved: TypeError: ")
    assert "socket" in str(info.value)


def test_lambda_is_unpicklable(datastore: Datastore) -> None:
    with pytest.raises(ArtifactError, match=r"step s: artifact self.f cannot be saved: "):
        persist_artifacts(datastore, "F", "s", {"f": lambda: 1})


def test_load_missing_and_corrupt(datastore: Datastore) -> None:
    with pytest.raises(DatastoreError, match="no such key"):
        load_artifact(datastore, "F/data/00/missing")
    datastore.put("F/data/00/corrupt", b"not a pickle")
    with pytest.raises(ArtifactError, match="F/data/00/corrupt cannot be loaded"):
        load_artifact(datastore, "F/data/00/corrupt")


def test_previews_are_short_and_typed() -> None:
    assert make_preview(42) == "42"
    assert make_preview("hi") == "'hi'"
    big = list(range(100_000))
    p = make_preview(big)
    assert p.startswith("list of 100000 items: [0, 1, 2") and len(p) <= 200
    assert make_preview({i: i for i in range(50)}).startswith("dict of 50 keys: {")
    assert make_preview(b"\x00\x01abc").startswith("bytes (5 bytes): ")
    assert len(make_preview("x" * 10_000)) <= 200
    assert len(make_preview("x" * 10_000, limit=20)) == 20


def test_previews_have_no_control_characters() -> None:
    class Nasty:
        def __repr__(self) -> str:
            return "line1\nline2\x1b[31mred\x00\u2028"

    p = make_preview(Nasty())
    assert all(ch.isprintable() for ch in p)
    assert "\\n" in p and "\\x1b" in p and "\\x00" in p


def test_preview_survives_broken_repr() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("boom")

    assert "Broken" in make_preview(Broken())
    assert "Broken" in make_preview([Broken()] * 20)


def test_type_names() -> None:
    assert type_name(1.0) == "float"
    assert type_name({}) == "dict"
    assert type_name(OrderedDict()) == "collections.OrderedDict"
