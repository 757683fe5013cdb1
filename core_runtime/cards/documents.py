"""Card documents: the component tree of a card, as Metaflow's card templates lay it out.

* ``blank``: a page holding the user's components (Metaflow's BlankCard);
* ``default``: the pathspec, then the user's components, the task's metadata and its
  artifacts (what Metaflow's DefaultCard shows; its code, parameters and DAG sections are left out);
* any other type: an error document saying the type is not available, so the card shows why.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

EDITABLE_TYPES = ("default", "blank")   # Metaflow's cards with ALLOW_USER_COMPONENTS and RUNTIME_UPDATABLE


def _when(ms: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000)) if ms else "—"


def _size(n: int | None) -> str:
    size = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def page(title: str, contents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "page", "title": title, "contents": contents}


def section(title: str | None, contents: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "section", "contents": contents}
    if title:
        out["title"] = title
    return out


def card_doc(card_type: str, pathspec: str, components: Sequence[dict[str, Any]], *,
             options: dict[str, Any] | None = None, attempt: int = 0, started_ms: int | None = None,
             finished_ms: int | None = None, records: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The document of one card; ``records`` (the task's artifacts) is None while the task runs."""
    meta = {"pathspec": pathspec, "version": 1, "template": f"flowscope-{card_type}"}
    comps = list(components)
    if card_type == "blank":
        title = str((options or {}).get("title") or "")
        return {"metadata": meta, "components": [page(title, comps)]}
    if card_type != "default":
        text = (f"This card has type {card_type!r}, which core_runtime cannot render: it renders the "
                f"card types {', '.join(EDITABLE_TYPES)}.")
        return {"metadata": meta, "components": [{"type": "title", "text": pathspec},
                                                 {"type": "log", "data": text}]}
    info = {"Task Created On": _when(started_ms), "Attempt": attempt}
    if finished_ms:
        info["Task Finished On"] = _when(finished_ms)
        if started_ms:
            info["Task Duration"] = f"{(finished_ms - started_ms) / 1000:.1f} s"
    contents = [section(None, comps)] if comps else []
    contents.append(section("Task Metadata", [{"type": "table", "columns": list(info),
                                               "data": [list(info.values())], "vertical": True}]))
    if records is None:
        artifacts: list[dict[str, Any]] = [{"type": "text", "text": "Artifacts are shown when the task finishes."}]
    elif records:
        artifacts = [{"type": "artifacts", "data": [
            {"name": r["name"], "type": f"{r.get('type') or '?'} · {_size(r.get('size'))}",
             "data": r.get("preview") or ""} for r in sorted(records, key=lambda r: r["name"])]}]
    else:
        artifacts = [{"type": "title", "text": "No Artifacts"}]
    contents.append(section("Artifacts", artifacts))
    return {"metadata": meta, "components": [{"type": "title", "text": pathspec}, page("Task Info", contents)]}
