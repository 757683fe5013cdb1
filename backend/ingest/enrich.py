"""What the ingest service learns from Metaflow's datastore when artifacts are registered.

The artifact POST carries only names and shas; the DAG (``_graph_info``), Parameter values,
Python types and sizes (``data.json``), foreach position (``_foreach_stack``), the iteration of a
recursive step (``_iteration_stack``, Metaflow 2.19) and the error of a
failed attempt (``_exception``) are read from the datastore at the artifact's ``:root:``.
Only plain values are decoded, with the restricted unpickler: no user code runs here.
Everything is best effort: a missing or unreadable datastore leaves those fields empty.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from backend.metaflow_store.blobs import python_type_name, read_blob, read_data_json
from backend.metaflow_store.roots import DatastoreRoot, StoreError, open_root
from backend.sandbox.safe_pickle import (
    ExceptionRecord,
    IncludedFileRecord,
    RestrictedValueError,
    restricted_loads,
    to_json_value,
)

log = logging.getLogger(__name__)

NONE_SHA = "dbc1aaddc8b7343d6d33b34edcf608b8f8801918"        # pickle of None
EMPTY_LIST_SHA = "c5cf38908fc549f499ade5b17ce221ff0ced377f"  # pickle of []
PREVIEW_MAX_BLOB = 4096     # decode for a preview only small blobs
PREVIEW_CHARS = 200
DAG_MAX_BLOB = 16 * 1024 * 1024


@dataclass
class Enrichment:
    types: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    previews: dict[str, str] = field(default_factory=dict)
    dag: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    foreach_stack: list[dict[str, Any]] | None = None
    iteration_stack: list[int] | None = None
    exception: ExceptionRecord | None = None
    caught: bool = False     # the exception was handled by @catch


class _PreviewCache:
    """sha → preview; inherited artifacts repeat the same sha in every downstream task."""

    def __init__(self, size: int = 4096):
        self._size = size
        self._data: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[bool, str | None]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return True, self._data[key]
        return False, None

    def put(self, key: tuple[str, str], value: str | None) -> None:
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._size:
                self._data.popitem(last=False)


_previews = _PreviewCache()


def _decode(root: DatastoreRoot, flow: str, sha: str, limit: int) -> Any:
    blob = read_blob(root, flow, sha, limit)
    if blob is None:
        raise StoreError(f"blob {sha} of {flow} is missing")
    return restricted_loads(blob)


def _preview(root: DatastoreRoot, flow: str, sha: str) -> str | None:
    hit, value = _previews.get((flow, sha))
    if hit:
        return value
    try:
        decoded = _decode(root, flow, sha, PREVIEW_MAX_BLOB * 4)
        text = repr(decoded)
        value = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"
    except (StoreError, RestrictedValueError):
        value = None   # not a plain value: the UI unpickles it in a worker on demand
    _previews.put((flow, sha), value)
    return value


def inspect(root_str: str, s3_endpoint_url: str | None, flow: str, run: str, step: str, task: str,
            attempt: int, shas: dict[str, str], catch_step: bool) -> Enrichment:
    """Read what the datastore says about one attempt's artifacts (blocking; run in a thread)."""
    out = Enrichment()
    try:
        root = open_root(root_str, s3_endpoint_url)
        info = (read_data_json(root, flow, run, step, task, attempt) or {}).get("info") or {}
    except StoreError as exc:
        log.warning("datastore of %s/%s/%s/%s unreadable: %s", flow, run, step, task, exc)
        return out
    for name, meta in info.items():
        if isinstance(meta, dict):
            size = meta.get("size")
            out.types[name] = (python_type_name(meta.get("type")),
                               size if isinstance(size, int) else None)
    try:
        _inspect_special(root, flow, step, shas, catch_step, out)
    except (StoreError, RestrictedValueError) as exc:
        log.warning("internal artifacts of %s/%s/%s/%s: %s", flow, run, step, task, exc)
    for name, sha in shas.items():
        size = out.types.get(name, (None, None))[1]
        if name.startswith("_") or (size is not None and size > PREVIEW_MAX_BLOB):
            continue
        try:
            preview = _preview(root, flow, sha)
        except StoreError:
            preview = None
        if preview is not None:
            out.previews[name] = preview
    return out


def _inspect_special(root: DatastoreRoot, flow: str, step: str, shas: dict[str, str],
                     catch_step: bool, out: Enrichment) -> None:
    if step == "_parameters" and "_graph_info" in shas:
        dag = _decode(root, flow, shas["_graph_info"], DAG_MAX_BLOB)
        if isinstance(dag, dict):
            out.dag = to_json_value(dag)
            names = [p.get("name") for p in dag.get("parameters") or [] if isinstance(p, dict)]
            params: dict[str, Any] = {}
            for pname in names:
                if isinstance(pname, str) and pname in shas:
                    try:
                        value = _decode(root, flow, shas[pname], DAG_MAX_BLOB)
                        # an IncludeFile: where Metaflow uploaded the file, its size and kind
                        params[pname] = value.shown() if isinstance(value, IncludedFileRecord) \
                            else to_json_value(value)
                    except RestrictedValueError:
                        params[pname] = "<not a plain value>"
            out.parameters = params
    stack_sha = shas.get("_foreach_stack")
    if stack_sha and stack_sha != EMPTY_LIST_SHA:
        frames = _decode(root, flow, stack_sha, DAG_MAX_BLOB)
        if isinstance(frames, list):
            out.foreach_stack = [
                {"step": f[0], "var": f[1], "num_splits": f[2], "index": f[3], "value": to_json_value(f[4])}
                for f in frames if isinstance(f, tuple) and len(f) == 5
            ]
    loop_sha = shas.get("_iteration_stack")
    if loop_sha and loop_sha != EMPTY_LIST_SHA:
        loops = _decode(root, flow, loop_sha, DAG_MAX_BLOB)
        if isinstance(loops, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in loops):
            out.iteration_stack = loops
    exc_sha = shas.get("_exception")
    if exc_sha and exc_sha != NONE_SHA:
        value = _decode(root, flow, exc_sha, DAG_MAX_BLOB)
        if isinstance(value, ExceptionRecord):
            out.exception = value
    elif catch_step and shas.get("_catch_exception") not in (None, NONE_SHA):
        value = _decode(root, flow, shas["_catch_exception"], DAG_MAX_BLOB)
        if isinstance(value, ExceptionRecord):
            out.exception, out.caught = value, True
