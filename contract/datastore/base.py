"""What every datastore backend provides, and the one error they all raise."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class DatastoreError(RuntimeError):
    """A datastore operation failed; the message names the key, the datastore root and why."""


@runtime_checkable
class Datastore(Protocol):
    """Bytes under relative ``/``-separated keys (see docs/schema.md "Datastore layout")."""

    root: str  # "/abs/dir" or "s3://bucket/prefix"

    def put(self, key: str, data: bytes) -> None: ...

    def put_if_absent(self, key: str, data: bytes) -> bool: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> list[str]: ...


def check_key(root: str, key: str) -> str:
    """Reject keys that could escape the root or name nothing, before touching storage."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise DatastoreError(f"datastore {root}: invalid key {key!r} (must be a relative path "
                             "without empty, '.' or '..' components)")
    return key
