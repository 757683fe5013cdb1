"""``run`` and ``resume``: validate everything, create the run row, hand over to the scheduler."""

from __future__ import annotations

import getpass
import os
import platform
from typing import Any

from core_runtime.cli.args import UsageError, resolve_parameters
from core_runtime.cli.flow_info import FlowInfo

DEFAULT_MAX_WORKERS = 16


def _max_workers(cmd: Any) -> int:
    raw = cmd.option("max-workers", str(DEFAULT_MAX_WORKERS))
    try:
        n = int(raw)
    except ValueError:
        raise UsageError(f"invalid value {raw!r} for --max-workers: expected a whole number") from None
    if n < 1:
        raise UsageError(f"--max-workers must be at least 1, got {n}")
    return n


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def run_values(info: FlowInfo, params: dict[str, Any]) -> dict[str, Any]:
    values = dict(params)
    for c in info.configs:
        values[c.attr] = c.value
    return values


def open_backends(settings: Any) -> tuple[Any, Any]:
    """(RunStore, Datastore) — DatabaseError / DatastoreError name what is wrong."""
    from contract.datastore import open_datastore
    from contract.pg import connect_writer
    from core_runtime.store import RunStore

    ds = open_datastore(settings)
    conn = connect_writer(settings)
    return RunStore(conn), ds


def start_run(cmd: Any, info: FlowInfo, params: dict[str, Any], *, origin_run_id: str | None = None,
              cloner_factory: Any = None, backends: tuple[Any, Any, Any] | None = None) -> int:
    from contract.settings import load_settings
    from core_runtime.environments import prepare_environments
    from core_runtime.scheduler.console import Console
    from core_runtime.scheduler.runner import Runner, RunSetup

    max_workers = _max_workers(cmd)
    if backends is None:
        settings = load_settings()
        store, ds = open_backends(settings)
    else:
        settings, store, ds = backends
    username = settings.user or getpass.getuser()
    tags = list(cmd.options.get("tag", []))
    system_tags = [f"user:{username}", "runtime:flowscope",
                   f"python_version:{platform.python_version()}"]
    values = run_values(info, params)
    graph = info.graph
    console = Console(quiet=bool(cmd.option("quiet")))
    environments = prepare_environments(info.flow_cls, graph, settings, console.line)
    cloner = cloner_factory(store, ds) if cloner_factory else None
    run = store.create_run(graph.flow_name, user=username, tags=tags, system_tags=system_tags,
                           parameters={k: _jsonable(v) for k, v in values.items()},
                           dag=graph.to_graph_info(), file_name=os.path.basename(info.file),
                           source=info.source, origin_run_id=origin_run_id)
    if cloner is not None:
        cloner.attach(run)
    run_id_file = cmd.option("run-id-file")
    if run_id_file:
        with open(run_id_file, "w", encoding="utf-8") as fh:
            fh.write(run.run_id)
    write_runner_attributes(cmd.option("runner-attribute-file"), graph.flow_name, run.run_id)
    console.line(f"Workflow starting (run-id {run.run_id}):" if origin_run_id is None else
                 f"Workflow resuming run {origin_run_id} as run-id {run.run_id}:")
    setup = RunSetup(flow_cls=info.flow_cls, graph=graph, settings=settings, store=store, ds=ds,
                     run=run, username=username, tags=tags, run_values=values,
                     max_workers=max_workers, console=console, origin_run_id=origin_run_id,
                     cloner=cloner, environments=environments)
    return Runner(setup).execute()


def write_runner_attributes(path: str | None, flow: str, run_id: str) -> None:
    """For the Runner API (runner/): the run's pathspec, written as soon as the run exists."""
    if not path:
        return
    import json

    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"flow_name": flow, "run_id": run_id, "metadata": "flowscope@"}, fh)


def run_command(cmd: Any, info: FlowInfo) -> int:
    if cmd.positional:
        raise UsageError(f"unexpected argument {cmd.positional[0]!r} for 'run'")
    params = resolve_parameters(cmd, info.parameters)
    return start_run(cmd, info, params)


def resume_command(cmd: Any, info: FlowInfo) -> int:
    from contract.settings import load_settings
    from core_runtime.scheduler.resume import ResumeError, ResumePlanner

    if len(cmd.positional) > 1:
        raise UsageError(f"resume takes at most one step, got {' '.join(cmd.positional)}")
    step = cmd.positional[0] if cmd.positional else None
    if step is not None and step not in info.graph.steps:
        raise UsageError(f"resume: no step {step!r} in {info.graph.flow_name} "
                         f"(steps: {', '.join(info.graph.steps)})")
    max_workers = _max_workers(cmd)  # validate before touching the database
    del max_workers
    settings = load_settings()
    store, ds = open_backends(settings)
    try:
        planner = ResumePlanner.find(store.conn, info.graph, cmd.option("origin-run-id"), step)
    except ResumeError as exc:
        raise UsageError(str(exc)) from None
    params = planner.parameters([p.attr for p in info.parameters])
    for p in info.parameters:
        params.setdefault(p.attr, p.default_value())
    return start_run(cmd, info, params, origin_run_id=planner.origin_run_id,
                     cloner_factory=planner.cloner, backends=(settings, store, ds))
