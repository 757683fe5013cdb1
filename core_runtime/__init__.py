"""Flowscope's flow runtime: Metaflow's user API, recorded in Postgres.

    from core_runtime import FlowSpec, step, Parameter, current

The client API (Flow, Run, Step, Task, namespace) is imported on first use, so importing the
package never pulls in database code.
"""

from __future__ import annotations

import sys
from typing import Any

from core_runtime.config import Config, ConfigError
from core_runtime.current import current
from core_runtime.decorators import CaughtException, card, catch, resources, retry, step, timeout
from core_runtime.environments.decorators import conda, conda_base, pypi, pypi_base
from core_runtime.flowspec import FlowSpec, MergeArtifactsError
from core_runtime.parameters import JSONType, Parameter

__all__ = [
    "CaughtException",
    "Config",
    "Flow",
    "FlowSpec",
    "JSONType",
    "MergeArtifactsError",
    "Parameter",
    "Run",
    "Runner",
    "Step",
    "Task",
    "card",
    "catch",
    "conda",
    "conda_base",
    "current",
    "default_namespace",
    "get_namespace",
    "inspect_spin",
    "namespace",
    "pypi",
    "pypi_base",
    "resources",
    "retry",
    "step",
    "timeout",
]

_CLIENT_NAMES = ("Flow", "Run", "Step", "Task", "DataArtifact", "Metaflow", "namespace",
                 "get_namespace", "default_namespace", "inspect_spin")


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        from core_runtime import client

        return getattr(client, name)
    if name == "Runner":
        from core_runtime.runner import Runner

        return Runner
    raise AttributeError(f"module 'core_runtime' has no attribute {name!r}")


def _one_line_errors(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    # A bad config file or decorator argument fails while the flow class body runs, before
    # the command line gets control; report it as one line like the CLI does.
    from core_runtime.decorators import DecoratorError

    if issubclass(exc_type, (ConfigError, DecoratorError)):
        sys.stderr.write(f"error: {exc}\n")
        return
    _previous_hook(exc_type, exc, tb)


_previous_hook = sys.excepthook
sys.excepthook = _one_line_errors
