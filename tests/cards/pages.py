"""Reading card pages and card states in tests: the embedded state, the page's CSP, its scripts."""

from __future__ import annotations

import json
import re
from typing import Any

STATE = re.compile(r'<script type="application/json" id="fs-card-state">(.*?)</script>', re.DOTALL)
CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


def page_state(page: str) -> dict[str, Any]:
    m = STATE.search(page)
    assert m, "no card state in the page"
    state: dict[str, Any] = json.loads(m.group(1))
    return state


def page_csp(page: str) -> str:
    m = CSP.search(page)
    assert m, "no CSP meta in the page"
    return m.group(1)


def components(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a document, depth first (tables' cells included)."""
    out: list[dict[str, Any]] = []

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict) and isinstance(v.get("type"), str):
            out.append(v)
            walk(v.get("contents"))
            if v["type"] == "table":
                walk(v.get("data"))

    walk(doc["components"])
    return out


def of_type(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in components(doc) if c["type"] == kind]


def assert_strict_page(page: str) -> None:
    """Self-contained: scripts allowed by hash only, no eval, nothing loaded from anywhere."""
    csp = page_csp(page)
    assert "default-src 'none'" in csp and "unsafe-eval" not in csp
    script_src = re.search(r"script-src ([^;]+)", csp)
    assert script_src and all(s.startswith("'sha256-") for s in script_src.group(1).split()), csp
    assert not re.search(r"<(link|iframe|object|embed)\b", page)
    assert not re.search(r"<script[^>]*\bsrc=", page)
