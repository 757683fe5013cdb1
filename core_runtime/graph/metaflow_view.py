"""The flow's DAG the way Metaflow's ``flow._graph`` shows it, for code that inspects it.

``flow._graph["train"].type`` uses Metaflow's node types (``start``, ``linear``, ``split``,
``foreach``, ``join``, ``end``, ``split-switch``); nodes also have ``in_funcs``, ``out_funcs``,
``matching_join``, ``split_parents``, ``foreach_param``, ``parallel_step``, ``parallel_foreach``,
``num_parallel``, ``is_inside_foreach``, ``decorators``, ``doc``, ``func_lineno``. Iterating
gives the nodes in step-name order, as Metaflow's does.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import Any

from core_runtime.graph.model import FlowGraph, StepNode

_TYPES = {"split-static": "split", "split-foreach": "foreach", "split-parallel": "foreach"}


def _is_parallel_plugin(name: object) -> bool:
    """A decorator class marked IS_PARALLEL (``@pytorch_parallel``) makes a @parallel step too."""
    from core_runtime.decorators import PLUGIN_STEP_DECORATORS

    cls = PLUGIN_STEP_DECORATORS.get(str(name))
    return bool(cls is not None and getattr(cls, "IS_PARALLEL", False))


class DAGNode:
    def __init__(self, graph: FlowGraph, node: StepNode) -> None:
        self.name = node.name
        kind = _TYPES.get(node.type, node.type)
        if node.name == graph.start_step and kind == "linear":
            kind = "start"
        self.type = kind
        self.out_funcs = list(node.next)
        self.in_funcs = set(node.in_funcs)
        self.matching_join = node.matching_join
        self.foreach_param = node.foreach_artifact
        self.num_parallel = int(getattr(node, "num_parallel", 0) or 0)
        self.parallel_foreach = node.type == "split-parallel"
        names = [d.get("name") for d in node.decorators]
        self.parallel_step = any(n == "parallel" or _is_parallel_plugin(n) for n in names)
        self.decorators = list(node.decorators)
        self.doc = node.doc
        self.func_lineno = node.line
        self.source_file = node.source_file
        self.num_args = node.num_args
        self.condition = getattr(node, "condition", None)
        self.switch_cases = dict(getattr(node, "switch_cases", None) or {})
        self.split_parents: list[str] = []
        self.is_inside_foreach = False

    def __repr__(self) -> str:
        return f"<DAGNode {self.name} {self.type} -> {', '.join(self.out_funcs) or '(end)'}>"


class MetaflowGraph:
    def __init__(self, graph: FlowGraph) -> None:
        self.name = graph.flow_name
        self.doc = graph.doc
        self.start_step = graph.start_step
        self.end_step = graph.end_step
        self.nodes = {name: DAGNode(graph, graph.steps[name]) for name in sorted(graph.steps)}
        self.sorted_nodes = _order(graph)
        self._split_parents(graph)

    def _split_parents(self, graph: FlowGraph) -> None:
        def walk(name: str, parents: list[str], seen: set[str]) -> None:
            if name in seen or name not in self.nodes:
                return
            seen.add(name)
            node = self.nodes[name]
            if node.type == "join" and parents:
                parents = parents[:-1]
            node.split_parents = list(parents)
            if node.type in ("split", "foreach"):
                parents = parents + [name]
            for child in node.out_funcs:
                walk(child, parents, seen)

        walk(graph.start_step, [], set())
        for node in self.nodes.values():
            node.is_inside_foreach = any(
                self.nodes[p].type == "foreach" and self.nodes[p].matching_join != node.name
                for p in node.split_parents)

    def __getitem__(self, name: str) -> DAGNode:
        return self.nodes[name]

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __iter__(self) -> Iterator[DAGNode]:
        return iter(self.nodes.values())


def _order(graph: FlowGraph) -> list[str]:
    try:
        order = graph.topological()
    except Exception:  # noqa: BLE001 - a graph with a loop still gets an order
        order = []
    return order + [n for n in graph.steps if n not in order]


_CACHE: dict[type, MetaflowGraph] = {}


def graph_of(flow_cls: type) -> Any:
    """The MetaflowGraph of a flow class, parsed from its file once."""
    if flow_cls not in _CACHE:
        module = sys.modules.get(flow_cls.__module__)
        path = getattr(module, "__file__", None)
        if not path:
            try:
                path = inspect.getsourcefile(flow_cls)
            except TypeError:
                path = None
        if not path:
            raise RuntimeError(f"cannot find the file that defines {flow_cls.__name__}")
        _CACHE[flow_cls] = MetaflowGraph(FlowGraph.from_file(path, flow_cls.__name__))
    return _CACHE[flow_cls]
