"""``spin PATHSPEC``: run one step with the inputs its parents produced in a past run (Metaflow 2.19).

    python flow.py spin train                          # inputs of train's task in my latest run
    python flow.py spin 12/train/345                   # that task's inputs
    python flow.py spin newstep --artifacts-module a.py --persist

Nothing is recorded in Postgres. ``--artifacts-module`` injects or overrides inputs;
``--persist`` keeps what the task produced under ``.flowscope_spin`` (read it back with
``inspect_spin``); ``--skip-decorators`` runs the bare step. Of the step's decorators only
@timeout, @card and the environment decorators apply, as in Metaflow; @parallel is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from core_runtime.cli.args import UsageError
from core_runtime.cli.flow_info import FlowInfo
from core_runtime.cli.latest_run import write_latest_run
from core_runtime.cli.output_files import write_whole

# Decorators a spun step keeps (Metaflow's SPIN_ALLOWED_DECORATORS), and those that refuse spin.
SPIN_ALLOWED = ("timeout", "card", "environment", "pypi", "conda", "pypi_base", "conda_base", "project")
SPIN_REFUSED = ("parallel", "pytorch_parallel")


def _flag(cmd: Any, name: str, default: bool) -> bool:
    """``--name`` / ``--no-name`` (the negative form wins if both are given)."""
    if cmd.option(f"no-{name}"):
        return False
    return True if cmd.option(name) else default


def spin_command(cmd: Any, info: FlowInfo) -> int:
    from contract.settings import load_settings
    from core_runtime.spin.pathspec import SpinPathspecError, SpinTarget, parse_spin_pathspec

    if len(cmd.positional) != 1:
        raise UsageError("spin needs exactly one PATHSPEC: spin STEP | RUN/STEP | RUN/STEP/TASK "
                         "[--artifacts-module FILE] [--persist]")
    graph = info.graph
    try:
        target = parse_spin_pathspec(cmd.positional[0], graph.flow_name)
    except SpinPathspecError as exc:
        raise UsageError(str(exc)) from None
    if cmd.option("run-id") and target.run_id is None:
        target = SpinTarget(target.step, cmd.option("run-id"))
    if target.step not in graph.steps:
        raise UsageError(f"spin: no step {target.step!r} in {graph.flow_name} "
                         f"(steps: {', '.join(graph.steps)})")
    settings = load_settings()
    persist = _flag(cmd, "persist", bool(settings.spin_persist))
    skip = _flag(cmd, "skip-decorators", False)
    if not skip:
        from core_runtime.flow_decorators import init_flow_decorators

        init_flow_decorators(info.flow_cls, cmd)   # extension flow decorators, as for a run
    return Spin(cmd, info, settings, target, persist=persist, skip_decorators=skip).execute()


class Spin:
    def __init__(self, cmd: Any, info: FlowInfo, settings: Any, target: Any, *, persist: bool,
                 skip_decorators: bool) -> None:
        from core_runtime.scheduler.console import Console

        self.cmd, self.info, self.settings, self.target = cmd, info, settings, target
        self.persist, self.skip = persist, skip_decorators
        self.console = Console(quiet=cmd.quiet)
        self.step = target.step
        self.flow = info.graph.flow_name

    def execute(self) -> int:
        from core_runtime.spin.artifacts_module import ArtifactsModuleError, read_artifacts_module
        from core_runtime.spin.inputs import SpinInputError, find_inputs

        timeout = self._decorators()
        module_path = self.cmd.option("artifacts-module")
        try:
            injected = read_artifacts_module(module_path) if module_path else {}
        except ArtifactsModuleError as exc:
            raise UsageError(str(exc)) from None
        conn, ds = _read_backends(self.settings)
        username = self.settings.user or _login()
        self.console.line(f"Spinning up step {self.step} locally for flow {self.flow}")
        try:
            found = find_inputs(conn, self.info.graph, ds, self.target,
                                namespace=None if self.target.run_id else f"user:{username}",
                                inputs_given=bool(module_path))
        except SpinInputError as exc:
            raise UsageError(f"spin: {exc}") from None
        finally:
            conn.close()
        for note in found.notes:
            self.console.line(note)
        if found.spun_task is not None and self.target.task_id is None:
            self.console.line(f"Inputs of {self.flow}/{found.past.run_id}/{self.step}/"
                              f"{found.spun_task.task_id} (give that pathspec to pick another task).")
        tmp = None if self.persist else tempfile.mkdtemp(prefix="flowscope-spin-")
        try:
            return self._run(found, ds, injected, module_path or "", username, timeout, tmp)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)

    # ---- decorators -----------------------------------------------------------------------------
    def _decorators(self) -> float | None:
        """The @timeout to apply (None: none); warns about the decorators spin ignores."""
        from core_runtime.decorators import step_decorators

        decos = step_decorators(getattr(self.info.flow_cls, self.step))
        refused = [d.name for d in decos if d.name in SPIN_REFUSED]
        if refused:
            raise UsageError(f"spin: steps with @{refused[0]} cannot be spun")
        if self.skip:
            return None
        for d in decos:
            if d.name not in SPIN_ALLOWED:
                self.console.line(f"[Warning] Ignoring decorator '{d.name}' as it is not supported "
                                  "in spin steps.")
        timeout = next((d for d in decos if d.name == "timeout"), None)
        return float(timeout.attributes["total_seconds"]) if timeout else None

    # ---- the task -------------------------------------------------------------------------------
    def _run(self, found: Any, ds: Any, injected: dict[str, Any], module_path: str, username: str,
             timeout: float | None, tmp: str | None) -> int:
        from contract.datastore import LocalDatastore, datastore_root
        from core_runtime.cli.run_cmd import run_values
        from core_runtime.logs import LogWriter
        from core_runtime.scheduler.child import TaskContext
        from core_runtime.scheduler.console import LinePrinter
        from core_runtime.spin.execute import run_task
        from core_runtime.spin.layered import LayeredDatastore
        from core_runtime.spin.store import SpinStore

        # The run, its task's metadata and logs are always kept; its artifacts only with --persist.
        spin_store = SpinStore(self.settings.spin_dir or os.getcwd())
        primary = spin_store.datastore if self.persist else LocalDatastore(str(tmp))
        layered = LayeredDatastore(primary, [ds])
        plan = self._inject(found.plan, injected, module_path, layered)
        params = {p.attr: found.past.parameters.get(p.attr, p.default_value()) for p in self.info.parameters}
        run_id, task_id = SpinStore.new_run_id(), "1"
        write_latest_run(self.settings, self.flow, run_id)     # as Metaflow's spin does
        envs = None if self.skip else self._environments()
        env = envs.python_for(self.step) if envs is not None else None
        ctx = TaskContext(flow_cls=self.info.flow_cls, graph=self.info.graph, flow_name=self.flow,
                          run_id=run_id, task_id=task_id, attempt=0, username=username,
                          origin_run_id=found.past.run_id, run_values=run_values(self.info, params),
                          skip_decorators=self.skip, env_python=env[0] if env else None,
                          env_pythonpath=env[1] if env else None)
        task_ref = spin_store.begin(self._run_doc(found, run_id, username, params, datastore_root(self.settings)),
                                    self._task_doc(found, plan, task_id))
        if envs is not None:
            spin_store.record_metadata(envs.metadata(self.step))
        writers = {s: LogWriter(spin_store.datastore, spin_store, task_ref, self.flow, run_id, 0, s,
                                flush_interval=self.settings.log_flush_interval)
                   for s in ("stdout", "stderr")}
        who = f"{run_id}/{self.step}/{task_id}"
        printers = {s: LinePrinter(self._task_line(who)) for s in ("stdout", "stderr")}
        self.console.line(f"[{who}] Task is starting.")
        body = (lambda: _env_child(ctx, plan, self.settings, primary.root, self.persist)) if env else (
            lambda: _child(ctx, plan, layered, self.persist))
        outcome = run_task(body, printers=printers, writers=writers, timeout=timeout)
        for w in writers.values():
            w.close()
        return self._finish(outcome, spin_store, run_id, task_id, who)

    def _environments(self) -> Any:
        """The step's @pypi/@conda environment (built if needed), as in a run; None if it has none."""
        from core_runtime.environments import prepare_environments

        return prepare_environments(self.info.flow_cls, self.info.graph, self.settings, self.console.line,
                                    only=[self.step])

    def _task_line(self, who: str) -> Callable[[str], None]:
        return lambda line: self.console.line(f"[{who}] {line}")

    def _inject(self, plan: Any, injected: dict[str, Any], module_path: str, ds: Any) -> Any:
        """The plan with --artifacts-module values stored (in ``ds``) and put over the inputs."""
        from core_runtime.artifacts import persist_artifacts
        from core_runtime.scheduler.plan import Finished, TaskPlan
        from core_runtime.spin.artifacts_module import ArtifactsModuleError, split_for_join

        if not injected:
            return plan

        def over(parent: Finished, values: dict[str, Any]) -> Finished:
            recs = {r.name: dataclasses.asdict(r) for r in persist_artifacts(ds, self.flow, self.step, values)}
            return Finished(parent.step, parent.task_id, parent.task_pk, {**parent.records, **recs},
                            parent.stack, parent.next, parent.foreach_var, parent.num_splits, parent.labels)

        try:
            if plan.is_join:
                per_input = split_for_join(injected, [p.path for p in plan.parents], module_path)
                parents = [over(p, per_input[p.path]) for p in plan.parents]
            else:
                first = plan.parents[0] if plan.parents else Finished("_artifacts_module", "0", 0, {}, [],
                                                                      [self.step])
                parents = [over(first, injected)] + list(plan.parents[1:])
        except ArtifactsModuleError as exc:
            raise UsageError(str(exc)) from None
        self.console.line(f"Inputs from --artifacts-module {module_path}: "
                          f"{', '.join(sorted(injected))}")
        return TaskPlan(plan.step, parents, plan.stack, plan.is_join)

    def _run_doc(self, found: Any, run_id: str, username: str, params: dict[str, Any],
                 ds_root: str) -> dict[str, Any]:
        from core_runtime.cli.run_cmd import _jsonable

        return {"flow_id": self.flow, "run_id": run_id, "user": username, "tags": [],
                "system_tags": [f"user:{username}", "runtime:flowscope", "spin"],
                "parameters": {k: _jsonable(v) for k, v in params.items()},
                "dag": self.info.graph.to_graph_info(), "origin_run_id": found.past.run_id,
                "datastore_root": ds_root if "://" in ds_root else os.path.abspath(ds_root)}

    def _task_doc(self, found: Any, plan: Any, task_id: str) -> dict[str, Any]:
        spun = found.spun_task
        origin = (f"{self.flow}/{found.past.run_id}/{self.step}/{spun.task_id}" if spun is not None else None)
        return {"step": self.step, "task_id": task_id, "foreach_index": plan.index,
                "foreach_value": plan.foreach_value, "foreach_stack": plan.stack or None,
                "parent_task_ids": [p.path for p in plan.parents if p.task_pk],
                "metadata": [{"field_name": "spun-from", "value": origin or "a step new since that run",
                              "type": "spin", "attempt": 0, "created_at": None}]}

    def _finish(self, outcome: Any, spin_store: Any, run_id: str, task_id: str, who: str) -> int:
        result = outcome.result
        if outcome.ok:
            reason = None
        elif outcome.timed_out is not None:
            reason = f"timeout after {outcome.timed_out:g} s"
        elif result is not None:
            reason = f"{result.exception_type}: {result.exception_message}"
        else:
            reason = f"task process {outcome.how}"
        exc = ({"exception_type": result.exception_type, "exception_message": result.exception_message,
                "traceback": result.traceback} if result is not None and not result.ok else None)
        records = [r for r in (result.records if result is not None and outcome.ok and self.persist else [])
                   if "location" in r]
        spin_store.finish(ok=outcome.ok, reason=reason, records=records, exception=exc,
                          exit_code=outcome.exit_code)
        if not outcome.ok:
            self.console.line(f"[{who}] Task failed: {reason}.")
            sys.stderr.write(f"error: spin of step {self.step} failed: {reason}\n")
            return 1
        self.console.line(f"[{who}] Task finished successfully.")
        self._show(result)
        if self.persist:
            self.console.line(f"Artifacts kept in {spin_store.home} as {self.flow}/{run_id}/{self.step}/"
                              f"{task_id}: read them with inspect_spin({str(spin_store.home.parent)!r}).")
        self._write_files(run_id, task_id, spin_store)
        return 0

    def _show(self, result: Any) -> None:
        if self.console.quiet:
            return
        previews = {r["name"]: r.get("preview", "") for r in result.records}
        print(f"Artifacts set by {self.step}:")
        for name in result.set_here:
            print(f"  {name} = {previews.get(name, '')}")
        if not result.set_here:
            print("  (none)")
        sys.stdout.flush()

    def _write_files(self, run_id: str, task_id: str, spin_store: Any) -> None:
        id_file = self.cmd.option("run-id-file")
        if id_file:
            write_whole(id_file, run_id)
        attr_file = self.cmd.option("runner-attribute-file")
        if attr_file:
            write_whole(attr_file, json.dumps({"flow_name": self.flow, "run_id": run_id, "step_name": self.step,
                                               "task_id": task_id, "metadata": f"spin@{spin_store.home.parent}"}))


def _child(ctx: Any, plan: Any, ds: Any, persist: bool) -> Any:
    from core_runtime.scheduler.child import run_step

    result, _flow = run_step(ctx, plan, ds, persist=persist)
    if not result.ok and result.traceback:   # into the task's stderr, as in a run
        sys.stderr.write(result.traceback if result.traceback.endswith("\n") else result.traceback + "\n")
    return result


def _read_backends(settings: Any) -> tuple[Any, Any]:
    """spin only reads past runs: the writer role if this machine has it (it also prepares an
    embedded database), else the SELECT-only one (a reader-only setup can spin too)."""
    from contract.datastore import open_datastore
    from contract.pg import connect_writer
    from contract.pg.connect import connect, resolve_dsns

    dsns = resolve_dsns(settings)
    conn = connect_writer(settings) if dsns.writer else connect(dsns.reader, what="Postgres (reader)")
    conn.autocommit = True
    return conn, open_datastore(settings)


def _env_child(ctx: Any, plan: Any, settings: Any, spin_root: str, persist: bool) -> Any:
    from core_runtime.environments.launch import run_in_environment

    sys.stdout.flush()
    return run_in_environment(ctx, plan, settings, spin_store=spin_root, persist=persist)


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
