"""Where artifacts, log chunks and cards live: a local directory or S3.

``open_datastore(settings)`` picks the backend from FLOWSCOPE_DATASTORE; both implement the
``Datastore`` protocol and raise only ``DatastoreError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract.datastore.base import Datastore, DatastoreError
from contract.datastore.keys import blob_key, card_key, card_version_key, log_chunk_key, task_prefix
from contract.datastore.local import LocalDatastore
from contract.settings import Settings

if TYPE_CHECKING:
    from contract.datastore.s3 import S3Datastore


def __getattr__(name: str) -> Any:
    # S3 (boto3) is imported only when used: a task in a @pypi environment without boto3 still
    # opens a local datastore.
    if name == "S3Datastore":
        from contract.datastore.s3 import S3Datastore

        return S3Datastore
    raise AttributeError(f"module 'contract.datastore' has no attribute {name!r}")

__all__ = [
    "Datastore",
    "DatastoreError",
    "LocalDatastore",
    "S3Datastore",
    "blob_key",
    "card_key",
    "card_version_key",
    "datastore_root",
    "log_chunk_key",
    "open_datastore",
    "task_prefix",
]


def datastore_root(settings: Settings) -> str:
    """The configured root: FLOWSCOPE_DATASTORE, or FLOWSCOPE_HOME/datastore."""
    return settings.datastore or str(Path(settings.home) / "datastore")


def open_datastore(settings: Settings) -> Datastore:
    root = datastore_root(settings)
    if root.startswith("s3://"):
        from contract.datastore.s3 import S3Datastore

        return S3Datastore(root, endpoint_url=settings.s3_endpoint_url)
    if "://" in root:
        raise DatastoreError(f"FLOWSCOPE_DATASTORE={root!r}: unsupported scheme "
                             "(use a local directory or s3://bucket/prefix)")
    return LocalDatastore(root)
