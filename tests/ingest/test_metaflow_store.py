"""The Metaflow datastore reader: MFLOG parsing and merging, blobs, the safe decoder on Metaflow internals."""

from __future__ import annotations

import gzip
import json
import pickle
from collections import namedtuple
from pathlib import Path

import pytest

from backend.cache.artifact_worker import ArtifactRenderer
from backend.cache.lru import LruCache
from backend.errors import ApiError
from backend.metaflow_store import (
    RestrictedValueError,
    open_root,
    read_blob,
    read_log,
    restricted_loads,
)
from backend.sandbox.safe_pickle import ExceptionRecord


def _line(ts: str, src: str, text: str) -> str:
    return f"[MFLOG|0|2026-11-23T15:08:{ts}Z|{src}|3d0ecdd9-ee63-406e-9fd8-63fd29d88380]{text}"


def test_logs_merge_runtime_and_task_sources_by_time(tmp_path: Path) -> None:
    task = tmp_path / "F" / "1" / "s" / "7"
    task.mkdir(parents=True)
    (task / "0.runtime_stderr.log").write_text(
        _line("39.100000", "runtime", "first") + "\n" + _line("39.300000", "runtime", "third") + "\n"
        + "garbage line\n" + _line("40.000000", "runtime", "Task failed."))   # no final newline
    (task / "0.task_stderr.log").write_text("[!" + _line("39.200000", "task", "second") + "\n")
    lines = read_log(open_root(str(tmp_path)), "F", "1", "s", "7", 0, "stderr")
    assert [ln.text for ln in lines] == ["first", "second", "third", "Task failed.", "garbage line"]
    assert [ln.source for ln in lines] == ["runtime", "task", "runtime", "runtime", ""]
    assert lines[0].ts_ms is not None and lines[1].ts_ms - lines[0].ts_ms == 100
    assert lines[-1].ts_ms is None
    assert read_log(open_root(str(tmp_path)), "F", "1", "s", "7", 0, "stdout") == []


def test_blobs_gzip_raw_and_path_safety(tmp_path: Path) -> None:
    data = tmp_path / "F" / "data" / "ab"
    data.mkdir(parents=True)
    (data / ("ab" + "1" * 38)).write_bytes(gzip.compress(pickle.dumps([1, 2], protocol=4)))
    (data / ("ab" + "2" * 38)).write_bytes(b"\x1f\x8braw-tar")
    (data / ("ab" + "2" * 38 + "_meta")).write_text(json.dumps({"cas_raw": True, "cas_version": 1}))
    root = open_root(str(tmp_path))
    assert restricted_loads(read_blob(root, "F", "ab" + "1" * 38) or b"") == [1, 2]
    assert read_blob(root, "F", "ab" + "2" * 38) == b"\x1f\x8braw-tar"
    assert read_blob(root, "F", "ab" + "3" * 38) is None
    with pytest.raises(Exception, match="escapes|invalid"):
        read_blob(root, "..", "ab" + "1" * 38)
    with pytest.raises(Exception, match="absolute"):
        open_root("relative/dir")


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


def test_restricted_unpickler_allows_plain_values_and_metaflow_internals() -> None:
    graph = {"steps": {"a": {"next": ["b"]}}, "t": (1, 2.5, None, True), "s": {"x"}}
    assert restricted_loads(pickle.dumps(graph, protocol=4)) == graph
    frame_cls = namedtuple("ForeachFrame", ["step", "var", "num_splits", "index", "value"])
    frame_cls.__module__ = "__main__"
    import __main__
    __main__.ForeachFrame = frame_cls  # type: ignore[attr-defined]
    frames = restricted_loads(pickle.dumps([frame_cls("sq", "items", 3, 1, "1")], protocol=4))
    assert frames == [("sq", "items", 3, 1, "1")] and frames[0].index == 1
    with pytest.raises(RestrictedValueError, match="builtins.print"):
        restricted_loads(pickle.dumps(Exploit(), protocol=4))
    with pytest.raises(RestrictedValueError):
        restricted_loads(b"not a pickle")
    rec = ExceptionRecord(None)
    rec.__setstate__({"type": "builtins.ValueError", "exception": "bad", "stacktrace": "Traceback"})
    assert (rec.type, rec.message) == ("builtins.ValueError", "bad")


async def test_artifact_worker_preview_errors_and_limits() -> None:
    """The worker process that unpickles Metaflow artifacts: previews, errors, time and memory caps."""
    async def renderer(timeout: float = 20, mem_mb: int = 256) -> ArtifactRenderer:
        made = ArtifactRenderer(timeout=timeout, memory_mb=mem_mb, workers=1, cache=LruCache("t", 1 << 20))
        await made.start()   # the start-up probe: without it nothing is unpickled
        return made

    ok = await (await renderer()).render("a", pickle.dumps({"a": [1, 2]}, protocol=4), "a")
    assert ok["text"] == "{'a': [1, 2]}" and ok["type"] == "dict" and ok["json"] == {"a": [1, 2]}
    missing = await (await renderer()).render("b", b"cno_such_mod\nCls\n)R.", "b")
    assert "No module named 'no_such_mod'" in missing["error"]
    # a pickle that sleeps: killed at the deadline
    with pytest.raises(ApiError, match="longer than 1.5 s"):
        await (await renderer(timeout=1.5)).render("c", b"ctime\nsleep\n(I30\ntR.", "c")
    # a pickle that allocates 2 GB: stopped by the memory cap
    big = await (await renderer(mem_mb=200)).render("d", b"cbuiltins\nbytearray\n(I2000000000\ntR.", "d")
    assert "memory" in big["error"].lower()
    long = await (await renderer()).render("e", pickle.dumps("x" * 300_000, protocol=4), "e")
    assert len(long["text"]) <= 200_000 and "json" not in long   # shortened, not sent whole
