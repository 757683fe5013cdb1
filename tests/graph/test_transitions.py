"""Step types, edges and split/join matching for every kind of transition."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core_runtime.graph import FlowGraph, lint

FLOWS = Path(__file__).resolve().parent.parent / "fixtures" / "flows"


def load(name: str) -> FlowGraph:
    graph = FlowGraph.from_file(str(FLOWS / name))
    lint(graph)
    return graph


def types(graph: FlowGraph) -> dict[str, str]:
    return {name: node.type for name, node in graph.steps.items()}


def test_linear() -> None:
    g = load("linear_flow.py")
    assert g.flow_name == "LinearFlow"
    assert types(g) == {"start": "start", "middle": "linear", "end": "end"}
    assert g.steps["middle"].in_funcs == ["start"]
    assert g.steps["start"].next == ["middle"]
    assert g.steps["middle"].doc == "Double x."
    assert g.topological() == ["start", "middle", "end"]
    assert [(p["name"], p["type"], p["attributes"]["default"]) for p in g.parameters] == [
        ("alpha", "Parameter", 0.5), ("label", "Parameter", "demo")]
    assert g.parameters[0]["attributes"]["help"] == "Learning rate"
    assert g.parameters[0]["attributes"]["type"] == "float"     # not a literal: its source text


def test_static_branch() -> None:
    g = load("branch_flow.py")
    assert types(g) == {"start": "split-static", "a": "linear", "b": "linear", "join": "join", "end": "end"}
    assert g.steps["start"].matching_join == "join"
    assert g.parents("join") == ["a", "b"]
    assert g.steps["join"].num_args == 2
    assert g.graph_structure == ["start", [["a"], ["b"]], "join", "end"]


def test_branches_of_different_lengths() -> None:
    g = load("uneven_branch_flow.py")
    assert g.steps["start"].matching_join == "join"
    assert g.graph_structure == ["start", [["a", "a2", "a3"], ["b"]], "join", "end"]
    order = g.topological()
    assert order.index("a3") < order.index("join") and order.index("b") < order.index("join")


def test_foreach() -> None:
    g = load("foreach_flow.py")
    assert types(g) == {"start": "split-foreach", "square": "linear", "gather": "join", "end": "end"}
    assert g.steps["start"].foreach_artifact == "items"
    assert g.steps["start"].matching_join == "gather"
    assert g.graph_structure == ["start", [["square"]], "gather", "end"]


def test_nested_foreach_two_joins() -> None:
    g = load("nested_foreach_flow.py")
    assert g.steps["start"].matching_join == "join_outer"
    assert g.steps["outer"].type == "split-foreach"
    assert g.steps["outer"].matching_join == "join_inner"
    assert g.graph_structure == ["start", [["outer", [["inner"]], "join_inner"]], "join_outer", "end"]


def test_foreach_then_static_branch() -> None:
    g = load("foreach_then_branch_flow.py")
    assert g.steps["start"].matching_join == "gather"
    assert g.steps["fan"].matching_join == "merge"
    assert g.graph_structure == ["start", [["work"]], "gather", "fan", [["left"], ["right"]], "merge", "end"]


def test_static_branch_inside_foreach(write_flow: Callable[[str], Path]) -> None:
    path = write_flow('''
        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1, 2]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.x, self.y)

            @step
            def x(self):
                self.next(self.inner_join)

            @step
            def y(self):
                self.next(self.inner_join)

            @step
            def inner_join(self, inputs):
                self.next(self.outer_join)

            @step
            def outer_join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    g = FlowGraph.from_file(str(path))
    lint(g)
    assert g.steps["body"].matching_join == "inner_join"
    assert g.steps["start"].matching_join == "outer_join"
    assert g.graph_structure == ["start", [["body", [["x"], ["y"]], "inner_join"]], "outer_join", "end"]


def test_decorators_stacked_and_qualified(write_flow: Callable[[str], Path]) -> None:
    path = write_flow('''
        import core_runtime
        from core_runtime import retry, catch, resources


        class F(FlowSpec):
            """Flow doc."""

            @catch(var="err")
            @retry(times=2)
            @core_runtime.step
            def start(self):
                """Start doc."""
                self.next(self.end)

            @resources(memory=2048, cpu=config.cpus)
            @step
            def end(self):
                pass
    ''')
    g = FlowGraph.from_file(str(path))
    lint(g)
    assert g.doc == "Flow doc."
    start = g.steps["start"]
    assert [d["name"] for d in start.decorators] == ["retry", "catch"]
    assert start.decorators[0]["attributes"] == {"times": 2, "minutes_between_retries": 2}
    assert start.decorators[1]["attributes"] == {"var": "err", "print_exception": True}
    assert start.decorators[0]["statically_defined"] is True and start.decorators[0]["inserted_by"] is None
    res = g.steps["end"].decorators[0]
    assert res["attributes"]["memory"] == 2048
    assert res["attributes"]["cpu"] == "config.cpus"         # not literal: source text


def test_flow_picked_by_main_block_and_by_name(write_flow: Callable[[str], Path]) -> None:
    body = '''
        class Base(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass


        class Child(Base):
            @step
            def end(self):
                """Overridden."""


        class Other(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            Child()
    '''
    path = write_flow(body)
    g = FlowGraph.from_file(str(path))
    assert g.flow_name == "Child"
    assert g.steps["end"].doc == "Overridden."
    assert list(g.steps) == ["start", "end"]
    assert FlowGraph.from_file(str(path), "Other").flow_name == "Other"


def test_parameters_and_configs(write_flow: Callable[[str], Path]) -> None:
    path = write_flow('''
        from core_runtime import Parameter, Config


        class F(FlowSpec):
            rate = Parameter("learning-rate", default=0.1)
            cfg = Config("cfg", default="config.json")
            SIZE = 3

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    g = FlowGraph.from_file(str(path))
    assert [(p["name"], p["type"], p["param_name"]) for p in g.parameters] == [
        ("rate", "Parameter", "learning-rate"), ("cfg", "Config", "cfg")]
    assert g.constants == [{"name": "SIZE", "type": "int"}]


def test_switch_and_recursive_step() -> None:
    g = load("switch_loop_flow.py")
    assert types(g) == {"start": "split-switch", "fast": "linear", "slow": "linear",
                        "loop": "split-switch", "end": "end"}
    assert g.steps["start"].switch_cases == {"fast": "fast", "slow": "slow"}
    assert g.steps["start"].condition == "route" and not g.steps["start"].is_recursive
    loop = g.steps["loop"]
    assert loop.is_recursive and loop.next == ["loop", "end"] and loop.out_steps() == ["end"]
    # a recursive step is not its own parent; the cases of a switch meet without a join
    assert g.parents("loop") == ["fast", "slow"] and not loop.takes_inputs
    assert g.parents("end") == ["loop"]
    assert g.topological() == ["start", "fast", "slow", "loop", "end"]
    assert g.steps["start"].matching_join is None


def test_switch_inside_foreach_closes_with_the_foreach_join() -> None:
    g = FlowGraph.from_file(str(FLOWS.parent.parent / "runtime" / "flows" / "mf_switch_foreach.py"))
    lint(g)
    assert g.steps["start"].matching_join == "collect"
    assert g.split_of("collect") is g.steps["start"]
    assert g.parents("collect") == ["read_csv", "read_json"]
