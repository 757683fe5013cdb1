"""Validating a plugin's manifest.json against plugins/manifest.schema.json.

Errors name the offending field (`slots[0]: 'sidebar' is not one of ...`) so an operator can fix
the file from the message alone; the plugins page and /api/-/plugins show it verbatim.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from backend.shipped import shipped

PLUGINS_ROOT = shipped("plugins")
SCHEMA_PATH = PLUGINS_ROOT / "manifest.schema.json"


# What a link template may refer to; the UI fills these (frontend/src/plugins/linkTemplate.ts).
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
KNOWN_PLACEHOLDER = re.compile(
    r"(flow|run|step|task|pathspec"
    r"|(run|task)\.[a-z_]+"
    r"|run\.parameters\.[A-Za-z0-9_.-]+"
    r"|task\.metadata\.[A-Za-z0-9_.-]+)")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the field."""


@lru_cache(maxsize=1)
def manifest_schema() -> dict[str, Any]:
    """plugins/manifest.schema.json: validates manifests here, and types them in the UI (OpenAPI)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(manifest_schema())


def _field(error: ValidationError) -> str:
    parts: list[str] = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else ("." if parts else "") + str(part))
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            parts.append(("." if parts else "") + missing[0])
    return "".join(parts) or "(top level)"


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown field")
    return str(error.message)


def validate_manifest(data: Any) -> dict[str, Any]:
    """The manifest if it is valid; otherwise ManifestError naming the first bad field."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        first = errors[0]
        raise ManifestError(f"{_field(first)}: {_message(first)}")
    # Rules the schema states awkwardly: each kind owns its own fields.
    if data["kind"] == "panel" and "links" in data:
        raise ManifestError("links: only link plugins have links (this one is a panel)")
    if data["kind"] == "link" and "entry" in data:
        raise ManifestError("entry: only panel plugins have an entry page (this one is a link plugin)")
    if data["kind"] == "link":
        for i, link in enumerate(data["links"]):
            for name in PLACEHOLDER.findall(link["url"]):
                if not KNOWN_PLACEHOLDER.fullmatch(name):
                    raise ManifestError(f"links[{i}].url: unknown placeholder {{{name}}} (see docs/plugins.md)")
            extra = set(link.get("slots", [])) - set(data["slots"])
            if extra:
                raise ManifestError(f"links[{i}].slots: {min(extra)!r} is not among the plugin's slots")
    return dict(data)


def load_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"manifest.json: cannot read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest.json: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    manifest = validate_manifest(data)
    if manifest["kind"] == "panel":
        entry = (folder / manifest["entry"]).resolve()
        if not entry.is_relative_to(folder.resolve()) or not entry.is_file():
            raise ManifestError(f"entry: file {manifest['entry']!r} not found in the plugin folder")
    return manifest
