"""Writing plugin folders for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def panel_manifest(plugin_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": plugin_id, "name": plugin_id.title(), "version": "1.0", "kind": "panel",
            "slots": ["run-header"], "entry": "index.html", **extra}


def write_plugin(root: Path, folder: str, manifest: Any, files: dict[str, str] | None = None) -> Path:
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (path / "manifest.json").write_text(text)
    for name, body in (files or {"index.html": "<p>panel</p>"}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(body)
    return path
