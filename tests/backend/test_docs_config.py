"""docs/configuration.md lists exactly the declared settings; docs/cli.md the commands."""

from __future__ import annotations

import re
from pathlib import Path

from contract.settings import declared

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_configuration_doc_matches_declared_settings() -> None:
    text = (DOCS / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(FLOWSCOPE_[A-Z0-9_]+)` \|", text, re.MULTILINE))
    assert documented == {s.env for s in declared()}


def test_cli_doc_covers_commands() -> None:
    text = (DOCS / "cli.md").read_text()
    for command in ("serve", "demo", "watch", "migrate", "mirror"):
        assert f"flowscope {command}" in text
    for tool in ("bench.seed", "bench.plans"):
        assert f"python -m {tool}" in text
