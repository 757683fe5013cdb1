"""The Client API: read recorded runs like Metaflow's client (``Flow('X').latest_run.data.x``).

Reads Postgres with the SELECT-only role and artifacts/logs from the datastore. Objects are
snapshots: a Run fetched while running keeps the status it had; fetch it again to refresh.
"""

from core_runtime.client.context import configure, default_metadata, get_metadata, metadata
from core_runtime.client.errors import (
    FlowscopeClientError,
    FlowscopeKeyNotFound,
    FlowscopeNamespaceMismatch,
    FlowscopeNotFound,
    FlowscopeTaggingError,
)
from core_runtime.client.flow import Flow, Metaflow
from core_runtime.client.namespace import default_namespace, get_namespace, namespace
from core_runtime.client.run import Run
from core_runtime.client.spin_source import inspect_spin
from core_runtime.client.step import Step
from core_runtime.client.task import DataArtifact, Task, TaskData, TaskException

__all__ = [
    "DataArtifact", "Flow", "FlowscopeClientError", "FlowscopeKeyNotFound", "FlowscopeNamespaceMismatch",
    "FlowscopeNotFound",
    "FlowscopeTaggingError", "Metaflow", "Run", "Step", "Task", "TaskData", "TaskException", "configure",
    "default_metadata", "default_namespace", "get_metadata", "get_namespace", "inspect_spin", "metadata",
    "namespace",
]
