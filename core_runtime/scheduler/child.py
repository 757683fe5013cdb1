"""Inside a task process: build the FlowSpec, run the step, persist what it set, report back.

Runs in the forked child (or in-process for ``spin``). Never touches Postgres: everything the
parent needs goes into the returned ChildResult.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core_runtime.current import Parallel, current
from core_runtime.decorators import CaughtException, find_decorator, plugin_decorators, resolved_attributes
from core_runtime.flowspec import FlowSpec, Inputs, _ArtifactView
from core_runtime.scheduler.plan import ChildResult, Record, TaskPlan

FOREACH_LABEL_LIMIT = 60
# The foreach variable of a @parallel gang's frames (the gang has no list artifact).
PARALLEL_VAR = "_parallel_ubf_iter"


@dataclass
class TaskContext:
    flow_cls: type[FlowSpec]
    graph: Any
    flow_name: str
    run_id: str
    task_id: str
    attempt: int
    username: str | None
    origin_run_id: str | None
    run_values: dict[str, Any]           # parameters and configs, by attribute name
    tags: list[str] = field(default_factory=list)
    fallback: dict[str, Any] | None = None   # @catch after the last failed attempt
    skip_decorators: bool = False        # spin --skip-decorators: run the bare step function
    env_python: str | None = None        # @pypi/@conda: the environment's interpreter runs the step
    env_pythonpath: str | None = None    # ... with the runtime's own packages on this path
    catch_here: dict[str, Any] | None = None  # @catch attributes on the last user-code attempt
    catch_var: str | None = None  # the step's @catch(var=...), on every attempt: None after a success
    timeout_seconds: float | None = None      # @timeout (TimeoutException raised in the step)
    parameter_names: list[str] = field(default_factory=list)
    project: dict[str, Any] = field(default_factory=dict)   # current.project_name etc.
    graph_info: dict[str, Any] | None = None
    parallel: Parallel | None = None
    max_num_splits: int | None = None


def foreach_label(value: Any) -> str:
    """Short label of a foreach input (shown in the UI next to the task)."""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a user __str__ may raise anything
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= FOREACH_LABEL_LIMIT else text[: FOREACH_LABEL_LIMIT - 1] + "…"


_RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _exception_fields(exc: BaseException) -> dict[str, Any]:
    # Start the traceback at the user's code: the runtime's own frames only add noise.
    tb_obj = exc.__traceback__
    while tb_obj is not None and tb_obj.tb_frame.f_code.co_filename.startswith(_RUNTIME_DIR) \
            and tb_obj.tb_next is not None:
        tb_obj = tb_obj.tb_next
    tb = "".join(traceback.format_exception(type(exc), exc, tb_obj))
    return {"exception_type": recorded_type(type(exc)), "exception_message": str(exc), "traceback": tb,
            "exception_class": f"{type(exc).__module__}.{type(exc).__name__}"}


def recorded_type(cls: type[BaseException]) -> str:
    """The class name an attempt records: bare (``ValueError``, ``QuotaExceeded``), as the traceback's
    last line shows it, except for a class of another module that shares a built-in exception's
    name (a flow file's ``class ValueError(Exception)``): that one keeps its module
    (``__main__.ValueError``), or every reader, the client's ``task.exception.type`` first, would
    take it for Python's."""
    name, module = cls.__name__, cls.__module__
    shadowed = getattr(builtins, name, None)
    if module != "builtins" and isinstance(shadowed, type) and issubclass(shadowed, BaseException):
        return f"{module}.{name}"
    return name


def _element(items: Any, index: int) -> Any:
    if isinstance(items, (list, tuple, range, str)):
        return items[index]
    return list(items)[index]


def prepare_flow(ctx: TaskContext, plan: TaskPlan, loader: Callable[[str], Any]) -> tuple[FlowSpec, Inputs | None]:
    flow = ctx.flow_cls(use_cli=False)
    d = flow.__dict__
    d["_fs_step"] = plan.step
    d["_fs_loader"] = loader
    d["_fs_run_values"] = dict(ctx.run_values)
    d["_fs_stack"] = [dict(f) for f in plan.stack]
    d["_fs_is_join"] = plan.is_join
    d["_fs_constants"] = frozenset(ctx.run_values)
    inputs = None
    if plan.is_join:
        views = [_ArtifactView(p.step, p.task_id, p.records, loader, {}) for p in plan.parents]
        inputs = Inputs(views)
        d["_fs_records_in"] = {}
    elif plan.parents:
        d["_fs_records_in"] = dict(plan.parents[0].records)
    if plan.stack:
        top = plan.stack[-1]
        d["_fs_index"] = int(top["index"])
        # self.input is the element of the split's foreach list; read only if the step uses it.
        var = top["var"]
        records = d["_fs_records_in"]
        if var == PARALLEL_VAR:
            d["_fs_input"] = int(top["index"])      # a @parallel node's input is its index
        d["_fs_input_loader"] = (lambda: _element(loader(records[var]["location"]), int(top["index"]))) \
            if var in records else None
    return flow, inputs


def run_step(ctx: TaskContext, plan: TaskPlan, ds: Any, *, persist: bool = True) -> tuple[ChildResult, FlowSpec | None]:
    """Run one attempt of a step; never raises for user errors (they go into the result)."""
    from core_runtime.artifacts import ArtifactError, load_artifact, persist_artifacts
    from core_runtime.scheduler.card_collect import collector_for_step
    from core_runtime.scheduler.process import child_events_fd

    current._reset()
    current._set(flow_name=ctx.flow_name, run_id=ctx.run_id, step_name=plan.step,
                 task_id=ctx.task_id, retry_count=ctx.attempt, origin_run_id=ctx.origin_run_id,
                 username=ctx.username, tags=ctx.tags, is_running_flow=True,
                 parameter_names=ctx.parameter_names, graph=ctx.graph_info, parallel=ctx.parallel,
                 **ctx.project)
    fn = getattr(ctx.flow_cls, plan.step)
    collector = None if ctx.skip_decorators else collector_for_step(
        fn, ds, ctx, plan.step, child_events_fd() if persist else None)
    if collector is not None:
        current._set(card=collector)
    flow: FlowSpec | None = None
    try:
        if not ctx.skip_decorators:
            apply_task_environment(ctx.flow_cls, fn)
        flow, inputs = prepare_flow(ctx, plan, lambda loc: load_artifact(ds, loc))
        caught = False
        if ctx.fallback is not None:
            _apply_catch(ctx, plan, flow)
        elif ctx.catch_here is not None:
            caught = _call_step_catching(ctx, plan, flow, fn, inputs)
        else:
            with step_timeout(ctx.timeout_seconds):
                _call_step(ctx, plan, flow, fn, inputs)
        if ctx.catch_var and ctx.fallback is None and not caught:
            # As Metaflow's @catch (task_post_step): the variable exists on every task of the step,
            # None where nothing was caught, so a join can read ``input.<var>`` of each input.
            flow.__dict__[ctx.catch_var] = None
        result = _transition(ctx, plan, flow)
        values = {k: v for k, v in flow.__dict__.items() if not k.startswith("_")}
        if plan.step == ctx.graph.start_step:
            values.update({k: (v.to_dict() if hasattr(v, "to_dict") else v)
                           for k, v in ctx.run_values.items()})
        records_in: dict[str, Record] = flow._fs_records_in
        inherited: dict[str, Record] = {k: r for k, r in records_in.items() if k not in values}
        if persist:
            new = [dataclasses.asdict(r) for r in persist_artifacts(ds, ctx.flow_name, plan.step, values)]
            result.records = list(inherited.values()) + new
            # Values read from a parent are saved again (same sha); only changed ones were set here.
            result.set_here = sorted(r["name"] for r in new
                                     if (records_in.get(r["name"]) or {}).get("sha") != r["sha"])
            if collector is not None:
                result.cards = collector.finish(result.records, values, ctx.graph_info)
        else:
            from core_runtime.artifacts import make_preview

            result.records = [{"name": k, "preview": make_preview(v)} for k, v in values.items()]
            result.set_here = _changed_names(values, records_in)
        result.caught = ctx.fallback is not None or caught
        return result, flow
    except ArtifactError as exc:
        return ChildResult(ok=False, exception_type="ArtifactError", exception_message=str(exc),
                           traceback=str(exc)), flow
    except Exception as exc:  # noqa: BLE001 - any error of the step is the task's result
        failed = ChildResult(ok=False, **_exception_fields(exc))
        if persist and flow is not None:
            failed.records = _failed_attempt_records(ds, ctx, plan, flow)
        return failed, flow


def _changed_names(values: dict[str, Any], records_in: dict[str, Record]) -> list[str]:
    """Names set by the step: new, or with a value whose pickle differs from the input's."""
    import hashlib

    from core_runtime.artifacts import serialize

    out = []
    for name, value in values.items():
        rec = records_in.get(name)
        try:
            same = rec is not None and hashlib.sha1(serialize(value)).hexdigest() == rec.get("sha")
        except Exception:  # noqa: BLE001 - an unpicklable value cannot equal a stored input
            same = False
        if not same:
            out.append(name)
    return sorted(out)


@contextmanager
def step_timeout(seconds: float | None) -> Iterator[None]:
    """@timeout: TimeoutException is raised in the step when time is up (the scheduler kills
    the task's processes a little later if the step does not stop)."""
    import signal

    from core_runtime.exception import TimeoutException

    if not seconds:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutException(f"timeout after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _failed_attempt_records(ds: Any, ctx: TaskContext, plan: TaskPlan, flow: FlowSpec) -> list[Record]:
    """The artifacts of a failed attempt, as Metaflow persists them (the task's ``data`` shows what
    the step had set before it raised); nothing if they cannot be saved (the error stays the
    step's own)."""
    from core_runtime.artifacts import persist_artifacts

    try:
        values = {k: v for k, v in flow.__dict__.items() if not k.startswith("_")}
        inherited = {k: r for k, r in flow._fs_records_in.items() if k not in values}
        new = [dataclasses.asdict(r) for r in persist_artifacts(ds, ctx.flow_name, plan.step, values)]
        return list(inherited.values()) + new
    except Exception:  # noqa: BLE001 - e.g. an unpicklable value: keep the step's error
        return []


def _call_step_catching(ctx: TaskContext, plan: TaskPlan, flow: FlowSpec, fn: Any,
                        inputs: Inputs | None) -> bool:
    """The last attempt of a @catch step: an exception is stored in the catch variable, the
    artifacts set before it are kept and the flow goes on (as Metaflow's @catch does)."""
    attrs = ctx.catch_here or {}
    try:
        with step_timeout(ctx.timeout_seconds):
            _call_step(ctx, plan, flow, fn, inputs)
        return False
    except Exception as exc:  # noqa: BLE001 - @catch takes any exception of the step
        fields = _exception_fields(exc)
        if attrs.get("print_exception", True):
            sys.stderr.write(f"@catch caught an exception from step {plan.step}:\n{fields['traceback']}")
        ctx.fallback = dict(fields, var=attrs.get("var"))
        _apply_catch(ctx, plan, flow)
        return True


def _call_step(ctx: TaskContext, plan: TaskPlan, flow: FlowSpec, fn: Any, inputs: Inputs | None) -> None:
    """Run the step method, through its user decorators (UserStepDecorator) and the hooks of
    extension step decorators, if it has any."""
    from core_runtime.scheduler.plugin_hooks import PluginHooks

    method = getattr(flow, plan.step)
    wrappers = [] if ctx.skip_decorators else list(getattr(fn, "_fs_wrappers", []))
    outcome: dict[str, Any] = {}

    def body() -> None:
        if not wrappers:
            method(inputs) if plan.is_join else method()
            return
        from core_runtime.user_decorators import run_wrapped

        for w in wrappers:
            w.external_init(ctx.flow_cls)
        outcome["next"] = run_wrapped(flow, plan.step, method, inputs if plan.is_join else None, wrappers)

    hooks = PluginHooks([] if ctx.skip_decorators else plugin_decorators(fn), plan.step, flow,
                        ctx.run_id, ctx.task_id, ctx.attempt, _max_user_retries(ctx, fn))
    handled = hooks.run(body)
    next_args = outcome.get("next")
    if handled and next_args is None and flow._fs_transition is None:
        next_args = {}      # an extension decorator handled the exception: go on as Metaflow does
    if next_args is None or plan.step == ctx.graph.end_step:
        return
    # A decorator skipped or replaced the step, or swallowed its exception: make the
    # transition the step would have made.
    node = ctx.graph.steps[plan.step]
    targets = [getattr(flow, n) for n in node.next]
    flow.__dict__["_fs_transition"] = None
    if next_args:
        flow.next(*targets, **next_args)
    elif node.foreach_artifact:
        flow.next(*targets, foreach=node.foreach_artifact)
    elif node.num_parallel:
        raise RuntimeError(f"step {plan.step!r}: a decorator skipped a @parallel split without "
                           f"giving num_parallel for self.next")
    else:
        flow.next(*targets)


def _max_user_retries(ctx: TaskContext, fn: Any) -> int:
    retry = find_decorator(fn, "retry")
    return int(resolved_attributes(retry, ctx.flow_cls).get("times", 0)) if retry else 0


def apply_task_environment(flow_cls: type, fn: Any) -> None:
    """@environment variables, then @secrets, into this task process's environment."""
    env = find_decorator(fn, "environment")
    if env is not None:
        for key, value in (resolved_attributes(env, flow_cls).get("vars") or {}).items():
            os.environ[str(key)] = str(value)
    secrets = find_decorator(fn, "secrets")
    if secrets is not None:
        from core_runtime.secrets import load_secrets

        attrs = resolved_attributes(secrets, flow_cls)
        for key, value in load_secrets(attrs["sources"], role=attrs.get("role")).items():
            if key in os.environ and not attrs.get("allow_override"):
                raise RuntimeError(f"@secrets: {key} is already set in the environment "
                                   f"(pass allow_override=True to replace it)")
            os.environ[key] = value


def _apply_catch(ctx: TaskContext, plan: TaskPlan, flow: FlowSpec) -> None:
    fb = ctx.fallback or {}
    var = fb.get("var")
    if var:
        flow.__dict__[var] = CaughtException(fb.get("exception_class") or fb.get("exception_type")
                                             or "Exception",
                                             fb.get("exception_message") or "",
                                             fb.get("traceback") or "")
    node = ctx.graph.steps[plan.step]
    flow.__dict__["_fs_transition"] = None
    if plan.step != ctx.graph.end_step:
        if node.foreach_artifact:
            raise RuntimeError(f"@catch cannot continue step {plan.step!r}: it starts a foreach")
        flow.__dict__["_fs_transition"] = {"next": list(node.next), "foreach": None}


def _transition(ctx: TaskContext, plan: TaskPlan, flow: FlowSpec) -> ChildResult:
    trans = flow._fs_transition
    node = ctx.graph.steps[plan.step]
    if plan.step == ctx.graph.end_step:
        if trans is not None:
            raise RuntimeError(f"step {plan.step!r} is the end step and must not call self.next")
        return ChildResult(ok=True)
    if trans is None and ctx.parallel is not None and ctx.parallel.node_index != 0:
        # A @parallel worker follows its control task's transition (as in Metaflow), so it may
        # return without calling self.next.
        trans = {"next": list(node.next), "foreach": None}
    if trans is None:
        raise RuntimeError(f"step {plan.step!r} finished without calling self.next(...)")
    if node.is_switch:
        # One case was chosen; it must be one the graph (the source) lists.
        if len(trans["next"]) != 1 or trans["next"][0] not in node.next:
            raise RuntimeError(f"switch step {plan.step!r} went to {', '.join(trans['next'])}, but its "
                               f"cases lead to {', '.join(node.out_steps() + ([plan.step] if node.is_recursive else []))}"
                               f" (line {node.next_line or node.line})")
        return ChildResult(ok=True, next=list(trans["next"]))
    if trans.get("switch"):
        raise RuntimeError(f"step {plan.step!r} called a switch (condition=) but the flow's graph says "
                           f"self.next({', '.join(node.next)}) (line {node.line})")
    if list(trans["next"]) != list(node.next):
        raise RuntimeError(f"step {plan.step!r} called self.next({', '.join(trans['next'])}) but "
                           f"the flow's graph says self.next({', '.join(node.next)}) (line {node.line})")
    result = ChildResult(ok=True, next=list(trans["next"]))
    var = trans.get("foreach")
    if trans.get("num_parallel"):
        n = int(trans["num_parallel"])
        result.foreach_var, result.num_splits, result.labels = PARALLEL_VAR, n, [str(i) for i in range(n)]
        return result
    if var:
        try:
            items = getattr(flow, var)
        except AttributeError:
            raise RuntimeError(f"step {plan.step!r}: foreach={var!r} but self.{var} is not set") from None
        try:
            items = list(items)
        except TypeError:
            raise RuntimeError(f"step {plan.step!r}: foreach over self.{var}, which is a "
                               f"{type(items).__name__}, not a list or other iterable") from None
        if not items:
            raise RuntimeError(f"step {plan.step!r}: foreach over self.{var}, which is empty")
        if ctx.max_num_splits is not None and len(items) > ctx.max_num_splits:
            raise RuntimeError(f"step {plan.step!r}: foreach over self.{var} has {len(items)} "
                               f"splits, more than --max-num-splits {ctx.max_num_splits}")
        result.foreach_var = var
        result.num_splits = len(items)
        result.labels = [foreach_label(v) for v in items]
    return result
