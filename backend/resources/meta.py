"""The service's own resources: status, settings, version, plugins; and the websocket's messages."""

from __future__ import annotations

from backend.resources.schema import ANY, BOOL, INT, JSON_OBJECT, STR, mapping, nullable, obj, ref

SCHEMAS = {
    "Status": {**JSON_OBJECT, "description": "Health of the pool, listener, caches, datastore, artifact "
                                             "worker and websocket hub (diagnostic; fields may grow)."},
    "Settings": mapping(ANY),
    "Version": obj({"version": STR, "api": INT}),
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
