"""The timeline index's row orders on a hand-built run: groups, attempts and the collector."""

from __future__ import annotations

import gc

import pytest

from backend.db import timeline_index

# columns as TASKS_SQL returns them: pk, step, status, start, end
TASKS = {"pk": [1, 2, 3, 4, 5], "step": ["start", "train", "train", "train", "end"],
         "status": ["completed", "completed", "failed", "completed", "completed"],
         "s": [100, 300, 200, 250, None], "e": [150, 400, 260, 800, None]}
# task 3 ran twice (attempt 1 listed first: the index orders attempts itself)
ATTEMPTS = {"pk": [1, 2, 3, 3, 4, 5], "attempt": [0, 0, 1, 0, 0, 0],
            "status": ["completed", "completed", "failed", "failed", "completed", "completed"],
            "s": [100, 300, 230, 200, 250, 900], "e": [150, 400, 260, 220, 800, 950]}
ORDER = ["start", "train", "end"]


def test_rows_grouped_by_step_in_start_order_with_every_attempt() -> None:
    idx = timeline_index.build(TASKS, ATTEMPTS)
    assert idx.attempts[2] == ((0, "failed", 200, 220), (1, "failed", 230, 260))
    v = timeline_index.view(idx, ORDER, "start", "step", [], [])
    assert [idx.tasks[i][0] for i in v.order] == [1, 3, 4, 2, 5]
    assert v.groups == [("start", 0, 1), ("train", 1, 3), ("end", 4, 1)]
    assert v.offsets == [0, 1, 3, 4, 5, 6]
    assert v.a_row == [0, 1, 1, 2, 3, 4] and v.a_start == [100, 200, 230, 250, 300, 900]


def test_filters_and_host_groups() -> None:
    idx = timeline_index.build(TASKS, ATTEMPTS)
    failed = timeline_index.view(idx, ORDER, "duration", "step", ["failed"], [])
    assert [idx.tasks[i][0] for i in failed.order] == [3] and failed.groups == [("train", 0, 1)]
    idx.hosts = {1: "b", 2: "a", 3: "a", 4: None, 5: "b"}
    by_host = timeline_index.view(idx, ORDER, "start", "host", [], [])
    # named hosts first by name, then the tasks without one; start time within a host
    assert [idx.tasks[i][0] for i in by_host.order] == [3, 2, 1, 5, 4]
    assert by_host.groups == [("a", 0, 2), ("b", 2, 2), (None, 4, 1)]
    assert timeline_index.view(idx, ORDER, "start", "step", [], ["nothing"]).groups == []


def test_durations_are_computed_and_rows_keep_the_sql_order() -> None:
    """Duration = end - start (None without both, as the generated column); rows in (step rank,
    key NULLS LAST, task_pk) whatever order the arrays come in, ties broken by task_pk."""
    t = {"pk": [9, 4, 7, 2, 5, 8], "step": ["b", "b", "a", "b", "zz", "b"], "status": ["completed"] * 6,
         "s": [10, 10, 5, None, 1, 10], "e": [30, 20, 9, None, 2, 40]}
    a = {"pk": [8, 2, 9, 4, 7, 5, 8], "attempt": [1, 0, 0, 0, 0, 0, 0], "status": ["failed", "completed",
         "completed", "completed", "completed", "completed", "failed"], "s": [10, 0, 10, 10, 5, 1, 9],
         "e": [40, 1, 30, 20, 9, 2, 10]}
    idx = timeline_index.build(t, a)
    assert [(r[0], r[5]) for r in idx.tasks] == [(9, 20), (4, 10), (7, 4), (2, None), (5, 1), (8, 30)]
    pks = lambda v: [idx.tasks[i][0] for i in v.order]   # noqa: E731
    by_start = timeline_index.view(idx, ["a", "b"], "start", "step", [], [])
    assert pks(by_start) == [7, 4, 8, 9, 2, 5]            # "zz" is not in the DAG order: last
    assert by_start.groups == [("a", 0, 1), ("b", 1, 4), ("zz", 5, 1)]
    assert by_start.offsets == [0, 1, 2, 4, 5, 6, 7]
    assert by_start.a_row == [0, 1, 2, 2, 3, 4, 5] and by_start.a_code == [1, 1, 3, 3, 1, 1, 1]
    assert by_start.a_start == [5, 10, 9, 10, 10, 0, 1]
    by_duration = timeline_index.view(idx, ["a", "b"], "duration", "flat", [], [])
    assert pks(by_duration) == [5, 7, 4, 9, 8, 2] and by_duration.groups == [("", 0, 6)]
    assert timeline_index.view(idx, ["a", "b"], "end", "flat", [], ["b"]).order == [1, 0, 5, 3]


def test_the_collector_is_off_during_a_build_and_back_on_after(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gc.isenabled()
    seen: list[bool] = []
    real = timeline_index._build
    monkeypatch.setattr(timeline_index, "_build", lambda t, a: seen.append(gc.isenabled()) or real(t, a))
    timeline_index.build(TASKS, ATTEMPTS)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(KeyError):
        timeline_index.build({}, ATTEMPTS)          # fails inside: the collector comes back anyway
    assert gc.isenabled()
    gc.disable()
    try:
        timeline_index.build(TASKS, ATTEMPTS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_index_leaves_the_collector_s_lists_once_collected() -> None:
    """Tasks and their attempts are tuples of numbers and strings: after one collection the garbage
    collector no longer tracks them, so a process holding a 100,000-task index does not walk it in
    every full collection (a list per task made those 49-83 ms pauses)."""
    idx = timeline_index.build(TASKS, ATTEMPTS)
    gc.collect()
    gc.collect()
    assert not [a for a in idx.attempts if gc.is_tracked(a)]
    assert not [t for t in idx.tasks if gc.is_tracked(t)]
