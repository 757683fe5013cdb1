"""The service's own resources: status, settings, version, plugins; and the websocket's messages."""

from __future__ import annotations

from backend.resources.schema import ANY, BOOL, INT, JSON_OBJECT, NUM, STR, arr, mapping, nullable, obj, ref

MIRROR_STATES = ["starting", "backfilling", "live", "lagging", "disconnected", "refused", "stopped"]

SCHEMAS = {
    "Status": {**JSON_OBJECT, "properties": {"mirrors": arr(ref("MirrorState"))}, "required": ["mirrors"],
               "description": "Health of the pool, listener, caches, datastore, artifact worker and "
                              "websocket hub (diagnostic; fields may grow), and the mirrors feeding "
                              "this database (typed: the UI shows them)."},
    # backend/mirror/status.py: describe() over MirrorStatus.detail(), as the mirror published it.
    "MirrorState": obj({
        "name": STR, "state": {"type": "string", "enum": MIRROR_STATES}, "label": STR,
        "lag_ms": nullable(INT), "updated_at": INT, "source": STR, "schema_version": nullable(INT),
        "listening": BOOL, "triggers": arr(STR),
        "backfill": obj({"runs_done": INT, "runs_total": INT, "percent": NUM, "runs_per_s": nullable(NUM),
                         "eta_s": nullable(INT), "started_at": nullable(INT)}),
        "rows_applied": INT, "caught_up_at": nullable(INT), "last_change_at": nullable(INT),
        "disconnected_since": nullable(INT), "unreachable": nullable({"type": "string", "enum": ["source", "flowscope"]}),
        "error": nullable(STR), "skipped_rows": INT, "last_skipped": arr(STR),
        "datastore_unreadable": mapping(INT), "source_queries": INT, "source_queries_per_s": nullable(NUM),
    }, description="A mirror of a metaflow-service database (docs/metaflow.md): its state as shown "
                   "(label: \"backfilling 43 %\", \"lagging 12 s\", ...) and the facts behind it. "
                   "Times are epoch ms."),
    "Settings": mapping(ANY),
    "Version": obj({"version": STR, "api": INT, "heartbeat_timeout_s": {
        **NUM, "description": "FLOWSCOPE_HEARTBEAT_TIMEOUT: a running run or task silent for longer "
                              "is reported failed (heartbeat lost)."}}),
    "Suggestion": {**STR, "description": "An autocomplete suggestion (a flow, Flow/Run, step, tag, user "
                                         "or task id)."},
    "Plugin": obj({"id": STR, "folder": STR, "source": STR, "enabled": BOOL, "error": nullable(STR)},
                  optional={"manifest": ref("PluginManifest"), "entry_url": STR}),
    "LiveMessage": obj({"type": STR}, optional={
        "id": {"type": ["string", "integer", "null"]}, "resource": STR, "seq": INT, "data": ANY,
        "message": STR}, extra=True,
        description="A websocket message (docs/api.md, Websocket): subscribed, insert, update, error, "
                    "pong. An insert/update's data has the schema that LiveFeeds names for the "
                    "subscribed resource's feed."),
}
