"""Step decorators as the graph records them: name plus attributes, defaults filled in like Metaflow.

Metaflow's ``_graph_info`` lists every attribute of a built-in decorator, given or not
(``@catch(var='e')`` shows ``print_exception: true``), so readers never need to know defaults.
"""

from __future__ import annotations

import ast
from typing import Any

# Defaults of the decorators core_runtime provides, mirroring Metaflow's.
DECORATOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "retry": {"times": 3, "minutes_between_retries": 2},
    "catch": {"var": None, "print_exception": True},
    "timeout": {"seconds": 0, "minutes": 0, "hours": 0},
    "resources": {"cpu": 1, "gpu": None, "disk": None, "memory": 4096, "shared_memory": None},
    # The remote-compute decorators: their resource arguments (the rest are recorded as given).
    "kubernetes": {"cpu": 1, "memory": 4096, "disk": 10240, "gpu": None},
    "batch": {"cpu": None, "gpu": None, "memory": None},
    "card": {"type": "default", "options": {}, "scope": "task", "timeout": 45, "id": None,
             "save_errors": True, "customize": False, "refresh_interval": 5},
}


def literal_or_source(node: ast.expr) -> Any:
    """The value of a literal expression, else its source text (``config.retries``)."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.unparse(node)


def decorator_name(node: ast.expr) -> str | None:
    """``retry`` for ``@retry``, ``@retry(...)``, ``@core_runtime.retry(...)``."""
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def describe_decorator(node: ast.expr) -> dict[str, Any] | None:
    name = decorator_name(node)
    if name is None:
        return None
    attributes: dict[str, Any] = dict(DECORATOR_DEFAULTS.get(name, {}))
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg is not None:
                attributes[kw.arg] = literal_or_source(kw.value)
    return {"name": name, "attributes": attributes, "statically_defined": True, "inserted_by": None}
