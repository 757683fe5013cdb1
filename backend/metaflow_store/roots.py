"""A Metaflow datastore root: a local directory or s3://bucket/prefix, read by relative key."""

from __future__ import annotations

import builtins
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MAX_READ_BYTES = 256 * 1024 * 1024  # refuse anything bigger: the reader must stay bounded


class StoreError(RuntimeError):
    """The datastore cannot be read; the message names the root and key."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file directly under a listed directory."""

    name: str
    size: int
    modified_ms: int


class DatastoreRoot(Protocol):
    root: str

    def read(self, key: str, limit: int = MAX_READ_BYTES) -> bytes | None:
        """Bytes at ``key`` (relative, '/'-separated), None if it does not exist.

        StoreError if the object is larger than ``limit`` bytes.
        """

    def read_with_meta(self, key: str) -> tuple[bytes, dict[str, Any]] | None:
        """Bytes and the blob's CAS metadata (``_meta``), None if it does not exist."""

    def list(self, prefix: str) -> list[str]:
        """Names directly under ``prefix`` (a relative directory key)."""

    def list_files(self, prefix: str, max_entries: int) -> builtins.list[FileEntry]:
        """Files directly under ``prefix`` with size and modification time, by name.

        StoreError if there are more than ``max_entries`` of them.
        """


