"""``python -m core_runtime.scheduler.remote_task SPEC RESULT``: one task attempt on a worker node.

The flow file is executed as ``__main__`` (as on the driver, so classes it defines pickle under the
same name); its ``MyFlow()`` line hands the flow class to this module instead of the command line,
and the step runs exactly as in a forked local task (``child.run_step``). Like a local task it
never opens a database connection: everything the scheduler records comes back in RESULT.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import runpy
import sys
from typing import Any

from core_runtime.scheduler.process import EXIT_CRASHED, EXIT_OK, EXIT_STEP_FAILED, _die_with_parent


@dataclasses.dataclass
class RemoteSpec:
    """What the driver sends: the attempt, minus the in-memory flow class and graph."""

    flow_file: str               # path inside the code package
    flow_class: str
    ctx: dict[str, Any]          # TaskContext fields except flow_cls and graph
    plan: Any                    # TaskPlan
    settings: dict[str, Any]     # datastore and s3_endpoint_url only: a task needs no secrets


def remote_settings(settings: Any) -> dict[str, Any]:
    """The settings a task on another node needs: where the datastore is. No DSN, no secrets."""
    from contract.datastore import datastore_root

    root = datastore_root(settings)
    return {"datastore": root if "://" in root else os.path.abspath(root),
            "s3_endpoint_url": settings.s3_endpoint_url}


def encode_spec(spec: Any, flow_file: str) -> bytes:
    """RemoteSpec bytes for an executor.AttemptSpec."""
    ctx = {f.name: getattr(spec.ctx, f.name) for f in dataclasses.fields(spec.ctx)
           if f.name not in ("flow_cls", "graph")}
    return pickle.dumps(RemoteSpec(flow_file, spec.ctx.flow_cls.__name__, ctx, spec.plan,
                                   remote_settings(spec.settings)))


def _run(flow_cls: type, spec: RemoteSpec, result_path: str) -> int:
    from contract.datastore import open_datastore
    from contract.settings import load_settings
    from core_runtime.graph import FlowGraph
    from core_runtime.scheduler.child import TaskContext, run_step

    if flow_cls.__name__ != spec.flow_class:
        sys.stderr.write(f"{spec.flow_file} runs {flow_cls.__name__}, expected {spec.flow_class}\n")
        return EXIT_CRASHED
    graph = FlowGraph.from_file(os.path.abspath(spec.flow_file), spec.flow_class)
    ctx = TaskContext(flow_cls=flow_cls, graph=graph, **spec.ctx)
    ds = open_datastore(load_settings(environ={}, **spec.settings))
    result, _flow = run_step(ctx, spec.plan, ds)
    if not result.ok and result.traceback:
        sys.stderr.write(result.traceback if result.traceback.endswith("\n") else result.traceback + "\n")
    tmp = result_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(dataclasses.asdict(result), fh, default=str)
    os.replace(tmp, result_path)
    return EXIT_OK if result.ok else EXIT_STEP_FAILED


def main(argv: list[str]) -> int:
    from core_runtime import flowspec

    _die_with_parent()      # the Ray worker that started us dies -> so do we
    spec_path, result_path = argv
    with open(spec_path, "rb") as fh:
        spec: RemoteSpec = pickle.load(fh)
    codes: list[int] = []

    def entry(flow_cls: type, _argv: list[str]) -> int:
        codes.append(_run(flow_cls, spec, result_path))
        return codes[-1]

    flowspec._task_entry = entry
    sys.argv = [spec.flow_file]
    sys.path.insert(0, os.path.dirname(os.path.abspath(spec.flow_file)))
    try:
        runpy.run_path(spec.flow_file, run_name="__main__")
    except SystemExit as exc:
        if codes:
            return codes[-1]
        return exc.code if isinstance(exc.code, int) else EXIT_CRASHED
    if not codes:
        sys.stderr.write(f"{spec.flow_file} never called {spec.flow_class}() at module level\n")
        return EXIT_CRASHED
    return codes[-1]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
