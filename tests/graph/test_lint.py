"""Every lint error: its message and the file:line it points at (the ``# <-`` marker)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core_runtime.graph import FlowGraph, GraphError, lint

END = '''
            @step
            def end(self):
                pass
'''


def lint_error(path: Path) -> GraphError:
    with pytest.raises(GraphError) as info:
        lint(FlowGraph.from_file(str(path)))
    return info.value


CASES: dict[str, tuple[str, str]] = {
    "no_start": ('''
        class F(FlowSpec):  # <-
            @step
            def begin(self):
                self.next(self.end)
    ''' + END, "flow F has no 'start' step"),
    "start_args": ('''
        class F(FlowSpec):
            @step
            def start(self, inputs):  # <-
                self.next(self.end)
    ''' + END, "the start step takes no arguments besides self"),
    "unknown_target": ('''
        class F(FlowSpec):
            @step
            def start(self):  # <-
                self.next(self.nope)
    ''' + END, "step 'start' calls self.next(self.nope) but no step 'nope' exists"),
    "no_next": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.middle)

            @step
            def middle(self):  # <-
                self.x = 1
    ''' + END, "step 'middle' does not end with self.next(...)"),
    "next_not_last": ('''
        class F(FlowSpec):
            @step
            def start(self):
                if True:
                    self.next(self.end)  # <-
                self.x = 2
    ''' + END, "self.next(...) must be the last statement"),
    "end_with_next": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):  # <-
                self.next(self.start)
    ''', "the end step must not call self.next"),
    "foreach_multi": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1]
                self.next(self.a, self.b, foreach="items")  # <-
    ''' + END, "a foreach transition takes exactly one target step, got 2"),
    "foreach_not_literal": ('''
        class F(FlowSpec):
            @step
            def start(self):
                name = "items"
                self.next(self.a, foreach=name)  # <-
    ''' + END, "foreach= must be a string literal naming an artifact (foreach='items'), got name"),
    "num_parallel_two_targets": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b, num_parallel=4)  # <-
    ''' + END, "a foreach transition takes exactly one target step, got 2"),
    "next_not_a_step": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(end)  # <-
    ''' + END, "self.next arguments must be steps like self.train, got end"),
    "unreachable": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def lost(self):  # <-
                self.next(self.end)
    ''' + END, "step 'lost' is unreachable"),
    "cycle": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)

            @step
            def a(self):  # <-
                self.next(self.b)

            @step
            def b(self):
                self.next(self.a)
    ''' + END, "part of a cycle"),
    "self_loop": ('''
        class F(FlowSpec):
            @step
            def start(self):  # <-
                self.next(self.start)
    ''' + END, "calls self.next on itself"),
    "merge_without_inputs": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self):  # <-
                self.next(self.end)
    ''' + END, "step 'join' is where a, b meet, so it must be a join taking inputs: def join(self, inputs)"),
    "join_too_many_args": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self, inputs, extra):  # <-
                self.next(self.end)
    ''' + END, "a join takes exactly one: def join(self, inputs)"),
    "inputs_without_split": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.middle)

            @step
            def middle(self, inputs):  # <-
                self.next(self.end)
    ''' + END, "step 'middle' takes inputs (def middle(self, inputs)) but no split comes before it"),
    "split_without_join": ('''
        class F(FlowSpec):
            @step
            def start(self):  # <-
                self.items = [1, 2]
                self.next(self.a, foreach="items")

            @step
            def a(self):
                self.next(self.end)
    ''' + END, "split step 'start' has no join: its branches reach 'end' without a join step"),
    "join_mixing_splits": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.c, self.d)

            @step
            def c(self):
                self.next(self.j)

            @step
            def d(self):
                self.next(self.j)

            @step
            def b(self):
                self.next(self.j)

            @step
            def j(self, inputs):  # <-
                self.next(self.end)
    ''' + END, "join step 'j' joins branches of different splits"),
    "join_that_splits": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.j)

            @step
            def b(self):
                self.next(self.j)

            @step
            def j(self, inputs):  # <-
                self.next(self.c, self.d)

            @step
            def c(self):
                self.next(self.j2)

            @step
            def d(self):
                self.next(self.j2)

            @step
            def j2(self, inputs):
                self.next(self.end)
    ''' + END, "join step 'j' cannot also split"),
    "foreach_straight_to_join": ('''
        class F(FlowSpec):
            @step
            def start(self):  # <-
                self.items = [1]
                self.next(self.j, foreach="items")

            @step
            def j(self, inputs):
                self.next(self.end)
    ''' + END, "foreach step 'start' goes straight to join 'j'"),
    "reserved_name": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.input)

            @step
            def input(self):  # <-
                self.next(self.end)
    ''' + END, "step name 'input' is reserved"),
    "duplicate": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def start(self):  # <-
                self.next(self.end)
    ''' + END, "step 'start' is defined twice"),
    # ---- switches and recursion (Metaflow 2.19) ---------------------------------------------
    "switch_value_without_case": ('''
        class F(FlowSpec):
            @step
            def start(self):
                if self.x:
                    self.route = "fast"
                else:
                    self.route = "medium"  # <-
                self.next({"fast": self.a, "slow": self.b}, condition="route")

            @step
            def a(self):
                self.next(self.end)

            @step
            def b(self):
                self.next(self.end)
    ''' + END, "step 'start' sets self.route = 'medium', which no case of its switch matches (cases: "
              + "'fast', 'slow')"),
    "switch_case_names_no_step": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.route = "fast"
                self.next({"fast": self.a,
                           "slow": self.nope},  # <-
                          condition="route")

            @step
            def a(self):
                self.next(self.end)
    ''' + END, "step 'start': switch case 'slow' names self.nope, but no step 'nope' exists"),
    "recursion_without_exit": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.loop)

            @step
            def loop(self):
                self.next({"again": self.loop, "more": self.loop}, condition="status")  # <-
    ''' + END, "recursive step 'loop' has no exit: every case of its switch loops back to 'loop'"),
    "recursion_never_exits": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.loop)

            @step
            def loop(self):
                self.count = 1
                self.status = "again"
                self.next({"again": self.loop, "done": self.end}, condition="status")  # <-
    ''' + END, "recursive step 'loop' never exits: self.status is always 'again'"),
    "switch_one_case": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.route = "a"
                self.next({"a": self.end}, condition="route")  # <-
    ''' + END, "switch step 'start' has only one case"),
    "switch_into_join": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.route = "x"
                self.next({"x": self.j,  # <-
                           "y": self.c}, condition="route")

            @step
            def c(self):
                self.next(self.j)

            @step
            def b(self):
                self.next(self.j)

            @step
            def j(self, inputs):
                self.next(self.end)
    ''' + END, "switch step 'a' goes straight to join 'j' (case 'x')"),
    "switch_dict_without_condition": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next({"a": self.end, "b": self.end})  # <-
    ''' + END, "a dict of cases needs condition='artifact'"),
    "switch_condition_not_literal": ('''
        class F(FlowSpec):
            @step
            def start(self):
                var = "route"
                self.next({"a": self.a, "b": self.end}, condition=var)  # <-

            @step
            def a(self):
                self.next(self.end)
    ''' + END, "condition= must be a string literal naming an artifact (condition='mode'), got var"),
    "switch_key_not_literal": ('''
        class F(FlowSpec):
            @step
            def start(self):
                key = "a"
                self.next({key: self.a,  # <-
                           "b": self.end}, condition="route")

            @step
            def a(self):
                self.next(self.end)
    ''' + END, "switch case keys must be literals (strings, numbers) or config values"),
    "switch_case_not_a_step": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next({"a": end,  # <-
                           "b": self.end}, condition="route")
    ''' + END, "switch case 'a' must name a step like self.train, got end"),
    "condition_without_dict": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end, condition="route")  # <-
    ''' + END, "condition= takes a dict of cases as the only argument"),
    "switch_with_foreach": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next({"a": self.end, "b": self.end}, condition="route", foreach="items")  # <-
    ''' + END, "a switch (condition=) cannot be combined with foreach="),
    "switch_empty": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next({}, condition="route")  # <-
    ''' + END, "has no cases"),
    "loop_back_to_earlier_step": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)

            @step
            def a(self):  # <-
                self.next(self.b)

            @step
            def b(self):
                self.status = self.compute()
                self.next({"again": self.a, "done": self.end}, condition="status")
    ''' + END, "a step may loop only back to itself, through a switch"),
    "catch_on_switch": ('''
        class F(FlowSpec):
            @catch(var="err")
            @step
            def start(self):  # <-
                self.route = "a"
                self.next({"a": self.a, "b": self.end}, condition="route")

            @step
            def a(self):
                self.next(self.end)
    ''' + END, "@catch is not supported on switch step 'start'"),
    "switch_cases_then_static_branches_meet": ('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.route = "x"
                self.next({"x": self.c, "y": self.d}, condition="route")

            @step
            def c(self):
                self.next(self.m)

            @step
            def d(self):
                self.next(self.m)

            @step
            def b(self):
                self.next(self.m)

            @step
            def m(self):  # <-
                self.next(self.end)
    ''' + END, "step 'm' is where c, d, b meet, so it must be a join"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lint_error(case: str, write_flow: Callable[[str], Path], marked_line: Callable[[Path], int]) -> None:
    body, message = CASES[case]
    path = write_flow(body)
    err = lint_error(path)
    assert message in err.message
    assert err.line == marked_line(path)
    assert err.path == str(path)
    assert str(err) == f"{path}:{err.line}: {err.message}"


@pytest.mark.parametrize("name", ["bad_no_end_flow.py", "bad_unknown_next_flow.py",
                                  "bad_missing_join_flow.py", "bad_unreachable_flow.py",
                                  "bad_switch_value_flow.py", "bad_loop_no_exit_flow.py"])
def test_shared_bad_fixtures(name: str, flows_dir: Path, marked_line: Callable[[Path], int]) -> None:
    path = flows_dir / name
    err = lint_error(path)
    assert err.line == marked_line(path)


def test_syntax_error_names_file_and_line(write_flow: Callable[[str], Path],
                                          marked_line: Callable[[Path], int]) -> None:
    path = write_flow('''
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end  # <-
    ''')
    with pytest.raises(GraphError) as info:
        FlowGraph.from_file(str(path))
    line = marked_line(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: syntax error:")


def test_missing_file_and_no_flow_class(tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="cannot read the flow file"):
        FlowGraph.from_file(str(tmp_path / "nope.py"))
    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n")
    with pytest.raises(GraphError, match=r"plain.py:1: no flow found"):
        FlowGraph.from_file(str(plain))
    with pytest.raises(GraphError, match="no flow class named 'Nope'"):
        FlowGraph.from_file(str(Path(__file__).parent.parent / "fixtures/flows/linear_flow.py"), "Nope")


def test_good_fixtures_pass_lint(flows_dir: Path) -> None:
    good = [p for p in sorted(flows_dir.glob("*_flow.py")) if not p.name.startswith("bad_")]
    assert len(good) >= 8
    for path in good:
        lint(FlowGraph.from_file(str(path)))


GOOD_SWITCHES = {
    "cases_meet_in_an_ordinary_step": '''
        class F(FlowSpec):
            @step
            def start(self):
                self.route = "x" if self.flag else "y"
                self.next({"x": self.a, "y": self.b}, condition="route")

            @step
            def a(self):
                self.next(self.merge)

            @step
            def b(self):
                self.next(self.merge)

            @step
            def merge(self):
                self.next(self.end)
    ''' + END,
    "value_not_known_statically": '''
        class F(FlowSpec):
            @step
            def start(self):
                self.route = "medium"
                self.route = self.pick()
                self.next({"fast": self.a, "slow": self.end}, condition="route")

            @step
            def a(self):
                self.next(self.end)
    ''' + END,
    "value_set_before_and_overwritten_on_every_path": '''
        class F(FlowSpec):
            @step
            def start(self):
                self.route = "unset"
                try:
                    self.route = "fast"
                except ValueError:
                    self.route = "slow"
                self.next({"fast": self.a, "slow": self.end}, condition="route")

            @step
            def a(self):
                self.next(self.end)
    ''' + END,
    "loop_whose_value_comes_from_the_parent": '''
        class F(FlowSpec):
            @step
            def start(self):
                self.status = "again"
                self.next(self.loop)

            @step
            def loop(self):
                if self.done():
                    self.status = "done"
                self.next({"again": self.loop, "done": self.end}, condition="status")
    ''' + END,
    "bool_and_config_keys": '''
        class F(FlowSpec):
            @step
            def start(self):
                self.more = self.left > 0
                self.next({True: self.start2, False: self.end}, condition="more")

            @step
            def start2(self):
                self.kind = "gpu"
                self.next({self.config.fast: self.a, "other": self.end}, condition="kind")

            @step
            def a(self):
                self.next(self.end)
    ''' + END,
}


@pytest.mark.parametrize("case", sorted(GOOD_SWITCHES))
def test_valid_switches_pass_lint(case: str, write_flow: Callable[[str], Path]) -> None:
    lint(FlowGraph.from_file(str(write_flow(GOOD_SWITCHES[case]))))
