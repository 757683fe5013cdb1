"""The flow's DAG, built from the flow file's AST without running user code.

The step ``type`` says how a step *ends* (Metaflow's ``_graph_info`` convention); whether a step is
a join is ``node.takes_inputs`` (``def j(self, inputs)``) — a join that fans out again is typed
``split-static``.
"""

from core_runtime.graph.decorators import DECORATOR_DEFAULTS
from core_runtime.graph.errors import GraphError
from core_runtime.graph.lint import CHECKS, lint
from core_runtime.graph.model import FlowGraph, StepNode
from core_runtime.graph.show import render_show

__all__ = ["CHECKS", "DECORATOR_DEFAULTS", "FlowGraph", "GraphError", "StepNode", "lint", "render_show"]
