"""Reading Metaflow's own datastore (local directory or S3): blobs, data.json, MFLOG logs.

Used by the ingest app (DAG, parameters, artifact types) and by the UI API for runs with
source='metaflow'. Nothing here executes user code: plain values are decoded with the safe
decoder (backend/sandbox/safe_pickle.py); the UI renders anything else in the artifact sandbox.
"""

from backend.metaflow_store.blobs import blob_key, read_blob, read_blob_at, read_data_json
from backend.metaflow_store.logs import LogLine, latest_attempt, read_log
from backend.metaflow_store.mflog import parse_mflog
from backend.metaflow_store.roots import DatastoreRoot, StoreError, open_root
from backend.sandbox.safe_pickle import RestrictedValueError, restricted_loads

__all__ = [
    "DatastoreRoot", "LogLine", "RestrictedValueError", "StoreError",
    "blob_key", "latest_attempt", "open_root", "parse_mflog", "read_blob", "read_blob_at",
    "read_data_json", "read_log", "restricted_loads",
]
