"""LogWriter: captured stdout/stderr bytes → timestamped log chunks, while the task runs.

Each complete line is stamped with the time its first byte arrived. Chunks are flushed every
``flush_interval`` seconds by one background thread shared by all writers of the process (so a
reader can tail a task that prints one line and then sleeps, without a thread per task), and
inline by ``feed`` once ``max_chunk_bytes`` are pending. A chunk is
written to the datastore before its ``log_chunks`` row is inserted, so a row always points to a
readable chunk (docs/schema.md "Log chunk format").
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from typing import Protocol, Self

from contract.datastore import Datastore, log_chunk_key
from contract.logs_format import STREAMS, encode_record
from core_runtime.store import TaskRef


class ChunkRecorder(Protocol):
    """Where a chunk's row goes once its bytes are stored (RunStore; SpinStore for spin)."""

    def record_log_chunk(self, task: TaskRef, attempt: int, stream: str, seq: int, first_line: int,
                         n_lines: int, n_bytes: int, first_ts: int, last_ts: int,
                         location: str) -> None: ...


def _now_ms() -> int:
    return int(time.time() * 1000)


class LogWriter:
    def __init__(self, ds: Datastore, store: ChunkRecorder, task: TaskRef, flow_id: str, run_id: str,
                 attempt: int, stream: str, flush_interval: float = 1.0,
                 max_chunk_bytes: int = 65536) -> None:
        if stream not in STREAMS:
            raise ValueError(f"log stream must be one of {STREAMS}, not {stream!r}")
        self.ds, self.store, self.task = ds, store, task
        self.flow_id, self.run_id, self.attempt, self.stream = flow_id, run_id, attempt, stream
        self.flush_interval = flush_interval
        self.max_chunk_bytes = max_chunk_bytes
        self._lock = threading.Lock()          # guards the buffers below
        self._flush_lock = threading.Lock()    # one flush at a time keeps seq and line order
        self._lines: list[tuple[int, str]] = []  # complete lines waiting for a flush
        self._pending_bytes = 0
        self._partial = bytearray()            # bytes after the last newline
        self._partial_ts = 0
        self._next_line = 1
        self._seq = 0
        self._closed = False
        self._registered = False
        self._last_flush = time.monotonic()
        self.error: BaseException | None = None   # a failed background flush, re-raised by close()

    @property
    def lines_written(self) -> int:
        return self._next_line - 1

    def feed(self, data: bytes) -> None:
        """Raw bytes from a pipe: split into lines, stamped with their arrival time."""
        if not data:
            return
        now = _now_ms()
        with self._lock:
            if self._closed:
                raise ValueError(f"log writer for {self.task.step_name}/{self.task.task_id} "
                                 f"{self.stream} is closed")
            start = 0
            while True:
                nl = data.find(b"\n", start)
                if nl < 0:
                    break
                self._take_line(bytes(self._partial) + data[start:nl], now)
                start = nl + 1
            rest = data[start:]
            if rest:
                if not self._partial:
                    self._partial_ts = now
                self._partial += rest
                if len(self._partial) >= self.max_chunk_bytes:   # a giant line without newline
                    self._cut_partial()
            full = self._pending_bytes >= self.max_chunk_bytes
        self._ensure_registered()
        if full:
            self.flush()

    def _take_line(self, raw: bytes, now: int) -> None:
        ts = self._partial_ts if self._partial else now
        self._partial.clear()
        for text in self._pieces(raw):
            self._lines.append((ts, text))
        self._pending_bytes += len(raw) + 16

    def _pieces(self, raw: bytes) -> list[str]:
        """Decode one line; a line longer than a chunk becomes several lines (cut between
        characters), so every chunk stays within max_chunk_bytes."""
        limit = max(self.max_chunk_bytes - 32, 4)
        if len(raw) <= limit:
            return [raw.decode("utf-8", errors="replace")]
        out = []
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for start in range(0, len(raw), limit):
            text = decoder.decode(raw[start:start + limit], final=start + limit >= len(raw))
            if text:
                out.append(text)
        return out

    def _cut_partial(self) -> None:
        """Emit the partial line as a line, keeping an incomplete UTF-8 sequence for later."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        decoder.decode(bytes(self._partial), final=False)
        leftover = decoder.getstate()[0]
        complete = bytes(self._partial[: len(self._partial) - len(leftover)])
        ts = self._partial_ts
        self._partial = bytearray(leftover)
        self._partial_ts = _now_ms()
        for text in self._pieces(complete) if complete else []:
            self._lines.append((ts, text))
        self._pending_bytes += len(complete) + 16

    def flush(self, final: bool = False) -> None:
        """Write pending complete lines (and a partial line older than flush_interval, or any
        partial line when final) as chunks of at most ~max_chunk_bytes."""
        with self._flush_lock:
            self._last_flush = time.monotonic()
            with self._lock:
                if self._partial and (final or _now_ms() - self._partial_ts >= self.flush_interval * 1000):
                    self._cut_partial()
                    if final and self._partial:   # only an incomplete UTF-8 tail is left
                        self._lines.append((self._partial_ts, bytes(self._partial).decode("utf-8", "replace")))
                        self._partial.clear()
                lines, self._lines, self._pending_bytes = self._lines, [], 0
            self._write_chunks(lines)

    def _write_chunks(self, lines: list[tuple[int, str]]) -> None:
        chunk: list[bytes] = []
        size = 0
        first_ts = last_ts = 0
        for ts, text in lines:
            rec = encode_record(ts, text)
            if chunk and size + len(rec) > self.max_chunk_bytes:
                self._write_one(chunk, size, first_ts, last_ts)
                chunk, size = [], 0
            if not chunk:
                first_ts = ts
            chunk.append(rec)
            size += len(rec)
            last_ts = ts
        if chunk:
            self._write_one(chunk, size, first_ts, last_ts)

    def _write_one(self, records: list[bytes], size: int, first_ts: int, last_ts: int) -> None:
        key = log_chunk_key(self.flow_id, self.run_id, self.task.step_name, self.task.task_id,
                            self.attempt, self.stream, self._seq)
        self.ds.put(key, b"".join(records))
        self.store.record_log_chunk(self.task, self.attempt, self.stream, self._seq, self._next_line,
                                    len(records), size, first_ts, last_ts, key)
        self._seq += 1
        self._next_line += len(records)

    def _ensure_registered(self) -> None:
        if not self._registered:
            self._registered = True
            _FLUSHER.register(self)

    def _tick(self) -> None:
        """Called by the shared flusher: flush when the interval has passed and lines wait."""
        if self.error is not None or time.monotonic() - self._last_flush < self.flush_interval:
            return
        with self._lock:
            waiting = bool(self._lines or self._partial)
        if waiting:
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 -- kept and re-raised by close() on the owner's thread
                self.error = exc

    def close(self) -> None:
        """Flush everything, including a trailing partial line, and stop the flush thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._registered:
            _FLUSHER.unregister(self)
        self.flush(final=True)
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _SharedFlusher:
    """One daemon thread per process that ticks every writer with output."""

    TICK_S = 0.05

    def __init__(self) -> None:
        self._writers: set[LogWriter] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def register(self, writer: LogWriter) -> None:
        with self._lock:
            self._writers.add(writer)
            # after a fork the child has the object but not the thread
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, daemon=True, name="flowscope-log-flush")
                self._thread.start()

    def unregister(self, writer: LogWriter) -> None:
        with self._lock:
            self._writers.discard(writer)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            with self._lock:
                writers = list(self._writers)
            for w in writers:
                w._tick()


_FLUSHER = _SharedFlusher()
