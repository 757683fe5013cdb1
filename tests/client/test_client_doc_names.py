"""Every error class docs/client.md names under "Errors" can be imported from where it says."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def test_documented_errors_are_importable() -> None:
    section = DOC.read_text().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`((?:Flowscope|Metaflow)[A-Za-z]+)`", section))
    assert {"FlowscopeNotFound", "FlowscopeKeyNotFound", "MetaflowNotFound"} <= names
    client = importlib.import_module("core_runtime.client")
    exception = importlib.import_module("core_runtime.exception")
    missing = [n for n in sorted(names)
               if not isinstance(getattr(client if n.startswith("Flowscope") else exception, n, None), type)]
    assert missing == []
