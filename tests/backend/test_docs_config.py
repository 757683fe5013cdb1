"""docs/configuration.md lists exactly the declared settings; docs/cli.md the commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contract.settings import declared, parse_bool

DOCS = Path(__file__).resolve().parents[2] / "docs"
PARSE: dict[type, Callable[[str], Any]] = {bool: parse_bool, int: int, float: float, str: str}


def test_configuration_doc_matches_declared_settings() -> None:
    text = (DOCS / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(FLOWSCOPE_[A-Z0-9_]+)` \|", text, re.MULTILINE))
    assert documented == {s.env for s in declared()}


def test_configuration_doc_gives_each_real_default() -> None:
    """The default column is the declared default: `unset` (or, for the live DSN, what it falls
    back to) for None, else a backticked value that parses (as the variable would) to it."""
    text = (DOCS / "configuration.md").read_text()
    cells = dict(re.findall(r"^\| `(FLOWSCOPE_[A-Z0-9_]+)` \| ([^|]*) \|", text, re.MULTILINE))
    wrong = []
    for s in declared():
        cell = cells[s.env]
        if s.default is None:
            ok = cell == "unset" or (s.env == "FLOWSCOPE_LIVE_DSN" and cell == "reader DSN")
        else:
            m = re.fullmatch(r"`([^`]*)`", cell)
            ok = m is not None and PARSE[type(s.default)](m.group(1)) == s.default \
                and (not isinstance(s.default, bool) or m.group(1) == str(s.default).lower())
        if not ok:
            wrong.append(f"{s.env}: documented {cell}, declared {s.default!r}")
    assert wrong == []


def test_cli_doc_covers_commands() -> None:
    text = (DOCS / "cli.md").read_text()
    for command in ("serve", "demo", "watch", "migrate", "mirror"):
        assert f"flowscope {command}" in text
    for tool in ("bench.seed", "bench.plans"):
        assert f"python -m {tool}" in text


def test_triage_doc_names_every_status_rule() -> None:
    """docs/triage.md's rule table and docs/api.md's rule list name exactly the rules the status
    explanations can give (backend/resources/explain.py RULES, the schema's enum)."""
    from backend.resources.explain import RULES

    table = (DOCS / "triage.md").read_text().split("| rule | when | evidence |", 1)[1].split("\n\n", 1)[0]
    in_table = {name for row in re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
                for name in re.findall(r"`([a-z_]+)`", row)}
    api = (DOCS / "api.md").read_text()
    in_api = set(re.findall(r"`([a-z_]+)`", api.split("rules: ", 1)[1].split(".\n", 1)[0]))
    assert in_table == set(RULES)
    assert in_api == set(RULES)
