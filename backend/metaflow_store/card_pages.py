"""Metaflow's card pages, redrawn by Flowscope's card renderer.

A card that Metaflow's default or blank template rendered is an HTML page carrying the card
document as base64 JSON (``window.__MF_DATA__[id] = "…"``) plus a 1 MB script bundle that loads
Google fonts, fetches icons from an icon API and compiles chart expressions with ``new Function``.
None of that can run in our card sandbox (no network, no eval), so the document is taken out of
the page and served in Flowscope's own card page: same components, drawn by the bundled renderer
(charts through vega-interpreter), nothing fetched. The reload token comes along, so Metaflow's
runtime data updates (``runtime/<card>.data.json``) apply to the page they were made for.

A page of any other shape (a custom card type) is served as it is, with a small inline script
that reports what the sandbox blocks, so the UI can say why such a card renders incompletely.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from contract.cards.page import card_page

_DATA = re.compile(rb'window\.__MF_DATA__\[\s*"([^"\\]{1,100})"\s*\]\s*=\s*"([A-Za-z0-9+/=\s]*)"')
_TOKEN = re.compile(rb'var\s+METAFLOW_RELOAD_TOKEN\s*=\s*"([^"\\]{0,200})"')
MAX_DOC_BYTES = 64 * 1024 * 1024

# Inserted into cards served as they are: names what the sandbox's CSP refused (the frame shows
# it and tells the parent). Allowed by the card CSP's 'unsafe-inline'.
VIOLATION_REPORTER = (
    "<script>document.addEventListener('securitypolicyviolation',function(e){"
    "try{parent.postMessage({source:'flowscope-card',type:'problem',message:'blocked by the card sandbox: '"
    "+e.effectiveDirective+' '+(e.blockedURI||'(inline)')},'*')}catch(_){}});</script>")


@dataclass(frozen=True, slots=True)
class MetaflowCardDoc:
    doc: dict[str, Any]
    reload_token: str | None


def extract_doc(html: bytes) -> MetaflowCardDoc | None:
    """The card document and reload token of a page Metaflow's templates rendered; None otherwise."""
    m = _DATA.search(html)
    if m is None:
        return None
    raw = re.sub(rb"\s+", b"", m.group(2))
    if len(raw) > MAX_DOC_BYTES * 4 // 3 + 4:
        return None
    try:
        doc = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("components"), list):
        return None
    token = _TOKEN.search(html)
    return MetaflowCardDoc(doc, token.group(1).decode("utf-8", "replace") if token else None)


def flowscope_page(html: bytes, title: str, final: bool) -> bytes:
    """Metaflow's card page as a Flowscope card page (or as it is, with the reporter, if foreign)."""
    found = extract_doc(html)
    if found is None:
        head = re.search(rb"<head[^>]*>", html, re.IGNORECASE)
        at = head.end() if head else 0
        return html[:at] + VIOLATION_REPORTER.encode() + html[at:]
    state = {"doc": found.doc, "reload_token": found.reload_token, "seq": None,
             "final": final or found.reload_token == "final", "updated_at": None}
    return card_page(state, title).encode("utf-8")


def runtime_update(raw: bytes) -> dict[str, Any] | None:
    """A ``runtime/*.data.json`` file: ``{reload_token, data: {component_id: component}, created_on}``."""
    try:
        update = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(update, dict) or not isinstance(update.get("data"), dict):
        return None
    created = update.get("created_on")
    return {"kind": "components", "reload_token": update.get("reload_token"), "data": update["data"],
            "updated_at": int(float(created) * 1000) if isinstance(created, (int, float)) else None,
            "final": update.get("reload_token") == "final"}
