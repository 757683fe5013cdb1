"""``@schedule``, ``@trigger``, ``@trigger_on_finish``: flow decorators that only act when a flow
is deployed to a production scheduler (Argo Workflows, Step Functions, Airflow).

A local ``run`` of a Metaflow flow checks their arguments and otherwise ignores them; so does
core_runtime, which has no deployment: they are recorded with the flow (the run's DAG lists them)
so a flow written for Metaflow runs unchanged. ``trigger_on_finish`` adds Metaflow's ``--trigger
FLOW/RUN`` option, the local stand-in for the finishing runs, which sets ``current.trigger``
(core_runtime/events.py).
"""

from __future__ import annotations

from typing import Any

from core_runtime.decorators import DecoratorError
from core_runtime.flow_decorators import FlowDecoratorSpec, attach


def _apply(cls: type | None, spec: FlowDecoratorSpec) -> Any:
    def apply(klass: type) -> type:
        return attach(klass, spec)

    return apply(cls) if cls is not None else apply


def schedule(cls: type | None = None, *, cron: str | None = None, weekly: bool = False, daily: bool = True,
             hourly: bool = False, timezone: str | None = None) -> Any:
    if cron is not None and not isinstance(cron, str):
        raise DecoratorError(f"@schedule(cron={cron!r}): expected a cron expression as text")
    return _apply(cls, FlowDecoratorSpec("schedule", {"cron": cron, "weekly": bool(weekly), "daily": bool(daily),
                                                      "hourly": bool(hourly), "timezone": timezone}))


def _one_of(deco: str, single: str, value: Any, plural: str, values: Any) -> None:
    if value and values:
        raise DecoratorError(f"@{deco}: specify only one of {single}= or {plural}=")
    if not value and not values:
        raise DecoratorError(f"@{deco}: no {plural} given (use {single}=... or {plural}=[...])")
    if values and not (isinstance(values, list) or callable(values)):
        raise DecoratorError(f"@{deco}({plural}={values!r}): expected a list")


def trigger(cls: type | None = None, *, event: Any = None, events: Any = (),
            options: dict[str, Any] | None = None) -> Any:
    events = list(events) if isinstance(events, tuple) else events
    _one_of("trigger", "event", event, "events", events)
    return _apply(cls, FlowDecoratorSpec("trigger", {"event": event, "events": events,
                                                     "options": dict(options or {})}))


def trigger_on_finish(cls: type | None = None, *, flow: Any = None, flows: Any = (),
                      options: dict[str, Any] | None = None) -> Any:
    flows = list(flows) if isinstance(flows, tuple) else flows
    _one_of("trigger_on_finish", "flow", flow, "flows", flows)
    # --trigger FLOW/RUN (repeatable): the local stand-in for the finished runs (core_runtime/events.py).
    return _apply(cls, FlowDecoratorSpec("trigger_on_finish", {"flow": flow, "flows": flows,
                                                               "options": dict(options or {})},
                                         options={"trigger": True}))