class LocalRoot:
    def __init__(self, root: str):
        self.root = root
        self._base = Path(root)

    def _path(self, key: str) -> Path:
        path = (self._base / key).resolve()
        # Keys come from the network (artifact records): never escape the root.
        if self._base.resolve() not in path.parents and path != self._base.resolve():
            raise StoreError(f"key {key!r} escapes the datastore root {self.root}")
        return path

    def read(self, key: str, limit: int = MAX_READ_BYTES) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size > limit:
                    raise StoreError(f"{path} is larger than {limit} bytes")
                data = f.read(limit + 1)   # the file may have grown since the fstat
            if len(data) > limit:
                raise StoreError(f"{path} is larger than {limit} bytes")
            return data
        except FileNotFoundError:
            return None
        except (IsADirectoryError, PermissionError) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from None

    def read_with_meta(self, key: str) -> tuple[bytes, dict[str, Any]] | None:
        import json

        data = self.read(key)
        if data is None:
            return None
        meta_raw = self.read(key + "_meta")
        meta: dict[str, Any] = {}
        if meta_raw:
            try:
                loaded = json.loads(meta_raw)
                meta = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                meta = {}
        return data, meta

    def list(self, prefix: str) -> list[str]:
        path = self._path(prefix)
        try:
            return sorted(p.name for p in path.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def list_files(self, prefix: str, max_entries: int) -> builtins.list[FileEntry]:
        path = self._path(prefix)
        files: builtins.list[FileEntry] = []
        try:
            with os.scandir(path) as it:
                for entry in it:
                    # Only plain files: a symlink could point out of the root.
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    if len(files) >= max_entries:
                        raise StoreError(f"{path} holds more than {max_entries} files")
                    st = entry.stat(follow_symlinks=False)
                    files.append(FileEntry(entry.name, st.st_size, st.st_mtime_ns // 1_000_000))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError as exc:
            raise StoreError(f"cannot list {path}: {exc}") from None
        return sorted(files, key=lambda f: f.name)


# boto3 clients are thread-safe and costly to build: one per S3 endpoint URL, kept for the
# process. Bounded by a count, not bytes (a client's memory is boto3's): the endpoint comes only
# from the settings (FLOWSCOPE_S3_ENDPOINT_URL, or None for AWS), so a server holds one; beyond
# MAX_S3_CLIENTS (an embedding process with several settings) the least recently used is dropped
# (roots already open keep theirs). Shown at /api/-/status under caches.s3_clients.
MAX_S3_CLIENTS = 4
_clients: OrderedDict[str | None, Any] = OrderedDict()
_clients_lock = threading.Lock()
_client_counts = {"hits": 0, "misses": 0, "evictions": 0}


def _s3_client(endpoint_url: str | None) -> Any:
    with _clients_lock:
        client = _clients.get(endpoint_url)
        if client is not None:
            _clients.move_to_end(endpoint_url)
            _client_counts["hits"] += 1
            return client
        import boto3

        client = _clients[endpoint_url] = boto3.client("s3", endpoint_url=endpoint_url)
        _client_counts["misses"] += 1
        while len(_clients) > MAX_S3_CLIENTS:
            _clients.popitem(last=False)
            _client_counts["evictions"] += 1
        return client


def s3_client_stats() -> dict[str, int]:
    """The S3 client memo for /api/-/status: entries out of MAX_S3_CLIENTS, hits, misses."""
    with _clients_lock:
        return {"entries": len(_clients), "max_entries": MAX_S3_CLIENTS, **_client_counts}


class S3Root:
    def __init__(self, root: str, endpoint_url: str | None):
        self.root = root.rstrip("/")
        rest = self.root[len("s3://"):]
        self.bucket, _, self.prefix = rest.partition("/")
        if not self.bucket:
            raise StoreError(f"{root!r} has no bucket name")
        self._client = _s3_client(endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _get(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return dict(self._client.get_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StoreError(f"cannot read s3://{self.bucket}/{self._key(key)}: {code or exc}") from None
        except BotoCoreError as exc:
            raise StoreError(f"cannot read s3://{self.bucket}/{self._key(key)}: {exc}") from None

    def read(self, key: str, limit: int = MAX_READ_BYTES) -> bytes | None:
        obj = self._get(key)
        if obj is None:
            return None
        too_big = f"s3://{self.bucket}/{self._key(key)} is larger than {limit} bytes"
        if int(obj.get("ContentLength") or 0) > limit:
            obj["Body"].close()
            raise StoreError(too_big)
        body: bytes = obj["Body"].read(limit + 1)
        if len(body) > limit:
            raise StoreError(too_big)
        return body

    def read_with_meta(self, key: str) -> tuple[bytes, dict[str, Any]] | None:
        import json

        obj = self._get(key)
        if obj is None:
            return None
        body: bytes = obj["Body"].read()
        meta: dict[str, Any] = {}
        for value in (obj.get("Metadata") or {}).values():
            # Metaflow keeps the CAS _meta as one JSON object-metadata value.
            try:
                loaded = json.loads(value)
            except (TypeError, ValueError):
                continue
            if isinstance(loaded, dict):
                meta.update(loaded)
        return body, meta

    def list(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._key(prefix).rstrip("/") + "/"
        names: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full, Delimiter="/")
            for page in pages:
                names += [c["Prefix"][len(full):].rstrip("/") for c in page.get("CommonPrefixes", [])]
                names += [o["Key"][len(full):] for o in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot list s3://{self.bucket}/{full}: {exc}") from None
        return sorted(names)

    def list_files(self, prefix: str, max_entries: int) -> builtins.list[FileEntry]:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._key(prefix).rstrip("/") + "/"
        files: builtins.list[FileEntry] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full, Delimiter="/")
            for page in pages:
                for obj in page.get("Contents", []):
                    if len(files) >= max_entries:
                        raise StoreError(f"s3://{self.bucket}/{full} holds more than {max_entries} objects")
                    modified = obj.get("LastModified")
                    files.append(FileEntry(obj["Key"][len(full):], int(obj.get("Size") or 0),
                                           int(modified.timestamp() * 1000) if modified else 0))
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot list s3://{self.bucket}/{full}: {exc}") from None
        return sorted(files, key=lambda f: f.name)


def open_root(root: str, s3_endpoint_url: str | None = None) -> DatastoreRoot:
    """The datastore at ``root`` (a ds-root value: absolute path or s3://bucket/prefix)."""
    if root.startswith("s3://"):
        return S3Root(root, s3_endpoint_url)
    if "://" in root:
        raise StoreError(f"datastore {root!r}: only local directories and s3:// are supported")
    if not root.startswith("/"):
        raise StoreError(f"datastore root {root!r} is not an absolute path")
    return LocalRoot(root)
