"""LogWriter + read_log_lines on real Postgres and both datastore backends."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg2
import psycopg2.extras
import pytest

from contract.datastore import Datastore
from contract.logs_format import parse_chunk, read_log_lines
from core_runtime.logs import LogWriter
from core_runtime.store import RunRef, RunStore, TaskRef


@pytest.fixture()
def task(store: RunStore, run: RunRef) -> TaskRef:
    t = store.create_task(run, "start")
    store.start_attempt(t, 0)
    return t


def _writer(datastore: Datastore, store: RunStore, run: RunRef, task: TaskRef, **kw: Any) -> LogWriter:
    return LogWriter(datastore, store, task, run.flow_id, run.run_id, 0, kw.pop("stream", "stdout"), **kw)


def _chunks(dsn: str, task: TaskRef, stream: str = "stdout") -> list[dict[str, Any]]:
    """What a reader sees: rows fetched over its own connection."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM log_chunks WHERE task_pk = %s AND attempt = 0 AND stream = %s "
                        "ORDER BY seq", (task.task_pk, stream))
            return [dict(r) for r in cur.fetchall()]
    finally:
        conn.close()


def _wait_for(pred: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_tail_a_running_writer(datastore: Datastore, store: RunStore, run: RunRef, task: TaskRef,
                               pg_reader_dsn: str) -> None:
    w = _writer(datastore, store, run, task, flush_interval=0.2)
    before = int(time.time() * 1000)
    w.feed(b"epoch 1\nepoch 2\n")
    # no explicit flush: the background flush makes the lines visible while the writer is open
    _wait_for(lambda: len(_chunks(pg_reader_dsn, task)) == 1)
    lines = read_log_lines(datastore, _chunks(pg_reader_dsn, task))
    assert [(n, t) for n, _ts, t in lines] == [(1, "epoch 1"), (2, "epoch 2")]
    assert all(before <= ts <= int(time.time() * 1000) for _n, ts, _t in lines)
    w.feed(b"epoch 3\n")
    _wait_for(lambda: len(_chunks(pg_reader_dsn, task)) == 2)
    rows = _chunks(pg_reader_dsn, task)
    assert [(r["seq"], r["first_line"], r["n_lines"]) for r in rows] == [(0, 1, 2), (1, 3, 1)]
    assert [t for _n, _ts, t in read_log_lines(datastore, rows)] == ["epoch 1", "epoch 2", "epoch 3"]
    w.close()
    assert len(_chunks(pg_reader_dsn, task)) == 2  # nothing left to write


def test_chunk_format_and_row(datastore: Datastore, store: RunStore, run: RunRef, task: TaskRef,
                              pg_dsn: str) -> None:
    w = _writer(datastore, store, run, task, stream="stderr")
    w.feed(b"a\tb\nc\n")
    w.close()
    (row,) = _chunks(pg_dsn, task, "stderr")
    assert row["location"] == f"{run.flow_id}/{run.run_id}/start/{task.task_id}/logs/0.stderr.000000"
    data = datastore.get(row["location"])
    first, second = data.decode().splitlines()
    assert first.split("\t", 1)[1] == "a\tb" and second.endswith("\tc")
    assert row["n_bytes"] == len(data) and row["first_ts"] <= row["last_ts"]


def test_partial_lines(datastore: Datastore, store: RunStore, run: RunRef, task: TaskRef,
                       pg_dsn: str) -> None:
    w = _writer(datastore, store, run, task, flush_interval=0.2)
    w.feed(b"hel")
    w.feed(b"lo\nprogress 10%")
    _wait_for(lambda: sum(r["n_lines"] for r in _chunks(pg_dsn, task)) == 2)
    w.feed(b" done\nlast without newline")
    w.close()
    texts = [t for _n, _ts, t in read_log_lines(datastore, _chunks(pg_dsn, task))]
    # an old partial line is flushed as its own line; the rest of it becomes the next line
    assert texts == ["hello", "progress 10%", " done", "last without newline"]


def test_carriage_returns_and_bad_utf8(datastore: Datastore, store: RunStore, run: RunRef,
                                       task: TaskRef, pg_dsn: str) -> None:
    w = _writer(datastore, store, run, task)
    w.feed(b"10%\r50%\r100%\nwin\r\n")
    w.feed(b"bad \xff\xfe bytes\n")
    w.feed("snowman \u2603\n".encode()[:10])   # a multi-byte character split across reads
    w.feed("snowman \u2603\n".encode()[10:])
    w.close()
    texts = [t for _n, _ts, t in read_log_lines(datastore, _chunks(pg_dsn, task))]
    assert texts == ["10%\r50%\r100%", "win\r", "bad \ufffd\ufffd bytes", "snowman \u2603"]


def test_big_output_splits_into_bounded_chunks(datastore: Datastore, store: RunStore, run: RunRef,
                                               task: TaskRef, pg_dsn: str) -> None:
    w = _writer(datastore, store, run, task, max_chunk_bytes=4096, flush_interval=30)
    payload = b"".join(b"line %05d %s\n" % (i, b"x" * 50) for i in range(1000))
    w.feed(payload)
    # flushed inline once over max_chunk_bytes, without waiting for the interval
    assert len(_chunks(pg_dsn, task)) >= 10
    w.close()
    rows = _chunks(pg_dsn, task)
    assert all(r["n_bytes"] <= 4096 for r in rows)
    assert [r["seq"] for r in rows] == list(range(len(rows)))
    lines = read_log_lines(datastore, rows)
    assert [n for n, _ts, _t in lines] == list(range(1, 1001))
    assert lines[999][2].startswith("line 00999 ")


def test_giant_line_without_newline_is_cut(datastore: Datastore, store: RunStore, run: RunRef,
                                           task: TaskRef, pg_dsn: str) -> None:
    w = _writer(datastore, store, run, task, max_chunk_bytes=1024, flush_interval=30)
    w.feed("é".encode() * 3000)   # 6000 bytes, no newline; cuts must not split the 2-byte chars
    w.close()
    rows = _chunks(pg_dsn, task)
    assert all(r["n_bytes"] <= 1024 for r in rows)
    texts = [t for _n, _ts, t in read_log_lines(datastore, rows)]
    assert "".join(texts) == "é" * 3000 and len(texts) > 1


def test_thread_safe_feeding(datastore: Datastore, store: RunStore, run: RunRef, task: TaskRef,
                             pg_dsn: str) -> None:
    w = _writer(datastore, store, run, task, flush_interval=0.05, max_chunk_bytes=2048)

    def feed(tid: int) -> None:
        for i in range(200):
            w.feed(b"t%d-%d\n" % (tid, i))

    threads = [threading.Thread(target=feed, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    lines = read_log_lines(datastore, _chunks(pg_dsn, task))
    assert [n for n, _ts, _t in lines] == list(range(1, 801))
    assert sorted(t for _n, _ts, t in lines) == sorted(f"t{n}-{i}" for n in range(4) for i in range(200))
    assert w.lines_written == 800


def test_closed_writer_and_bad_stream(datastore: Datastore, store: RunStore, run: RunRef,
                                      task: TaskRef) -> None:
    w = _writer(datastore, store, run, task)
    w.close()
    w.close()  # idempotent
    with pytest.raises(ValueError, match="is closed"):
        w.feed(b"x\n")
    with pytest.raises(ValueError, match="log stream must be one of"):
        _writer(datastore, store, run, task, stream="stdin")


def test_parse_chunk_keeps_a_malformed_record_as_text() -> None:
    # One parser for every reader (contract.logs_format): garbage is shown, never fatal.
    assert parse_chunk(b"5\thi\n6\t\n", 10) == [(10, 5, "hi"), (11, 6, "")]
    assert parse_chunk(b"5\thi\nnot a record\n", 1) == [(1, 5, "hi"), (2, None, "not a record")]
