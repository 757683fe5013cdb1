"""``metaflow.metaflow_current`` by its path: ``current``."""

from core_runtime.current import Current as Current
from core_runtime.current import Parallel as Parallel
from core_runtime.current import current as current
