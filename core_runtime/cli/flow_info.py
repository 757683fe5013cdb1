"""What the commands need to know about the flow: its file, source, graph, parameters, configs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from types import FunctionType, MethodType
from typing import Any

from core_runtime.config import Config, flow_configs
from core_runtime.parameters import Parameter, flow_parameters


@dataclass
class FlowInfo:
    flow_cls: type
    file: str
    source: str
    graph: Any
    parameters: list[Parameter]
    configs: list[Config]
    constants: dict[str, Any] = field(default_factory=dict)


# Public names of FlowSpec that are not the user's constants.
_NOT_CONSTANTS = frozenset({"cmd", "foreach_stack", "index", "input", "script_name", "name"})


def flow_constants(flow_cls: type) -> dict[str, Any]:
    """Class-level values of the flow (``batch_size = 64``): artifacts of every task, read-only
    in steps, as in Metaflow. Methods, properties, classes, Parameters and Configs are not."""
    out: dict[str, Any] = {}
    for name in dir(flow_cls):
        if name.startswith("_") or name in _NOT_CONSTANTS:
            continue
        value = getattr(flow_cls, name, None)
        if isinstance(value, (MethodType, FunctionType, property, type, Parameter, Config)) \
                or getattr(value, "_fs_is_step", False) or (callable(value) and hasattr(value, "is_step")):
            continue
        out[name] = value
    return out


def flow_file(flow_cls: type) -> str:
    module = sys.modules.get(flow_cls.__module__)
    path = getattr(module, "__file__", None)
    if not path:
        from core_runtime.cli.main import CliError

        raise CliError(f"cannot find the file that defines {flow_cls.__name__}")
    return str(os.path.abspath(path))


def load_flow_info(flow_cls: type, *, lint_graph: bool = True) -> FlowInfo:
    from core_runtime.graph import FlowGraph, lint

    path = flow_file(flow_cls)
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    graph = FlowGraph.from_file(path, flow_cls.__name__)
    if lint_graph:
        lint(graph)
    configs = flow_configs(flow_cls)
    for c in configs:
        c.value  # noqa: B018 - load now so a bad config file is reported before anything runs
    return FlowInfo(flow_cls, path, source, graph, flow_parameters(flow_cls), configs,
                    flow_constants(flow_cls))
