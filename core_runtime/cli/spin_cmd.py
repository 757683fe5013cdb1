"""``spin STEP [--run-id ID]``: run one step in this process with its parents' artifacts from a
past run (the latest by default). Nothing is recorded: no run row, no artifacts written.
It prints the artifacts the step set, so a step can be iterated on quickly."""

from __future__ import annotations

import sys
from typing import Any

from core_runtime.cli.args import UsageError
from core_runtime.cli.flow_info import FlowInfo


def spin_command(cmd: Any, info: FlowInfo) -> int:
    from contract.settings import load_settings
    from core_runtime.cli.run_cmd import open_backends, run_values
    from core_runtime.scheduler.child import TaskContext, run_step
    from core_runtime.scheduler.past_runs import PastRunError, as_finished, find_run, run_tasks
    from core_runtime.scheduler.plan import TaskPlan

    if len(cmd.positional) != 1:
        raise UsageError("spin needs exactly one step: spin STEP [--run-id ID]")
    step = cmd.positional[0]
    graph = info.graph
    if step not in graph.steps:
        raise UsageError(f"spin: no step {step!r} in {graph.flow_name} (steps: {', '.join(graph.steps)})")
    settings = load_settings()
    store, ds = open_backends(settings)
    conn = store.conn
    try:
        past = find_run(conn, graph.flow_name, cmd.option("run-id"))
        parents: list[Any] = []
        stack: list[dict[str, Any]] = []
        if step != graph.start_step:
            tasks = run_tasks(conn, past.run_pk, step)
            if not tasks:
                raise UsageError(f"spin: run {past.run_id} has no task of step {step!r} to take "
                                 f"the inputs of (its parents never finished)")
            target = tasks[0]
            stack = list(target.stack)
            by_path = {f"{t.step}/{t.task_id}": t for t in run_tasks(conn, past.run_pk)}
            for pid in target.parent_task_ids:
                parent = by_path.get(pid)
                if parent is None:
                    raise UsageError(f"spin: parent task {pid} of {step} is missing from run {past.run_id}")
                parents.append(as_finished(conn, parent, graph, ds))
    except PastRunError as exc:
        raise UsageError(f"spin: {exc}") from None
    params = {p.attr: past.parameters.get(p.attr, p.default_value()) for p in info.parameters}
    ctx = TaskContext(flow_cls=info.flow_cls, graph=graph, flow_name=graph.flow_name,
                      run_id=f"spin-{past.run_id}", task_id="spin", attempt=0,
                      username=settings.user, origin_run_id=past.run_id,
                      run_values=run_values(info, params))
    plan = TaskPlan(step, parents, stack, is_join=str(graph.steps[step].type) == "join")
    print(f"Spinning step {step} with the inputs of run {graph.flow_name}/{past.run_id} (not recorded):")
    sys.stdout.flush()
    result, _flow = run_step(ctx, plan, ds, persist=False)
    if not result.ok:
        sys.stderr.write(result.traceback or f"{result.exception_type}: {result.exception_message}\n")
        sys.stderr.write(f"error: step {step} failed: {result.exception_type}: {result.exception_message}\n")
        return 1
    print(f"Artifacts set by {step}:")
    for rec in result.records:
        print(f"  {rec['name']} = {rec['preview']}")
    if not result.records:
        print("  (none)")
    return 0
