"""Whole card pages: self-contained HTML (inline CSS, images as data URIs, no scripts, and a
Content-Security-Policy that forbids loading anything), plus the default card of a task."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

from core_runtime.artifacts import ArtifactRecord
from core_runtime.cards.components import Component, Markdown, Table, render_value

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { color-scheme: light dark; --fg: #1d2330; --bg: #ffffff; --muted: #5b6475; --line: #d9dee7;
        --head: #f3f5f9; --accent: #2f6fde; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e3e7ef; --bg: #161a22; --muted: #a2abbb; --line: #323a48; --head: #1f2530;
          --accent: #7aa7ff; }
}
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; padding: 24px; }
main { max-width: 1100px; margin: 0 auto; }
h1.title { font-size: 20px; margin: 0 0 4px; }
.subtitle { color: var(--muted); margin: 0 0 20px; font-size: 12px; }
.component { margin: 0 0 20px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); }
pre, code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { white-space: pre-wrap; word-break: break-word; margin: 4px 0; }
a { color: var(--accent); }
figure { margin: 0; } figure img { max-width: 100%; } figcaption { color: var(--muted); font-size: 12px; }
.artifact .name { font-weight: 600; } .artifact .type { color: var(--muted); font-size: 12px; }
.progress .bar { height: 10px; border: 1px solid var(--line); border-radius: 5px; overflow: hidden; }
.progress .fill { height: 100%; background: var(--accent); }
.progress .value, .progress .label { font-size: 12px; color: var(--muted); }
blockquote { border-left: 3px solid var(--line); margin: 0; padding-left: 12px; color: var(--muted); }
"""


def render_card(components: Sequence[Component | Any], title: str, subtitle: str | None = None) -> str:
    """One self-contained HTML page holding the components in order."""
    parts = []
    for comp in components:
        parts.append(f'<section class="component">{render_value(comp)}</section>')
    sub = f'<p class="subtitle">{html.escape(subtitle)}</p>' if subtitle else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f'<body><main><h1 class="title">{html.escape(title)}</h1>{sub}'
            + "".join(parts) + "</main></body></html>\n")


def default_card(pathspec: str, records: Sequence[ArtifactRecord], created_at_ms: int | None = None) -> str:
    """The card every @card task gets: its artifacts (name, type, size, preview)."""
    rows = [[r.name, r.type, _size(r.size), r.preview] for r in sorted(records, key=lambda r: r.name)]
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime((created_at_ms or time.time() * 1000) / 1000))
    comps: list[Component] = [Markdown(f"## Artifacts ({len(rows)})")]
    comps.append(Table(rows, headers=["name", "type", "size", "preview"]) if rows
                 else Markdown("*This task has no artifacts.*"))
    return render_card(comps, title=pathspec, subtitle=f"Task card · {when}")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
