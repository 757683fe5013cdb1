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
        "uneven_branch_flow.py", "foreach_then_branch_flow.py", "failing_flow.py", "retry_catch_flow.py",
        "switch_loop_flow.py"]
RUNTIME_FLOWS = FLOWS.parent.parent / "runtime" / "flows"
# Switch and recursion flows: their whole step records must be Metaflow's, not just the structure.
SWITCH = [FLOWS / "switch_loop_flow.py"] + sorted(RUNTIME_FLOWS.glob("mf_*switch*.py")) + sorted(
    RUNTIME_FLOWS.glob("mf_*recursion*.py")) + [RUNTIME_FLOWS / "mf_resume_loop.py"]


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


def _json_keys(value: Any) -> Any:
    """Metaflow keeps case keys as Python values (True); recorded JSON has them as text ("True")."""
    if isinstance(value, dict):
        return {str(k): _json_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_keys(v) for v in value]
    return value


@pytest.mark.parametrize("path", SWITCH, ids=lambda p: p.name)
def test_switch_and_recursion_steps_are_metaflows(path: Path) -> None:
    theirs, structure = _metaflow_graph(path)
    ours = FlowGraph.from_file(str(path)).to_graph_info()
    assert ours["graph_structure"] == structure
    assert ours["steps"] == _json_keys(theirs)
    assert any(s["type"] == "split-switch" for s in ours["steps"].values())


def test_switch_loop_records_cases_condition_and_structure() -> None:
    gi = info("switch_loop_flow.py")
    start, loop = gi["steps"]["start"], gi["steps"]["loop"]
    assert (start["type"], start["condition"], start["switch_cases"], start["next"]) == (
        "split-switch", "route", {"fast": "fast", "slow": "slow"}, ["fast", "slow"])
    assert (loop["type"], loop["condition"], loop["switch_cases"], loop["next"]) == (
        "split-switch", "status", {"again": "loop", "done": "end"}, ["loop", "end"])
    assert "matching_join" not in start and "foreach_artifact" not in loop
    # each case runs to the end of its block; the loop's own edge is left out
    assert gi["graph_structure"] == ["start", [["fast", "loop", [[]]], ["slow", "loop", [[]]]], "end"]
    json.dumps(gi)


def test_show_names_the_cases_and_the_loop() -> None:
    text = render_show(FlowGraph.from_file(str(FLOWS / "switch_loop_flow.py")))
    assert "=> fast or slow (switch on route: 'fast': fast, 'slow': slow)" in text
    assert "=> loop again or end (switch on status: 'again': loop, 'done': end)" in text
    assert text.index("Step loop") < text.index("Step end")
