"""Helpers for graph tests: write a flow source to a file and find the line a test expects."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
MARK = "# <-"


def _marked_line(path: Path) -> int:
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if MARK in text or "# lint:" in text:
            return number
    raise AssertionError(f"no marker in {path}")


@pytest.fixture()
def marked_line() -> Callable[[Path], int]:
    """1-based line of the ``# <-`` (or ``# lint:``) marker: where a test expects the error to point."""
    return _marked_line


@pytest.fixture()
def flows_dir() -> Path:
    return FLOWS


@pytest.fixture()
def write_flow(tmp_path: Path) -> Callable[[str], Path]:
    def write(body: str, name: str = "flow.py") -> Path:
        path = tmp_path / name
        path.write_text("from core_runtime import FlowSpec, catch, step\n\n\n" + textwrap.dedent(body))
        return path

    return write
