"""Edges, step types, split/join matching and Metaflow's nested ``graph_structure``.

Best effort by design: problems are collected in ``graph.structure_issues`` (reported by lint)
instead of raised, so ``show`` can still draw a flow that is half written.
"""

from __future__ import annotations

from typing import Any

from core_runtime.graph.model import FlowGraph, StepNode


def analyze(graph: FlowGraph) -> None:
    _link_parents(graph)
    for node in graph.steps.values():
        node.type = _step_type(graph, node)
    _match_joins(graph)
    graph.graph_structure = _structure(graph)


def _link_parents(graph: FlowGraph) -> None:
    for node in graph.steps.values():
        node.in_funcs = []
    for node in graph.steps.values():
        for child in node.out_steps():      # a recursive step is not its own parent
            if child in graph.steps and node.name not in graph.steps[child].in_funcs:
                graph.steps[child].in_funcs.append(node.name)


def _step_type(graph: FlowGraph, node: StepNode) -> str:
    """How the step ends, as in Metaflow: a join that fans out again is typed by its split."""
    if node.name == graph.end_step:
        return "end"
    if node.is_switch:
        return "split-switch"
    if len(node.next) > 1:
        return "split-static"
    if node.foreach_artifact is not None:
        return "split-foreach"
    if node.num_parallel:
        return "split-parallel"
    if node.takes_inputs:
        return "join"
    return "start" if node.name == graph.start_step else "linear"


def is_split(node: StepNode) -> bool:
    return node.type in ("split-static", "split-foreach", "split-parallel")


Frame = tuple[str, str]     # (split step, the branch it took): where a walk is inside a split


def _splits(stack: tuple[Frame, ...]) -> tuple[str, ...]:
    return tuple(split for split, _branch in stack)


def _match_joins(graph: FlowGraph) -> None:
    """Walk from start keeping a stack of open splits; a step taking inputs closes the innermost one.

    The cases of a switch are alternatives, not branches: they open no split, and a step where
    they meet again is an ordinary step. Branches of a static split or a foreach meet only in a
    join. ``graph.arrivals`` keeps every split stack a step is reached with, for lint.
    """
    entry: dict[str, tuple[Frame, ...]] = {}
    arrivals = graph.arrivals
    issues = graph.structure_issues
    steps = graph.steps

    def issue(step: str, message: str) -> None:
        if not any(i[0] == step and i[2] == message for i in issues):
            issues.append((step, steps[step].line, message))
            # Root causes first: branches of two splits meeting explains the "no join" that follows.
            issues.sort(key=lambda i: _ISSUE_RANK.index(next(k for k in _ISSUE_RANK if k in i[2])))

    def walk(name: str, stack: tuple[Frame, ...]) -> None:
        node = steps[name]
        arrivals.setdefault(name, set()).add(stack)
        if name in entry:
            first = _splits(entry[name])
            if first != _splits(stack) and node.takes_inputs:
                issue(name, f"join step '{name}' joins branches of different splits "
                            f"({_describe(first)} and {_describe(_splits(stack))}); every branch of a "
                            f"split must reach the same join")
            elif first != _splits(stack):
                issue(name, f"step '{name}' is reached from different splits "
                            f"({_describe(first)} and {_describe(_splits(stack))}); join the branches first")
            return
        entry[name] = stack
        inner = stack
        if node.takes_inputs:
            if not stack:
                issue(name, f"step '{name}' takes inputs (def {name}(self, inputs)) but no split "
                            f"comes before it: only a join takes inputs")
            else:
                split = stack[-1][0]
                known = steps[split].matching_join
                if known is not None and known != name:
                    issue(split, f"the branches of split step '{split}' end in different joins: "
                                 f"'{known}' and '{name}'")
                else:
                    steps[split].matching_join = name
                inner = stack[:-1]
        if name == graph.end_step and inner:
            split = inner[-1][0]
            issue(split, f"split step '{split}' has no join: its branches reach '{name}' without "
                         f"a join step (def join(self, inputs))")
        if is_split(node):
            for child in node.next:
                if child in steps:
                    walk(child, inner + ((name, child),))
        else:
            for child in node.out_steps():
                if child in steps:
                    walk(child, inner)

    for node in steps.values():
        node.matching_join = None
    arrivals.clear()
    if graph.start_step in steps:
        walk(graph.start_step, ())


_ISSUE_RANK = ("different splits", "different joins", "takes inputs", "has no join")


def _describe(stack: tuple[str, ...]) -> str:
    return "inside " + " > ".join(stack) if stack else "outside any split"


def _structure(graph: FlowGraph) -> list[Any]:
    """``["start", [["a"], ["b"]], "join", "end"]``, built the way Metaflow's ``output_steps`` does.

    A split is followed by its branches, each up to the split's join. A switch is followed by its
    cases (not its own loop edge), each running to the end of the enclosing block, and nothing
    after it: the steps where the cases meet again appear in every case.
    """
    if graph.start_step not in graph.steps or graph.end_step not in graph.steps:
        return []
    budget = [len(graph.steps) * 8 + 16]    # guards against cycles in a flow that lint would reject

    def block(first: str | None, stop: str | None) -> list[Any]:
        out: list[Any] = []
        name = first
        while name is not None and name != stop and name in graph.steps and budget[0] > 0:
            budget[0] -= 1
            node = graph.steps[name]
            out.append(name)
            if is_split(node):
                out.append([block(child, node.matching_join) for child in node.next])
                name = node.matching_join
            elif node.type == "split-switch":
                out.append([block(child, stop) for child in node.next if child != name])
                name = stop
            elif node.next:
                name = node.next[0]
            else:
                break
        return out

    return block(graph.start_step, graph.end_step) + [graph.end_step]
