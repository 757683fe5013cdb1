"""Card pages: one self-contained HTML file per card.

A page holds the card state (the card document — Metaflow's card JSON — with its seq, reload
token and final flag) as inert JSON, and the scripts that draw it, inlined: the renderer, plus
the chart bundle (Vega, Vega-Lite, vega-interpreter) when the card has charts. The scripts are
built from npm packages by ``make frontend`` (frontend/card-build.mjs) into ``assets/``; nothing
is ever fetched. The page's own Content-Security-Policy allows exactly those scripts (by hash),
inline styles and data: images, and nothing else — no network, no eval.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).with_name("assets")
RENDERER = "card-renderer.js"
CHARTS = "card-charts.js"


class CardAssetsMissing(RuntimeError):
    """The card scripts were not built (``make frontend`` builds them)."""


@lru_cache(maxsize=4)
def _script(directory: Path, name: str) -> tuple[str, str]:
    """(source, CSP hash source) of a built card script."""
    path = directory / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CardAssetsMissing(f"card script {path} is missing: build it with `make frontend` "
                                f"(frontend/card-build.mjs)") from exc
    # A literal </script> inside the bundle would end the element early.
    text = text.replace("</script", "<\\/script")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return text, f"'sha256-{digest}'"


def has_charts(value: Any) -> bool:
    """True if any component of a card document (or part of one) is a chart."""
    if isinstance(value, list):
        return any(has_charts(v) for v in value)
    if isinstance(value, dict):
        if value.get("type") == "vegaChart":
            return True
        return any(has_charts(value.get(k)) for k in ("components", "contents", "data")
                   if isinstance(value.get(k), list))
    return False


def state_json(state: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (no "</" or "<!--" can appear in it)."""
    return json.dumps(state, separators=(",", ":"), allow_nan=False, default=str).replace("<", "\\u003c")


def card_page(state: dict[str, Any], title: str, assets: Path = ASSETS) -> str:
    """The HTML page of a card state (``{"doc": {...}, "seq": …, "final": …, …}``)."""
    renderer, renderer_hash = _script(assets, RENDERER)
    scripts, hashes = [], [renderer_hash]
    if has_charts(state.get("doc")):
        charts, charts_hash = _script(assets, CHARTS)
        scripts.append(charts)
        hashes.append(charts_hash)
    scripts.append(renderer)
    csp = (f"default-src 'none'; script-src {' '.join(hashes)}; style-src 'unsafe-inline'; "
           "img-src data:; font-src data:")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark">'
            f"<title>{html.escape(title)}</title></head><body><div id=\"fs-card\"></div>"
            f'<script type="application/json" id="fs-card-state">{state_json(state)}</script>'
            + "".join(f"<script>{s}</script>" for s in scripts) + "</body></html>\n")
