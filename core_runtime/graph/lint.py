"""Graph checks (``python flow.py check``). Each check is a small function raising the first problem
it finds as a GraphError pointing at the offending step's line (or the flow class line)."""

from __future__ import annotations

import keyword
from collections.abc import Callable

from core_runtime.graph.errors import GraphError
from core_runtime.graph.lint_switch import (
    check_condition_values,
    check_no_catch_on_switch,
    check_recursion_has_exit,
    check_switch_has_cases,
    check_switch_not_into_join,
)
from core_runtime.graph.model import FlowGraph

# Attribute names a step cannot take: they are FlowSpec members used by the runtime.
RESERVED_STEP_NAMES = frozenset({
    "next", "input", "index", "foreach_stack", "merge_artifacts", "name", "script_name",
    "cmd", "run", "resume", "show", "check", "spin",
})


def _fail(graph: FlowGraph, line: int, message: str) -> None:
    raise GraphError(graph.file, line, message)


def check_duplicate_steps(graph: FlowGraph) -> None:
    for name, line in graph.duplicate_steps:
        _fail(graph, line, f"step '{name}' is defined twice in the flow")


def check_step_names(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        if node.name in RESERVED_STEP_NAMES or node.name.startswith("_") or keyword.iskeyword(node.name):
            _fail(graph, node.line, f"step name '{node.name}' is reserved; rename the step")


def check_start_exists(graph: FlowGraph) -> None:
    if graph.start_step not in graph.steps:
        _fail(graph, graph.class_line, f"flow {graph.flow_name} has no 'start' step "
                                       f"(every flow begins with @step def start(self))")


def check_end_exists(graph: FlowGraph) -> None:
    if graph.end_step not in graph.steps:
        _fail(graph, graph.class_line, f"flow {graph.flow_name} has no 'end' step "
                                       f"(every flow finishes with @step def end(self))")


def check_start_signature(graph: FlowGraph) -> None:
    node = graph.steps[graph.start_step]
    if node.num_args != 1:
        _fail(graph, node.line, f"the start step takes no arguments besides self "
                                f"(def start(self)), got {node.num_args - 1}")


def check_next_calls(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        for line, message in node.next_issues:
            _fail(graph, line, message)


def check_end_has_no_next(graph: FlowGraph) -> None:
    node = graph.steps[graph.end_step]
    if node.has_next:
        _fail(graph, node.line, "the end step must not call self.next(...): it finishes the flow")


def check_steps_have_next(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        if node.name != graph.end_step and not node.has_next:
            _fail(graph, node.line, f"step '{node.name}' does not end with self.next(...); every step "
                                    f"but end must name the next step")


def check_next_targets_exist(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        if node.switch is not None:
            for case in node.switch.cases:
                if case.target is not None and case.target not in graph.steps:
                    _fail(graph, case.line, f"step '{node.name}': switch case {case.label!r} names "
                                            f"self.{case.target}, but no step '{case.target}' exists")
        for target in node.next:
            if target not in graph.steps:
                _fail(graph, node.line, f"step '{node.name}' calls self.next(self.{target}) "
                                        f"but no step '{target}' exists")


def check_acyclic(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        if node.name in node.next and not node.is_switch:
            _fail(graph, node.line, f"step '{node.name}' calls self.next on itself: flows must be acyclic; "
                                    f"a step loops only through a switch: self.next({{'again': "
                                    f"self.{node.name}, 'done': self.end}}, condition='status')")
    graph.topological()


def check_reachable(graph: FlowGraph) -> None:
    reachable = graph.reachable()
    for node in graph.steps.values():
        if node.name not in reachable:
            _fail(graph, node.line, f"step '{node.name}' is unreachable: no path from "
                                    f"'{graph.start_step}' leads to it")


def check_join_arity(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        if node.num_args > 2:
            _fail(graph, node.line, f"step '{node.name}' takes {node.num_args - 1} arguments; a join "
                                    f"takes exactly one: def {node.name}(self, inputs)")


def check_joins_do_not_split(graph: FlowGraph) -> None:
    # Metaflow types a step by how it ends, so a join that also splits (or ends the flow) has no
    # well-defined type; keeping them apart makes "type == 'join'" mean "takes inputs".
    for node in graph.steps.values():
        if not node.takes_inputs:
            continue
        if node.name == graph.end_step:
            _fail(graph, node.line, f"the end step cannot be a join: add a join step before '{node.name}'")
        if len(node.next) > 1 or node.foreach_artifact is not None or node.num_parallel or node.is_switch:
            _fail(graph, node.line, f"join step '{node.name}' cannot also split: add a step after the "
                                    f"join that calls self.next(...) with the branches")


def check_merge_points_are_joins(graph: FlowGraph) -> None:
    # Cases of a switch may meet again in an ordinary step (only one of them ran); branches of a
    # split, which all run, meet only in a join. They differ in the split stack they arrive with.
    for node in graph.steps.values():
        if len(node.in_funcs) > 1 and not node.takes_inputs and len(graph.arrivals.get(node.name, ())) > 1:
            _fail(graph, node.line, f"step '{node.name}' is where {', '.join(node.in_funcs)} meet, so it "
                                    f"must be a join taking inputs: def {node.name}(self, inputs)")


def check_foreach_has_body(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        if node.type in ("split-foreach", "split-parallel") and node.next and node.next[0] in graph.steps \
                and graph.steps[node.next[0]].takes_inputs:
            _fail(graph, node.line, f"foreach step '{node.name}' goes straight to join "
                                    f"'{node.next[0]}': put at least one step between them")


def check_split_join_balance(graph: FlowGraph) -> None:
    for _step, line, message in graph.structure_issues:
        _fail(graph, line, message)


CHECKS: list[Callable[[FlowGraph], None]] = [
    check_duplicate_steps, check_step_names, check_start_exists, check_end_exists,
    check_start_signature, check_next_calls, check_end_has_no_next, check_steps_have_next,
    check_next_targets_exist, check_recursion_has_exit, check_switch_has_cases, check_condition_values,
    check_acyclic, check_reachable, check_join_arity, check_joins_do_not_split,
    check_switch_not_into_join, check_merge_points_are_joins, check_foreach_has_body,
    check_split_join_balance, check_no_catch_on_switch,
]


def lint(graph: FlowGraph) -> None:
    """Raise GraphError for the first problem, in the order of CHECKS (most basic first)."""
    for check in CHECKS:
        check(graph)
