"""Card types: ``@card(type="...")`` picks a MetaflowCard subclass by its ``type``.

As in Metaflow, a card type is a class with a ``type`` name and ``render(task) -> str`` (HTML);
it is built with ``options`` (from ``@card(options=...)``), ``components`` (what the step
appended, already rendered), ``graph`` and ``flow``. ``ALLOW_USER_COMPONENTS = True`` makes it
editable through ``current.card.append``. Built in: ``default`` (the task's metadata and
artifacts, and the appended components) and ``blank`` (only the appended components) — both drawn
from card documents and refreshed live (core_runtime.cards.collector) — ``taskspec_card`` (the
task's pathspec) and ``error``. Any subclass defined in the flow file, or in a module named by
FLOWSCOPE_CARD_MODULES (a module may also list classes in ``CARDS``), is registered.
"""

from __future__ import annotations

import html
import importlib
import sys
from typing import Any

_REGISTRY: dict[str, type[MetaflowCard]] = {}      # from CARDS lists
_loaded_modules = False


class MetaflowCard:
    RELOAD_POLICY_NEVER = "never"
    RELOAD_POLICY_ALWAYS = "always"
    RELOAD_POLICY_ONCHANGE = "onchange"
    RELOAD_POLICY_TOKEN = "[METAFLOW_RELOAD_TOKEN]"

    type: str | None = None
    ALLOW_USER_COMPONENTS = False
    RUNTIME_UPDATABLE = False
    RELOAD_POLICY = RELOAD_POLICY_NEVER
    scope = "task"
    runtime_data = None

    def __init__(self, options: dict[str, Any] | None = None, components: list[Any] | None = None,
                 graph: Any = None, flow: Any = None, **kwargs: Any) -> None:
        self._options = dict(options or {})
        self._components = list(components or [])
        self._graph = graph

    def render(self, task: Any) -> str:
        raise NotImplementedError(f"card type {self.type!r} does not implement render(task)")

    def render_runtime(self, task: Any, data: Any) -> str:
        raise NotImplementedError

    def refresh(self, task: Any, data: Any) -> Any:
        raise NotImplementedError

    def reload_content_token(self, task: Any, data: Any) -> str:
        return "content-token"


def register_card(cls: type[MetaflowCard]) -> None:
    if not cls.type:
        raise ValueError(f"card class {cls.__name__} has no type")
    _REGISTRY[cls.type] = cls


# A page without scripts: what TaskSpecCard-like and error pages need, nothing more.
PLAIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
PLAIN_CSS = ("body{font:14px/1.5 system-ui,sans-serif;margin:1.5rem;color:#1f2328;background:#fff}"
             "pre{white-space:pre-wrap;background:#f6f8fa;padding:.75rem;border-radius:6px}"
             "@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}"
             "pre{background:#161b22}}")


def _document_page(card_type: str, task: Any, components: list[Any], options: dict[str, Any]) -> str:
    """A built-in card's page outside the live pipeline (e.g. a subclass calling super().render)."""
    import time

    from contract.cards.page import card_page
    from core_runtime.cards.documents import card_doc

    comps = [c if isinstance(c, dict) else {"type": "text", "text": str(c)} for c in components]
    records = list(getattr(task, "_records", {}).values()) or None
    doc = card_doc(card_type, str(task.pathspec), comps, options=options, records=records,
                   finished_ms=int(time.time() * 1000))
    state = {"doc": doc, "seq": 1, "final": True, "updated_at": int(time.time() * 1000), "reload_token": None}
    return card_page(state, str(task.pathspec))


class DefaultCard(MetaflowCard):
    """The task's metadata and artifacts, and what the step appended. The runtime draws it from a
    card document (core_runtime.cards.documents) and refreshes it live."""

    type = "default"
    ALLOW_USER_COMPONENTS = True
    RUNTIME_UPDATABLE = True

    def render(self, task: Any) -> str:
        return _document_page(self.type, task, self._components, self._options)


class BlankCard(DefaultCard):
    """Only what the step appended."""

    type = "blank"


# Drawn from card documents by the bundled renderer, refreshed live; every other type is a
# MetaflowCard whose render(task) returns the page's HTML when the task ends.
DOCUMENT_TYPES = (DefaultCard.type, BlankCard.type)


class TaskSpecCard(MetaflowCard):
    """The task's pathspec, nothing else (Metaflow's ``taskspec_card``)."""

    type = "taskspec_card"

    def render(self, task: Any) -> str:
        return str(task.pathspec)


class ErrorCard(MetaflowCard):
    """What a card that failed to render is replaced with when ``save_errors`` is on."""

    type = "error"

    def render(self, task: Any, stack_trace: str = "") -> str:
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta http-equiv="Content-Security-Policy" content="{PLAIN_CSP}"><title>Card error</title>'
                f"<style>{PLAIN_CSS}</style></head><body><main><h1>This card failed to render</h1>"
                f"<p>{html.escape(str(task.pathspec))}</p><pre>{html.escape(stack_trace)}</pre></main>"
                f"</body></html>\n")


def load_card_modules(names: str | None) -> list[str]:
    """Import the modules FLOWSCOPE_CARD_MODULES names (comma-separated); a module that fails to
    import is reported (returned and printed to stderr once) and skipped, never fatal."""
    global _loaded_modules
    if _loaded_modules:
        return []
    _loaded_modules = True
    from core_runtime.extensions import extension_cards

    for ext_cls in extension_cards():     # Metaflow extensions' plugins.cards point
        if ext_cls.type not in _REGISTRY:
            register_card(ext_cls)
    problems = []
    names = names or ""
    for name in (n.strip() for n in names.split(",")):
        if not name:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a broken card module must not break the flow
            problems.append(f"card module {name} cannot be imported: {type(exc).__name__}: {exc}")
            continue
        for cls in getattr(module, "CARDS", []) or []:
            if isinstance(cls, type) and issubclass(cls, MetaflowCard) and cls.type:
                register_card(cls)
    for p in problems:
        sys.stderr.write(f"warning: {p}\n")
    return problems


def _subclasses(cls: type[MetaflowCard]) -> list[type[MetaflowCard]]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def card_class(card_type: str) -> type[MetaflowCard] | None:
    """The card class of a type: registered (CARDS lists), else any subclass defined in a module
    that imported successfully (a module that raised while importing is not in sys.modules)."""
    if card_type in _REGISTRY:
        return _REGISTRY[card_type]
    for cls in _subclasses(MetaflowCard):
        if cls.__dict__.get("type") == card_type and cls.__module__ in sys.modules:
            return cls
    return None


def is_editable(card_type: str) -> bool:
    """Metaflow's ALLOW_USER_COMPONENTS: current.card.append may edit a card of this type."""
    cls = card_class(card_type)
    return bool(cls is not None and cls.ALLOW_USER_COMPONENTS)
