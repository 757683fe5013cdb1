"""The flow's DAG as plain data: steps, edges and Metaflow's ``_graph_info`` shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core_runtime.graph.errors import GraphError
from core_runtime.graph.switch import SwitchInfo


@dataclass
class StepNode:
    name: str
    type: str                      # start | linear | split-static | split-foreach | split-parallel | split-switch | join | end
    next: list[str]
    in_funcs: list[str]
    line: int
    doc: str
    decorators: list[dict[str, Any]]
    foreach_artifact: str | None = None
    num_parallel: int = 0          # self.next(self.x, num_parallel=N): a @parallel gang of N tasks
    matching_join: str | None = None
    num_args: int = 1
    source_file: str = ""
    # Problems found while reading the step's self.next call; lint() reports the first one, so that
    # building the graph never fails on them and `show` can still print a half-written flow.
    next_issues: list[tuple[int, str]] = field(default_factory=list)
    has_next: bool = False
    next_line: int = 0             # line of the self.next call (0: none)
    # A switch: self.next({"case": self.step, ...}, condition="artifact"). ``switch_cases`` maps
    # each case, as text, to its step; ``next`` lists the steps in case order (duplicates kept, as
    # Metaflow does).
    condition: str | None = None
    switch_cases: dict[str, str] = field(default_factory=dict)
    switch: SwitchInfo | None = None    # what parse read from the source, for lint

    @property
    def takes_inputs(self) -> bool:
        return self.num_args > 1

    @property
    def is_switch(self) -> bool:
        return self.condition is not None

    @property
    def is_recursive(self) -> bool:
        """A step that loops: a switch with a case naming the step itself (Metaflow 2.19)."""
        return self.is_switch and self.name in self.next

    def out_steps(self) -> list[str]:
        """Where the step leads, without its own loop edge and without repeats."""
        return [n for i, n in enumerate(self.next) if n != self.name and n not in self.next[:i]]

    def to_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "line": self.line,
            "source_file": self.source_file,
            "doc": self.doc,
            "decorators": [dict(d) for d in self.decorators],
            "next": list(self.next),
            "node_info": {},
        }
        if self.type == "split-foreach":
            info["foreach_artifact"] = self.foreach_artifact
        elif self.type == "split-parallel":
            info["num_parallel"] = self.num_parallel
        elif self.type == "split-switch":
            info["condition"] = self.condition
            info["switch_cases"] = dict(self.switch_cases)
        if self.matching_join:
            info["matching_join"] = self.matching_join
        return info


@dataclass
class FlowGraph:
    flow_name: str
    file: str                      # the path given to from_file
    doc: str
    steps: dict[str, StepNode]     # in source order
    start_step: str
    end_step: str
    parameters: list[dict[str, Any]]   # {"name", "type", "line", "param_name", "attributes"}
    constants: list[dict[str, Any]] = field(default_factory=list)
    class_line: int = 1
    decorators: list[dict[str, Any]] = field(default_factory=list)   # flow-level (@project, ...)
    graph_structure: list[Any] = field(default_factory=list)
    duplicate_steps: list[tuple[str, int]] = field(default_factory=list)
    # (step, line, message) found while walking splits and joins; lint() reports them.
    structure_issues: list[tuple[str, int, str]] = field(default_factory=list)
    # step -> every stack of (split, branch) frames a walk from start reaches it with (lint).
    arrivals: dict[str, set[tuple[tuple[str, str], ...]]] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str, flow_name: str | None = None) -> FlowGraph:
        # Imported here: parse builds FlowGraph objects, so it imports this module.
        from core_runtime.graph.parse import parse_flow_file

        return parse_flow_file(path, flow_name)

    def to_graph_info(self) -> dict[str, Any]:
        """Metaflow's ``_graph_info`` dict (plain JSON types)."""
        import os

        return {
            "file": os.path.basename(self.file),
            "start_step": self.start_step,
            "end_step": self.end_step,
            "parameters": [{"name": p["name"], "type": p["type"]} for p in self.parameters],
            "constants": [dict(c) for c in self.constants],
            "steps": {name: node.to_info() for name, node in self.steps.items()},
            "graph_structure": self.graph_structure,
            "doc": self.doc,
            "decorators": [dict(d) for d in self.decorators],
            "extensions": {"installed": {}},
        }

    def parents(self, step: str) -> list[str]:
        return list(self.steps[step].in_funcs)

    def split_of(self, join: str) -> StepNode | None:
        """The split a join closes (the step whose matching_join it is)."""
        for node in self.steps.values():
            if node.matching_join == join:
                return node
        return None

    def topological(self) -> list[str]:
        """Steps reachable from start, each after all its parents; ties in source order."""
        reachable = self.reachable()
        indegree = {n: len([p for p in self.steps[n].in_funcs if p in reachable]) for n in reachable}
        order: list[str] = []
        ready = [n for n in self.steps if n in reachable and indegree[n] == 0]
        while ready:
            name = ready.pop(0)
            order.append(name)
            for child in self.steps[name].next:
                if child not in indegree or child == name:    # a recursive step's own loop
                    continue
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(reachable):
            stuck = next(n for n in self.steps if n in reachable and n not in order)
            raise GraphError(self.file, self.steps[stuck].line,
                             f"step '{stuck}' is part of a cycle: flows must be acyclic (a step may "
                             f"loop only back to itself, through a switch: "
                             f"self.next({{'again': self.{stuck}, 'done': self.end}}, condition='...'))")
        return order

    def reachable(self) -> set[str]:
        seen: set[str] = set()
        todo = [self.start_step] if self.start_step in self.steps else []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(n for n in self.steps[name].next if n in self.steps)
        return seen
