"""``python flow.py show``: the steps in order with their docstrings and transitions."""

from __future__ import annotations

import textwrap

from core_runtime.graph.errors import GraphError
from core_runtime.graph.model import FlowGraph


def render_show(graph: FlowGraph) -> str:
    lines: list[str] = []
    if graph.doc:
        lines += [graph.doc, ""]
    order = _show_order(graph)
    for name in order:
        node = graph.steps[name]
        lines.append(f"Step {name}")
        if node.doc:
            lines += textwrap.indent(node.doc, "    ").splitlines()
        if node.type == "split-foreach" and node.next:
            lines.append(f"    => {node.next[0]} (foreach over {node.foreach_artifact})")
        elif node.type == "split-switch":
            cases = ", ".join(f"{label!r}: {target}" for label, target in node.switch_cases.items())
            targets = " or ".join(([f"{name} again"] if node.is_recursive else []) + node.out_steps())
            lines.append(f"    => {targets} (switch on {node.condition}: {cases})")
        elif node.next:
            lines.append(f"    => {', '.join(node.next)}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _show_order(graph: FlowGraph) -> list[str]:
    """Execution order when the graph allows it, else source order (show must work on broken flows)."""
    try:
        order = graph.topological()
    except GraphError:      # a cycle: fall back to source order rather than failing `show`
        order = []
    return order + [n for n in graph.steps if n not in order]
