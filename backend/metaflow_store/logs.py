"""Task logs in a Metaflow datastore: ``<task>/<attempt>.<source>_<stream>.log``."""

from __future__ import annotations

import json

from backend.metaflow_store.blobs import task_key
from backend.metaflow_store.mflog import MflogLine, merge_mflog, parse_mflog
from backend.metaflow_store.roots import DatastoreRoot, FileEntry, StoreError

LogLine = MflogLine
SOURCES = ("runtime", "task")
MAX_ATTEMPTS = 6   # Metaflow's hard cap on attempts of one task


def read_log(root: DatastoreRoot, flow: str, run: str, step: str, task: str, attempt: int,
             stream: str) -> list[MflogLine]:
    """All lines of one stream of one attempt, runtime_ and task_ sources merged by time.

    Falls back to the legacy ``<attempt>.<stream>.log`` of pre-MFLOG runs. Empty when the
    attempt wrote no log (local runs write theirs only when the task process exits).
    """
    if stream not in ("stdout", "stderr"):
        raise StoreError(f"unknown log stream {stream!r}")
    base = task_key(flow, run, step, task)
    files = []
    for source in SOURCES:
        data = root.read(f"{base}/{attempt}.{source}_{stream}.log")
        if data is not None:
            files.append(parse_mflog(data))
    if not files:
        legacy = root.read(f"{base}/{attempt}.{stream}.log")
        if legacy is not None:
            files.append(parse_mflog(legacy))
    return merge_mflog(files)


def attempt_recorded(root: DatastoreRoot, flow: str, run: str, step: str, task: str, attempt: int) -> bool:
    """Whether the datastore holds the attempt's ``attempt.json`` (written when the attempt starts).

    A finished attempt without it is not an attempt that printed nothing: the datastore is not
    the one Metaflow wrote, as seen from here (another machine's path, a wiped directory).
    """
    return root.read(f"{task_key(flow, run, step, task)}/{attempt}.attempt.json") is not None


def log_files(root: DatastoreRoot, flow: str, run: str, step: str, task: str, attempt: int,
              stream: str, max_entries: int = 4096) -> tuple[FileEntry, ...]:
    """The files ``read_log`` would read, with sizes and times: one listing, no download.

    A live reader compares these between passes and reads the log again only when they changed.
    """
    names = {f"{attempt}.{source}_{stream}.log" for source in SOURCES} | {f"{attempt}.{stream}.log"}
    return tuple(f for f in root.list_files(task_key(flow, run, step, task), max_entries) if f.name in names)


def latest_attempt(root: DatastoreRoot, flow: str, run: str, step: str, task: str) -> int | None:
    """Highest attempt with an ``attempt.json`` (contiguous from 0), None if none started."""
    base = task_key(flow, run, step, task)
    latest = None
    for attempt in range(MAX_ATTEMPTS):
        raw = root.read(f"{base}/{attempt}.attempt.json")
        if raw is None:
            break
        try:
            json.loads(raw)
        except ValueError:
            break
        latest = attempt
    return latest
