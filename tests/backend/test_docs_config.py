"""docs/configuration.md lists exactly the declared settings; docs/cli.md the commands."""

from __future__ import annotations

import re
import subprocess
import sys
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


def _help(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "backend.cli", *args, "--help"], capture_output=True,
                          text=True, timeout=60, check=True).stdout


def test_cli_doc_covers_commands_and_options() -> None:
    """Every `flowscope` command has a section in docs/cli.md naming each of its options; every
    option the sections' headings show exists (both read from the real argparse --help)."""
    text = (DOCS / "cli.md").read_text()
    commands = re.search(r"\{([a-z,]+)\}", _help()).group(1).split(",")   # type: ignore[union-attr]
    assert {"serve", "demo", "watch", "summary", "migrate", "mirror"} <= set(commands)
    sections = text.split("\n## ")
    for command in commands:
        mine = [sec for sec in sections if f"`flowscope {command}" in sec.split("\n", 1)[0]]
        assert mine, f"docs/cli.md has no section for flowscope {command}"
        real = set(re.findall(r"(--[a-z][a-z-]+)", _help(command))) - {"--help"}
        body = "\n".join(mine)
        assert {opt for opt in real if opt not in body} == set(), command
        shown = {opt for sec in mine for opt in re.findall(r"(--[a-z][a-z-]+)", sec.split("\n", 1)[0])}
        assert shown <= real, command
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
