"""``run`` and ``resume``: validate everything, create the run row, hand over to the scheduler."""

from __future__ import annotations

import os
import platform
from typing import Any

from core_runtime.cli.args import CommandLineError, UsageError, resolve_parameters
from core_runtime.cli.flow_info import FlowInfo
from core_runtime.cli.latest_run import read_latest_run, write_latest_run
from core_runtime.cli.output_files import write_whole

DEFAULT_MAX_WORKERS = 16


def _validate_tags(tags: list[str]) -> None:
    """Metaflow's rules for ``--tag`` (its ``validate_tags`` before a run starts): at most 50, none
    empty or longer than 500 characters; a bad one fails the command before anything is recorded."""
    from core_runtime.client.errors import FlowscopeTaggingError
    from core_runtime.client.tags import MAX_USER_TAGS, validate_tag

    if len(tags) > MAX_USER_TAGS:
        raise UsageError(f"--tag: Cannot increase size of tag set beyond {MAX_USER_TAGS}")
    for tag in tags:
        try:
            validate_tag(tag)
        except FlowscopeTaggingError as exc:
            raise UsageError(f"--tag: {exc}") from None


def _max_workers(cmd: Any) -> int:
    raw = cmd.option("max-workers", str(DEFAULT_MAX_WORKERS))
    try:
        n = int(raw)
    except ValueError:
        raise CommandLineError(f"invalid value {raw!r} for --max-workers: expected a whole number") from None
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


def _optional_int(cmd: Any, name: str) -> int | None:
    raw = cmd.option(name)
    if raw is None:
        return None
    try:
        n = int(raw)
    except ValueError:
        raise CommandLineError(f"invalid value {raw!r} for --{name}: expected a whole number") from None
    if n < 1:
        raise UsageError(f"--{name} must be at least 1, got {n}")
    return n


def load_include_files(info: FlowInfo, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values tasks see, values shown with the run): IncludeFiles read, and shown by name and size."""
    from core_runtime.includefile import IncludeFile
    from core_runtime.parameters import ParameterError

    values, shown = dict(params), dict(params)
    for p in info.parameters:
        if isinstance(p, IncludeFile) and p.attr in params and not _is_loaded(params[p.attr]):
            try:
                content, where = p.load(params[p.attr])
            except ParameterError as exc:
                # Metaflow reads the file while click parses the option: a usage error (exit 2).
                raise CommandLineError(str(exc)) from None
            values[p.attr] = content
            shown[p.attr] = where.descriptor if where is not None else None
    return values, shown


def _is_loaded(value: Any) -> bool:
    # A resumed run passes the origin's values, already read.
    return isinstance(value, _Loaded)


class _Loaded:
    def __init__(self, value: Any) -> None:
        self.value = value


def run_values(info: FlowInfo, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters, Configs and class-level constants: every task's read-only artifacts."""
    values = {k: (v.value if isinstance(v, _Loaded) else v) for k, v in params.items()}
    for c in info.configs:
        values[c.attr] = c.value
    values.update(info.constants)
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
              cloner_factory: Any = None, backends: tuple[Any, Any, Any] | None = None,
              run_id: str | None = None) -> int:
    from contract.settings import load_settings
    from core_runtime.environments import prepare_environments
    from core_runtime.scheduler.console import Console
    from core_runtime.scheduler.run_state import RunSetup
    from core_runtime.scheduler.runner import Runner

    max_workers = _max_workers(cmd)
    if backends is None:
        settings = load_settings()
        store, ds = open_backends(settings)
    else:
        settings, store, ds = backends
    from core_runtime.cards.card_types import load_card_modules
    from core_runtime.flow_decorators import init_flow_decorators, project_info
    from core_runtime.user import username as resolve_user

    load_card_modules(settings.card_modules)
    max_num_splits = _optional_int(cmd, "max-num-splits")
    _optional_int(cmd, "max-log-size")
    username = resolve_user(settings)
    tags = list(dict.fromkeys(cmd.options.get("tag", [])))
    _validate_tags(tags)
    system_tags = [f"user:{username}", "runtime:flowscope",
                   f"python_version:{platform.python_version()}"]
    project = project_info(info.flow_cls, cmd, username)
    if project is not None:
        system_tags += project.system_tags
    trigger = _trigger(cmd)
    loaded, shown = load_include_files(info, params)
    values = run_values(info, loaded)
    shown = {k: (v.value if isinstance(v, _Loaded) else v) for k, v in shown.items()}
    shown.update({c.attr: c.value for c in info.configs})
    graph = info.graph
    from core_runtime.cli.executor_opts import open_remote

    remote, remote_all = open_remote(cmd, info, settings)
    console = Console(quiet=cmd.quiet)
    environments = prepare_environments(info.flow_cls, graph, settings, console.line)
    cloner = cloner_factory(store, ds) if cloner_factory else None
    graph_info = graph.to_graph_info()
    run = store.create_run(graph.flow_name, user=username, tags=tags, system_tags=system_tags,
                           parameters={k: _jsonable(v) for k, v in shown.items()},
                           dag=graph_info, file_name=os.path.basename(info.file),
                           source=info.source, origin_run_id=origin_run_id, run_id=run_id)
    if cloner is not None:
        cloner.attach(run)
    if origin_run_id is None:     # `run`, not `resume`: what a later bare `resume` resumes
        write_latest_run(settings, graph.flow_name, run.run_id)
    run_id_file = cmd.option("run-id-file")
    if run_id_file:
        write_whole(run_id_file, run.run_id)
    write_runner_attributes(cmd.option("runner-attribute-file"), graph.flow_name, run.run_id)
    console.line(f"Workflow starting (run-id {run.run_id}):" if origin_run_id is None else
                 f"Workflow resuming run {origin_run_id} as run-id {run.run_id}:")
    init_flow_decorators(info.flow_cls, cmd)
    if trigger is not None:
        from core_runtime.current import current

        current._update_env({"trigger": trigger})   # tasks are forked from this process
    setup = RunSetup(flow_cls=info.flow_cls, graph=graph, settings=settings, store=store, ds=ds,
                     run=run, username=username, tags=tags, run_values=values,
                     max_workers=max_workers, console=console, origin_run_id=origin_run_id,
                     cloner=cloner, environments=environments,
                     parameter_names=sorted([p.attr for p in info.parameters] + [c.attr for c in info.configs]),
                     project=_project_fields(project), graph_info=graph_info,
                     max_num_splits=max_num_splits, remote=remote, remote_all=remote_all)
    code = Runner(setup).execute()
    from core_runtime.exit_hooks import run_exit_hooks

    run_exit_hooks(info.flow_cls, info.file, f"{graph.flow_name}/{run.run_id}", code == 0)
    return code


