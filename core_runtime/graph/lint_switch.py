"""Graph checks of switches and recursive steps (Metaflow 2.19's conditional transitions).

Each raises a GraphError at the line of the problem: the case, the assignment of the condition
artifact, or the ``self.next`` call. Metaflow's own lint rejects the same flows (a switch with one
transition, a switch going straight to a join); the value checks catch at ``check`` time what
Metaflow reports only when the task runs.
"""

from __future__ import annotations

from core_runtime.graph.errors import GraphError
from core_runtime.graph.model import FlowGraph, StepNode
from core_runtime.graph.switch import SwitchInfo


def _switches(graph: FlowGraph) -> list[tuple[StepNode, SwitchInfo]]:
    return [(n, n.switch) for n in graph.steps.values() if n.is_switch and n.switch is not None]


def check_recursion_has_exit(graph: FlowGraph) -> None:
    for node, _info in _switches(graph):
        if node.next and all(target == node.name for target in node.next):
            raise GraphError(graph.file, node.next_line,
                             f"recursive step '{node.name}' has no exit: every case of its switch "
                             f"loops back to '{node.name}'; add a case that leads on, e.g. "
                             f"'done': self.end")


def check_switch_has_cases(graph: FlowGraph) -> None:
    for node, _info in _switches(graph):
        if len(node.next) < 2:
            raise GraphError(graph.file, node.next_line,
                             f"switch step '{node.name}' has only one case; a switch needs at least "
                             f"two (for a single next step use self.next(self.{node.next[0]}))")


def check_condition_values(graph: FlowGraph) -> None:
    """A literal the step assigns to the condition artifact must be a case; a loop must be able to stop."""
    for node, info in _switches(graph):
        possible = info.possible
        if possible is None or info.has_config_keys:
            continue
        for value, line in possible.literals:
            if info.case_for(value) is None:
                raise GraphError(graph.file, line,
                                 f"step '{node.name}' sets self.{info.condition} = {value!r}, which no "
                                 f"case of its switch matches (cases: {info.labels()}); the task "
                                 f"would fail at self.next")
        if node.is_recursive and possible.literals and not possible.unknown and not possible.inherited:
            chosen = [info.case_for(v) for v, _line in possible.literals]
            targets = {case.target for case in chosen if case is not None}
            if targets == {node.name}:
                values = ", ".join(sorted({repr(v) for v, _line in possible.literals}))
                raise GraphError(graph.file, node.next_line,
                                 f"recursive step '{node.name}' never exits: self.{info.condition} is "
                                 f"always {values}, whose case loops back to '{node.name}'")


def check_switch_not_into_join(graph: FlowGraph) -> None:
    # A join counts one input per branch of its split; it cannot tell which switch case ran if a
    # case lands on it directly (Metaflow's lint has the same rule).
    for node, info in _switches(graph):
        for case in info.cases:
            target = graph.steps.get(case.target or "")
            if target is not None and target.takes_inputs and target.name != node.name:
                raise GraphError(graph.file, case.line,
                                 f"switch step '{node.name}' goes straight to join '{target.name}' "
                                 f"(case {case.label!r}): put a step between the switch and the join")


def check_no_catch_on_switch(graph: FlowGraph) -> None:
    # After a caught failure the condition artifact may never have been set, so there is no case
    # to continue with; Metaflow refuses @catch on a switch step for the same reason.
    for node, _info in _switches(graph):
        if any(d.get("name") == "catch" for d in node.decorators):
            raise GraphError(graph.file, node.line,
                             f"@catch is not supported on switch step '{node.name}': a caught failure "
                             f"leaves no case to continue with; handle the error inside the step instead")
