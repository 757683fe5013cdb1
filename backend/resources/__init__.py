"""The API's resources, each declared once: its JSON shape, its schema and its live feed.

| resource | shape, schema, feed | HTTP (parse → query → shape) | SQL |
| --- | --- | --- | --- |
| flows | resources/flows.py | api/flows.py | db/flows.py |
| runs | resources/runs.py | api/runs.py | db/runs.py |
| steps, dag | resources/steps.py | api/steps.py | db/steps.py |
| tasks, attempts | resources/tasks.py | api/tasks.py | db/tasks.py |
| artifacts | resources/artifacts.py | api/artifacts.py | db/artifacts.py |
| cards | resources/cards.py | api/cards.py | db/cards.py |
| logs | resources/logs.py | api/logs.py | db/logs.py |
| metadata | resources/metadata.py | api/metadata.py | db/metadata.py |
| timeline | resources/timeline.py | api/timeline.py | db/timeline.py |
| compare | resources/compare.py | api/compare.py | db/compare.py |
| search | resources/search.py | api/search.py | db/search.py |
| meta, plugins, websocket | resources/meta.py | api/meta.py, api/plugins.py, live/ws.py | |
| failure digest | resources/digest.py | api/digest.py | db/digest.py |
| status explanations | resources/explain.py | api/explain.py | db/explain.py |
| critical path, durations | resources/critical_path.py, durations.py | api/critical_path.py, durations.py | db/task_spans.py |
| log diff | resources/log_diff.py | api/log_diff.py | db/log_diff.py |
| run summary | resources/summary.py | api/summary.py | db/summary.py |

A route (backend/routes.py) names its response's schema (``item``) and, when it can be
subscribed to, its feed; the OpenAPI document and the live feed read both from here.
"""

from __future__ import annotations

from types import ModuleType

from backend.live.events import Feed
from backend.plugins.manifest import manifest_schema
from backend.resources import (
    artifacts,
    cards,
    compare,
    critical_path,
    digest,
    durations,
    explain,
    flows,
    log_diff,
    logs,
    meta,
    metadata,
    runs,
    search,
    steps,
    summary,
    tasks,
    timeline,
)
from backend.resources.schema import Schema

RESOURCES: tuple[ModuleType, ...] = (runs, flows, steps, tasks, artifacts, cards, logs, metadata,
                                     timeline, compare, search, meta, digest, explain, critical_path,
                                     durations, log_diff, summary)


def schemas() -> dict[str, Schema]:
    """Every component schema, by name (a name declared twice is an error)."""
    out: dict[str, Schema] = {}
    for module in RESOURCES:
        for name, schema in module.SCHEMAS.items():
            if name in out:
                raise ValueError(f"schema {name!r} is declared twice ({module.__name__})")
            out[name] = schema
    # The plugin manifest's schema is the file that validates manifests (plugins/).
    manifest = {k: v for k, v in manifest_schema().items() if k not in ("$schema", "$id")}
    out["PluginManifest"] = manifest
    return out


def feeds() -> dict[str, Feed]:
    """Every live feed, by name."""
    return {feed.name: feed for module in RESOURCES for feed in getattr(module, "FEEDS", ())}
