"""Lint of switches (``self.next({...}, condition=)``) and recursive steps: each malformed one is
an error at file:line before anything runs; the valid shapes pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_lint import END, lint_error

from core_runtime.graph import FlowGraph, lint

SWITCH_CASES: dict[str, tuple[str, str]] = {
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


@pytest.mark.parametrize("case", sorted(SWITCH_CASES))
def test_switch_lint_error(case: str, write_flow: Callable[[str], Path], marked_line: Callable[[Path], int]) -> None:
    body, message = SWITCH_CASES[case]
    path = write_flow(body)
    err = lint_error(path)
    assert message in err.message
    assert err.line == marked_line(path)
    assert str(err) == f"{path}:{err.line}: {err.message}"


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
