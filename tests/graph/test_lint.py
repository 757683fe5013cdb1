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
