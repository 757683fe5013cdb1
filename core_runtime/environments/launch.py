"""Running one task attempt inside a step's environment.

The scheduler forks the task process as for any step; that process then starts the environment's
interpreter on the flow file with the hidden command ``_task SPEC RESULT`` (the flow file runs as
``__main__`` there too, so classes it defines pickle under the same names), waits for it and hands
its result back. The interpreter inherits the task's stdout/stderr pipes and process group, so
logs, @timeout and kills work unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tempfile
from typing import Any

from core_runtime.scheduler.plan import ChildResult

EXIT_OK, EXIT_STEP_FAILED, EXIT_CRASHED = 0, 1, 2


def run_in_environment(ctx: Any, plan: Any, settings: Any, *, spin_store: str | None = None,
                       persist: bool = True) -> ChildResult:
    """``spin_store``: spin's local datastore, read first and written to (the flow's datastore is
    read after it); ``persist=False``: keep nothing (spin without --persist)."""
    from contract.datastore import datastore_root

    assert ctx.env_python, "run_in_environment needs ctx.env_python"
    root = datastore_root(settings)
    fields = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx) if f.name not in ("flow_cls", "graph")}
    spec = {"flow_class": ctx.flow_cls.__name__, "ctx": fields, "plan": plan, "current_extra": _extras(),
            "datastore": root if "://" in root else os.path.abspath(root),
            "s3_endpoint_url": settings.s3_endpoint_url, "spin_store": spin_store, "persist": persist}
    folder = tempfile.mkdtemp(prefix="flowscope-env-task-")
    spec_path, result_path = os.path.join(folder, "spec.pkl"), os.path.join(folder, "result.json")
    with open(spec_path, "wb") as fh:
        pickle.dump(spec, fh, protocol=4)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ctx.env_pythonpath, env.get("PYTHONPATH")) if p)
    env["PYTHONNOUSERSITE"] = "1"       # ~/.local must not leak into an isolated environment
    env.pop("VIRTUAL_ENV", None)
    try:
        code = subprocess.call([ctx.env_python, ctx.graph.file, "_task", spec_path, result_path], env=env,
                               cwd=os.getcwd())
        try:
            with open(result_path, encoding="utf-8") as fh:
                return ChildResult(**json.load(fh))
        except (OSError, ValueError):
            return ChildResult(ok=False, exception_type="EnvironmentError",
                               exception_message=f"the task's interpreter {ctx.env_python} exited with code "
                                                 f"{code} before reporting a result")
    finally:
        for path in (spec_path, result_path):
            try:
                os.unlink(path)
            except OSError:
                pass
        os.rmdir(folder)


def _extras() -> dict[str, Any]:
    """What flow decorators added to ``current`` (flow_init ran in the run command), for the new
    interpreter; values that cannot be pickled are left out."""
    from core_runtime.current import current

    out = {}
    for key, value in (current._values.get("extra") or {}).items():
        try:
            pickle.dumps(value, protocol=4)
        except Exception:  # noqa: BLE001, S112 - anything unpicklable stays in this process
            continue
        out[key] = value
    return out


def task_main(flow_cls: type, argv: list[str]) -> int:
    """``python flow.py _task SPEC RESULT`` inside the environment: run the attempt, write RESULT."""
    from contract.datastore import open_datastore
    from contract.settings import load_settings
    from core_runtime.graph import FlowGraph
    from core_runtime.scheduler.child import TaskContext, run_step
    from core_runtime.scheduler.process import _die_with_parent

    _die_with_parent()
    if len(argv) != 2:
        sys.stderr.write("usage: flow.py _task SPEC RESULT (internal)\n")
        return EXIT_CRASHED
    spec_path, result_path = argv
    with open(spec_path, "rb") as fh:
        spec = pickle.load(fh)
    if flow_cls.__name__ != spec["flow_class"]:
        sys.stderr.write(f"this file runs {flow_cls.__name__}, the task is of {spec['flow_class']}\n")
        return EXIT_CRASHED
    # This interpreter imported the flow afresh: give it what the run command set up.
    from core_runtime.cards.card_types import load_card_modules
    from core_runtime.current import current
    from core_runtime.user_decorators import apply_mutators

    apply_mutators(flow_cls)
    load_card_modules(load_settings().card_modules)
    current._update_env(spec.get("current_extra") or {})
    path = os.path.abspath(sys.modules[flow_cls.__module__].__file__ or sys.argv[0])
    graph = FlowGraph.from_file(path, flow_cls.__name__)
    ctx = TaskContext(flow_cls=flow_cls, graph=graph, **spec["ctx"])
    ds: Any = open_datastore(load_settings(environ={}, datastore=spec["datastore"],
                                           s3_endpoint_url=spec["s3_endpoint_url"]))
    if spec.get("spin_store"):
        from contract.datastore import LocalDatastore
        from core_runtime.spin.layered import LayeredDatastore

        ds = LayeredDatastore(LocalDatastore(spec["spin_store"]), [ds])
    result, _flow = run_step(ctx, spec["plan"], ds, persist=spec.get("persist", True))
    if not result.ok and result.traceback:
        sys.stderr.write(result.traceback if result.traceback.endswith("\n") else result.traceback + "\n")
    tmp = result_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(dataclasses.asdict(result), fh, default=str)
    os.replace(tmp, result_path)
    sys.stdout.flush()
    return EXIT_OK if result.ok else EXIT_STEP_FAILED
