"""Log chunks in the documented format (``<epoch_ms>\\t<text>\\n``), written to the datastore
first and then recorded as ``log_chunks`` rows, as the runtime's log writer does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bench.copy_text import Tables
from bench.emit import Ids
from contract.datastore import Datastore, log_chunk_key

CHUNK_BYTES = 65536


@dataclass(frozen=True)
class LogTarget:
    flow_id: str
    run_id: str
    run_pk: int
    step: str
    task_pk: int
    attempt: int
    stream: str


def write_log(ds: Datastore, t: Tables, ids: Ids, target: LogTarget,
              lines: Iterable[tuple[int, str]]) -> int:
    """Chunk ``(ts, text)`` lines at ~64 KiB; returns the number of lines written."""
    seq = 0
    first_line = 1
    buf: list[str] = []
    size = 0
    first_ts = last_ts = 0
    total = 0

    def flush() -> None:
        nonlocal seq, first_line, buf, size
        data = "".join(buf).encode()
        key = log_chunk_key(target.flow_id, target.run_id, target.step, str(target.task_pk),
                            target.attempt, target.stream, seq)
        ds.put(key, data)
        ids.change_seq += 1
        t.rows["log_chunks"].append(
            f"{target.task_pk}\t{target.attempt}\t{target.stream}\t{seq}\t{target.run_pk}\t{first_line}"
            f"\t{len(buf)}\t{len(data)}\t{first_ts}\t{last_ts}\t{key}\t{last_ts}\t{ids.change_seq}")
        seq += 1
        first_line += len(buf)
        buf, size = [], 0

    for ts, text in lines:
        rec = f"{ts}\t{text}\n"
        if not buf:
            first_ts = ts
        buf.append(rec)
        last_ts = ts
        size += len(rec)
        total += 1
        if size >= CHUNK_BYTES:
            flush()
    if buf:
        flush()
    return total


def task_output(begin: int, end: int, step: str, n: int) -> Iterable[tuple[int, str]]:
    """A short, plausible stdout of a task: progress lines spread over its run time."""
    span = max(1, end - begin)
    for i in range(n):
        yield begin + span * i // n, f"[{step}] processed batch {i + 1}/{n} (loss={1.0 / (i + 2):.4f})"


def flood(begin: int, end: int, n: int) -> Iterable[tuple[int, str]]:
    """A very long stdout: n numbered lines with some variety in length."""
    span = max(1, end - begin)
    words = ["fetch", "parse", "score", "write", "retry", "skip"]
    for i in range(n):
        yield (begin + span * i // n,
               f"line {i + 1}: {words[i % 6]} record id={i * 7919 % 1000003} " + "." * (i * 31 % 40))
