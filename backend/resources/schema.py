"""A few words for writing JSON Schemas of the API's resources (OpenAPI 3.1 = JSON Schema 2020-12).

Each resource module declares ``SCHEMAS``: component name → schema. ``obj`` makes every listed
property required (the shapes always carry every key; absent values are ``null``), so a client
generated from the document gets exact types and schemathesis can check real responses.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
ANY: Schema = {}
JSON_OBJECT: Schema = {"type": "object", "additionalProperties": True}
STATUS: Schema = {"type": "string", "enum": ["pending", "running", "completed", "failed"]}


def nullable(schema: Schema) -> Schema:
    if set(schema) == {"type"} and isinstance(schema["type"], str):
        return {"type": [schema["type"], "null"]}
    if set(schema) == {"type", "enum"}:
        return {"type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    return {"anyOf": [schema, {"type": "null"}]}


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], *, optional: dict[str, Schema] | None = None,
        description: str | None = None, extra: bool = False) -> Schema:
    """An object with these properties, all required; ``optional`` ones may be missing."""
    out: Schema = {"type": "object", "properties": {**properties, **(optional or {})},
                   "required": list(properties), "additionalProperties": extra}
    if description:
        out["description"] = description
    return out


def extend(base: Schema, properties: dict[str, Schema], *, optional: dict[str, Schema] | None = None,
           description: str | None = None) -> Schema:
    """``base`` (an ``obj``) with more properties: a closed object cannot be extended by allOf."""
    out: Schema = {**base, "properties": {**base["properties"], **properties, **(optional or {})},
                   "required": [*base["required"], *properties]}
    if description:
        out["description"] = description
    return out


def mapping(values: Schema) -> Schema:
    """An object whose keys are data (names) and whose values all have one schema."""
    return {"type": "object", "additionalProperties": values}
