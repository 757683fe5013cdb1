"""Inside a task process: build the FlowSpec, run the step, persist what it set, report back.

Runs in the forked child (or in-process for ``spin``). Never touches Postgres: everything the
parent needs goes into the returned ChildResult.
"""

from __future__ import annotations

import dataclasses
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core_runtime.current import current
from core_runtime.decorators import CaughtException
from core_runtime.flowspec import FlowSpec, Inputs, _ArtifactView
from core_runtime.scheduler.plan import ChildResult, Record, TaskPlan

FOREACH_LABEL_LIMIT = 60


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
    return {"exception_type": type(exc).__name__, "exception_message": str(exc), "traceback": tb}


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
        d["_fs_input_loader"] = (lambda: _element(loader(records[var]["location"]), int(top["index"]))) \
            if var in records else None
    return flow, inputs


def run_step(ctx: TaskContext, plan: TaskPlan, ds: Any, *, persist: bool = True) -> tuple[ChildResult, FlowSpec | None]:
    """Run one attempt of a step; never raises for user errors (they go into the result)."""
    from core_runtime.artifacts import ArtifactError, load_artifact, persist_artifacts
    from core_runtime.scheduler.card_collect import CardCollector

    current._reset()
    current._set(flow_name=ctx.flow_name, run_id=ctx.run_id, step_name=plan.step,
                 task_id=ctx.task_id, retry_count=ctx.attempt, origin_run_id=ctx.origin_run_id,
                 username=ctx.username, tags=ctx.tags, is_running_flow=True)
    fn = getattr(ctx.flow_cls, plan.step)
    collector = None if ctx.skip_decorators else CardCollector.for_step(fn)
    if collector is not None:
        current._set(card=collector)
    flow: FlowSpec | None = None
    try:
        flow, inputs = prepare_flow(ctx, plan, lambda loc: load_artifact(ds, loc))
        if ctx.fallback is not None:
            _apply_catch(ctx, plan, flow)
        else:
            method = getattr(flow, plan.step)
            method(inputs) if plan.is_join else method()
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
                result.cards = collector.write(ds, ctx, plan, result.records)
        else:
            from core_runtime.artifacts import make_preview

            result.records = [{"name": k, "preview": make_preview(v)} for k, v in values.items()]
            result.set_here = _changed_names(values, records_in)
        result.caught = ctx.fallback is not None
        return result, flow
    except ArtifactError as exc:
        return ChildResult(ok=False, exception_type="ArtifactError", exception_message=str(exc),
                           traceback=str(exc)), flow
    except Exception as exc:  # noqa: BLE001 - any error of the step is the task's result
        return ChildResult(ok=False, **_exception_fields(exc)), flow


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


def _apply_catch(ctx: TaskContext, plan: TaskPlan, flow: FlowSpec) -> None:
    fb = ctx.fallback or {}
    var = fb.get("var")
    if var:
        flow.__dict__[var] = CaughtException(fb.get("exception_type") or "Exception",
                                             fb.get("exception_message") or "",
                                             fb.get("traceback") or "")
    node = ctx.graph.steps[plan.step]
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
    if trans is None:
        raise RuntimeError(f"step {plan.step!r} finished without calling self.next(...)")
    if list(trans["next"]) != list(node.next):
        raise RuntimeError(f"step {plan.step!r} called self.next({', '.join(trans['next'])}) but "
                           f"the flow's graph says self.next({', '.join(node.next)}) (line {node.line})")
    result = ChildResult(ok=True, next=list(trans["next"]))
    var = trans.get("foreach")
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
        result.foreach_var = var
        result.num_splits = len(items)
        result.labels = [foreach_label(v) for v in items]
    return result
