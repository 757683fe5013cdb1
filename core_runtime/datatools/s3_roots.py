"""Where ``S3(run=self)`` keeps a run's objects and which S3 endpoint it talks to.

As in Metaflow, the datatools root is its own setting (Flowscope's FLOWSCOPE_DATATOOLS_S3ROOT, or the
METAFLOW_DATATOOLS_S3ROOT a Metaflow deployment already sets), by default ``data`` under the datastore
when the datastore is on S3; a local datastore has no default, so ``S3(run=self)`` then says what to set.
"""

from __future__ import annotations

import os

from contract.settings import load_settings


def datatools_root() -> str | None:
    settings = load_settings()
    if settings.datatools_s3root:
        return settings.datatools_s3root
    if os.environ.get("METAFLOW_DATATOOLS_S3ROOT"):
        return os.environ["METAFLOW_DATATOOLS_S3ROOT"]
    if settings.datastore and settings.datastore.startswith("s3://"):
        return settings.datastore.rstrip("/") + "/data"
    return None


def endpoint_url() -> str | None:
    """FLOWSCOPE_S3_ENDPOINT_URL (MinIO, moto), else Metaflow's METAFLOW_S3_ENDPOINT_URL."""
    return load_settings().s3_endpoint_url or os.environ.get("METAFLOW_S3_ENDPOINT_URL") or None
