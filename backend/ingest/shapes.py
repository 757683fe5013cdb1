"""Database rows → the JSON objects of the metadata-service API (§4)."""

from __future__ import annotations

from typing import Any

from backend.ingest.wire import id_out


def _run_number(run: dict[str, Any]) -> int | str:
    return int(run["run_number"]) if run["run_number"] is not None else run["run_id"]


def _beat_s(ms: int | None) -> int | None:
    return ms // 1000 if ms is not None else None


def flow_obj(row: dict[str, Any]) -> dict[str, Any]:
    # Flows created by the client carry no user or tags.
    return {"flow_id": row["flow_id"], "user_name": None, "ts_epoch": row["created_at"],
            "tags": None, "system_tags": None}


def run_obj(run: dict[str, Any]) -> dict[str, Any]:
    return {"flow_id": run["flow_id"], "run_number": _run_number(run), "user_name": run["user_name"],
            "ts_epoch": run["created_at"], "tags": list(run["tags"]),
            "system_tags": list(run["system_tags"]), "last_heartbeat_ts": _beat_s(run["heartbeat_at"])}


def _common(run: dict[str, Any]) -> dict[str, Any]:
    # Steps, tasks and artifacts show the run's *current* tags (a tag mutation shows everywhere).
    return {"flow_id": run["flow_id"], "user_name": run["user_name"], "tags": list(run["tags"]),
            "system_tags": list(run["system_tags"])}


def step_obj(run: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    # Steps expose the run number as a string ("1"), unlike every other object.
    return {**_common(run), "run_number": str(run["run_id"]), "step_name": step["step_name"],
            "ts_epoch": step["created_at"]}


def task_obj(run: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    return {**_common(run), "run_number": _run_number(run), "step_name": task["step_name"],
            "task_id": id_out(task["task_id"]), "ts_epoch": task["task_created_at"],
            "last_heartbeat_ts": _beat_s(task["task_heartbeat_at"])}


def metadata_obj(run: dict[str, Any], task: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "flow_id": run["flow_id"], "run_number": _run_number(run),
            "step_name": task["step_name"], "task_id": id_out(task["task_id"]),
            "field_name": row["field_name"], "value": row["value"], "type": row["type"],
            "user_name": run["user_name"], "ts_epoch": row["created_at"], "tags": list(row["tags"]),
            "system_tags": None}


def ds_type_of(root: str) -> str:
    scheme = root.split("://", 1)[0] if "://" in root else ""
    return {"s3": "s3", "gs": "gs", "azure": "azure", "": "local"}.get(scheme, scheme)


def wire_location(flow: str, sha: str, stored: str | None) -> tuple[str, str]:
    """(location, ds_type) as the client sent them: ``:root:<root>``, from the stored blob address."""
    if not stored:
        return "", "local"
    suffix = f"/{flow}/data/{sha[:2]}/{sha}"
    if stored.endswith(suffix):
        root = stored[: -len(suffix)]
        return ":root:" + root, ds_type_of(root)
    return stored, ds_type_of(stored)


def stored_location(flow: str, sha: str, location: str) -> str:
    """The full blob address kept in ``artifacts.location`` (readable without the service)."""
    if location.startswith(":root:"):
        root = location[len(":root:"):].rstrip("/")
        return f"{root}/{flow}/data/{sha[:2]}/{sha}"
    return location


def artifact_obj(run: dict[str, Any], task: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    location, ds_type = wire_location(run["flow_id"], row["sha"], row["location"])
    return {**_common(run), "run_number": _run_number(run), "step_name": task["step_name"],
            "task_id": id_out(task["task_id"]), "name": row["name"], "location": location,
            "ds_type": ds_type, "sha": row["sha"], "type": "metaflow.artifact",
            "content_type": row["encoding"], "attempt_id": row["attempt"], "ts_epoch": row["created_at"]}
