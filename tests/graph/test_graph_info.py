"""to_graph_info(): Metaflow's ``_graph_info`` shape, checked against the protocol notes (§10) and
against the graph the real pip ``metaflow`` package builds for the same flows."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest

from core_runtime.graph import FlowGraph, render_show

FLOWS = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
GOOD = ["linear_flow.py", "branch_flow.py", "foreach_flow.py", "nested_foreach_flow.py",
        "uneven_branch_flow.py", "foreach_then_branch_flow.py", "failing_flow.py", "retry_catch_flow.py"]


def info(name: str) -> dict[str, Any]:
    return FlowGraph.from_file(str(FLOWS / name)).to_graph_info()


def test_branch_flow_matches_protocol_example() -> None:
    gi = info("branch_flow.py")
    assert set(gi) == {"file", "start_step", "end_step", "parameters", "constants", "steps",
                       "graph_structure", "doc", "decorators", "extensions"}
    assert gi["file"] == "branch_flow.py"
    assert (gi["start_step"], gi["end_step"]) == ("start", "end")
    assert gi["graph_structure"] == ["start", [["a"], ["b"]], "join", "end"]
    assert gi["extensions"] == {"installed": {}}
    start = gi["steps"]["start"]
    assert start == {"name": "start", "type": "split-static", "line": start["line"],
                     "source_file": str(FLOWS / "branch_flow.py"), "doc": "Fan out into two branches.",
                     "decorators": [], "next": ["a", "b"], "node_info": {}, "matching_join": "join"}
    assert gi["steps"]["join"]["type"] == "join" and "matching_join" not in gi["steps"]["join"]
    assert gi["steps"]["end"]["next"] == [] and gi["steps"]["end"]["type"] == "end"
    json.dumps(gi)    # plain JSON types only


def test_linear_flow_parameters() -> None:
    gi = info("linear_flow.py")
    assert gi["parameters"] == [{"name": "alpha", "type": "Parameter"}, {"name": "label", "type": "Parameter"}]
    assert [gi["steps"][s]["type"] for s in ("start", "middle", "end")] == ["start", "linear", "end"]
    assert gi["graph_structure"] == ["start", "middle", "end"]


def test_foreach_and_decorators() -> None:
    gi = info("foreach_flow.py")
    assert gi["steps"]["start"]["foreach_artifact"] == "items"
    assert gi["steps"]["start"]["matching_join"] == "gather"
    rc = info("retry_catch_flow.py")
    assert rc["steps"]["flaky"]["decorators"] == [{
        "name": "retry", "attributes": {"times": 2, "minutes_between_retries": 0},
        "statically_defined": True, "inserted_by": None}]
    assert rc["steps"]["risky"]["decorators"][0]["attributes"] == {"var": "err", "print_exception": True}


def _metaflow_graph(path: Path) -> tuple[dict[str, Any], list[Any]]:
    """The real metaflow's (steps, graph_structure) for a fixture, its import switched to metaflow."""
    metaflow = pytest.importorskip("metaflow", reason="the pip metaflow package (extra 'compat') is missing")
    from metaflow.graph import FlowGraph as MetaflowGraph

    source = path.read_text().replace("from core_runtime import", "from metaflow import")
    module = types.ModuleType("fixture_" + path.stem)
    # Running our own fixture (a trusted test file) is the only way to get metaflow's graph of it.
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102
    cls = next(v for v in module.__dict__.values()
               if isinstance(v, type) and issubclass(v, metaflow.FlowSpec) and v is not metaflow.FlowSpec)
    steps, structure = MetaflowGraph(cls).output_steps()
    return steps, structure


@pytest.mark.parametrize("name", GOOD)
def test_same_as_real_metaflow(name: str) -> None:
    path = FLOWS / name
    theirs, structure = _metaflow_graph(path)
    ours = FlowGraph.from_file(str(path)).to_graph_info()
    assert ours["graph_structure"] == structure
    assert set(ours["steps"]) == set(theirs)
    for step, node in theirs.items():
        mine = ours["steps"][step]
        for key in ("name", "type", "line", "doc", "decorators", "next", "node_info",
                    "foreach_artifact", "matching_join"):
            assert mine.get(key) == node.get(key), (step, key)


def test_render_show() -> None:
    text = render_show(FlowGraph.from_file(str(FLOWS / "branch_flow.py")))
    assert text.startswith("Static branch: start -> (a, b) -> join -> end.\n")
    assert "Step start\n    Fan out into two branches.\n    => a, b\n" in text
    assert "Step join\n    Join the two branches.\n    => end\n" in text
    assert text.index("Step a") < text.index("Step join") < text.index("Step end")
    foreach = render_show(FlowGraph.from_file(str(FLOWS / "foreach_flow.py")))
    assert "=> square (foreach over items)" in foreach
