"""docs/configuration.md lists exactly the declared settings; docs/cli.md the commands."""

from __future__ import annotations

import re
from pathlib import Path

import backend.settings  # noqa: F401  (declares the backend settings)
from core_runtime.settings import REGISTRY

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_configuration_doc_matches_registry() -> None:
    text = (DOCS / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(FLOWSCOPE_[A-Z0-9_]+)` \|", text, re.MULTILINE))
    assert documented == {s.env for s in REGISTRY.values()}


def test_cli_doc_covers_commands() -> None:
    text = (DOCS / "cli.md").read_text()
    for command in ("serve", "demo", "watch", "migrate", "bench seed", "bench plans"):
        assert f"flowscope {command}" in text