def _trigger(cmd: Any) -> Any:
    """``--trigger`` of @trigger_on_finish (core_runtime/events.py), checked before the run exists."""
    pathspecs = list(cmd.top.get("trigger", []))
    if not pathspecs:
        return None
    from core_runtime.client import FlowscopeClientError
    from core_runtime.events import trigger_from_options

    try:
        return trigger_from_options(pathspecs)
    except FlowscopeClientError as exc:
        raise UsageError(f"--trigger: {exc}") from None


def write_runner_attributes(path: str | None, flow: str, run_id: str) -> None:
    """For the Runner API (runner/): the run's pathspec, written as soon as the run exists."""
    if not path:
        return
    import json

    write_whole(path, json.dumps({"flow_name": flow, "run_id": run_id, "metadata": "flowscope@"}))


def _project_fields(project: Any) -> dict[str, Any]:
    if project is None:
        return {}
    return {"project_name": project.project_name, "branch_name": project.branch_name,
            "project_flow_name": project.project_flow_name, "is_production": project.is_production}


def run_command(cmd: Any, info: FlowInfo) -> int:
    from contract.settings import load_settings
    from core_runtime.config import config_values
    from core_runtime.parameters import AttrDict, ParameterContext
    from core_runtime.user import username

    if cmd.positional:
        raise CommandLineError(f"unexpected argument {cmd.positional[0]!r} for 'run'")
    _max_workers(cmd)
    _optional_int(cmd, "max-num-splits")
    user_namespace = cmd.option("namespace")
    if user_namespace is not None:
        # As Metaflow's ``run --namespace``: set before anything runs, so the tasks (forked from
        # this process) read other runs through the client in that namespace; "" is global.
        from core_runtime.client.namespace import namespace

        namespace(user_namespace or None)
    from core_runtime.current import current
    from core_runtime.flow_decorators import project_info

    user = username(load_settings())
    # Default functions of parameters see current.project_name etc., as in Metaflow.
    current._set(**_project_fields(project_info(info.flow_cls, cmd, user)))
    ctx = ParameterContext(flow_name=info.graph.flow_name, user_name=user,
                           ds_type="local", configs=AttrDict(config_values(info.flow_cls)))
    params = resolve_parameters(cmd, info.parameters, flow_cls=info.flow_cls, ctx=ctx)
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
    run_id = cmd.option("run-id") or None
    if run_id is not None:
        # As Metaflow: integer run IDs are the ones allocated for runs, a given one must not clash.
        try:
            int(run_id)
        except ValueError:
            pass
        else:
            raise UsageError(f"run-id {run_id} cannot be an integer")
    settings = load_settings()
    store, ds = open_backends(settings)
    origin = cmd.option("origin-run-id")
    if origin is None:
        # As Metaflow: the latest run `run` (or `spin`) started here, not the latest of any kind.
        origin = read_latest_run(settings, info.graph.flow_name)
        if origin is None:
            raise UsageError(f"resume: a previous run id of {info.graph.flow_name} was not found (no run "
                             "started here with `run`); specify --origin-run-id")
    try:
        planner = ResumePlanner.find(store.conn, info.graph, origin, step)
    except ResumeError as exc:
        raise UsageError(str(exc)) from None
    params: dict[str, Any] = {k: _Loaded(v) for k, v in
                              planner.parameters([p.attr for p in info.parameters], ds).items()}
    for p in info.parameters:
        params.setdefault(p.attr, p.default_value(None, info.flow_cls))
    return start_run(cmd, info, params, origin_run_id=planner.origin_run_id,
                     cloner_factory=planner.cloner, backends=(settings, store, ds), run_id=run_id)
