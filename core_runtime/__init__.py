"""Flowscope's flow runtime: Metaflow's user API, recorded in Postgres.

    from core_runtime import FlowSpec, step, Parameter, current

The client API (Flow, Run, Step, Task, namespace) is imported on first use, so importing the
package never pulls in database code.
"""

from __future__ import annotations

import sys
from typing import Any

from core_runtime.compute import batch, kubernetes
from core_runtime.config import Config, ConfigError, ConfigValue
from core_runtime.config_expr import config_expr
from core_runtime.config_parsers import (
    conda_environment_yml_parser,
    pyproject_toml_parser,
    requirements_txt_parser,
    yaml_parser,
)
from core_runtime.current import current
from core_runtime.decorators import (
    CaughtException,
    card,
    catch,
    environment,
    parallel,
    plugin_step_decorator,
    resources,
    retry,
    secrets,
    step,
    timeout,
)
from core_runtime.deploy_decorators import schedule, trigger, trigger_on_finish
from core_runtime.environments.decorators import conda, conda_base, pypi, pypi_base
from core_runtime.exit_hooks import exit_hook
from core_runtime.flow_decorators import project
from core_runtime.flowspec import FlowSpec, MergeArtifactsError
from core_runtime.includefile import IncludeFile
from core_runtime.multicore import parallel_imap_unordered, parallel_map
from core_runtime.parameters import JSONType, JSONTypeClass, Parameter
from core_runtime.plugins.frameworks.pytorch import PytorchParallelDecorator
from core_runtime.profiling import profile
from core_runtime.user_decorators import (
    USER_SKIP_STEP,
    FlowMutator,
    StepMutator,
    UserStepDecorator,
    user_step_decorator,
)

pytorch_parallel = plugin_step_decorator(PytorchParallelDecorator)

__all__ = [
    "S3", "USER_SKIP_STEP", "CaughtException", "Config", "ConfigValue", "DataArtifact", "Flow",
    "FlowMutator", "FlowSpec", "IncludeFile", "JSONType", "JSONTypeClass", "MergeArtifactsError",
    "Metaflow", "NBRunner", "Parameter", "Run", "Runner", "Step", "StepMutator", "Task", "UserStepDecorator",
    "batch", "card", "catch", "conda", "conda_base", "conda_environment_yml_parser", "config_expr",
    "current", "default_metadata", "default_namespace", "environment", "exit_hook", "get_metadata",
    "get_namespace", "inspect_spin", "kubernetes", "metadata", "namespace", "parallel",
    "parallel_imap_unordered", "parallel_map", "profile", "project", "pypi", "pypi_base",
    "pyproject_toml_parser", "pytorch_parallel", "requirements_txt_parser", "resources", "retry",
    "schedule", "secrets", "step", "timeout", "trigger", "trigger_on_finish", "user_step_decorator",
    "yaml_parser",
]

_CLIENT_NAMES = ("Flow", "Run", "Step", "Task", "DataArtifact", "Metaflow", "namespace",
                 "get_namespace", "default_namespace", "inspect_spin", "metadata", "get_metadata",
                 "default_metadata")


def __getattr__(name: str) -> Any:
    # The client (and its database driver) is imported on first use only.
    if name in _CLIENT_NAMES:
        from core_runtime import client

        return getattr(client, name)
    if name == "Runner":
        from core_runtime.runner import Runner

        return Runner
    if name == "S3":
        from core_runtime.datatools import S3

        return S3
    if name == "NBRunner":
        from core_runtime.runner.nbrun import NBRunner

        return NBRunner
    if name == "cards":
        import core_runtime.cards as cards_module

        return cards_module
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


def _load_extensions() -> None:
    # Metaflow extension packages (metaflow_extensions.*), loaded on import as Metaflow does.
    from core_runtime.extensions import load_all

    load_all(globals())


_load_extensions()
