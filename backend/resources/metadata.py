"""Task metadata (Metaflow-style fields): the JSON shape of one field and its schema."""

from __future__ import annotations

from typing import Any

from backend.db.query import Row
from backend.resources.schema import INT, STR, arr, nullable, obj

SCHEMAS = {
    "MetadataField": obj({"field_name": STR, "value": STR, "type": nullable(STR), "attempt": nullable(INT),
                          "tags": arr(STR), "created_at": nullable(INT)},
                         description="A metadata field of a task (attempt null: task-wide)."),
}


def metadata_shape(row: Row) -> dict[str, Any]:
    return {"field_name": row["field_name"], "value": row["value"], "type": row["type"],
            "attempt": row["attempt"], "tags": list(row["tags"] or []), "created_at": row["created_at"]}
