"""Artifact blobs (content-addressed, gzip unless ``cas_raw``) and per-attempt ``data.json``."""

from __future__ import annotations

import json
import zlib
from typing import Any

from backend.metaflow_store.roots import DatastoreRoot, StoreError, open_root

MAX_BLOB_BYTES = 256 * 1024 * 1024   # decompressed cap: a gzip bomb stops here
_GZIP_MAGIC = b"\x1f\x8b"


def blob_key(flow: str, sha: str) -> str:
    if not sha or "/" in sha or ".." in sha:
        raise StoreError(f"invalid artifact sha {sha!r}")
    return f"{flow}/data/{sha[:2]}/{sha}"


def _gunzip(data: bytes, limit: int) -> bytes:
    dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = dec.decompress(data, limit)
    if dec.unconsumed_tail:
        raise StoreError(f"blob is larger than {limit} bytes once decompressed")
    return out


def decode_blob(data: bytes, meta: dict[str, Any], limit: int = MAX_BLOB_BYTES) -> bytes:
    """The serialized bytes of a stored blob."""
    if meta.get("cas_raw") is True or str(meta.get("cas_raw")).lower() == "true":
        return data
    # Without _meta the blob is gzip (Metaflow's default); the magic check also covers blobs
    # copied without their _meta.
    if data[:2] == _GZIP_MAGIC:
        try:
            return _gunzip(data, limit)
        except zlib.error as exc:
            raise StoreError(f"corrupt gzip blob: {exc}") from None
    return data


def read_blob(root: DatastoreRoot, flow: str, sha: str, limit: int = MAX_BLOB_BYTES) -> bytes | None:
    """Serialized bytes of artifact ``sha`` of ``flow``, None if the blob is missing."""
    got = root.read_with_meta(blob_key(flow, sha))
    if got is None:
        return None
    return decode_blob(got[0], got[1], limit)


def split_blob_location(location: str) -> tuple[str, str, str]:
    """``<root>/<flow>/data/<xx>/<sha>`` → (root, flow, sha)."""
    parts = location.rstrip("/").split("/")
    if len(parts) < 5 or parts[-3] != "data" or parts[-2] != parts[-1][:2]:
        raise StoreError(f"{location!r} is not a Metaflow blob location")
    return "/".join(parts[:-4]) or "/", parts[-4], parts[-1]


def read_blob_at(location: str, s3_endpoint_url: str | None = None,
                 limit: int = MAX_BLOB_BYTES) -> bytes | None:
    """Serialized bytes of the blob at a full location as stored in ``artifacts.location``."""
    root, flow, sha = split_blob_location(location)
    return read_blob(open_root(root, s3_endpoint_url), flow, sha, limit)


def task_key(flow: str, run: str, step: str, task: str) -> str:
    for part in (flow, run, step, task):
        if not part or "/" in part or part in (".", ".."):
            raise StoreError(f"invalid pathspec component {part!r}")
    return f"{flow}/{run}/{step}/{task}"


def read_data_json(root: DatastoreRoot, flow: str, run: str, step: str, task: str,
                   attempt: int) -> dict[str, Any] | None:
    """The artifact index ``<attempt>.data.json`` of a task attempt, None if not written yet."""
    raw = root.read(f"{task_key(flow, run, step, task)}/{attempt}.data.json")
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise StoreError(f"{flow}/{run}/{step}/{task}/{attempt}.data.json: invalid JSON ({exc})") from None
    return data if isinstance(data, dict) else None


def python_type_name(type_repr: str | None) -> str | None:
    """``"<class 'pandas.core.frame.DataFrame'>"`` → ``"pandas.core.frame.DataFrame"``."""
    if not type_repr:
        return None
    if type_repr.startswith("<class '") and type_repr.endswith("'>"):
        return type_repr[len("<class '"):-2]
    return type_repr
