"""Where artifacts, log chunks and cards live: a local directory or S3.

``open_datastore(settings)`` picks the backend from FLOWSCOPE_DATASTORE; both implement the
``Datastore`` protocol and raise only ``DatastoreError``.
"""

from __future__ import annotations

from pathlib import Path

from contract.datastore.base import Datastore, DatastoreError
from contract.datastore.keys import blob_key, card_key, log_chunk_key, task_prefix
from contract.datastore.local import LocalDatastore
from contract.datastore.s3 import S3Datastore
from contract.settings import Settings

__all__ = [
    "Datastore",
    "DatastoreError",
    "LocalDatastore",
    "S3Datastore",
    "blob_key",
    "card_key",
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
        return S3Datastore(root, endpoint_url=settings.s3_endpoint_url)
    if "://" in root:
        raise DatastoreError(f"FLOWSCOPE_DATASTORE={root!r}: unsupported scheme "
                             "(use a local directory or s3://bucket/prefix)")
    return LocalDatastore(root)
